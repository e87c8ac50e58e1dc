"""Snakemake: the HTML audit page (rule coding_audit)."""

from tlsurvey.coding.pipeline import run_audit
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    run_audit(snakemake.input.texts, snakemake.input.codes, snakemake.input.codebook,
              snakemake.output[0], list(snakemake.input.sheets),
              privacy=dict(snakemake.params.privacy), choices_path=snakemake.input.choices,
              study_path=snakemake.input.study)
