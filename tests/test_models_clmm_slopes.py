"""CLMM random slopes and quadrature rules against ordinal::clmm (figures committed in
tests/data/ordinal by make_reference.R; no R needed here)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tlsurvey.cli import main
from tlsurvey.errors import InputError
from tlsurvey.models.clmm import _gradient, _SlopesProblem, fit_arrays, fit_clmm
from tlsurvey.models.tables import fit_stats, random_effects

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = json.loads((DATA / "ordinal" / "clmm_reference.json").read_text())
FITS = REFERENCE["fits"]


@pytest.fixture(scope="module")
def frames():
    wine = pd.read_csv(DATA / "reference" / "wine.csv")
    wine["c"] = (wine["contact"] == "yes").astype(float)
    return {"slopes": pd.read_csv(DATA / "ordinal" / "slopes.csv"), "wine": wine}


def r_covariance(case) -> tuple[list, np.ndarray]:
    (entry,) = case["covariance"].values()
    terms = np.atleast_1d(entry["terms"]).tolist()
    return terms, np.asarray(entry["matrix"], float).reshape(len(terms), len(terms))


@pytest.mark.parametrize("name", sorted(FITS))
def test_matches_ordinal_clmm(frames, name):
    case = FITS[name]
    fit = fit_clmm(case["formula"], frames[case["data"]], link=case["link"], nagq=case["nAGQ"])
    expected = pd.Series(case["thresholds"] | case["beta"])
    estimate = pd.concat([fit.thresholds, fit.coefficients])
    np.testing.assert_allclose(estimate[expected.index], expected, atol=1e-4)
    se = pd.Series(case["se"])
    np.testing.assert_allclose(fit.se[se.index], se, rtol=1e-4)
    terms, cov = r_covariance(case)
    random = fit.random
    assert random["term"].tolist() == terms
    if fit.covariance:
        (ours,) = fit.covariance.values()
        np.testing.assert_allclose(ours.to_numpy(), cov, atol=1e-4)
    else:
        np.testing.assert_allclose(random["variance"], np.diag(cov), atol=1e-4)
    # at least as high as ordinal's optimum, and within 1e-5 of it
    assert fit.loglik >= case["logLik"] - 1e-6
    assert fit.loglik == pytest.approx(case["logLik"], abs=1e-5)
    assert fit.converged


def test_boundary_correlation_is_singular_and_counted_in_aic(frames):
    case = FITS["wine_slope_boundary"]
    fit = fit_clmm(case["formula"], frames["wine"])
    table = random_effects(fit).set_index("term")
    assert table.loc["c", "cor"] == pytest.approx(-1, abs=1e-4)
    stats = fit_stats(fit)
    assert stats["singular"]
    # ordinal: AIC 180.33 = -2 logLik + 2 x (4 thresholds + 2 fixed + 3 covariance parameters)
    assert fit.aic == pytest.approx(-2 * case["logLik"] + 18, abs=1e-4)
    assert fit.modes["judge"].shape == (9, 2)


def test_slope_shorthand_and_r2(frames):
    full = fit_clmm("rating ~ x + cond + (1 + x | participant)", frames["slopes"])
    short = fit_clmm("rating ~ x + cond + (x | participant)", frames["slopes"])
    pd.testing.assert_series_equal(full.coefficients, short.coefficients)
    r2m, r2c = full.r2
    assert 0 < r2m < r2c < 1
    sigma = full.covariance["participant"].to_numpy()
    x = frames["slopes"]["x"].to_numpy()
    z = np.column_stack([np.ones_like(x), x])
    assert full.random_variance == pytest.approx(np.mean(np.sum(z @ sigma * z, axis=1)))


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_slopes_analytic_gradient_matches_finite_differences(link):
    rng = np.random.default_rng(8)
    g = np.repeat(np.arange(30), 8)
    X = rng.normal(size=(240, 2))
    Z = np.column_stack([np.ones(240), X])  # three correlated terms
    b = rng.normal(size=(30, 3)) * [1.0, 0.5, 0.3]
    latent = X @ [0.7, -0.4] + np.sum(Z * b[g], axis=1) + rng.logistic(size=240)
    y = np.digitize(latent, [-1, 0, 1])
    prob = _SlopesProblem(y, X, Z, g, 30, link)
    par = np.array([-1.1, 0.1, 1.3, 0.6, -0.3, np.log(0.9), 0.2, np.log(0.5), -0.1, 0.15,
                    np.log(0.3)])
    _, analytic = prob.value_and_gradient(par)
    np.testing.assert_allclose(analytic, _gradient(prob.loglik, par), atol=1e-5)


def test_recovers_planted_slope_covariance():
    rng = np.random.default_rng(11)
    n, k = 400, 8
    g = np.repeat(np.arange(n), k)
    x = rng.normal(size=n * k)
    L = np.array([[0.8, 0.0], [0.3, 0.5]])
    b = rng.normal(size=(n, 2)) @ L.T
    latent = 0.9 * x + b[g, 0] + b[g, 1] * x + rng.logistic(size=n * k)
    y = np.digitize(latent, [-1.5, 0, 1.5])
    Z = np.column_stack([np.ones(n * k), x])
    par, _, hess, free, _, prob = fit_arrays(y, x[:, None], [g], [n], Z=Z)
    se = np.sqrt(np.diag(np.linalg.inv(hess)))
    truth = np.array([-1.5, 0, 1.5, 0.9])
    assert np.all(np.abs(par[:4] - truth) < 3 * se[:4])
    Lhat = prob.split(par)[2]
    np.testing.assert_allclose(Lhat @ Lhat.T, L @ L.T, atol=0.15)


def test_nagq_rules(frames):
    slopes = frames["slopes"]
    with pytest.raises(InputError, match="nagq 0 is not a quadrature rule"):
        fit_clmm("rating ~ x + (1 | participant)", slopes, nagq=0)
    # ordinal: "Quadrature methods are not available with more than one random effects term"
    assert "not available" in REFERENCE["errors"]["nagq_with_slopes"]
    with pytest.raises(InputError, match="single scalar random effect"):
        fit_clmm("rating ~ x + (1 + x | participant)", slopes, nagq=5)
    with pytest.raises(InputError, match="single scalar random effect"):
        fit_clmm("rating ~ x + (1 | participant) + (1 | cond)", slopes, nagq=-3)
    with pytest.raises(InputError, match="must be an integer"):
        fit_clmm("rating ~ x + (1 | participant)", slopes, nagq=2.5)
    with pytest.raises(InputError, match="one grouping factor"):
        fit_clmm("rating ~ x + (1 + x | participant) + (1 | cond)", slopes)


def test_cli_rejects_nagq_zero_in_one_line(tmp_path, capsys):
    data = DATA / "ordinal" / "slopes.csv"
    code = main(["fit", "rating ~ x + (1 | participant)", "--data", str(data), "--nagq", "0"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "nagq 0" in err


@pytest.mark.parametrize(("random", "message"), [("(1 + x || g)", "CLMM supports"),
                                                 ("(1 | g) + (1 | g)", "appears twice")])
def test_uncorrelated_or_repeated_terms_are_refused(random, message):
    data = pd.DataFrame({"y": [1, 2, 3, 1, 2, 3], "x": [0, 1, 2, 2, 1, 0], "g": list("aabbcc")})
    with pytest.raises(InputError, match=message):
        fit_clmm(f"y ~ x + {random}", data)
