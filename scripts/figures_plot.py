"""Rules figures_<name>: build one figure with tlsurvey.figures.make."""

from pathlib import Path

from tlsurvey.figures import make
from tlsurvey.logs import setup

log = setup(snakemake.log[0])
inputs = dict(snakemake.input.items())
written = make(snakemake.params.name, inputs, Path(snakemake.output.png).with_suffix(""))
log.info("wrote %s", ", ".join(str(p) for p in written))
