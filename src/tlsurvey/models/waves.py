"""Do later survey waves answer differently from the first wave?

Participants are keyed by (wave, response id), so a person who answered two waves counts once in
each; with few returning participants the tests below treat the waves as independent samples.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from tlsurvey.models.stats import holm, log, mc_pvalue

RATING_COLUMNS = ["case_study", "source", "dimension", "wave", "reference_wave", "n",
                  "n_reference", "median", "median_reference", "U", "p", "rank_biserial",
                  "cles", "p_holm", "test"]
CHOICE_COLUMNS = ["case_study", "waves", "n", "chi2", "dof", "p", "p_permutation", "cramers_v",
                  "p_holm", "test"]


def wave_order(frame: pd.DataFrame) -> list[str]:
    """Wave labels in order of appearance (ingest writes waves in config order)."""
    return [str(w) for w in pd.unique(frame["wave"])]


def rating_shift(ratings: pd.DataFrame) -> pd.DataFrame:
    """Mann-Whitney U test of every rating item between each later wave and the first wave.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Tidy ratings (participant, wave, case_study, source, dimension, value).

    Returns
    -------
    pandas.DataFrame
        One row per case study x source x dimension x later wave: sizes and medians of both
        waves, U of the later wave, two-sided p, rank-biserial correlation (positive: the later
        wave rates higher) and common-language effect size P(later > first) + P(tie)/2,
        Holm-adjusted over all rows. Empty with fewer than two waves.

    References
    ----------
    Mann, H. B. & Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Annals of Mathematical Statistics, 18(1), 50-60.
    Kerby, D. S. (2014). The simple difference formula: an approach to teaching nonparametric
    correlation. Comprehensive Psychology, 3, 11.IT.3.1.
    """
    waves = wave_order(ratings)
    rows = []
    data = ratings.dropna(subset=["value"]).astype({"wave": str})
    for (case, source, dimension), item in data.groupby(
            ["case_study", "source", "dimension"], sort=True):
        first = item.loc[item["wave"] == waves[0], "value"].astype(float)
        for wave in waves[1:]:
            later = item.loc[item["wave"] == wave, "value"].astype(float)
            row = {"case_study": case, "source": source, "dimension": dimension, "wave": wave,
                   "reference_wave": waves[0], "n": len(later), "n_reference": len(first),
                   "median": later.median(), "median_reference": first.median()}
            if len(later) and len(first):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FutureWarning)
                    import pingouin  # here: the other models rules need not import it (~1 s)

                    res = pingouin.mwu(later, first, alternative="two-sided").iloc[0]
                row |= {"U": res["U_val"], "p": res["p_val"], "rank_biserial": res["RBC"],
                        "cles": res["CLES"]}
            rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=RATING_COLUMNS)
    out["p_holm"] = holm(out["p"])
    out["test"] = "Mann-Whitney U (pingouin.mwu), each later wave vs the first; Holm over all rows"
    return out


def choice_shift(choices: pd.DataFrame, n_perm: int = 10_000, seed: int = 42) -> pd.DataFrame:
    """Chi-square test of the chosen source by wave, per case study, with a permutation p-value.

    The permutation p-value shuffles wave labels among the participants of the case study
    (``n_perm`` seeded draws), which stays valid when expected counts are small.

    Returns
    -------
    pandas.DataFrame
        case_study, waves, n, chi2, dof, p (asymptotic), p_permutation, cramers_v, p_holm, test.
        Empty with fewer than two waves.

    References
    ----------
    Agresti, A. (2013). Categorical Data Analysis (3rd ed.), sections 3.2 and 16.1. Wiley.
    Cramér, H. (1946). Mathematical Methods of Statistics. Princeton University Press.
    """
    waves = wave_order(choices)
    data = choices.dropna(subset=["source"]).astype({"wave": str, "source": str})
    rng = np.random.default_rng(seed)
    rows = []
    for case, sub in (data.groupby("case_study", sort=True) if len(waves) > 1 else []):
        codes_wave = pd.Categorical(sub["wave"], categories=waves).codes
        codes_source = pd.Categorical(sub["source"]).codes
        observed = float(_chi2(codes_wave[None, :], codes_source)[0])
        shape = (len(np.unique(codes_wave)), len(np.unique(codes_source)))  # non-empty rows, cols
        dof = (shape[0] - 1) * (shape[1] - 1)
        null = _permutation_chi2(rng, codes_wave, codes_source, n_perm)
        log.info("choice_shift %s: %d permutations of %d participants", case, n_perm, len(sub))
        k = min(shape) - 1
        rows.append({
            "case_study": case, "waves": ";".join(w for w in waves if w in set(sub["wave"])),
            "n": len(sub), "chi2": observed, "dof": dof,
            "p": stats.chi2.sf(observed, dof) if dof else np.nan,
            "p_permutation": mc_pvalue(null, observed),
            "cramers_v": np.sqrt(observed / (len(sub) * k)) if k else np.nan,
        })
    out = pd.DataFrame(rows).reindex(columns=CHOICE_COLUMNS)
    out["p_holm"] = holm(out["p_permutation"])
    out["test"] = (f"Pearson chi-square of source by wave; permutation p ({n_perm} draws, seed "
                   f"{seed}); Cramér's V; Holm over case studies")
    return out


def _chi2(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Pearson's chi-square statistic of the table of each row of ``rows`` (k x n integer
    codes, all with the same margins, e.g. permutations of one another) against ``columns``."""
    n = rows.shape[1]
    by_column = [rows[:, columns == c] for c in range(columns.max() + 1)]
    tables = np.stack([np.stack([np.count_nonzero(block == r, axis=1) for block in by_column], 1)
                       for r in range(rows.max() + 1)], axis=1)  # k x rows x columns
    first = tables[0]
    live_rows, live_cols = first.sum(axis=1) > 0, first.sum(axis=0) > 0
    tables = tables[:, live_rows][:, :, live_cols]
    expected = np.outer(first.sum(axis=1), first.sum(axis=0))[live_rows][:, live_cols] / n
    return np.sum((tables - expected) ** 2 / expected, axis=(1, 2))


def _permutation_chi2(rng, rows: np.ndarray, columns: np.ndarray, n_perm: int,
                      chunk_cells: int = 2_000_000) -> np.ndarray:
    """Chi-square statistics of ``n_perm`` permutations of ``rows`` against ``columns``,
    vectorised in chunks of about ``chunk_cells`` codes; draws the same permutations as
    ``n_perm`` successive ``rng.permutation(rows)`` calls."""
    size = max(1, chunk_cells // len(rows))
    chunks = [_chi2(rng.permuted(np.broadcast_to(rows, (min(size, n_perm - at), len(rows))),
                                 axis=1), columns) for at in range(0, n_perm, size)]
    return np.concatenate(chunks) if chunks else np.zeros(0)
