"""Snakemake: seeded BERTopic with cached embeddings (rule coding_topics)."""

import torch

from tlsurvey.coding.pipeline import run_topics
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    torch.set_num_threads(snakemake.threads)
    run_topics(snakemake.input.texts, snakemake.input.matches, snakemake.input.codebook,
               snakemake.output.topics.rsplit("/", 1)[0], snakemake.params.cache,
               seed=snakemake.params.seed, min_topic_size=snakemake.params.min_topic_size,
               code_threshold=snakemake.params.code_threshold)
