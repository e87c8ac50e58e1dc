"""Snakemake: the codebook as REFI-QDA .qdc and Taguette CSV (rule coding_codebook)."""

from tlsurvey.coding.pipeline import run_codebook
from tlsurvey.logs import setup

setup(snakemake.log[0])
run_codebook(snakemake.input.codebook, snakemake.output.qdc, snakemake.output.taguette)
