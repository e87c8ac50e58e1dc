"""Snakemake: the HTML audit page (rule coding_audit)."""

from tlsurvey.coding.pipeline import run_audit
from tlsurvey.logs import setup

setup(snakemake.log[0])
run_audit(snakemake.input.texts, snakemake.input.codes, snakemake.input.codebook,
          snakemake.output.audit, list(snakemake.input.sheets),
          privacy=dict(snakemake.params.privacy), choices_path=snakemake.input.choices,
          study_path=snakemake.input.study)
