"""Snakemake: lexicon matches and ambiguous terms (rule coding_lexicon)."""

from tlsurvey.coding.pipeline import run_lexicon
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    run_lexicon(snakemake.input.texts, snakemake.input.codebook, snakemake.input.lexicon,
                dict(snakemake.output.items()), cache_dir=snakemake.params.cache)
