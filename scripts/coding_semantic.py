"""Snakemake: the semantic coder's scores per answer and code (rule coding_semantic)."""

from tlsurvey.coding.pipeline import run_semantic
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    run_semantic(snakemake.input.texts, snakemake.input.codebook, list(snakemake.input.sheets),
                 snakemake.output.scores, snakemake.params.cache,
                 settings=dict(snakemake.params.settings), privacy=dict(snakemake.params.privacy),
                 threads=snakemake.threads)
