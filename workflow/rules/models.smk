"""Models: mixed models of expected performance, alignment, task dependence, intuition vs outcome.

Priority 30: after the coding chain (50) and the figure groups (40), before the multiverse
specifications (0), so that figures_models is not left to the end of the run.

Every rule is a thin script over tlsurvey.models.workflow; outputs are documented in
docs/outputs/models.md. Likert outcomes use the CLMM (family: ordinal) by default; the linear
mixed model is the sensitivity analysis (config["models"]["specs"]).
"""

from tlsurvey.models.specs import model_lrt, model_specs

MODELS_DIR = "results/models"
STUDY_JSON = f"results/ingest/{STUDY_FILE}"
# A spec or likelihood-ratio test naming a variable the study lacks fails here, before anything runs.
model_specs(config.get("models"), STUDY, "config: models")
model_lrt(config.get("models"), STUDY, "config: models")


rule models_fit:
    input:
        ratings="results/ingest/ratings.parquet",
        study=STUDY_JSON,
    output:
        coefficients=reported(f"{MODELS_DIR}/coefficients.csv", "Models"),
        coefficients_tex=reported(f"{MODELS_DIR}/coefficients.tex", "Models"),
        random_effects=reported(f"{MODELS_DIR}/random_effects.csv", "Models"),
        random_effects_tex=reported(f"{MODELS_DIR}/random_effects.tex", "Models"),
        fit_stats=reported(f"{MODELS_DIR}/fit_stats.csv", "Models"),
        fit_stats_tex=reported(f"{MODELS_DIR}/fit_stats.tex", "Models"),
        lrt=reported(f"{MODELS_DIR}/lrt.csv", "Models"),
        lrt_tex=reported(f"{MODELS_DIR}/lrt.tex", "Models"),
    params:
        code=CODE["models"],
        models=config_section("models"),
    priority: 30
    log:
        "logs/models/fit.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/models_fit.py"


rule models_alignment:
    input:
        ratings="results/ingest/ratings.parquet",
        study=STUDY_JSON,
    output:
        alignment_rmcorr=reported(f"{MODELS_DIR}/alignment_rmcorr.csv", "Models"),
        alignment_rmcorr_tex=reported(f"{MODELS_DIR}/alignment_rmcorr.tex", "Models"),
        alignment_participants=reported(f"{MODELS_DIR}/alignment_participants.csv", "Models"),
        alignment_misalignment=reported(f"{MODELS_DIR}/alignment_misalignment.csv", "Models"),
        alignment_summary=reported(f"{MODELS_DIR}/alignment_summary.csv", "Models"),
        alignment_summary_tex=reported(f"{MODELS_DIR}/alignment_summary.tex", "Models"),
    params:
        code=CODE["models"],
        models=config_section("models"),
    priority: 30
    log:
        "logs/models/alignment.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/models_alignment.py"


rule models_task:
    input:
        choices="results/ingest/choices.parquet",
        study=STUDY_JSON,
    output:
        task_dependence=reported(f"{MODELS_DIR}/task_dependence.csv", "Models"),
        task_dependence_tex=reported(f"{MODELS_DIR}/task_dependence.tex", "Models"),
        task_choices=reported(f"{MODELS_DIR}/task_choices.csv", "Models"),
    params:
        code=CODE["models"],
        models=config_section("models"),
    priority: 30
    log:
        "logs/models/task.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/models_task.py"


rule models_outcome:
    input:
        ratings="results/ingest/ratings.parquet",
        study=STUDY_JSON,
        **OUTCOMES,
    output:
        intuition_outcome=reported(f"{MODELS_DIR}/intuition_outcome.csv", "Models"),
        intuition_outcome_summary=reported(
            f"{MODELS_DIR}/intuition_outcome_summary.csv", "Models"
        ),
        intuition_outcome_summary_tex=reported(
            f"{MODELS_DIR}/intuition_outcome_summary.tex", "Models"
        ),
    params:
        code=CODE["models"],
        models=config_section("models"),
    priority: 30
    log:
        "logs/models/outcome.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/models_outcome.py"


rule models_waves:
    input:
        ratings="results/ingest/ratings.parquet",
        choices="results/ingest/choices.parquet",
    output:
        waves_ratings=reported(f"{MODELS_DIR}/waves_ratings.csv", "Waves"),
        waves_ratings_tex=reported(f"{MODELS_DIR}/waves_ratings.tex", "Waves"),
        waves_choices=reported(f"{MODELS_DIR}/waves_choices.csv", "Waves"),
        waves_choices_tex=reported(f"{MODELS_DIR}/waves_choices.tex", "Waves"),
    params:
        code=CODE["models"],
        models=config_section("models"),
    priority: 30
    log:
        "logs/models/waves.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/models_waves.py"


rule models:
    input:
        rules.models_fit.output,
        rules.models_alignment.output,
        rules.models_task.output,
        rules.models_outcome.output,
        rules.models_waves.output,
