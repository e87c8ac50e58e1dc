"""Multiverse: the key estimate (similarity -> outcome) under every combination of the analytic
choices in config["multiverse"], one job per specification, and its specification curve
(table here; figure results/figures/specification_curve.png from figures.smk).

An exclusion variant other than the configured rules ("{}" overrides) applies its rules to the
ingested waves (results/ingest/waves, whose screening tables keep the facts every rule reads) and
combines them into results/multiverse/data/<variant>/, without reading the exports again; the
rest read results/ingest.
"""

# The study description (similarity dimensions, outcome): ingest_combine's study.json, or the
# instrument maps themselves where ingest does not write one.
MV_STUDY = getattr(rules.ingest_combine.output, "study", None)
MV_STUDY_INPUT = (
    {"study": MV_STUDY}
    if MV_STUDY
    else {"instruments": sorted({wave_cfg(w)["instrument"] for w in WAVES})}
)


wildcard_constraints:
    variant="|".join(MV_REINGESTED) or "^$",
    spec=r"[A-Za-z0-9_+.-]+",


rule multiverse_data:
    input:
        **INGEST_WAVE_TABLES,
        # not read: after ingest_combine, so that coding_topics (two threads on large waves)
        # finds every core free when the combined answers are there
        combined=rules.ingest_combine.output.flow,
    output:
        **{name: f"{MV_DIR}/data/{{variant}}/{name}.parquet" for name in INGEST_TABLES},
        flow=f"{MV_DIR}/data/{{variant}}/flow.csv",
        excluded=f"{MV_DIR}/data/{{variant}}/excluded.csv",
        study=f"{MV_DIR}/data/{{variant}}/{STUDY_FILE}",
    params:
        code=CODE["ingest"],
        waves=WAVES,
        exclusions=lambda wc: {**config_section("exclusions"), **MV["exclusions"][wc.variant]},
    log:
        "logs/multiverse/data_{variant}.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/multiverse_data.py"


rule multiverse_fit:
    input:
        ratings=mv_ratings,
        **MV_STUDY_INPUT,
    output:
        f"{MV_DIR}/specs/{{spec}}.csv",
    params:
        code=CODE["multiverse"],
        spec=lambda wc: MV_SPECS[wc.spec],
    log:
        "logs/multiverse/specs/{spec}.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/multiverse_fit.py"


rule multiverse_curve:
    input:
        expand(f"{MV_DIR}/specs/{{spec}}.csv", spec=MV_SPECS),
    output:
        curve=reported(f"{MV_DIR}/specification_curve.csv", "Multiverse"),
        summary=reported(f"{MV_DIR}/summary.csv", "Multiverse"),
    params:
        code=CODE["multiverse"],
    priority: 40  # a second's work that releases the figure group waiting for it
    log:
        "logs/multiverse/curve.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/multiverse_curve.py"


# The figure is one of workflow/rules/figures.smk's FIGURE_SPECS (drawn by rule figures_multiverse).
rule multiverse:
    input:
        rules.multiverse_curve.output,
        expand("results/figures/specification_curve.{ext}", ext=FIGURE_FORMATS),
