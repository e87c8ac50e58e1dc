"""Planted effects of the simulator are recovered by the CLMM (3 seeds; 50 in benchmarks/)."""

import sys

import numpy as np
import pytest

from tlsurvey.models.clmm import fit_arrays, fit_clmm
from tlsurvey.models.lmm import fit_lmm

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "benchmarks"))
from validate_coverage import FORMULA, check_seed, simulated  # noqa: E402


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_effects_within_3_se(seed):
    res = check_seed(200, seed)
    fixed = res[res.term != "sd(participant)"]
    assert len(fixed) == 9
    assert (fixed["z"].abs() < 3).all(), fixed[["term", "truth", "estimate", "se"]]
    sd = res.loc[res.term == "sd(participant)", "estimate"].iloc[0]
    assert 0.35 < sd < 1.05  # planted 0.7


def test_crossed_source_effect_is_small_and_fit_runs():
    wide, _ = simulated(60, 3)
    fit = fit_clmm(FORMULA.replace("(1 | participant)", "(1 | participant) + (1 | source)"), wide)
    assert set(fit.sd.index) == {"participant", "source"}
    assert np.isfinite(fit.loglik) and (fit.se.dropna() > 0).all()


def test_lmm_sensitivity_runs_on_simulated_ratings():
    wide, _ = simulated(40, 4)
    fit = fit_lmm(FORMULA, wide)
    assert fit.coefficients["embedding"] > 0
    r2m, r2c = fit.r2
    assert 0 < r2m < r2c < 1 and 0 < fit.icc < 1


def test_probit_and_agq_on_arrays_agree_with_laplace_logit_direction():
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(100), 5)
    x = rng.normal(size=(500, 1))
    lat = 0.8 * x[:, 0] + rng.normal(0, 0.5, 100)[g] + rng.normal(size=500)
    y = np.digitize(lat, [-1, 0, 1])
    par, ll, _, _, _, _ = fit_arrays(y, x, [g], [100], link="probit")
    assert abs(par[3] - 0.8) < 0.25
    par_q, ll_q, _, _, _, _ = fit_arrays(y, x, [g], [100], link="probit", nagq=7)
    assert abs(par_q[3] - par[3]) < 0.02 and abs(ll_q - ll) < 1


@pytest.mark.parametrize("link", ["logit", "probit"])
@pytest.mark.parametrize("crossed", [False, True])
def test_analytic_laplace_gradient_matches_finite_differences(link, crossed):
    from tlsurvey.models.clmm import _gradient, _Problem

    rng = np.random.default_rng(2)
    g, g2 = np.repeat(np.arange(40), 6), rng.integers(0, 4, 240)
    X = rng.normal(size=(240, 2))
    latent = X @ [1, -0.5] + rng.normal(0, 1, 40)[g] + rng.normal(0, 0.5, 4)[g2]
    y = np.digitize(latent + rng.logistic(size=240), [-1, 0, 1])
    groups, levels = ([g2, g], [4, 40]) if crossed else ([g], [40])
    prob = _Problem(y, X, groups, levels, link)
    par = np.array([-1.2, 0.1, 1.4, 0.8, -0.3, np.log(0.9)] + [np.log(0.4)] * crossed)
    assert prob.analytic
    _, analytic = prob.value_and_gradient(par)
    np.testing.assert_allclose(analytic, _gradient(prob.loglik, par), atol=1e-5)


def test_anti_aligned_participants_show_in_alignment():
    from tlsurvey.models.alignment import misalignment, participant_spearman
    from tlsurvey.models.stats import wide_ratings
    from tlsurvey.simulate.instrument import SIMILARITY_DIMENSIONS
    from tlsurvey.simulate.survey import simulate_ratings

    def pooled_mean_rho(share):
        wide = wide_ratings(simulate_ratings(120, 11, anti_aligned_share=share))
        rho = participant_spearman(wide, SIMILARITY_DIMENSIONS, "expected")
        mis = misalignment(wide, SIMILARITY_DIMENSIONS, "expected")["misaligned"].mean()
        return rho.loc[rho.scope == "pooled", "rho"].mean(), mis

    aligned_rho, aligned_mis = pooled_mean_rho(0.0)
    anti_rho, anti_mis = pooled_mean_rho(0.5)
    assert anti_rho < aligned_rho - 0.2 and anti_mis > aligned_mis
