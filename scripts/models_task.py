"""Rule models_task: see tlsurvey.models.workflow.run_task."""

from pathlib import Path

from tlsurvey.logs import setup
from tlsurvey.models.workflow import run_task

log = setup(snakemake.log[0])
written = run_task(
    snakemake.input.choices,
    snakemake.input.study,
    Path(snakemake.output.task_dependence).parent,
    snakemake.params.models,
)
log.info("wrote %s", ", ".join(str(p) for p in written.values()))
