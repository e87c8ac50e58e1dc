"""Intuition vs outcome: do expected-performance rankings match the benchmark macro-AUC?"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from tlsurvey.errors import InputError
from tlsurvey.models.stats import bootstrap_ci, complete, holm, mc_pvalue, skipped

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


def _tau(x, y) -> float:
    if len(set(x)) < 2 or len(set(y)) < 2:
        return np.nan
    return float(stats.kendalltau(x, y).statistic)


@functools.cache
def _null_taus(expected: tuple, auc: tuple) -> np.ndarray:
    """Kendall's tau-b for every assignment of a participant's ratings to the sources; the
    first permutation is the identity, so element 0 is the observed tau (cached: ratings take
    few patterns)."""
    return np.array(
        [
            _tau(np.asarray(expected)[list(p)], auc)
            for p in itertools.permutations(range(len(expected)))
        ]
    )


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
    rows = []
    for (pid, case), sub in merged.groupby(["participant", "case_study"], sort=True):
        sub = sub.sort_values("source")
        exp, auc = sub[outcome].to_numpy(float), sub["macro_auc"].to_numpy(float)
        null = _null_taus(tuple(exp), tuple(auc))
        tau = null[0]
        p = float(np.mean(null >= tau - 1e-12)) if np.isfinite(tau) else np.nan
        rows.append(
            {
                "participant": pid,
                "case_study": case,
                "n_sources": len(sub),
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
    dist = {0.0: 1.0}
    for null in nulls:
        values, counts = np.unique(np.round(null, 9), return_counts=True)
        new = {}
        for total, prob in dist.items():
            for v, c in zip(values, counts / counts.sum(), strict=True):
                key = round(total + v, 9)
                new[key] = new.get(key, 0.0) + prob * c
        dist = new
        if len(dist) > max_support:
            break
    else:
        p = sum(prob for total, prob in dist.items() if total >= observed_sum - 1e-7)
        return min(float(p), 1.0), "exact"
    rng = np.random.default_rng(seed)
    sums = np.zeros(n_mc)
    for row in nulls:  # one participant at a time keeps memory at n_mc floats
        sums += row[rng.integers(0, len(row), n_mc)]
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
