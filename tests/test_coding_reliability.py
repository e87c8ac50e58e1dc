"""Agreement statistics against hand-computed values and the krippendorff package."""

import krippendorff
import numpy as np
import pandas as pd
import pytest

from tlsurvey.coding.reliability import (
    auto_vs_human,
    bootstrap_alpha_ci,
    cohen_kappa,
    disagreements,
    human_matrix,
    krippendorff_alpha,
    percent_agreement,
    precision_recall_f1,
    reliability_table,
)

# Two coders, ten units, binary code.  Hand computation:
#   agree on 8/10 -> p_o = 0.8; a has six 1s, b has four 1s
#   p_e = 0.6*0.4 + 0.4*0.6 = 0.48; kappa = (0.8 - 0.48) / 0.52 = 0.6153846
#   coincidences (2 values per unit): o_00 = 8, o_11 = 8, o_01 = o_10 = 2; n_0 = n_1 = 10, n = 20
#   alpha = 1 - (n - 1) * (o_01 + o_10) / (n_0 n_1 + n_1 n_0) = 1 - 19 * 4 / 200 = 0.62
A_FIXED = [1, 1, 1, 1, 0, 0, 0, 0, 1, 1]
B_FIXED = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: 0.743
K2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
    [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
])


def test_hand_computed_table():
    assert percent_agreement(A_FIXED, B_FIXED) == pytest.approx(0.8)
    assert cohen_kappa(A_FIXED, B_FIXED) == pytest.approx(0.32 / 0.52)
    assert krippendorff_alpha([A_FIXED, B_FIXED]) == pytest.approx(0.62)


def test_alpha_matches_published_and_package():
    assert krippendorff_alpha(K2011) == pytest.approx(0.743, abs=5e-4)
    expected = krippendorff.alpha(reliability_data=K2011, level_of_measurement="nominal")
    assert krippendorff_alpha(K2011) == pytest.approx(expected, rel=1e-12)
    rng = np.random.default_rng(3)
    data = rng.integers(0, 3, size=(3, 40)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha(data) == pytest.approx(expected, rel=1e-12)


def test_edge_cases_and_ci():
    assert np.isnan(cohen_kappa([1, 1], [1, 1]))
    assert np.isnan(krippendorff_alpha([[1, np.nan], [np.nan, 1]]))
    assert cohen_kappa([1, 0, np.nan], [1, 0, 1]) == pytest.approx(1.0)
    low, high = bootstrap_alpha_ci(K2011, n_boot=200, seed=1)
    assert low < krippendorff_alpha(K2011) < high
    assert bootstrap_alpha_ci(K2011, n_boot=200, seed=1) == (low, high)
    assert precision_recall_f1(3, 1, 2) == pytest.approx((0.75, 0.6, 6 / 9))



def _loop_alpha_ci(data, n_boot, seed, level=0.95):
    """The bootstrap as it was written first: alpha of each resample of the units in turn."""
    data = np.asarray(data, dtype=float)
    rng = np.random.default_rng(seed)
    n = data.shape[1]
    reps = np.array([krippendorff_alpha(data[:, rng.integers(0, n, n)]) for _ in range(n_boot)])
    reps = reps[~np.isnan(reps)]
    if not reps.size:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    return tuple(float(x) for x in np.percentile(reps, [tail, 100 - tail]))


@pytest.mark.parametrize("seed", range(12))
def test_bootstrap_alpha_ci_equals_the_loop_over_resamples(seed):
    rng = np.random.default_rng(seed)
    coders, units, categories = rng.integers(1, 5), rng.integers(1, 60), rng.integers(1, 5)
    data = rng.integers(0, categories, (coders, units)).astype(float)
    data[rng.random(data.shape) < rng.random() * 0.6] = np.nan
    got, expected = bootstrap_alpha_ci(data, 300, seed=seed), _loop_alpha_ci(data, 300, seed)
    assert np.isnan(got).tolist() == np.isnan(expected).tolist()
    assert np.allclose(got, expected, rtol=0, atol=1e-12, equal_nan=True)
    assert bootstrap_alpha_ci(K2011, 300, seed=seed) == pytest.approx(
        _loop_alpha_ci(K2011, 300, seed), abs=1e-12)
    assert np.isnan(bootstrap_alpha_ci(np.zeros((2, 0)))).all()
    assert np.isnan(bootstrap_alpha_ci([[np.nan] * 3] * 2)).all()

def test_tables_from_sheets():
    sheets = pd.DataFrame({
        "text_id": ["t1", "t1", "t2", "t2", "t3"],
        "coder": ["a", "b", "a", "b", "a"],
        "code": ["visual_similarity"] * 5,
        "value": [1, 1, 1, 0, 0],
    })
    matrix = human_matrix(sheets, ["visual_similarity", "robustness"])
    assert pd.isna(matrix.loc[("t3", "visual_similarity"), "b"])
    table = reliability_table(matrix, n_boot=50)
    row = table[table["code"] == "visual_similarity"].iloc[0]
    assert (row["n_units"], row["percent_agreement"]) == (2, 0.5)
    auto = {("t1", "visual_similarity"), ("t3", "robustness")}
    scores = auto_vs_human(matrix, auto).set_index(["coder", "code"])
    assert scores.loc[("a", "visual_similarity"), ["tp", "fn"]].tolist() == [1, 1]
    assert scores.loc[("a", "robustness"), "fp"] == 1
    texts = pd.DataFrame({"text_id": ["t1", "t2", "t3"], "participant": "P", "wave": "w1",
                          "field": "rationale", "case_study": None, "text": "x"})
    review = disagreements(matrix, {"lexicon": auto, "lexicon+x": auto}, texts)
    assert review["text_id"].tolist() == ["t2", "t3"]  # coders split on t2: first
    t2, t3 = review.to_dict("records")
    assert (t2["n_split"], t2["split"], t2["codes_a"], t2["codes_b"]) == (
        1, "visual_similarity", "visual_similarity", "")
    assert (t2["n_lexicon"], t2["coders"], t2["lexicon"]) == (0, 1.0, 0.0)
    assert (t3["n_split"], t3["n_lexicon"], t3["codes_lexicon"], t3["lexicon"]) == (
        0, 1, "robustness", 1.0)
    assert pd.isna(t3["codes_b"]) and t3["flagged"] == "lexicon"
    assert "codes_lexicon+x" not in review  # combined origins are not listed
    assert disagreements(matrix.iloc[:0], {"lexicon": auto}, texts).empty


def test_coder_sheet_mapping_and_errors(tmp_path):
    from tlsurvey.coding.sheets import read_sheet, read_sheets
    from tlsurvey.errors import InputError

    path = tmp_path / "w1_a.csv"
    path.write_text("wave,response_id,field,case_study,coder,code,value\n"
                    "w1,R_1,rationale,tissue,a,robustness,1\n"
                    "w1,R_1,meaning_of_similar,,a,robustness,0\n")
    sheet = read_sheet(path, ["robustness"], pid=lambda w, r: f"P{w}{r}")
    assert sheet["text_id"].tolist() == ["Pw1R_1:rationale:tissue", "Pw1R_1:meaning_of_similar"]
    texts = pd.DataFrame({"text_id": ["Pw1R_1:rationale:tissue"]})
    assert len(read_sheets([path], ["robustness"], texts, lambda w, r: f"P{w}{r}")) == 1
    with pytest.raises(InputError, match=r"row 2:column code: unknown code 'robustness'"):
        read_sheet(path, ["visual_similarity"], pid=lambda w, r: r)
    with pytest.raises(InputError, match="no participant salt"):
        read_sheet(path, ["robustness"])
    other_ids = pd.DataFrame({"text_id": ["PxR_9:rationale:tissue"]})
    with pytest.raises(InputError, match="w1_a.csv: no row names a text of the analysed"):
        read_sheets([path], ["robustness"], other_ids, lambda w, r: f"P{w}{r}")


def test_combination_adds_only_semantic_codes_that_clear_a_cross_validated_threshold():
    from tlsurvey.coding.reliability import combination_thresholds, combine_origins

    ids = [f"t{i}" for i in range(10)]
    sheets = pd.DataFrame({"text_id": ids, "coder": "a", "code": "robustness",
                           "value": [1] * 6 + [0] * 4})
    matrix = human_matrix(sheets, ["robustness"])
    lexicon = {(t, "robustness") for t in ids[:4]}
    score = [0.2, 0.3, 0.2, 0.1, 0.9, 0.95, 0.7, 0.75, 0.1, 0.2]
    scores = pd.DataFrame({"text_id": ids, "code": "robustness", "score": score})
    semantic = {(t, "robustness") for t, s in zip(ids, score, strict=True) if s >= 0.5}
    thresholds = combination_thresholds(lexicon, scores, matrix)
    # each fold's threshold keeps the two true additions (0.9, 0.95) and drops 0.7 and 0.75
    assert thresholds.between(0.75, 0.9, inclusive="neither").all() and len(thresholds) == 10
    combined = combine_origins({"lexicon": lexicon, "semantic": semantic}, scores, matrix)
    assert combined["lexicon+semantic"] == lexicon | {("t4", "robustness"), ("t5", "robustness")}
    union = combine_origins({"lexicon": lexicon, "semantic": semantic})["lexicon+semantic"]
    assert union == lexicon | semantic
    # with no human positives to gain, nothing is added (infinite threshold)
    none = human_matrix(sheets.assign(value=0), ["robustness"])
    assert combine_origins({"lexicon": set(), "semantic": semantic}, scores,
                           none)["lexicon+semantic"] == set()


def test_union_f1_counts_match_brute_force():
    from tlsurvey.coding.reliability import _union_f1

    rng = np.random.default_rng(1)
    lexicon, truth = rng.random(200) < 0.2, rng.random(200) < 0.25
    scores = rng.random(200).round(2)  # ties
    grid = np.append(np.unique(scores), np.inf)
    brute = [2 * ((lexicon | (scores >= t)) & truth).sum()
             / ((lexicon | (scores >= t)).sum() + truth.sum()) for t in grid]
    np.testing.assert_allclose(_union_f1(lexicon, scores, truth, grid), brute)
