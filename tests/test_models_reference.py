"""Reproduce every number in tests/data/reference/REFERENCE.md (lme4, ordinal, rmcorr)."""

import json

import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy import stats

from tlsurvey.models.alignment import rm_corr
from tlsurvey.models.clmm import fit_clmm
from tlsurvey.models.lmm import fit_lmm

FIXED, VARIANCE, CLMM = 1e-4, 1e-3, 1e-3


def close(actual, expected, rtol):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol)


@pytest.fixture(scope="module")
def sleepstudy(reference):
    return pd.read_csv(reference / "sleepstudy.csv")


@pytest.mark.parametrize(
    "reml, fixed, se, sds, cor, resid, crit",
    [
        (
            True,
            [251.40510485, 10.46728596],
            [6.824596695, 1.545789644],
            [24.74065799, 5.92213766],
            0.06555124,
            25.59179572,
            ("criterion", 1743.628272),
        ),
        (
            False,
            [251.40510485, 10.46728596],
            None,
            [23.77975959, 5.71679851],
            0.08132109,
            25.59190704,
            ("loglik", -875.9696722),
        ),
    ],
)
def test_sleepstudy_random_slopes(sleepstudy, reml, fixed, se, sds, cor, resid, crit):
    fit = fit_lmm("Reaction ~ Days + (Days | Subject)", sleepstudy, reml=reml)
    close(fit.coefficients, fixed, FIXED)
    if se is not None:
        close(fit.se, se, FIXED)
    assert list(fit.coefficients.index) == ["(Intercept)", "Days"]
    subject = fit.random[fit.random.group == "Subject"]
    close(subject.sd, sds, VARIANCE)
    close(subject.cor.iloc[1], cor, VARIANCE)
    close(fit.residual_sd, resid, VARIANCE)
    close(getattr(fit, crit[0]), crit[1], VARIANCE)
    if not reml:  # lme4: AIC = -2 logLik + 2 * 6 parameters = 1763.939
        close(fit.aic, 2 * 875.9696722 + 12, VARIANCE)


def test_penicillin_crossed(reference):
    data = pd.read_csv(reference / "penicillin.csv")
    fit = fit_lmm("diameter ~ 1 + (1 | plate) + (1 | sample)", data, reml=True)
    close(fit.coefficients, [22.97222222], FIXED)
    close(fit.se, [0.8085953614], FIXED)
    sd = fit.random.set_index("group").sd
    close(sd[["plate", "sample", "Residual"]], [0.8467025103, 1.9316137922, 0.5499226821], VARIANCE)
    close(fit.criterion, 330.860589, VARIANCE)
    assert fit.ngroups == {"plate": 24, "sample": 6}


@pytest.fixture(scope="module")
def wine(reference):
    return pd.read_csv(reference / "wine.csv")


def test_wine_clmm_judge(wine):
    fit = fit_clmm("rating ~ temp + contact + (1 | judge)", wine, link="logit")
    close(fit.thresholds, [-1.623666924, 1.513365183, 4.228526688, 6.088772558], CLMM)
    assert list(fit.thresholds.index) == ["1|2", "2|3", "3|4", "4|5"]
    close(fit.coefficients[["tempwarm", "contactyes"]], [3.062996626, 1.834884922], CLMM)
    close(fit.se, [0.6824410, 0.6037533, 0.8089661, 0.9724537, 0.5953762, 0.5125293], CLMM)
    close(fit.variance["judge"], 1.279460909, CLMM)
    close(fit.sd["judge"], 1.131132578, CLMM)
    close(fit.loglik, -81.56540929, CLMM)
    assert fit.converged


def test_wine_clmm_crossed(wine):
    fit = fit_clmm("rating ~ temp + contact + (1 | judge) + (1 | bottle)", wine)
    close(fit.thresholds, [-1.623665428, 1.513360207, 4.228527104, 6.088776439], CLMM)
    close(fit.coefficients, [3.063003240, 1.834902704], CLMM)
    close(fit.variance["judge"], 1.279488271, CLMM)
    close(fit.sd["judge"], 1.131144673, CLMM)
    assert fit.sd["bottle"] < 1e-3  # at the boundary, as ordinal (4.0e-06)
    close(fit.loglik, -81.56541278, CLMM)


@pytest.mark.parametrize("name, formula", [
    ("wine_judge", "rating ~ temp + contact + (1 | judge)"),
    ("wine_crossed", "rating ~ temp + contact + (1 | judge) + (1 | bottle)"),
])
def test_wine_clmm_full_precision(reference, wine, name, formula):
    """Against reference.json (make_reference.R, ordinal 2022.11.16) at full precision."""
    ref = json.loads((reference / "reference.json").read_text())[name]
    fit = fit_clmm(formula, wine)
    expected = pd.Series(ref["thresholds"] | ref["beta"])
    np.testing.assert_allclose(pd.concat([fit.thresholds, fit.coefficients])[expected.index],
                               expected, atol=1e-4)
    np.testing.assert_allclose(fit.se[list(ref["se"])], list(ref["se"].values()), rtol=1e-4)
    assert fit.variance["judge"] == pytest.approx(ref["variance"]["judge"], abs=1e-4)
    assert fit.loglik == pytest.approx(ref["logLik"], abs=1e-5)


def test_wine_agq_converges_in_nodes_and_refines_laplace(wine):
    formula = "rating ~ temp + contact + (1 | judge)"
    laplace = fit_clmm(formula, wine)
    agq10, agq20 = (fit_clmm(formula, wine, nagq=q) for q in (10, 20))
    assert agq10.method == "AGQ(10)"
    assert abs(agq10.loglik - agq20.loglik) < 1e-8
    close(agq10.coefficients, agq20.coefficients, 1e-6)
    assert 0 < agq10.loglik - laplace.loglik < 0.1  # Laplace slightly underestimates here
    close(agq10.coefficients, laplace.coefficients, 2e-3)


def test_wine_probit_runs(wine):
    fit = fit_clmm("rating ~ temp + contact + (1 | judge)", wine, link="probit")
    logit = fit_clmm("rating ~ temp + contact + (1 | judge)", wine)
    ratio = logit.coefficients / fit.coefficients
    assert ((ratio > 1.4) & (ratio < 2.0)).all()  # logit ~ 1.6-1.8 x probit
    assert fit.residual_variance == 1.0


def ancova_rm_corr(x, y, subject):
    """The published rmcorr (Bakdash & Marusich 2017): ANCOVA y ~ subject + x with subject
    dummies, r = sign(b_x) sqrt(SS_x / (SS_x + SS_error)), dof = N - k - 1, Fisher z CI with
    standard error 1 / sqrt(dof - 1)."""
    dummies = pd.get_dummies(pd.Series(subject)).to_numpy(float)
    design = np.column_stack([dummies, x])
    coef, sse, *_ = np.linalg.lstsq(design, y, rcond=None)
    sse_without = np.linalg.lstsq(dummies, y, rcond=None)[1]
    ss_x = float(sse_without[0] - sse[0])
    dof = len(y) - dummies.shape[1] - 1
    r = np.sign(coef[-1]) * np.sqrt(ss_x / (ss_x + sse[0]))
    p = stats.f.sf(ss_x / (sse[0] / dof), 1, dof)
    half = stats.norm.ppf(0.975) / np.sqrt(dof - 1)
    return r, dof, p, np.tanh(np.arctanh(r) - half), np.tanh(np.arctanh(r) + half)


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_rm_corr_reference():
    data = pingouin.read_dataset("rm_corr")
    res = rm_corr(data["pH"], data["PacO2"], data["Subject"])
    # REFERENCE.md (R rmcorr / pingouin): r -0.5067697, dof 38, p 0.0008471081, CI [-0.71, -0.23]
    close(res["r"], -0.5067697, 1e-6)
    assert res["dof"] == 38 and res["n_participants"] == 8 and res["n_obs"] == 47
    close(res["p"], 0.0008471081, 1e-6)
    assert round(res["ci_low"], 2) == -0.71 and round(res["ci_high"], 2) == -0.23
    expected = ancova_rm_corr(data["pH"].to_numpy(), data["PacO2"].to_numpy(), data["Subject"])
    got = [res[k] for k in ("r", "dof", "p", "ci_low", "ci_high")]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=0)
    ping = pingouin.rm_corr(data, x="pH", y="PacO2", subject="Subject")
    np.testing.assert_allclose([res["r"], res["p"]], [ping["r"].iloc[0], ping["pval"].iloc[0]],
                               rtol=1e-10)
    # pingouin rounds its CI to 2 decimals; ours is the unrounded interval
    np.testing.assert_array_equal(np.round([res["ci_low"], res["ci_high"]], 2),
                                  ping["CI95"].iloc[0])
    assert res["ci_low"] != round(res["ci_low"], 2)


@pytest.mark.filterwarnings("ignore:The inplace keyword")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rm_corr_matches_ancova_and_pingouin_on_random_data(seed):
    rng = np.random.default_rng(seed)
    k = rng.integers(3, 30)
    subject = np.repeat([f"s{i}" for i in range(k)], rng.integers(1, 7, k))
    x = rng.normal(size=len(subject)) + rng.normal(size=k)[pd.factorize(subject)[0]]
    y = 0.4 * x + rng.normal(size=len(subject)) * 2
    res = rm_corr(x, y, subject)
    single = pd.Series(subject).value_counts().eq(1)
    keep = ~pd.Series(subject).isin(single[single].index).to_numpy()
    expected = ancova_rm_corr(x[keep], y[keep], subject[keep])
    got = [res[k] for k in ("r", "dof", "p", "ci_low", "ci_high")]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)
    frame = pd.DataFrame({"x": x, "y": y, "s": subject})
    ping = pingouin.rm_corr(frame, x="x", y="y", subject="s")
    np.testing.assert_allclose([res["r"], res["p"]], [ping["r"].iloc[0], ping["pval"].iloc[0]],
                               rtol=1e-10)
    assert res["dof"] == ping["dof"].iloc[0]


@pytest.mark.parametrize("name", ["sleepstudy.csv", "penicillin.csv", "wine.csv"])
def test_committed_reference_data_match_shared(shared, reference, name):
    assert (reference / name).read_bytes() == (shared / "reference" / name).read_bytes()
