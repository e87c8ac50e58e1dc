"""One specification of the multiverse: its model frame, formula and key estimate.

The key estimate is the effect of similarity on the outcome (expected performance). With the
similarity dimensions as *separate* predictors it is the sum of their slopes, the effect of a
one-point higher rating on every dimension. The model is fitted in an equivalent
parameterisation, the mean of the dimensions plus the deviations of all but the last from it,
so the sum is the mean's coefficient, with its own standard error; with the *mean* as the only
similarity predictor it is that mean's slope. Both are divided by the residual standard
deviation (latent-scale for the ordinal family) to make families comparable.
"""

from __future__ import annotations

import logging
import math

import pandas as pd

from tlsurvey.errors import InputError
from tlsurvey.models.stats import complete, wide_ratings

log = logging.getLogger("tlsurvey.multiverse")

MEAN = "similarity_mean"
DEVIATION = "dev_"
GROUP = "participant"
CROSSED = "source"  # the item factor crossed with participants under ``random: crossed``
CASE = "case_study"
RESULT_COLUMNS = (
    "spec", "exclusions", "family", "predictors", "random", "waves", "formula", "n_obs",
    "n_participants", "estimate", "se", "ci_low", "ci_high", "p", "residual_sd", "standardised",
    "standardised_low", "standardised_high", "converged", "error",
)


def model_frame(ratings: pd.DataFrame, similarity, outcome: str, wave_set) -> pd.DataFrame:
    """Wide ratings of the waves in ``wave_set``, complete in ``similarity`` and ``outcome``,
    with the similarity mean and the deviations of all but the last dimension from it."""
    similarity = list(similarity)
    if not similarity or outcome is None:
        raise InputError("study", "the multiverse needs similarity dimensions and an outcome")
    wide = wide_ratings(ratings)
    missing = sorted({*similarity, outcome} - set(wide.columns))
    if missing:
        raise InputError("ratings", f"no ratings for dimensions {missing}")
    wide = wide[wide["wave"].astype(str).isin(list(wave_set))]
    frame = complete(wide, [*similarity, outcome], "multiverse").copy()
    frame[MEAN] = frame[similarity].mean(axis=1)
    for dim in similarity[:-1]:
        frame[DEVIATION + dim] = frame[dim] - frame[MEAN]
    return frame.reset_index(drop=True)


def formula(spec: dict, similarity, outcome: str, n_cases: int) -> str:
    """lme4-style formula of ``spec`` (``predictors``, ``random``) for the model frame."""
    terms = [MEAN]
    if spec["predictors"] == "separate":
        terms += [DEVIATION + dim for dim in list(similarity)[:-1]]
    if n_cases > 1:
        terms.append(CASE)
    terms.append(f"(1 | {GROUP})")
    if spec["random"] == "crossed":
        terms.append(f"(1 | {CROSSED})")
    return f"{outcome} ~ " + " + ".join(terms)


def residual_sd(result) -> float:
    """Residual SD of a linear fit, or of the ordinal model's latent distribution."""
    if hasattr(result, "residual_sd"):
        return float(result.residual_sd)
    return math.sqrt(float(result.residual_variance))


def fit_spec(ratings: pd.DataFrame, spec: dict, similarity, outcome: str) -> dict:
    """Fit one specification; its key estimate as one row of :data:`RESULT_COLUMNS`.

    A failed fit gives a row with ``error`` set and no estimate instead of raising.
    """
    from tlsurvey.models import fit

    frame = model_frame(ratings, similarity, outcome, spec["wave_set"])
    model = formula(spec, similarity, outcome, frame[CASE].nunique() if CASE in frame else 0)
    row = {key: spec[key] for key in ("exclusions", "family", "predictors", "random", "waves")}
    row.update(spec=spec["id"], formula=model, n_obs=len(frame),
               n_participants=int(frame[GROUP].nunique()), converged=False, error="")
    log.info("specification %s: fitting %s (%s) to %d rows of %d participants", spec["id"],
             model, spec["family"], len(frame), row["n_participants"])
    try:
        result = fit(model, frame, spec["family"], link=spec.get("link", "logit"), reml=True)
    except Exception as exc:  # noqa: BLE001 - a failed specification is a result, not a crash
        log.warning("specification %s failed: %s", spec["id"], exc)
        return {**dict.fromkeys(RESULT_COLUMNS, math.nan), **row, "error": str(exc)}
    key = result.table().set_index("term").loc[MEAN]
    scale = residual_sd(result)
    row.update(estimate=key["estimate"], se=key["se"], ci_low=key["ci_low"],
               ci_high=key["ci_high"], p=key["p"], residual_sd=scale,
               standardised=key["estimate"] / scale, standardised_low=key["ci_low"] / scale,
               standardised_high=key["ci_high"] / scale, converged=bool(result.converged))
    log.info("specification %s: n=%d, estimate %.4f (SE %.4f), standardised %.4f",
             spec["id"], len(frame), row["estimate"], row["se"], row["standardised"])
    return {column: row[column] for column in RESULT_COLUMNS}


def result_table(row: dict) -> pd.DataFrame:
    """One specification's row as a one-row table with fixed column types."""
    return pd.DataFrame([row], columns=list(RESULT_COLUMNS))
