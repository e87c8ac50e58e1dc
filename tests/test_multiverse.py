"""Multiverse: the specification grid, the key estimate of one specification, the curve."""

import math
import re

import numpy as np
import pandas as pd
import pytest

from tlsurvey.errors import InputError
from tlsurvey.figures.multiverse import specification_curve
from tlsurvey.models import fit
from tlsurvey.multiverse import specifications, wave_sets
from tlsurvey.multiverse.curve import curve, summary
from tlsurvey.multiverse.fit import MEAN, fit_spec, model_frame
from tlsurvey.simulate.survey import simulate_ratings

GRID = {"exclusions": {"applied": {}, "none": {"straightlining": False}},
        "families": ["ordinal", "gaussian"], "predictors": ["separate", "mean"],
        "random": ["participant", "crossed"]}


def planted(ratings):
    """Outcome, similarity dimensions and their planted slopes, read from the simulator's
    generating formula (``outcome ~ dim + ... + (1 | participant)``)."""
    effects = ratings.attrs["effects"]
    outcome, rhs = effects["formula"].split("~")
    dims = [t.strip() for t in rhs.split("+") if f"beta_{t.strip()}" in effects]
    return outcome.strip(), dims, {d: effects[f"beta_{d}"] for d in dims}


@pytest.fixture(scope="module")
def survey():
    """Two waves of clean simulated ratings (every participant follows the planted model)."""
    first = simulate_ratings(60, 3, anti_aligned_share=0, slope_sd=0, wave="w1")
    second = simulate_ratings(40, 4, anti_aligned_share=0, slope_sd=0, wave="w2")
    second["participant"] = "T" + second["participant"].astype(str)
    ratings = pd.concat([first, second], ignore_index=True)
    ratings.attrs = first.attrs
    return ratings


def spec(**choices):
    base = {"id": "x", "exclusions": "applied", "family": "gaussian", "predictors": "separate",
            "random": "participant", "waves": "all", "wave_set": ["w1", "w2"], "link": "logit"}
    return {**base, **choices}


def test_grid_is_every_combination_with_unique_ids():
    specs = specifications({**GRID, "waves": "leave_one_out"}, ["a", "b", "c"])
    assert len(specs) == 2 * 2 * 2 * 2 * 4
    assert len({s["id"] for s in specs}) == len(specs)
    assert {s["waves"] for s in specs} == {"all", "a+b", "a+c", "b+c"}
    assert specs[0]["id"] == "applied.ordinal.separate.participant.all"
    assert {tuple(s["wave_set"]) for s in specs if s["waves"] == "all"} == {("a", "b", "c")}


def test_wave_designs():
    assert wave_sets(["a", "b", "c"], "all") == [("a", "b", "c")]
    assert len(wave_sets(["a", "b", "c"], "subsets")) == 7
    assert wave_sets(["a"], "leave_one_out") == [("a",)]
    with pytest.raises(InputError, match="multiverse.waves"):
        wave_sets(["a"], "bootstrap")
    with pytest.raises(InputError, match="family"):
        specifications({**GRID, "families": ["poisson"]}, ["a"])


def test_model_frame_keeps_selected_waves_and_adds_mean_and_deviations(survey):
    outcome, dims, _ = planted(survey)
    frame = model_frame(survey, dims, outcome, ["w2"])
    assert set(frame["wave"]) == {"w2"} and frame["participant"].nunique() == 40
    assert np.allclose(frame[MEAN], frame[dims].mean(axis=1))
    deviations = [c for c in frame if c.startswith("dev_")]
    assert len(deviations) == len(dims) - 1
    assert np.allclose(frame[deviations[0]], frame[dims[0]] - frame[MEAN])


@pytest.mark.parametrize("family, tol", [("gaussian", 1e-6), ("ordinal", 1e-4)])
def test_separate_key_estimate_is_the_sum_of_the_slopes(survey, family, tol):
    outcome, dims, _ = planted(survey)
    row = fit_spec(survey, spec(family=family), dims, outcome)
    frame = model_frame(survey, dims, outcome, ["w1", "w2"])
    direct = fit(f"{outcome} ~ {' + '.join(dims)} + case_study + (1 | participant)", frame,
                 family)
    assert row["estimate"] == pytest.approx(direct.coefficients[dims].sum(), abs=tol)
    assert row["n_obs"] == len(frame) and row["n_participants"] == 100


def test_ordinal_key_estimate_recovers_the_planted_sum(survey):
    outcome, dims, beta = planted(survey)
    row = fit_spec(survey, spec(family="ordinal"), dims, outcome)
    assert abs(row["estimate"] - sum(beta.values())) < 3 * row["se"]
    assert row["standardised"] == pytest.approx(row["estimate"] / (math.pi / math.sqrt(3)))
    assert row["converged"] and row["p"] < 1e-6 and row["error"] == ""
    assert row["ci_low"] < row["estimate"] < row["ci_high"]


def test_mean_and_crossed_specifications(survey):
    outcome, dims, _ = planted(survey)
    mean = fit_spec(survey, spec(family="ordinal", predictors="mean", random="crossed"), dims,
                    outcome)
    assert re.search(r"\(1 \| participant\) \+ \(1 \| source\)$", mean["formula"])
    assert "dev_" not in mean["formula"] and mean["estimate"] > 0


def test_failed_fit_is_a_row_not_a_crash(survey):
    outcome, dims, _ = planted(survey)
    row = fit_spec(survey, spec(wave_set=["w3"]), dims, outcome)  # no such wave: no rows
    assert row["error"] and math.isnan(row["estimate"]) and row["n_obs"] == 0


def test_missing_dimension_is_an_input_error(survey):
    outcome, dims, _ = planted(survey)
    with pytest.raises(InputError, match="no ratings"):
        model_frame(survey, [*dims, "colour"], outcome, ["w1"])


@pytest.fixture
def results():
    return pd.DataFrame({
        "spec": ["a", "b", "c", "d"], "exclusions": ["applied", "none", "applied", "none"],
        "family": "gaussian", "predictors": ["separate", "separate", "mean", "mean"],
        "random": "participant", "waves": "all",
        "standardised": [0.5, -0.2, np.nan, 0.1], "standardised_low": [0.3, -0.5, np.nan, -0.1],
        "standardised_high": [0.7, 0.1, np.nan, 0.3], "p": [0.001, 0.2, np.nan, 0.4],
    })


def test_curve_ranks_and_summary_shares(results):
    table = curve(results)
    assert table["spec"].tolist() == ["b", "d", "a", "c"]  # failed fit last
    assert table["rank"].tolist() == [1, 2, 3, 4]
    assert table["significant"].tolist() == [False, False, True, False]
    overall = summary(table).set_index(["choice", "option"])
    assert overall.loc[("all", "all"), "n_failed"] == 1
    assert overall.loc[("all", "all"), "median_standardised"] == pytest.approx(0.1)
    assert overall.loc[("all", "all"), "share_positive_significant"] == pytest.approx(1 / 3)
    assert overall.loc[("predictors", "mean"), "n_specs"] == 2
    assert ("family", "gaussian") not in overall.index  # choices that do not vary


def test_figure_draws_one_interval_per_fitted_specification(results):
    fig = specification_curve(curve(results))
    gids = {line.get_gid() for ax in fig.axes for line in ax.lines if line.get_gid()}
    assert gids == {"spec/a", "spec/b", "spec/d"}


def test_workflow_multiverse_matches_the_participant_flow(workflow_run):
    """Every configured specification is one row; each exclusion variant analyses the
    participants its own flow says it keeps."""
    import yaml

    config = yaml.safe_load((workflow_run / "config/config.yaml").read_text())
    waves = [w["label"] for w in config["waves"]]
    specs = specifications(config["multiverse"], waves)
    table = pd.read_csv(workflow_run / "results/multiverse/specification_curve.csv")
    assert sorted(table["spec"]) == sorted(s["id"] for s in specs)
    assert table["converged"].all() and (table["estimate"] > 0).all()
    for variant, overrides in config["multiverse"]["exclusions"].items():
        data = "results/ingest" if not overrides else f"results/multiverse/data/{variant}"
        flow = pd.read_csv(workflow_run / data / "flow.csv").set_index(["wave", "step"])["n"]
        rows = table[(table["exclusions"] == variant) & (table["waves"] == "all")]
        assert set(rows["n_participants"]) == {flow[("total", "analysed")]}
    assert (workflow_run / "results/figures/specification_curve.png").stat().st_size > 10_000
