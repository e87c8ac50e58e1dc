"""Snakemake: seeded BERTopic with cached embeddings (rule coding_topics)."""

from tlsurvey.coding.pipeline import run_topics
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    run_topics(snakemake.input.texts, snakemake.input.codebook, dict(snakemake.output.items()),
               snakemake.params.cache,
               seed=snakemake.params.seed, min_topic_size=snakemake.params.min_topic_size,
               code_threshold=snakemake.params.code_threshold,
               threads=snakemake.threads, fit_waves=snakemake.params.fit_waves,
               fit_cache_dir=snakemake.params.fit_cache,
               validation_paths=list(snakemake.input.validation))
