"""Alignment, task dependence and intuition-vs-outcome analyses."""

import numpy as np
import pandas as pd
import pytest

from tlsurvey.models import alignment, outcome, task
from tlsurvey.models.stats import bootstrap_ci, holm, wide_ratings

SIMILARITY = ["visual", "semantic", "embedding", "domain"]
CASES, SOURCES = ["tissue", "xray"], ["imagenet", "radimagenet", "ecoset"]


def tidy(rows):
    """Tidy ratings from {(participant, case, source): (visual, semantic, embedding, domain,
    expected)}."""
    dims = ["visual", "semantic", "embedding", "domain", "expected"]
    out = [
        {"participant": p, "wave": "w1", "case_study": c, "source": s, "dimension": d, "value": v}
        for (p, c, s), vals in rows.items()
        for d, v in zip(dims, vals, strict=True)
    ]
    df = pd.DataFrame(out)
    df["value"] = df["value"].astype("Int64")
    return df


@pytest.fixture
def wide():
    rows = {}
    for k, p in enumerate(["A", "B", "C", "D"]):
        for c in ("tissue", "xray"):
            for j, s in enumerate(("imagenet", "radimagenet", "ecoset")):
                sim = 1 + (j + k) % 3
                exp = sim if p != "D" else 4 - sim  # D is anti-aligned
                rows[(p, c, s)] = (sim, sim, sim, sim if j else None, exp)
    return wide_ratings(tidy(rows))


def test_wide_ratings_shape_and_na(wide):
    assert len(wide) == 24
    assert list(wide.columns[-5:]) == ["visual", "semantic", "embedding", "domain", "expected"]
    assert wide["domain"].isna().sum() == 8


def test_rm_corr_table(wide):
    table = alignment.rm_corr_table(wide, SIMILARITY, "expected")
    assert set(table.scope) == {"tissue", "xray", "pooled"} and len(table) == 12
    visual = table[(table.scope == "pooled") & (table.dimension == "visual")].iloc[0]
    assert visual.n_obs == 24 and visual.n_participants == 4
    assert (table.p_holm.dropna() >= table.p.dropna()).all()
    data = wide.dropna(subset=["visual", "expected"])
    res = alignment.rm_corr(data["visual"], data["expected"], data["participant"])
    assert visual.r == res["r"] and visual.dof == 24 - 4 - 1 and visual.ci_low == res["ci_low"]
    # A, B, C perfectly aligned and D anti-aligned with equal spread: within-participant r = 0.5
    assert visual.r == pytest.approx(0.5)
    assert visual.ci_low < 0.5 < visual.ci_high and visual.ci_low != round(visual.ci_low, 2)


def test_rm_corr_undefined_cases():
    res = alignment.rm_corr([1, 2, 3, 4], [2, 2, 3, 3], ["a", "a", "b", "b"])
    assert np.isnan(res["r"]) and res["dof"] != res["dof"]  # dof 1: no Fisher z interval
    flat = alignment.rm_corr([1, 1, 2, 2, 3, 3], [1, 2, 3, 4, 5, 6], list("aabbcc"))
    assert np.isnan(flat["r"]) and flat["n_obs"] == 6  # x constant within participants
    perfect = alignment.rm_corr([1, 2, 1, 2, 1, 2], [1, 3, 2, 4, 0, 2], list("aabbcc"))
    assert perfect["r"] == pytest.approx(1) and perfect["p"] == 0 and perfect["ci_high"] == 1


def test_participant_spearman_and_misalignment(wide):
    rho = alignment.participant_spearman(wide, SIMILARITY, "expected")
    vis = rho[(rho.scope == "tissue") & (rho.dimension == "visual")].set_index("participant").rho
    assert vis["A"] == pytest.approx(1) and vis["D"] == pytest.approx(-1)
    # domain is skipped for one of three sources: two pairs per case study, rho undefined
    domain = rho[(rho.scope == "tissue") & (rho.dimension == "domain")]
    assert domain.rho.isna().all() and (domain.n == 2).all()
    assert (domain.reason == alignment.NAN_REASONS["few"]).all()
    pooled = rho[(rho.scope == "pooled") & (rho.dimension == "domain")]
    assert pooled.rho.notna().all() and (pooled.reason == "").all()
    mis = alignment.misalignment(wide, ["visual", "semantic", "embedding"], "expected")
    assert mis.set_index(["participant", "case_study"]).misaligned.groupby(
        level=0
    ).all().to_dict() == {"A": False, "B": False, "C": False, "D": True}
    summary = alignment.alignment_summary(rho, mis, n_boot=200, seed=1)
    share = summary[(summary.measure == "share_misaligned") & (summary.scope == "pooled")].iloc[0]
    assert share.estimate == pytest.approx(0.25) and share.ci_low <= 0.25 <= share.ci_high
    again = alignment.alignment_summary(rho, mis, n_boot=200, seed=1)
    pd.testing.assert_frame_equal(summary, again)  # seeded


def test_bowker_known_values():
    # Agresti-style 3x3 example; statistic by hand: (5-0)^2/5 + (2-0)^2/2 = 7, dof 2
    table = np.array([[3, 5, 2], [0, 4, 0], [0, 0, 1]])
    res = task.bowker_test(table)
    assert res["statistic"] == pytest.approx(7) and res["dof"] == 2
    assert res["p"] == pytest.approx(np.exp(-3.5))  # chi2(2) survival = exp(-x/2)
    assert res["p_exact"] == pytest.approx(1 / 32)  # only the most extreme table
    symmetric = task.bowker_test(np.array([[2, 1, 0], [1, 2, 0], [0, 0, 1]]))
    assert symmetric["statistic"] == 0 and symmetric["p_exact"] == 1


def test_bowker_monte_carlo_when_large(monkeypatch):
    monkeypatch.setattr(task, "MAX_EXACT", 10)
    table = np.array([[0, 9, 4], [2, 0, 6], [1, 3, 0]])
    res = task.bowker_test(table, n_perm=20000, seed=3)
    assert res["exact_method"].startswith("Monte Carlo")
    monkeypatch.setattr(task, "MAX_EXACT", 10**7)
    exact = task.bowker_test(table)
    assert res["p_exact"] == pytest.approx(exact["p_exact"], abs=0.01)


def test_task_dependence_table():
    choices = pd.DataFrame(
        {
            "participant": np.repeat(list("ABCDEF"), 2),
            "wave": "w1",
            "case_study": ["tissue", "xray"] * 6,
            "source": ["imagenet", "radimagenet"] * 4 + ["imagenet", "imagenet", "ecoset", None],
        }
    )
    out = task.task_dependence(choices, CASES, SOURCES).set_index("analysis")
    assert out.loc["bowker", "n"] == 5 and out.loc["bowker", "n_changed"] == 4
    assert out.loc["share_changed", "estimate"] == pytest.approx(0.8)
    assert out.loc["mcnemar:imagenet|radimagenet", "estimate"] == pytest.approx(0.5)
    assert out.loc["mcnemar:imagenet|radimagenet", "p_exact"] == pytest.approx(2 / 16)


def test_intuition_outcome_exact_permutation():
    outcomes = outcome.read_outcomes("config/outcomes.csv")
    assert {"random_init"} <= set(outcomes.source)
    # participant A ranks exactly as the benchmark on tissue (imagenet > radimagenet > ecoset)
    rows = {
        ("A", "tissue", s): (1, 1, 1, 1, e)
        for s, e in zip(("imagenet", "radimagenet", "ecoset"), (5, 4, 3), strict=True)
    }
    rows |= {
        ("B", "tissue", s): (1, 1, 1, 1, e)
        for s, e in zip(("imagenet", "radimagenet", "ecoset"), (3, 4, 5), strict=True)
    }
    per, summary = outcome.intuition_outcome(wide_ratings(tidy(rows)), outcomes, n_boot=100,
                                         outcome="expected")
    per = per.set_index("participant")
    assert per.loc["A", "tau"] == pytest.approx(1) and per.loc["A", "p_exact"] == pytest.approx(
        1 / 6
    )
    assert per.loc["B", "tau"] == pytest.approx(-1) and per.loc["B", "p_exact"] == 1
    tissue = summary.set_index("scope").loc["tissue"]
    # mean tau 0: P(sum of two independent taus >= 0) over 36 equally likely pairs
    null = np.array([-1, -1 / 3, -1 / 3, 1 / 3, 1 / 3, 1])
    expected = np.mean((null[:, None] + null[None, :]) >= -1e-9)
    assert tissue.mean_tau == pytest.approx(0) and tissue.p_exact == pytest.approx(expected)


def test_holm_and_bootstrap():
    np.testing.assert_allclose(holm([0.01, np.nan, 0.04, 0.03]), [0.03, np.nan, 0.06, 0.06])
    est, low, high = bootstrap_ci(np.arange(10.0), n_boot=500, seed=0)
    assert est == 4.5 and low < 4.5 < high
    assert bootstrap_ci(np.arange(10.0), n_boot=500, seed=0) == (est, low, high)



@pytest.mark.parametrize("n", [2, 37, 5000])
def test_bootstrap_in_blocks_equals_one_draw_of_all_resamples(n, monkeypatch):
    from tlsurvey.models import stats

    values = np.random.default_rng(n).normal(size=n)
    idx = np.random.default_rng(7).integers(0, n, (300, n))  # all resamples in one call
    tails = [(1 - 0.95) / 2, 1 - (1 - 0.95) / 2]
    monkeypatch.setattr(stats, "BOOTSTRAP_BLOCK", 1000)  # blocks of 1000 // n rows
    assert bootstrap_ci(values, n_boot=300, seed=7) == (
        values.mean(), *np.quantile(values[idx].mean(axis=1), tails))
    assert bootstrap_ci(values, np.median, n_boot=300, seed=7)[1:] == tuple(
        np.quantile(np.median(values[idx], axis=1), tails))

def test_vectorised_permutation_chi2_draws_the_loop_permutations():
    from scipy.stats import chi2_contingency

    from tlsurvey.models.waves import _permutation_chi2

    rng = np.random.default_rng(4)
    rows, cols = rng.integers(0, 3, 60), rng.integers(0, 4, 60)
    rows[rows == 1] = 2  # an empty row code is dropped, as in the table
    loop_rng = np.random.default_rng(9)
    expected = []
    for _ in range(40):
        perm = loop_rng.permutation(rows)
        table = pd.crosstab(perm, cols).to_numpy()
        expected.append(chi2_contingency(table, correction=False)[0])
    null = _permutation_chi2(np.random.default_rng(9), rows, cols, 40, chunk_cells=700)
    np.testing.assert_allclose(null, expected, rtol=1e-12)


def test_vectorised_kendall_tau_equals_scipy():
    import itertools

    from scipy.stats import kendalltau

    auc = np.array([0.9, 0.9, 0.7, 0.8])
    x = np.array(list(itertools.product(range(1, 4), repeat=4)), float)
    ours = outcome._taus(x, auc)
    theirs = [kendalltau(row, auc).statistic if len(set(row)) > 1 else np.nan for row in x]
    np.testing.assert_array_equal(ours, theirs)


def test_mean_tau_convolution_equals_enumeration():
    import itertools

    nulls = [outcome._null_taus(e, (0.9, 0.8, 0.7)) for e in [(1, 2, 3), (3, 3, 1), (2, 5, 4)]]
    sums = np.array([sum(c) for c in itertools.product(*nulls)])
    observed = sum(n[0] for n in nulls)
    p, how = outcome.mean_tau_p(nulls, observed)
    assert how == "exact" and p == pytest.approx(np.mean(sums >= observed - 1e-7), abs=1e-15)


def test_mean_tau_monte_carlo_agrees_with_the_exact_convolution():
    """Participants sharing a null are drawn together (multinomial counts); forced to Monte
    Carlo, the p-value is the exact one within its sampling error."""
    patterns = [(1, 2, 3), (3, 3, 1), (2, 5, 4), (1, 1, 2)]
    nulls = [outcome._null_taus(patterns[i % 4], (0.9, 0.8, 0.7)) for i in range(150)]
    observed = sum(n[0] for n in nulls) * 0.05
    exact, how = outcome.mean_tau_p(nulls, observed, max_support=10**6)
    mc, how_mc = outcome.mean_tau_p(nulls, observed, n_mc=40_000, max_support=10)
    assert how == "exact" and how_mc.startswith("Monte Carlo") and 0.05 < exact < 0.95
    assert mc == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 40_000))


def test_holm_equals_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(3).uniform(0, 0.2, 25)
    p[[3, 7]] = p[5]  # ties
    np.testing.assert_array_equal(holm(p), multipletests(p, method="holm")[1])
