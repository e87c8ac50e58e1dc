"""Rule models_fit: see tlsurvey.models.workflow.run_fits."""

from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup
from tlsurvey.models.workflow import run_fits

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    written = run_fits(
        snakemake.input.ratings,
        snakemake.input.study,
        dict(snakemake.output.items()),
        snakemake.params.models,
    )
    log.info("wrote %s", ", ".join(str(p) for p in written.values()))
