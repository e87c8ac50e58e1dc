"""Snakemake: automatic coders scored on the hand-coded validation set (rule coding_validation)."""

from tlsurvey.coding.pipeline import run_validation
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    run_validation(snakemake.input.texts, list(snakemake.input.sheets),
                   snakemake.params.reference, snakemake.input.codebook, snakemake.input.lexicon,
                   snakemake.output.validation, snakemake.params.cache,
                   settings=dict(snakemake.params.settings), threads=snakemake.threads)
