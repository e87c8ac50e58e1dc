"""The self-contained HTML report (results/report/report.html) and the reviewer's bundle.

The bundle (results/report/bundle/) holds the report with its audit page beside it, the
paper-ready LaTeX tables (display labels from the study) and the PDF figures; it is one item of
`snakemake --report`, so the report's link to audit.html works inside the zip.
"""

REPORT_TEX = ["coefficients", "random_effects", "fit_stats", "alignment_rmcorr",
              "alignment_summary", "task_dependence", "intuition_outcome_summary",
              "waves_ratings", "waves_choices"]


rule report:
    input:
        study=rules.ingest_combine.output.study,
        flow="results/ingest/flow.csv",
        excluded="results/ingest/excluded.csv",
        responses="results/ingest/responses.parquet",
        ratings="results/ingest/ratings.parquet",
        choices="results/ingest/choices.parquet",
        factors="results/ingest/factors.parquet",
        texts="results/ingest/texts.parquet",
        rating_summary="results/descriptives/rating_summary.csv",
        demographics="results/descriptives/demographics.csv",
        choice_counts="results/descriptives/choices.csv",
        factor_summary="results/descriptives/factors.csv",
        codes=f"{FIG_CODING}/codes.parquet",
        coding_provenance=f"{FIG_CODING}/provenance.json",
        topic_info=f"{FIG_CODING}/topic_info.csv",
        topic_codes=f"{FIG_CODING}/topic_codes.csv",
        ambiguous_terms=f"{FIG_CODING}/ambiguous_terms.csv",
        reliability=f"{FIG_CODING}/reliability.csv",
        auto_vs_human=f"{FIG_CODING}/auto_vs_human.csv",
        **({"validation": CODING_VALIDATION[0]} if CODING_VALIDATION else {}),
        audit=f"{FIG_CODING}/audit.html",
        coefficients=f"{FIG_MODELS}/coefficients.csv",
        random_effects=f"{FIG_MODELS}/random_effects.csv",
        fit_stats=f"{FIG_MODELS}/fit_stats.csv",
        alignment_rmcorr=f"{FIG_MODELS}/alignment_rmcorr.csv",
        alignment_summary=f"{FIG_MODELS}/alignment_summary.csv",
        task_dependence=f"{FIG_MODELS}/task_dependence.csv",
        intuition_outcome=f"{FIG_MODELS}/intuition_outcome.csv",
        intuition_outcome_summary=f"{FIG_MODELS}/intuition_outcome_summary.csv",
        waves_ratings=f"{FIG_MODELS}/waves_ratings.csv",
        waves_choices=f"{FIG_MODELS}/waves_choices.csv",
        multiverse_summary=f"{MV_DIR}/summary.csv",
        codebook=config["codebook"],
        lexicon=config["lexicon"],
        **OUTCOMES,
        figures=expand("results/figures/{name}.png", name=FIGURE_NAMES),
        pdfs=expand("results/figures/{name}.pdf", name=FIGURE_NAMES),
        captions=expand("workflow/report/{name}.rst", name=FIGURE_NAMES),
    output:
        html=report(
            "results/report/report.html",
            caption="../report/report.rst",
            category="Report",
            labels={"item": "report.html"},
        ),
        bundle=report(
            directory("results/report/bundle"),
            caption="../report/report_bundle.rst",
            category="Report",
            htmlindex="report.html",
            labels={"item": "report bundle (report, audit page, LaTeX tables, PDF figures)"},
        ),
    params:
        code=CODE["report"],
        tex=REPORT_TEX,
    log:
        "logs/report/report.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/report.py"
