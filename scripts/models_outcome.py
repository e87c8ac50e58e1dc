"""Rule models_outcome: see tlsurvey.models.workflow.run_outcome."""

from pathlib import Path

from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup
from tlsurvey.models.workflow import run_outcome

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    out = Path(snakemake.output.summary).parent
    written = run_outcome(snakemake.input.ratings, snakemake.input.outcomes, out,
                          snakemake.params.models)
    log.info("wrote %s", ", ".join(str(p) for p in written.values()))
