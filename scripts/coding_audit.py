"""Snakemake: the HTML audit page, the REFI-QDA project and the codebook as REFI-QDA .qdc and
Taguette CSV (rule coding_audit)."""

from tlsurvey.coding.pipeline import run_audit, run_codebook, run_qdpx
from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup

setup(snakemake.log[0])
sheets, privacy = list(snakemake.input.sheets), dict(snakemake.params.privacy)

with all_or_nothing():  # the step writes all of its outputs or none
    run_audit(snakemake.input.texts, snakemake.input.codes, snakemake.input.codebook,
              snakemake.output.audit, sheets, privacy=privacy,
              choices_path=snakemake.input.choices, study_path=snakemake.input.study)
    run_qdpx(snakemake.input.texts, snakemake.input.codes, snakemake.input.codebook,
             snakemake.output.qdpx, snakemake.input.responses, snakemake.input.choices,
             sheets, privacy=privacy, study_path=snakemake.input.study)
    run_codebook(snakemake.input.codebook, snakemake.output.qdc, snakemake.output.taguette)
