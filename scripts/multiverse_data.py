"""Rule multiverse_data: the ingested waves combined under one exclusion variant
(tlsurvey.ingest.reapply)."""

from pathlib import Path

from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    from tlsurvey import ingest  # noqa: E402

    wave_dirs = [Path(snakemake.input[0]).parent.parent / wave for wave in snakemake.params.waves]
    ingest.reapply(wave_dirs, snakemake.params.exclusions, Path(snakemake.output.flow).parent)
    log.info("wrote %s", ", ".join(snakemake.output))
