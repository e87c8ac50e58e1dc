"""The models workflow step: fit the configured specs and run every analysis to tables."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from tlsurvey import SIMILARITY_DIMENSIONS
from tlsurvey.io import read_table, write_table
from tlsurvey.models import alignment, outcome, tables, task, waves
from tlsurvey.models.stats import wide_ratings

log = logging.getLogger("tlsurvey.models")

DEFAULT_SPECS = [
    {
        "name": "expected_similarity_ordinal",
        "family": "ordinal",
        "link": "logit",
        "formula": "expected ~ visual + semantic + embedding + domain + case_study "
        "+ (1 | participant)",
    },
]
# step -> {file: also write booktabs .tex}
OUTPUTS = {
    "fits": {
        "coefficients.csv": True,
        "random_effects.csv": True,
        "fit_stats.csv": True,
        "lrt.csv": True,
    },
    "alignment": {
        "alignment_rmcorr.csv": True,
        "alignment_participants.csv": False,
        "alignment_misalignment.csv": False,
        "alignment_summary.csv": True,
    },
    "task": {"task_dependence.csv": True, "task_choices.csv": False},
    "outcome": {"intuition_outcome.csv": False, "intuition_outcome_summary.csv": True},
    "waves": {"waves_ratings.csv": True, "waves_choices.csv": True},
}


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


def fit_specs(wide: pd.DataFrame, specs) -> dict[str, pd.DataFrame]:
    """Fit each spec ({name, formula, family, link?, reml?}); a failed fit is logged and
    reported in ``fit_stats`` (``error`` column) instead of stopping the step."""
    from tlsurvey.models import fit

    coefs, randoms, stats = [], [], []
    for spec in specs:
        name = spec["name"]
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


def _write(step: str, tables_: dict, outdir) -> dict[str, Path]:
    written = {}
    for file, tex in OUTPUTS[step].items():
        name, path = file.removesuffix(".csv"), Path(outdir) / file
        if tex:
            tables.write_outputs(tables_[name], path, caption=CAPTIONS.get(name))
        else:
            write_table(tables_[name], path)
        written[name] = path
    return written


def _wide(ratings) -> pd.DataFrame:
    wide = wide_ratings(_load(ratings))
    log.info("wide ratings: %d participant x case study x source rows", len(wide))
    return wide


def run_fits(ratings, outdir, config: dict | None = None) -> dict[str, Path]:
    """Fit ``config["specs"]`` to the wide ratings: coefficients, random_effects, fit_stats; and
    the likelihood-ratio tests of ``config["lrt"]`` (lrt)."""
    specs = (config or {}).get("specs") or DEFAULT_SPECS
    wide = _wide(ratings)
    out = {**fit_specs(wide, specs), "lrt": likelihood_ratios(wide, (config or {}).get("lrt", []))}
    return _write("fits", out, outdir)


def run_alignment(ratings, outdir, config: dict | None = None) -> dict[str, Path]:
    """rmcorr table, per participant Spearman, misalignment and their bootstrap summary."""
    config = config or {}
    wide = _wide(ratings)
    out = {
        "alignment_rmcorr": alignment.rm_corr_table(wide),
        "alignment_participants": alignment.participant_spearman(wide),
        "alignment_misalignment": alignment.misalignment(wide),
    }
    by_dimension = {d: alignment.misalignment(wide, [d]) for d in SIMILARITY_DIMENSIONS}
    out["alignment_summary"] = alignment.alignment_summary(
        out["alignment_participants"],
        out["alignment_misalignment"],
        mis_by_dimension=by_dimension,
        n_boot=int(config.get("bootstrap", 2000)),
        seed=int(config.get("seed", 42)),
    )
    return _write("alignment", out, outdir)


def run_task(choices, outdir, config: dict | None = None) -> dict[str, Path]:
    """Task dependence tests and the paired choice table."""
    choices = _load(choices)
    out = {
        "task_dependence": task.task_dependence(choices, seed=int((config or {}).get("seed", 42))),
        "task_choices": task.paired_choices(choices)
        .reset_index()
        .rename(columns={"tissue": "tissue_choice"}),
    }
    return _write("task", out, outdir)


def run_outcome(ratings, outcomes, outdir, config: dict | None = None) -> dict[str, Path]:
    """Kendall's tau of expected performance vs benchmark macro-AUC, with exact p-values."""
    config = config or {}
    per, summary = outcome.intuition_outcome(
        _wide(ratings),
        _load(outcomes, outcome.read_outcomes),
        n_boot=int(config.get("bootstrap", 2000)),
        seed=int(config.get("seed", 42)),
    )
    return _write(
        "outcome", {"intuition_outcome": per, "intuition_outcome_summary": summary}, outdir
    )


def run_waves(ratings, choices, outdir, config: dict | None = None) -> dict[str, Path]:
    """Wave comparison of ratings and choices (empty tables with a single wave)."""
    ratings, choices = _load(ratings), _load(choices)
    if ratings["wave"].nunique() < 2:
        log.info("one wave: nothing to compare")
    out = {
        "waves_ratings": waves.rating_shift(ratings),
        "waves_choices": waves.choice_shift(choices, seed=int((config or {}).get("seed", 42))),
    }
    return _write("waves", out, outdir)


def run(ratings, choices, outcomes, outdir, config: dict | None = None) -> dict[str, Path]:
    """Run the whole models stage (see docs/outputs/models.md for the tables).

    Parameters
    ----------
    ratings, choices : path or pandas.DataFrame
        Tidy ``ratings`` and ``choices`` tables from ingest.
    outcomes : path or pandas.DataFrame
        Benchmark macro-AUC per source and case study (``config/outcomes.csv``).
    outdir : path
        Output directory (``results/models``).
    config : dict
        ``config["models"]``: seed, bootstrap, specs, lrt.

    Returns
    -------
    dict
        Table name -> path written.
    """
    ratings = _load(ratings)
    return {
        **run_fits(ratings, outdir, config),
        **run_alignment(ratings, outdir, config),
        **run_task(choices, outdir, config),
        **run_outcome(ratings, outcomes, outdir, config),
        **run_waves(ratings, choices, outdir, config),
    }
