"""Snakemake: the REFI-QDA project export (rule coding_qdpx)."""

from tlsurvey.coding.pipeline import run_qdpx
from tlsurvey.logs import setup

setup(snakemake.log[0])
run_qdpx(snakemake.input.texts, snakemake.input.codes, snakemake.input.codebook,
         snakemake.output[0], snakemake.input.responses, snakemake.input.choices,
         list(snakemake.input.sheets), privacy=dict(snakemake.params.privacy),
         study_path=snakemake.input.study)
