"""Rule multiverse_fit: one specification's key estimate (tlsurvey.multiverse.fit)."""

from tlsurvey.logs import setup

log = setup(snakemake.log[0])

from tlsurvey.io import read_table, write_table  # noqa: E402
from tlsurvey.multiverse.fit import fit_spec, result_table  # noqa: E402
from tlsurvey.multiverse.study import load_study  # noqa: E402

study = load_study(snakemake.input.get("study"), snakemake.input.get("instruments", []))
row = fit_spec(read_table(snakemake.input.ratings), snakemake.params.spec,
               study.similarity_dimensions, study.outcome)
write_table(result_table(row), snakemake.output[0])
log.info("wrote %s", snakemake.output[0])
