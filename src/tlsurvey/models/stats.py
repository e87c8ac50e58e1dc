"""Shared helpers: wide rating table, Holm correction, bootstrap and Wilson intervals."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from tlsurvey.errors import InputError

log = logging.getLogger("tlsurvey.models")
KEYS = ["participant", "case_study", "source"]


def wide_ratings(ratings: pd.DataFrame, dimensions=None) -> pd.DataFrame:
    """Pivot tidy ratings to one row per participant x case_study x source.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Tidy ``ratings`` (participant, wave, case_study, source, dimension, value).
    dimensions : sequence of str, optional
        Column order (the study's dimensions); default: order of first appearance.

    Returns
    -------
    pandas.DataFrame
        Columns participant, wave, case_study, source and one float column per dimension
        (NaN where skipped).
    """
    missing = {"participant", "case_study", "source", "dimension", "value"} - set(ratings)
    if missing:
        raise InputError("ratings", f"missing columns {sorted(missing)}")
    index = KEYS + (["wave"] if "wave" in ratings else [])
    values = ratings.assign(value=ratings["value"].astype("Float64").astype(float))
    wide = values.groupby([*index, "dimension"], sort=True)["value"].first().unstack("dimension")
    order = list(dimensions) if dimensions is not None else list(ratings["dimension"].unique())
    wide = wide.reindex(columns=[d for d in order if d in wide.columns])
    wide.columns.name = None
    return wide.reset_index().sort_values(KEYS, kind="stable").reset_index(drop=True)


def skipped(columns, reason: str) -> pd.DataFrame:
    """A one-row table stating why an analysis did not run (``note``; other columns NA)."""
    return pd.DataFrame([{"note": reason}]).reindex(columns=[*columns, "note"])


def complete(frame: pd.DataFrame, columns, what: str) -> pd.DataFrame:
    """Rows complete in ``columns``; logs the number dropped for analysis ``what``."""
    kept = frame.dropna(subset=list(columns))
    if len(kept) < len(frame):
        log.info(
            "%s: dropped %d of %d rows with missing values",
            what,
            len(frame) - len(kept),
            len(frame),
        )
    return kept


def holm(p) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values; NaN entries stay NaN and are not counted.

    ``min(1, max_{j <= i} (m - j + 1) p_(j))`` for the ``i``-th smallest of ``m`` p-values, as
    ``statsmodels.stats.multitest.multipletests(method="holm")`` (without importing it).
    """
    p = np.asarray(p, float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        order = np.argsort(p[ok])
        ranked = np.maximum.accumulate(p[ok][order] * np.arange(ok.sum(), 0, -1))
        adjusted = np.empty_like(ranked)
        adjusted[order] = np.minimum(ranked, 1.0)
        out[ok] = adjusted
    return out


def mc_pvalue(null, observed: float, tol: float = 1e-9) -> float:
    """Monte Carlo p-value: share of null draws at least ``observed`` (within ``tol``), with
    the observed value counted as one draw (Davison & Hinkley 1997, eq. 4.11)."""
    null = np.asarray(null)
    return float((np.sum(null >= observed - tol) + 1) / (len(null) + 1))


BOOTSTRAP_BLOCK = 1 << 18  # resampled values drawn at once by bootstrap_ci (2 MB: in cache)


def bootstrap_ci(values, statistic=np.mean, n_boot=2000, seed=42, level=0.95):
    """Percentile bootstrap CI of ``statistic`` (a reducer taking ``axis``, like ``np.mean``)
    over resampled units (rows of ``values``).

    Returns ``(estimate, low, high)``; NaN when fewer than two finite units.
    """
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return (statistic(values) if len(values) else np.nan), np.nan, np.nan
    rng = np.random.default_rng(seed)
    # the (n_boot, n) resamples a block of rows at a time (the generator's stream is the same
    # as in one call), so that each block stays in cache
    rows = max(1, BOOTSTRAP_BLOCK // len(values))
    boots = np.concatenate([
        statistic(values[rng.integers(0, len(values), (min(rows, n_boot - start), len(values)))],
                  axis=1) for start in range(0, n_boot, rows)])
    alpha = (1 - level) / 2
    return float(statistic(values)), *np.quantile(boots, [alpha, 1 - alpha])


def wilson_ci(k: int, n: int, level=0.95):
    """Wilson score interval for a proportion ``k / n`` (Agresti & Coull 1998)."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return np.nan, np.nan
    low, high = proportion_confint(k, n, alpha=1 - level, method="wilson")
    return float(low), float(high)
