"""Rule ingest_wave: one wave's export -> de-identified per-wave tables (tlsurvey.ingest)."""

from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    from tlsurvey import ingest  # noqa: E402

    result = ingest.ingest_wave(
        snakemake.input.export,
        snakemake.wildcards.wave,
        snakemake.input.instrument,
        snakemake.params.privacy,
        snakemake.params.exclusions,
        snakemake.params.format,
    )
    written = result.write(dict(snakemake.output.items()))
    log.info("wrote %s", ", ".join(str(p) for p in written.values()))
