"""Rule descriptives: see tlsurvey.descriptives.run."""

from tlsurvey import descriptives
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    written = descriptives.run(dict(snakemake.input.items()), dict(snakemake.output.items()))
    log.info("wrote %s", ", ".join(str(p) for p in written.values()))
