"""Rule multiverse_data: the ingested waves combined under one exclusion variant
(tlsurvey.ingest.reapply)."""

from tlsurvey.io import all_or_nothing
from tlsurvey.layout import by_wave
from tlsurvey.logs import setup

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    from tlsurvey import ingest  # noqa: E402

    ingest.reapply(by_wave(dict(snakemake.input.items()), snakemake.params.waves),
                   snakemake.params.exclusions, dict(snakemake.output.items()))
    log.info("wrote %s", ", ".join(snakemake.output))
