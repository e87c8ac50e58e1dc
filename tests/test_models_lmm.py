"""The linear mixed model against lme4 + lmerTest (tests/data/lme4, from make_reference.R).

Tolerances (issue 11): fixed effects 1e-6 relative; SEs, variance components, Satterthwaite df
and p 1e-4 relative; logLik and REML criterion 1e-6 absolute.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tlsurvey.errors import InputError
from tlsurvey.models import lmm, tables
from tlsurvey.models.lmm import fit_lmm

DATA = Path(__file__).parent / "data" / "lme4"
REFERENCE = json.loads((DATA / "reference.json").read_text())
CASES = [name for name in REFERENCE if name != "versions"]
FIXED, SECOND = 1e-6, 1e-4


def close(actual, expected, rtol, atol=0.0):
    np.testing.assert_allclose(
        np.asarray(actual, float), np.asarray(expected, float), rtol=rtol, atol=atol
    )


def columns(record):
    """A JSON record of columns (R unboxes length-1 vectors) as a DataFrame."""
    return pd.DataFrame({k: v if isinstance(v, list) else [v] for k, v in record.items()})


def data(name):
    return pd.read_csv(DATA / f"{name}.csv")


@pytest.fixture(scope="module")
def fits():
    cache = {}

    def get(name, reml):
        if (name, reml) not in cache:
            cache[name, reml] = fit_lmm(REFERENCE[name]["formula"], data(name), reml=reml)
        return cache[name, reml]

    return get


def _r_random(ref):
    """lme4's VarCorr rows as dicts (group, term) -> variance and sd, (group, a, b) -> cor."""
    rnd = columns(ref["random"])
    rnd["grp"] = rnd["grp"].str.replace(r"\.\d+$", "", regex=True)  # `||` terms: g, g.1, ...
    single = rnd[rnd["var2"].isna()]
    pairs = rnd[rnd["var2"].notna()]
    key = list(zip(single["grp"], single["var1"].fillna(""), strict=True))
    cors = {(g, a, b): c for g, a, b, c in pairs[["grp", "var1", "var2", "sdcor"]].to_numpy()}
    variance = dict(zip(key, single["vcov"], strict=True))
    return variance, dict(zip(key, single["sdcor"], strict=True)), cors


def _our_cors(random):
    """Our random table's correlations as (group, a, b) -> cor."""
    out, first = {}, None
    for row in random.itertuples():
        if row.term.startswith("cor("):
            a, b = row.term[4:-1].split(", ")
            out[row.group, a, b] = row.cor
        elif np.isnan(row.cor):
            first = row.term
        else:
            out[row.group, first, row.term] = row.cor
    return out


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("name", CASES)
def test_matches_lme4_and_lmertest(fits, name, reml):
    ref = REFERENCE[name]["reml" if reml else "ml"]
    fit = fits(name, reml)
    fixed = columns(ref["fixed"])
    assert list(fit.coefficients.index) == list(fixed["term"])
    close(fit.coefficients, fixed["estimate"], FIXED)
    close(fit.se, fixed["se"], SECOND)
    table = fit.table()
    close(table["df"], fixed["df"], SECOND)
    close(table["statistic"], fixed["t"], SECOND)
    close(table["p"], fixed["p"], SECOND)
    assert (table["test"] == "Satterthwaite t").all()
    close(fit.residual_sd, ref["sigma"], SECOND)
    close(fit.loglik, ref["loglik"], 0, 1e-6)
    if reml:
        close(fit.criterion, ref["reml_criterion"], 0, 1e-6)
    close(fit.aic, ref["aic"], 0, 1e-6)
    variance, sd, cors = _r_random(ref)
    ours = fit.random.assign(term=fit.random["term"].fillna(""))
    assert _our_cors(ours).keys() == cors.keys()
    for pair, value in _our_cors(ours).items():
        close(value, cors[pair], SECOND)
    ours = ours[~ours["term"].str.startswith("cor(")]
    assert len(ours) == len(variance)
    # boundary fits: lme4 stops at theta ~ 1e-8 where we reach 0
    scale = ref["sigma"] * 1e-6 if ref["singular"] else 0.0
    for row in ours.itertuples():
        close(row.sd, sd[row.group, row.term], SECOND, scale)
        close(row.variance, variance[row.group, row.term], SECOND, scale**2)
    assert fit.nobs == ref["nobs"] and fit.ngroups == ref["ngroups"]
    assert tables.is_singular(fit) == ref["singular"]


@pytest.mark.parametrize("name", CASES)
def test_anova_type3_f_tests(fits, name):
    ref = columns(REFERENCE[name]["reml"]["anova"])
    table = fits(name, True).anova().set_index("term").loc[ref["term"]]
    close(table["num_df"], ref["num_df"], 0)
    close(table["den_df"], ref["den_df"], SECOND)
    close(table["F"], ref["F"], SECOND)
    close(table["p"], ref["p"], SECOND)


@pytest.mark.parametrize("name", [n for n in CASES if "lrt" in REFERENCE[n]])
def test_likelihood_ratio_refits_under_ml(name):
    record = dict(REFERENCE[name]["lrt"])
    small, big = record.pop("formula"), REFERENCE[name]["formula"]
    ref = columns(record)
    table = lmm.likelihood_ratio([big, small], data(name))
    assert list(table["formula"]) == [small, big]
    close(table["npar"], ref["npar"], 0)
    for ours, theirs in [
        ("aic", "aic"),
        ("bic", "bic"),
        ("loglik", "loglik"),
        ("deviance", "deviance"),
    ]:
        close(table[ours], ref[theirs], 0, 1e-6)
    close(table["chisq"].iloc[1], ref["chisq"][1], SECOND)
    close(table["df"].iloc[1], ref["df"][1], 0)
    close(table["p"].iloc[1], ref["p"][1], SECOND)
    assert np.isnan(table["p"].iloc[0])


def test_workflow_lrt_table_reports_failures():
    from tlsurvey.models.workflow import LRT_COLUMNS, likelihood_ratios

    small = REFERENCE["crossed"]["lrt"]["formula"]
    comparisons = [
        {"name": "source", "formulas": [small, REFERENCE["crossed"]["formula"]]},
        {"name": "bad", "formulas": [small, "y ~ x + (1 | nowhere)"]},
    ]
    table = likelihood_ratios(data("crossed"), comparisons)
    assert list(table.columns) == LRT_COLUMNS
    good = table[table["comparison"] == "source"]
    close(good["p"].iloc[1], REFERENCE["crossed"]["lrt"]["p"][1], SECOND)
    assert (good["error"] == "").all()
    assert "nowhere" in table.loc[table["comparison"] == "bad", "error"].iloc[0]
    assert likelihood_ratios(data("crossed"), []).columns.tolist() == LRT_COLUMNS


def test_nine_clusters_between_covariate_has_about_seven_df(fits):
    fit = fits("nine_clusters", True)
    assert 6.5 < fit.df["w"] < 7.5 and fit.df["x"] > 40


@pytest.mark.parametrize("name", ["crossed", "slopes_crossed", "nested"])
def test_sparse_path_matches_the_schur_complement(monkeypatch, fits, name):
    monkeypatch.setattr(lmm, "DENSE_SCHUR", 0)
    sparse = fit_lmm(REFERENCE[name]["formula"], data(name))
    dense = fits(name, True)
    close(sparse.coefficients, dense.coefficients, 1e-8)
    close(sparse.se, dense.se, 1e-7)
    close(sparse.random["sd"], dense.random["sd"], 1e-6, 1e-9)
    close(sparse.loglik, dense.loglik, 0, 1e-8)


def test_fixed_effect_order_follows_r(fits):
    fit = fit_lmm("y ~ f * x + (1 | participant)", data("interaction"))
    assert list(fit.coefficients.index) == ["(Intercept)", "fb", "fc", "x", "fb:x", "fc:x"]
    assert list(fits("interaction", True).coefficients.index) == [
        "(Intercept)",
        "x",
        "fb",
        "fc",
        "x:fb",
        "x:fc",
    ]


def test_explicit_contrasts_leave_contained_terms_untested():
    fit = fit_lmm("y ~ x * C(f, Sum) + (1 | participant)", data("interaction"))
    anova = fit.anova().set_index("term")
    assert np.isnan(anova.loc["x", "F"]) and np.isfinite(anova.loc["x:C(f, Sum)", "F"])


def test_deviance_invariant_to_response_shift():
    frame = data("slopes")
    a = fit_lmm("y ~ x + (1 + x | participant)", frame)
    b = fit_lmm("y ~ x + (1 + x | participant)", frame.assign(y=frame["y"] + 1000.0))
    close(a.loglik, b.loglik, 0, 1e-8)
    close(b.coefficients["(Intercept)"] - 1000.0, a.coefficients["(Intercept)"], 1e-9)


@pytest.mark.parametrize(
    "frame, formula, message",
    [
        (pd.DataFrame({"y": list("abcd"), "g": list("aabb")}), "y ~ (1 | g)", "numeric"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4], "g": list("abcd")}), "y ~ (1 | g)", "observations"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4], "g": list("aaaa")}), "y ~ (1 | g)", "2 levels"),
        (
            pd.DataFrame({"y": [1.0, 2, 3, 4], "x": [1.0, 1, 1, 1], "g": list("aabb")}),
            "y ~ x + (1 | g)",
            "rank deficient",
        ),
    ],
)
def test_bad_input_is_input_error(frame, formula, message):
    with pytest.raises(InputError, match=message):
        fit_lmm(formula, frame)


def test_coefficients_table_carries_satterthwaite_df(fits):
    fit = fits("nine_clusters", True)
    table = tables.coefficients(fit, "m")
    assert list(table.columns[6:9]) == ["statistic", "df", "p"]
    close(table["df"], columns(REFERENCE["nine_clusters"]["reml"]["fixed"])["df"], SECOND)
    assert (table["test"] == "Satterthwaite t").all()
    stats = tables.fit_stats(fit, "m")
    close(stats["reml_criterion"], REFERENCE["nine_clusters"]["reml"]["reml_criterion"], 0, 1e-6)
    assert tables.to_json(fit)["test"] == "Satterthwaite t"


def test_t_and_f_tails_equal_scipy_stats_exactly():
    from scipy import stats

    from tlsurvey.models.satterthwaite import f_sf, t_ppf, t_sf

    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 5, 500), [0.0, -0.0, np.inf, -np.inf, np.nan, 40.0]])
    df = np.concatenate([rng.gamma(1, 50, 500), [1e9, np.inf, np.nan, 0.0, -1.0, 0.5]])
    np.testing.assert_array_equal(t_sf(x, df), stats.t.sf(x, df))
    np.testing.assert_array_equal(t_ppf(0.975, df), stats.t.ppf(0.975, df))
    dfn = rng.integers(1, 6, len(x))
    mine = [f_sf(v, n, d) for v, n, d in zip(np.abs(x), dfn, df, strict=True)]
    np.testing.assert_array_equal(mine, stats.f.sf(np.abs(x), dfn, df))
    assert f_sf(-1.0, 2, 10.0) == 1.0 and f_sf(0.0, 3, np.inf) == 1.0
