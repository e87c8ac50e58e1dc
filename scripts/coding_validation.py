"""Snakemake: automatic coders scored on the hand-coded validation set (rule coding_validation)."""

import torch

from tlsurvey.coding.pipeline import run_validation
from tlsurvey.logs import setup

setup(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
run_validation(snakemake.input.texts, list(snakemake.input.sheets), snakemake.params.reference,
               snakemake.input.codebook, snakemake.input.lexicon, snakemake.output.validation,
               snakemake.params.cache, settings=dict(snakemake.params.settings))
