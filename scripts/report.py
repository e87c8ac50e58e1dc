"""Rule report: write results/report/report.html and the bundle with tlsurvey.report."""

from pathlib import Path

from tlsurvey.io import all_or_nothing
from tlsurvey.logs import setup
from tlsurvey.report import build_bundle, build_report, job_times

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    lists = {"figures", "captions", "pdfs"}
    tables = {k: v for k, v in snakemake.input.items() if k not in lists}
    figures = {Path(p).stem: p for p in snakemake.input.figures}
    captions = {Path(p).stem: p for p in snakemake.input.captions}
    times = job_times(exclude=[snakemake.rule])
    cache = {}  # the inputs read and derived once, for the report and the bundle's copy
    out = build_report(tables, snakemake.output.html, figures, captions, config=snakemake.config,
                       times=times, cache=cache)
    log.info("wrote %s", out)
    bundle = build_bundle(tables, snakemake.output.bundle, figures, captions, snakemake.input.pdfs,
                          snakemake.params.tex, config=snakemake.config, times=times, cache=cache)
    log.info("wrote %s", bundle)
