"""Rule descriptives: see tlsurvey.descriptives.run."""

from pathlib import Path

from tlsurvey import descriptives
from tlsurvey.logs import setup

log = setup(snakemake.log[0])
written = descriptives.run(
    Path(snakemake.input.tables[0]).parent,
    Path(snakemake.output[0]).parent,
    snakemake.input.study,
)
log.info("wrote %s", ", ".join(str(p) for p in written.values()))
