"""Rule models_waves: see tlsurvey.models.workflow.run_waves."""

from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup
from tlsurvey.models.workflow import run_waves

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    written = run_waves(
        snakemake.input.ratings,
        snakemake.input.choices,
        dict(snakemake.output.items()),
        snakemake.params.models,
    )
    log.info("wrote %s", ", ".join(str(p) for p in written.values()))
