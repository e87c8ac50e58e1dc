"""Tidy model tables, CSV and booktabs LaTeX writers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tlsurvey.models.clmm import CLMMResult
from tlsurvey.models.stats import holm


def family_of(result) -> str:
    return "ordinal" if isinstance(result, CLMMResult) else "gaussian"


def coefficients(result, model: str = "") -> pd.DataFrame:
    """Fixed effects (and thresholds) with SE, statistic, df, p, 95% CI and Holm-adjusted p.

    Linear models: t tests on Satterthwaite df (lmerTest); CLMMs: Wald z (df empty). ``test``
    names the method. Holm is applied within the model over the fixed effects other than the
    intercept and thresholds (one family of tests per model).
    """
    table = result.table()
    if "df" not in table:
        table["df"] = np.nan
    tested = (table["kind"] == "fixed") & (table["term"] != "(Intercept)")
    table["p_holm"] = np.nan
    table.loc[tested, "p_holm"] = holm(table.loc[tested, "p"])
    return table.assign(model=model, family=family_of(result))[
        [
            "model",
            "family",
            "term",
            "kind",
            "estimate",
            "se",
            "statistic",
            "df",
            "p",
            "ci_low",
            "ci_high",
            "p_holm",
            "test",
        ]
    ]


def random_effects(result, model: str = "") -> pd.DataFrame:
    """Random-effect variances and SDs (and slope correlations), one row per parameter."""
    return result.random.assign(model=model)[["model", "group", "term", "variance", "sd", "cor"]]


def is_singular(result, tol: float = 1e-4) -> bool:
    """Singular fit, as lme4's ``isSingular``: linear models by lme4's rule on theta
    (:attr:`LMMResult.singular`); CLMMs when a random-effect SD is below ``tol`` or a
    random-effect correlation is +-1."""
    if not isinstance(result, CLMMResult):
        return result.singular
    random = result.random[result.random["group"] != "Residual"]
    near_one = random["cor"].abs() > 1 - tol if "cor" in random else False
    return bool((random["sd"] < tol).any() or np.any(near_one))


def fit_stats(result, model: str = "") -> dict:
    """One row of fit statistics: n, groups, logLik, AIC, R2 (Nakagawa), ICC, convergence,
    singular fit."""
    ordinal = isinstance(result, CLMMResult)
    r2m, r2c = result.r2
    icc = float(result.icc.sum()) if ordinal else result.icc
    return {
        "model": model,
        "family": family_of(result),
        "formula": result.formula,
        "link": result.link if ordinal else "identity",
        "method": result.method if ordinal else ("REML" if result.reml else "ML"),
        "nobs": result.nobs,
        "ngroups": ";".join(f"{g}={n}" for g, n in result.ngroups.items()),
        "loglik": result.loglik,
        "aic": result.aic,
        "reml_criterion": np.nan if ordinal or not result.reml else result.criterion,
        "r2_marginal": r2m,
        "r2_conditional": r2c,
        "icc": icc,
        "residual_sd": math.sqrt(result.residual_variance) if ordinal else result.residual_sd,
        "converged": bool(result.converged),
        "singular": is_singular(result),
    }


def to_json(result, model: str = "") -> dict:
    """JSON-ready summary: fixed effects, thresholds, random effects, logLik and fit stats."""
    table = coefficients(result, model)

    def records(df):
        return [
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in row.items()
            }
            for row in df.to_dict("records")
        ]

    cols = ["term", "estimate", "se", "statistic", "df", "p", "ci_low", "ci_high", "p_holm"]
    stats = {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v)
        for k, v in fit_stats(result, model).items()
    }
    stats["ngroups"] = dict(result.ngroups)
    if not model:
        del stats["model"]
    return {
        **stats,
        "fixed": records(table.loc[table.kind == "fixed", cols]),
        "thresholds": records(table.loc[table.kind == "threshold", cols]),
        "random": records(random_effects(result, model).drop(columns="model")),
        "test": str(table["test"].iloc[0]) if len(table) else "",
    }

