"""The models workflow step: fit the configured specs and run every analysis to tables."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from tlsurvey import latex
from tlsurvey.io import read_table, write_table, write_text
from tlsurvey.layout import named_paths
from tlsurvey.models.specs import model_lrt, model_specs
from tlsurvey.models.stats import skipped, wide_ratings
from tlsurvey.study import Study

log = logging.getLogger("tlsurvey.models")

# step -> the tables it writes
STEP_TABLES = {
    "fits": ("coefficients", "random_effects", "fit_stats", "lrt"),
    "alignment": ("alignment_rmcorr", "alignment_participants", "alignment_misalignment",
                  "alignment_summary"),
    "task": ("task_dependence", "task_choices"),
    "outcome": ("intuition_outcome", "intuition_outcome_summary"),
    "waves": ("waves_ratings", "waves_choices"),
}
# The tables also written as booktabs LaTeX (output ``<table>_tex``), with their captions.
CAPTIONS = {
    "coefficients": "Mixed-model fixed effects and thresholds (linear: Satterthwaite t; ordinal: "
    "Wald z; 95% CI, Holm within model)",
    "random_effects": "Random-effect variances and standard deviations",
    "fit_stats": "Model fit statistics (R2 after Nakagawa and Schielzeth)",
    "lrt": "Likelihood-ratio tests between nested linear mixed models (refitted by ML)",
    "alignment_rmcorr": "Repeated-measures correlation of similarity with expected performance",
    "alignment_summary": "Alignment of similarity and expected performance (bootstrap 95% CI)",
    "task_dependence": "Task dependence of the chosen source",
    "intuition_outcome_summary": "Expected performance vs benchmark macro-AUC (Kendall tau-b)",
    "waves_ratings": "Ratings of each later wave vs the first wave (Mann-Whitney U, Holm)",
    "waves_choices": "Chosen source by wave (chi-square, permutation p, Cramer's V)",
}
# step -> {output name: file name}: ``<table>`` is ``<table>.csv``, ``<table>_tex`` its LaTeX.
OUTPUTS = {
    step: {**{name: f"{name}.csv" for name in names},
           **{f"{name}_tex": f"{name}.tex" for name in names if name in CAPTIONS}}
    for step, names in STEP_TABLES.items()
}


def fit_specs(wide: pd.DataFrame, specs) -> dict[str, pd.DataFrame]:
    """Fit each spec ({name, formula, family, link?, reml?}); a failed fit is logged and
    reported in ``fit_stats`` (``error`` column) instead of stopping the step."""
    from tlsurvey.models import fit, tables

    coefs, randoms, stats = [], [], []
    specs = list(specs)
    for done, spec in enumerate(specs):
        name = spec["name"]
        log.info("fit %d/%d: model %s (%s, %d rows)", done + 1, len(specs), name,
                 spec["family"], len(wide))
        try:
            result = fit(
                spec["formula"],
                wide,
                spec["family"],
                link=spec.get("link", "logit"),
                reml=spec.get("reml", True),
            )
        except Exception as exc:  # noqa: BLE001 - report and continue with the other specs
            log.warning("model %s failed: %s", name, exc)
            stats.append(
                {
                    "model": name,
                    "family": spec["family"],
                    "formula": spec["formula"],
                    "converged": False,
                    "error": str(exc),
                }
            )
            continue
        log.info(
            "model %s: n=%d, logLik=%.4f, converged=%s",
            name,
            result.nobs,
            result.loglik,
            result.converged,
        )
        coefs.append(tables.coefficients(result, name))
        randoms.append(tables.random_effects(result, name))
        stats.append({**tables.fit_stats(result, name), "error": ""})
    return {
        "coefficients": pd.concat(coefs, ignore_index=True) if coefs else pd.DataFrame(),
        "random_effects": pd.concat(randoms, ignore_index=True) if randoms else pd.DataFrame(),
        "fit_stats": pd.DataFrame(stats),
    }


LRT_COLUMNS = "comparison formula npar aic bic loglik deviance chisq df p test error".split()


def likelihood_ratios(wide: pd.DataFrame, comparisons) -> pd.DataFrame:
    """lme4 ``anova`` of each comparison ({name, formulas}); a failure is logged and reported
    in the ``error`` column."""
    from tlsurvey.models.lmm import likelihood_ratio

    out = []
    for comparison in comparisons:
        name = comparison["name"]
        try:
            table = likelihood_ratio(comparison["formulas"], wide).assign(error="")
        except Exception as exc:  # noqa: BLE001 - report and continue with the others
            log.warning("likelihood-ratio test %s failed: %s", name, exc)
            table = pd.DataFrame({"formula": comparison["formulas"], "error": str(exc)})
        out.append(table.assign(comparison=name))
    return pd.concat(out or [pd.DataFrame()], ignore_index=True).reindex(columns=LRT_COLUMNS)


def _load(table, reader=read_table) -> pd.DataFrame:
    return table if isinstance(table, pd.DataFrame) else reader(table)


def _write(step: str, tables_: dict, outputs) -> dict[str, Path]:
    """Write a step's tables to ``outputs``: {output name: path} (the names of
    ``OUTPUTS[step]``: a rule's named outputs) or a directory for those files. Returns
    {output name: path}."""
    paths = named_paths(outputs, OUTPUTS[step])
    for name in STEP_TABLES[step]:
        write_table(tables_[name], paths[name])
        if name in CAPTIONS:
            write_text(latex.paper_tables(name, tables_[name], caption=CAPTIONS[name]),
                       paths[f"{name}_tex"])
    return paths


def _study(study) -> Study:
    return study if isinstance(study, Study) else Study.load(study)


def _wide(ratings, study: Study) -> pd.DataFrame:
    wide = wide_ratings(_load(ratings), study.dimension_ids)
    log.info("wide ratings: %d participant x case study x source rows", len(wide))
    return wide


def run_fits(ratings, study, outputs, config: dict | None = None) -> dict[str, Path]:
    """Fit the model specs (:func:`model_specs`) to the wide ratings: coefficients,
    random_effects, fit_stats (a ``note`` row when there is no spec to fit); and the
    likelihood-ratio tests (:func:`model_lrt`, lrt)."""
    study = _study(study)
    specs = model_specs(config, study)
    if not specs:
        reason = "no model spec configured" if (config or {}).get("specs") is not None else \
            "no model: the study has no outcome dimension or no similarity dimension"
        log.info(reason)
        out = {name: skipped(["model"], reason) for name in ("coefficients", "random_effects",
                                                              "fit_stats", "lrt")}
        return _write("fits", out, outputs)
    wide = _wide(ratings, study)
    out = {**fit_specs(wide, specs), "lrt": likelihood_ratios(wide, model_lrt(config, study))}
    return _write("fits", out, outputs)


def _no_outcome(study: Study) -> str | None:
    """Why the similarity-vs-outcome analyses cannot run (None when they can)."""
    if study.outcome is None:
        return "the study has no outcome (expected performance) dimension"
    if not study.similarity_dimensions:
        return "the study has no similarity dimension"
    return None


def run_alignment(ratings, study, outputs, config: dict | None = None) -> dict[str, Path]:
    """rmcorr table, per participant Spearman, misalignment and their bootstrap summary."""
    from tlsurvey.models import alignment  # here: a step imports only the analyses it runs

    config, study = config or {}, _study(study)
    reason = _no_outcome(study)
    if reason:
        log.info("alignment skipped: %s", reason)
        return _write("alignment", {n: skipped([], reason)
                                    for n in STEP_TABLES["alignment"]}, outputs)
    wide, dims, target = _wide(ratings, study), study.similarity_dimensions, study.outcome
    out = {
        "alignment_rmcorr": alignment.rm_corr_table(wide, dims, target),
        "alignment_participants": alignment.participant_spearman(wide, dims, target),
        "alignment_misalignment": alignment.misalignment(wide, dims, target),
    }
    by_dimension = {d: alignment.misalignment(wide, [d], target) for d in dims}
    out["alignment_summary"] = alignment.alignment_summary(
        out["alignment_participants"],
        out["alignment_misalignment"],
        mis_by_dimension=by_dimension,
        n_boot=int(config.get("bootstrap", 2000)),
        seed=int(config.get("seed", 42)),
    )
    return _write("alignment", out, outputs)


def run_task(choices, study, outputs, config: dict | None = None) -> dict[str, Path]:
    """Task dependence tests (listed sources only) and the paired choice counts (every option,
    the other option included)."""
    from tlsurvey.models import task

    choices, study = _load(choices), _study(study)
    out = {
        "task_dependence": task.task_dependence(choices, study.case_study_ids, study.source_ids,
                                                seed=int((config or {}).get("seed", 42))),
        "task_choices": task.choice_pairs(choices, study.case_study_ids),
    }
    return _write("task", out, outputs)


def run_outcome(ratings, study, outcomes, outputs, config: dict | None = None) -> dict[str, Path]:
    """Kendall's tau of expected performance vs the benchmark outcome, with exact p-values;
    ``outcomes`` None (no benchmark file) or a study without an outcome dimension writes
    tables that state the reason."""
    from tlsurvey.models import outcome

    config, study = config or {}, _study(study)
    reason = _no_outcome(study) if outcomes is not None else "no benchmark outcomes file given"
    if reason:
        log.info("intuition vs outcome skipped: %s", reason)
        return _write("outcome", {"intuition_outcome": skipped([], reason),
                                  "intuition_outcome_summary": skipped([], reason)}, outputs)
    per, summary = outcome.intuition_outcome(
        _wide(ratings, study),
        _load(outcomes, outcome.read_outcomes),
        n_boot=int(config.get("bootstrap", 2000)),
        seed=int(config.get("seed", 42)),
        outcome=study.outcome,
    )
    return _write(
        "outcome", {"intuition_outcome": per, "intuition_outcome_summary": summary}, outputs
    )


def run_waves(ratings, choices, outputs, config: dict | None = None) -> dict[str, Path]:
    """Wave comparison of ratings and choices (empty tables with a single wave)."""
    from tlsurvey.models import waves

    ratings, choices = _load(ratings), _load(choices)
    if ratings["wave"].nunique() < 2:
        log.info("one wave: nothing to compare")
    out = {
        "waves_ratings": waves.rating_shift(ratings),
        "waves_choices": waves.choice_shift(choices, seed=int((config or {}).get("seed", 42))),
    }
    return _write("waves", out, outputs)


def run(ratings, choices, study, outcomes, outputs, config: dict | None = None) -> dict[str, Path]:
    """Run the whole models stage (see docs/outputs/models.md for the tables).

    Parameters
    ----------
    ratings, choices : path or pandas.DataFrame
        Tidy ``ratings`` and ``choices`` tables from ingest.
    study : Study or path of ``study.json``
    outcomes : path or pandas.DataFrame or None
        Benchmark macro-AUC per source and case study (``config/outcomes.csv``; None: none).
    outputs : mapping or path
        {output name: path} of every step's :data:`OUTPUTS` (rules' named outputs), or the
        output directory (``results/models``).
    config : dict
        ``config["models"]``: seed, bootstrap, specs, lrt.

    Returns
    -------
    dict
        Output name (``<table>``, ``<table>_tex``) -> path written.
    """
    ratings, study = _load(ratings), _study(study)
    return {
        **run_fits(ratings, study, outputs, config),
        **run_alignment(ratings, study, outputs, config),
        **run_task(choices, study, outputs, config),
        **run_outcome(ratings, study, outcomes, outputs, config),
        **run_waves(ratings, choices, outputs, config),
    }
