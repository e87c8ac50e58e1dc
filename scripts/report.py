"""Rule report: write results/report/report.html with tlsurvey.report.build_report."""

from pathlib import Path

from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup
from tlsurvey.report import build_report, job_times

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    tables = {k: v for k, v in snakemake.input.items() if k not in {"figures", "captions"}}
    figures = {Path(p).stem: p for p in snakemake.input.figures}
    captions = {Path(p).stem: p for p in snakemake.input.captions}
    out = build_report(tables, snakemake.output[0], figures, captions, config=snakemake.config,
                       times=job_times(exclude=[snakemake.rule]))
    log.info("wrote %s", out)
