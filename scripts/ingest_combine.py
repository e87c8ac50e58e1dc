"""Rule ingest_combine: per-wave tables -> results/ingest (duplicates across waves resolved)."""

from pathlib import Path

from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    from tlsurvey import ingest  # noqa: E402

    wave_dirs = [Path(snakemake.input[0]).parent.parent / wave for wave in snakemake.params.waves]
    exclusions = ingest.exclusion_settings(snakemake.params.exclusions)
    results = [ingest.WaveResult.read(d) for d in wave_dirs]
    tables = ingest.combine(results, exclusions["duplicates"], exclusions["cross_wave_identity"])
    written = ingest.write_outputs(tables, Path(snakemake.output.flow).parent)
    log.info("wrote %s", ", ".join(str(p) for p in written))
