"""Rule multiverse_data: re-ingest every wave under one exclusion variant (tlsurvey.ingest.run)."""

from pathlib import Path

from tlsurvey.logs import setup

log = setup(snakemake.log[0])

from tlsurvey import ingest  # noqa: E402

ingest.run(
    snakemake.params.waves,
    snakemake.params.instrument,
    snakemake.params.privacy,
    snakemake.params.exclusions,
    out_dir=Path(snakemake.output.flow).parent,
)
log.info("wrote %s", ", ".join(snakemake.output))
