"""Intuition vs outcome: do expected-performance rankings match the benchmark macro-AUC?"""

from __future__ import annotations

import functools
import itertools
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from tlsurvey.errors import InputError
from tlsurvey.models.stats import bootstrap_ci, complete, holm, mc_pvalue, skipped

log = logging.getLogger("tlsurvey.models")
PER_COLUMNS = ["participant", "case_study", "n_sources", "tau", "p_exact"]
SUMMARY_COLUMNS = ["scope", "n", "mean_tau", "ci_low", "ci_high", "share_positive", "p_exact",
                   "p_method", "p_holm", "method"]


def read_outcomes(path) -> pd.DataFrame:
    """Read ``config/outcomes.csv`` (source, case_study, macro_auc)."""
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    missing = {"source", "case_study", "macro_auc"} - set(table.columns)
    if missing:
        raise InputError(path, f"missing columns {sorted(missing)}")
    return table


def _taus(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row of ``x`` (k x n) with ``y`` (n), computed as
    ``scipy.stats.kendalltau``: (concordant - discordant) / sqrt(n0 - ties_x) / sqrt(n0 -
    ties_y); NaN when either is constant."""
    i, j = np.triu_indices(x.shape[1], 1)
    sx, sy = np.sign(x[:, i] - x[:, j]), np.sign(y[i] - y[j])
    n0 = len(i)
    untied_x, untied_y = np.count_nonzero(sx, axis=1), np.count_nonzero(sy)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = (sx @ sy) / np.sqrt(untied_x) / np.sqrt(untied_y)
    tau = np.clip(tau, -1.0, 1.0)
    return np.where((untied_x == 0) | (untied_y == 0) | (n0 == 0), np.nan, tau)


@functools.cache
def _null_taus(expected: tuple, auc: tuple) -> np.ndarray:
    """Kendall's tau-b for every assignment of a participant's ratings to the sources; the
    first permutation is the identity, so element 0 is the observed tau (cached: ratings take
    few patterns)."""
    perms = np.array(list(itertools.permutations(range(len(expected)))))
    return _taus(np.asarray(expected, float)[perms], np.asarray(auc, float))


def participant_tau(
    wide: pd.DataFrame, outcomes: pd.DataFrame, outcome: str
) -> pd.DataFrame:
    """Kendall's tau-b between each participant's expected performance and macro-AUC.

    Per participant and case study, over the sources present in both tables. The exact
    one-sided p-value is the share of the ``k!`` permutations of the participant's ratings
    over sources with a tau at least as large as observed (random ranking as the null).

    Returns
    -------
    pandas.DataFrame
        participant, case_study, n_sources, tau, p_exact.

    References
    ----------
    Kendall, M. G. (1938). A new measure of rank correlation. Biometrika, 30, 81-93.
    Agresti, A. (2010). Analysis of Ordinal Categorical Data (2nd ed.), section 7.1. Wiley.
    """
    merged = complete(wide, [outcome], "intuition_outcome").merge(
        outcomes[["source", "case_study", "macro_auc"]], on=["case_study", "source"]
    )
    merged = merged.sort_values(["participant", "case_study", "source"], kind="stable")
    pids, cases = merged["participant"].to_numpy(), merged["case_study"].to_numpy()
    exps, aucs = merged[outcome].to_numpy(float), merged["macro_auc"].to_numpy(float)
    starts = np.flatnonzero(np.r_[True, (pids[1:] != pids[:-1]) | (cases[1:] != cases[:-1])])
    rows = []
    for start, end in zip(starts, [*starts[1:], len(merged)], strict=True):
        null = _null_taus(tuple(exps[start:end]), tuple(aucs[start:end]))
        tau = null[0]
        p = float(np.mean(null >= tau - 1e-12)) if np.isfinite(tau) else np.nan
        rows.append(
            {
                "participant": pids[start],
                "case_study": cases[start],
                "n_sources": end - start,
                "tau": tau,
                "p_exact": p,
                "_null": null,
            }
        )
    return pd.DataFrame(rows, columns=[*PER_COLUMNS, "_null"])


def mean_tau_p(
    nulls, observed_sum: float, n_mc: int = 100_000, seed: int = 42, max_support: int = 20_000
) -> tuple[float, str]:
    """One-sided p of the summed (mean) tau under independent random rankings.

    Exact: the per-participant permutation nulls are convolved; when the support of the sum
    grows beyond ``max_support`` values, ``n_mc`` seeded Monte Carlo draws are used instead.

    Returns
    -------
    (float, str)
        p-value and the method used.
    """
    known: dict[bytes, tuple] = {}  # ratings take few patterns: each distinct null once
    supports = []
    for null in nulls:
        key = null.tobytes()
        if key not in known:
            known[key] = np.unique(np.round(null, 9), return_index=True, return_counts=True)
        supports.append(known[key])
    totals, probs = np.zeros(1), np.ones(1)
    for values, _, counts in supports:  # convolve the support of the sum with one participant's
        keys = np.round(totals[:, None] + values[None, :], 9).ravel()
        totals, where = np.unique(keys, return_inverse=True)
        probs = np.bincount(where, (probs[:, None] * (counts / counts.sum())).ravel())
        if len(totals) > max_support:
            break
    else:
        p = probs[totals >= observed_sum - 1e-7].sum()
        return min(float(p), 1.0), "exact"
    # participants with the same null distribution (ratings take few patterns) are drawn
    # together: the sum of m draws is the multinomial count of each value times the value
    # (each distinct value as computed, not rounded)
    pooled: dict[tuple, int] = {}
    for null, (_, first, counts) in zip(nulls, supports, strict=True):
        key = (tuple(null[first]), tuple(counts))
        pooled[key] = pooled.get(key, 0) + 1
    log.info("mean tau: %d participants, %d null patterns, %d Monte Carlo draws",
             len(nulls), len(pooled), n_mc)
    rng = np.random.default_rng(seed)
    sums = np.zeros(n_mc)
    for (values, counts), m in sorted(pooled.items()):
        draws = rng.multinomial(m, np.asarray(counts) / sum(counts), size=n_mc)
        sums += draws @ np.asarray(values)
    return mc_pvalue(sums, observed_sum, tol=1e-7), f"Monte Carlo ({n_mc} draws, seed {seed})"


def intuition_outcome(
    wide: pd.DataFrame, outcomes: pd.DataFrame, n_boot: int = 2000, seed: int = 42, *,
    outcome: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per participant taus and a summary per case study and pooled.

    The summary gives the mean tau over participants with a defined tau, its percentile
    bootstrap CI, the one-sided p-value of the mean under random ranking (exact convolution
    over all participants' ``k!`` permutations; seeded Monte Carlo for large samples, see
    ``p_method``), and Holm-adjusted p-values over the summary rows.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Per participant table and summary (scope, n, mean_tau, ci_low, ci_high, share_positive,
        p_exact, p_method, p_holm, method).
    """
    per = participant_tau(wide, outcomes, outcome)
    if per.empty:
        reason = "no benchmark outcome for the study's case studies and sources"
        return skipped(PER_COLUMNS, reason), skipped(SUMMARY_COLUMNS, reason)
    rows = []
    groups = [(case, sub) for case, sub in per.groupby("case_study", sort=True)]
    for scope, sub in [*groups, ("pooled", per)]:
        log.info("intuition_outcome %s: %d participant taus, %d bootstrap resamples", scope,
                 len(sub), n_boot)
        sub = sub[np.isfinite(sub["tau"])]
        taus = sub["tau"].to_numpy()
        est, low, high = bootstrap_ci(taus, n_boot=n_boot, seed=seed)
        p, how = np.nan, ""
        if len(sub):
            nulls = [np.nan_to_num(null) for null in sub["_null"]]
            p, how = mean_tau_p(nulls, taus.sum(), seed=seed)
        rows.append(
            {
                "scope": scope,
                "n": len(sub),
                "mean_tau": est,
                "ci_low": low,
                "ci_high": high,
                "share_positive": float(np.mean(taus > 0)) if len(taus) else np.nan,
                "p_exact": p,
                "p_method": how,
            }
        )
    summary = pd.DataFrame(rows)
    summary["p_holm"] = holm(summary["p_exact"])
    summary["method"] = (
        f"Kendall tau-b; one-sided permutation p over k! rankings per participant "
        f"(exact or Monte Carlo: p_method); bootstrap CI ({n_boot}, seed {seed}); Holm over rows"
    )
    return per.drop(columns="_null"), summary
