"""Rules figures_<group>: build the group's figures with tlsurvey.figures.make."""

from tlsurvey.figures import make
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    for name, keys in snakemake.params.figures.items():
        inputs = {key: snakemake.input[key] for key in keys}
        outputs = {fmt: snakemake.output[f"{name}_{fmt}"] for fmt in snakemake.params.formats}
        written = make(name, inputs, outputs)
        log.info("wrote %s", ", ".join(str(p) for p in written))
