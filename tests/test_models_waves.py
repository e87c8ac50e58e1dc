"""Wave comparison: hand-computed statistics, a planted shift found, none where none is planted."""

import numpy as np
import pandas as pd
import pytest

from tlsurvey.models.waves import choice_shift, rating_shift
from tlsurvey.simulate.survey import simulate_ratings


def two_waves(first, later, **item):
    rows = [("w1", v) for v in first] + [("w2", v) for v in later]
    return pd.DataFrame([{"participant": f"P{i}", "wave": w, "case_study": "tissue",
                          "source": "imagenet", "dimension": "visual", "value": v, **item}
                         for i, (w, v) in enumerate(rows)])


def test_rating_shift_matches_hand_computed_u_and_effect_sizes():
    first, later = [1, 2, 2, 3, 4], [2, 3, 4, 4, 5, 5]
    row = rating_shift(two_waves(first, later)).iloc[0]
    # U of the later wave: pairs (later > first) plus half the ties
    wins = sum((b > a) + 0.5 * (b == a) for a in first for b in later)
    assert wins == 24.5 and row["U"] == pytest.approx(wins)
    assert row["cles"] == pytest.approx(wins / 30)
    assert row["rank_biserial"] == pytest.approx(2 * wins / 30 - 1)  # Kerby's difference formula
    assert (row["median"], row["median_reference"], row["n"], row["n_reference"]) == (4, 2, 6, 5)
    assert row["wave"] == "w2" and row["reference_wave"] == "w1"
    assert 0.05 < row["p"] < 0.1  # normal approximation with tie correction: p = .066


def test_planted_shift_is_found_and_absent_shift_is_not():
    base = simulate_ratings(60, 5)
    base["wave"] = np.where(base["participant"].str[-1].isin(list("02468")), "w1", "w2")
    base = base.sort_values("wave", kind="stable")
    same = rating_shift(base)
    assert len(same) == 2 * 3 * 5  # case x source x dimension, one later wave
    assert (same["p_holm"] >= 0.05).all()  # both halves come from the same simulated model
    shifted = base.copy()
    up = (shifted["wave"] == "w2") & (shifted["dimension"] == "visual")
    shifted.loc[up, "value"] = np.minimum(shifted.loc[up, "value"] + 2, 5)
    found = rating_shift(shifted)
    visual = found[found["dimension"] == "visual"]
    assert (visual["rank_biserial"] > 0.3).all() and (visual["p_holm"] < 0.05).sum() >= 4
    others = found[found["dimension"] != "visual"]
    pd.testing.assert_frame_equal(others.reset_index(drop=True),
                                  same[same["dimension"] != "visual"].reset_index(drop=True)
                                  .assign(p_holm=others["p_holm"].to_numpy()))


def test_choice_shift_matches_hand_computed_chi_square():
    counts = {("w1", "imagenet"): 10, ("w1", "radimagenet"): 5, ("w1", "ecoset"): 5,
              ("w2", "imagenet"): 4, ("w2", "radimagenet"): 14, ("w2", "ecoset"): 2}
    rows = [{"participant": f"P{w}{s}{i}", "wave": w, "case_study": "xray", "source": s}
            for (w, s), n in counts.items() for i in range(n)]
    rows.append({"participant": "Pskip", "wave": "w2", "case_study": "xray", "source": None})
    row = choice_shift(pd.DataFrame(rows), n_perm=4000, seed=1).iloc[0]
    table = np.array([[10, 5, 5], [4, 14, 2]])
    expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
    chi2 = ((table - expected) ** 2 / expected).sum()
    assert row["chi2"] == pytest.approx(chi2) and row["dof"] == 2 and row["n"] == 40
    assert row["cramers_v"] == pytest.approx(np.sqrt(chi2 / 40))
    assert row["p"] == pytest.approx(np.exp(-chi2 / 2))  # chi-square with 2 df
    assert row["p_permutation"] == pytest.approx(row["p"], abs=0.01)
    assert row["waves"] == "w1;w2"


def test_one_wave_gives_empty_tables_with_columns():
    ratings = simulate_ratings(10, 1).assign(wave="w1")
    choices = ratings[["participant", "wave", "case_study", "source"]].drop_duplicates()
    assert rating_shift(ratings).empty and choice_shift(choices).empty
    assert {"rank_biserial", "p_holm"} <= set(rating_shift(ratings).columns)
    assert {"cramers_v", "p_permutation"} <= set(choice_shift(choices).columns)
