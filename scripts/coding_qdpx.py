"""Snakemake: the REFI-QDA project export (rule coding_qdpx)."""

from tlsurvey.coding.pipeline import run_qdpx
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    run_qdpx(snakemake.input.texts, snakemake.input.codes, snakemake.input.codebook,
             snakemake.output[0], snakemake.input.responses, snakemake.input.choices,
             list(snakemake.input.sheets), privacy=dict(snakemake.params.privacy),
             study_path=snakemake.input.study)
