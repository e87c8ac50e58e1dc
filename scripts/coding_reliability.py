"""Snakemake: reliability, automatic vs human coders, disagreements (rule coding_reliability)."""

from tlsurvey.coding.pipeline import run_reliability
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    run_reliability(snakemake.input.texts, snakemake.input.matches, snakemake.input.codebook,
                    list(snakemake.input.sheets), dict(snakemake.output.items()),
                    seed=snakemake.params.seed, privacy=dict(snakemake.params.privacy),
                    semantic_path=snakemake.input.semantic)
