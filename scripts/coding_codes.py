"""Snakemake: the codes table, coding summary and provenance.json (rule coding_codes)."""

from tlsurvey.coding.pipeline import run_codes
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    run_codes(snakemake.input.texts, snakemake.input.matches, snakemake.input.codebook,
              dict(snakemake.output.items()), snakemake.input.topics, snakemake.input.info,
              list(snakemake.input.sheets), seed=snakemake.params.seed,
              privacy=dict(snakemake.params.privacy), semantic_path=snakemake.input.semantic)
