"""Snakemake: the semantic coder's scores per answer and code (rule coding_semantic)."""

import torch

from tlsurvey.coding.pipeline import run_semantic
from tlsurvey.logs import setup

setup(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
run_semantic(snakemake.input.texts, snakemake.input.codebook, list(snakemake.input.sheets),
             snakemake.output.scores, snakemake.params.cache,
             settings=dict(snakemake.params.settings), privacy=dict(snakemake.params.privacy))
