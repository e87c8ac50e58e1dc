"""Snakemake: the REFI-QDA project and the codebook as REFI-QDA .qdc and Taguette CSV (rule
coding_exports)."""

from tlsurvey.coding.pipeline import run_codebook, run_qdpx
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    run_qdpx(snakemake.input.texts, snakemake.input.codes, snakemake.input.codebook,
             snakemake.output.qdpx, snakemake.input.responses, snakemake.input.choices,
             list(snakemake.input.sheets), privacy=dict(snakemake.params.privacy),
             study_path=snakemake.input.study)
    run_codebook(snakemake.input.codebook, snakemake.output.qdc, snakemake.output.taguette)
