"""Task dependence: does the chosen source differ between case studies (each pair)?"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from tlsurvey.models.stats import holm, mc_pvalue, skipped, wilson_ci

MAX_EXACT = 2_000_000  # enumerate the exact null when it has at most this many tables
COLUMNS = ["case_studies", "analysis", "n", "n_changed", "n_other", "statistic", "dof", "p",
           "p_exact", "estimate", "ci_low", "ci_high", "effect", "p_holm", "method"]
CHOICE_COLUMNS = ["case_study_a", "case_study_b", "source_a", "source_b", "n"]


def _pairs(choices: pd.DataFrame, cases) -> pd.DataFrame:
    """Participant x case study choices, participants answering every case of ``cases``."""
    wide = choices.pivot_table(index="participant", columns="case_study", values="source",
                               aggfunc="first")
    return wide.reindex(columns=list(cases)).dropna()


def paired_choices(choices: pd.DataFrame, cases, sources) -> pd.DataFrame:
    """Square table of paired choices: rows = source chosen for ``cases[0]``, columns =
    source for ``cases[1]``; participants with a missing choice in either case, or a choice
    outside ``sources`` (the other option), are dropped."""
    wide = _pairs(choices, cases)
    wide = wide[wide.isin(list(sources)).all(axis=1)]
    table = pd.crosstab(
        pd.Categorical(wide[cases[0]], categories=sources),
        pd.Categorical(wide[cases[1]], categories=sources),
        dropna=False,
    )
    table.index.name, table.columns.name = cases
    return table


def _bowker_stat(upper: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Bowker statistic from the upper-triangle counts of each discordant pair."""
    return np.sum((2 * upper - totals) ** 2 / totals, axis=-1)


def bowker_test(table, n_perm: int = 100_000, seed: int = 42) -> dict:
    """Bowker's test of symmetry for a square table of paired choices, asymptotic and exact.

    The exact p-value conditions on the pair totals ``n_ij + n_ji``: under symmetry each
    ``n_ij`` is Binomial(``n_ij + n_ji``, 1/2) independently; all tables are enumerated when
    there are at most ``MAX_EXACT`` of them, otherwise ``n_perm`` seeded Monte Carlo draws are
    used.

    Returns
    -------
    dict
        statistic, dof, p (chi-square), p_exact, exact_method, n, n_changed.

    References
    ----------
    Bowker, A. H. (1948). A test for symmetry in contingency tables. Journal of the American
    Statistical Association, 43(244), 572-574.
    Agresti, A. (2013). Categorical Data Analysis (3rd ed.), section 11.3. Wiley.
    """
    t = np.asarray(table, float)
    i, j = np.triu_indices(len(t), 1)
    upper, totals = t[i, j], t[i, j] + t[j, i]
    keep = totals > 0
    upper, totals = upper[keep], totals[keep].astype(int)
    n, changed = int(t.sum()), int(totals.sum())
    if not len(totals):
        return {
            "statistic": 0.0,
            "dof": 0,
            "p": 1.0,
            "p_exact": 1.0,
            "exact_method": "none",
            "n": n,
            "n_changed": 0,
        }
    observed = _bowker_stat(upper, totals)
    size = int(np.prod(totals + 1))
    if size <= MAX_EXACT:
        grids = np.array(list(itertools.product(*[range(m + 1) for m in totals])), float)
        probs = np.prod(stats.binom.pmf(grids, totals, 0.5), axis=1)
        p_exact = float(probs[_bowker_stat(grids, totals) >= observed - 1e-9].sum())
        method = "exact (conditional binomial enumeration)"
    else:
        rng = np.random.default_rng(seed)
        draws = rng.binomial(totals, 0.5, size=(n_perm, len(totals)))
        p_exact = mc_pvalue(_bowker_stat(draws, totals), observed)
        method = f"Monte Carlo ({n_perm} draws, seed {seed})"
    return {
        "statistic": float(observed),
        "dof": len(totals),
        "p": float(stats.chi2.sf(observed, len(totals))),
        "p_exact": min(p_exact, 1.0),
        "exact_method": method,
        "n": n,
        "n_changed": changed,
    }


def choice_pairs(choices: pd.DataFrame, cases) -> pd.DataFrame:
    """Counts of paired choices for every pair of case studies (in ``cases`` order), every
    chosen value kept (the other option too): case_study_a, case_study_b, source_a, source_b,
    n."""
    parts = []
    for a, b in itertools.combinations(list(cases), 2):
        wide = _pairs(choices, [a, b])
        counts = wide.groupby([a, b]).size().rename("n").reset_index()
        parts.append(counts.rename(columns={a: "source_a", b: "source_b"}).assign(
            case_study_a=a, case_study_b=b))
    if not parts:
        return pd.DataFrame(columns=CHOICE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)[CHOICE_COLUMNS]
    return out.sort_values(CHOICE_COLUMNS[:4], ignore_index=True)


def task_dependence(choices: pd.DataFrame, cases, sources, seed: int = 42) -> pd.DataFrame:
    """Task dependence for every pair of case studies (``case_studies`` = ``a|b``), over the
    participants choosing a listed source in both (``n_other``: those excluded for choosing
    another option); one ``skipped`` row with the reason when there are fewer than two case
    studies or sources.

    See :func:`pair_dependence` for the rows of one pair.
    """
    cases, sources = list(cases), list(sources)
    if len(cases) < 2 or len(sources) < 2:
        return skipped(COLUMNS, f"task dependence needs at least two case studies and two "
                       f"sources; the study has {len(cases)} and {len(sources)}").assign(
            analysis="skipped")[[*COLUMNS, "note"]]
    parts = []
    for a, b in itertools.combinations(cases, 2):
        answered = _pairs(choices, [a, b])
        other = int((~answered.isin(sources).all(axis=1)).sum())
        part = pair_dependence(choices, [a, b], sources, seed)
        parts.append(part.assign(case_studies=f"{a}|{b}", n_other=other))
    out = pd.concat(parts, ignore_index=True)
    out["note"] = [f"{k} participants chose an option outside the listed sources and are "
                   "excluded" if k else "" for k in out["n_other"]]
    return out[[*COLUMNS, "note"]]


def pair_dependence(choices: pd.DataFrame, cases, sources, seed: int = 42) -> pd.DataFrame:
    """Bowker symmetry tests, share changing choice, and pairwise exact McNemar tests for the
    two case studies ``cases``.

    Rows (``analysis``): ``bowker`` (chi-square p and exact p), ``share_changed`` (Wilson 95% CI),
    and ``mcnemar:<a>|<b>`` per source pair: exact binomial test of ``n_ab`` vs ``n_ba`` with
    Cohen's g = max(n_ab, n_ba) / (n_ab + n_ba) - 0.5 (Wilson CI of the proportion minus
    0.5; Holm over the pairs).

    Returns
    -------
    pandas.DataFrame
        analysis, n, n_changed, statistic, dof, p, p_exact, estimate, ci_low, ci_high,
        effect, p_holm, method.

    References
    ----------
    Bowker (1948); McNemar, Q. (1947). Psychometrika, 12, 153-157; Cohen, J. (1988).
    Statistical Power Analysis for the Behavioral Sciences (2nd ed.), chapter 5.
    """
    table = paired_choices(choices, cases, sources)
    bow = bowker_test(table, seed=seed)
    n, k = bow["n"], bow["n_changed"]
    rows = [
        {
            "analysis": "bowker",
            "n": n,
            "n_changed": k,
            "statistic": bow["statistic"],
            "dof": bow["dof"],
            "p": bow["p"],
            "p_exact": bow["p_exact"],
            "method": f"Bowker chi-square; {bow['exact_method']}",
        }
    ]
    low, high = wilson_ci(k, n)
    rows.append(
        {
            "analysis": "share_changed",
            "n": n,
            "n_changed": k,
            "estimate": k / n if n else np.nan,
            "ci_low": low,
            "ci_high": high,
            "effect": "share of participants choosing different sources",
            "method": "Wilson",
        }
    )
    t = table.to_numpy()
    pairs = []
    for a, b in itertools.combinations(range(len(sources)), 2):
        nab, nba = int(t[a, b]), int(t[b, a])
        m = nab + nba
        p = stats.binomtest(nab, m, 0.5).pvalue if m else np.nan
        g_low, g_high = wilson_ci(max(nab, nba), m)
        pairs.append(
            {
                "analysis": f"mcnemar:{sources[a]}|{sources[b]}",
                "n": n,
                "n_changed": m,
                "statistic": nab,
                "p_exact": p,
                "estimate": max(nab, nba) / m - 0.5 if m else np.nan,
                "ci_low": g_low - 0.5,
                "ci_high": g_high - 0.5,
                "effect": "Cohen's g",
                "method": "exact McNemar (binomial); Holm over pairs",
            }
        )
    pairs_df = pd.DataFrame(pairs)
    pairs_df["p_holm"] = holm(pairs_df["p_exact"])
    out = pd.concat([pd.DataFrame(rows), pairs_df], ignore_index=True)
    cols = [
        "analysis",
        "n",
        "n_changed",
        "statistic",
        "dof",
        "p",
        "p_exact",
        "estimate",
        "ci_low",
        "ci_high",
        "effect",
        "p_holm",
        "method",
    ]
    return out.reindex(columns=cols)
