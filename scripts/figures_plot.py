"""Rules figures_<name>: build one figure with tlsurvey.figures.make."""

from pathlib import Path

from tlsurvey.figures import make
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    inputs = dict(snakemake.input.items())
    written = make(snakemake.params.name, inputs, Path(snakemake.output.png).with_suffix(""))
    log.info("wrote %s", ", ".join(str(p) for p in written))
