"""The models workflow step, its tables, LaTeX output and the ``tlsurvey fit`` command."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tlsurvey.cli import main
from tlsurvey.latex import paper_tables
from tlsurvey.models.workflow import CAPTIONS, OUTPUTS, run, run_task, run_waves
from tlsurvey.study import Study


@pytest.fixture(scope="module")
def study(root):
    return Study.from_instrument(yaml.safe_load((root / "config" / "instrument.yaml").read_text()))


@pytest.fixture(scope="module")
def survey():
    from tlsurvey.simulate.survey import simulate_ratings

    ratings = simulate_ratings(20, 7)
    ratings.loc[[3, 40], "value"] = pd.NA  # skipped items are dropped with a logged count
    people = sorted(ratings["participant"].unique())
    rng = np.random.default_rng(0)
    choices = pd.DataFrame(
        {
            "participant": np.repeat(people, 2),
            "wave": "sim",
            "case_study": ["tissue", "xray"] * 20,
            "source": rng.choice(["imagenet", "radimagenet", "ecoset"], 40, p=[0.5, 0.4, 0.1]),
        }
    )
    return ratings, choices


def test_run_writes_every_table(survey, study, tmp_path, root, caplog):
    ratings, choices = survey
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())["models"]
    config["bootstrap"] = 200
    with caplog.at_level("INFO", logger="tlsurvey.models"):
        written = run(ratings, choices, study, root / "config" / "outcomes.csv", tmp_path, config)
    assert "dropped 2 of 120 rows" in caplog.text
    files = {f for step in OUTPUTS.values() for f in step.values()}
    assert {p.name for p in written.values()} == files == {p.name for p in tmp_path.iterdir()}
    assert all(path.stat().st_size > 0 for path in written.values())
    assert {p.stem for p in tmp_path.glob("*.tex")} == set(CAPTIONS)
    fits = pd.read_csv(tmp_path / "fit_stats.csv").set_index("model")
    assert list(fits.index) == [s["name"] for s in config["specs"]]
    assert fits["converged"].all() and fits["error"].isna().all()
    coefs = pd.read_csv(tmp_path / "coefficients.csv")
    ordinal = coefs[coefs.model == "expected_similarity_ordinal"]
    assert list(ordinal.loc[ordinal.kind == "threshold", "term"]) == ["1|2", "2|3", "3|4", "4|5"]
    assert {"visual", "case_studyxray"} <= set(ordinal.term)
    assert ordinal.p_holm.notna().sum() == 5
    tex = (tmp_path / "coefficients.tex").read_text()
    assert r"\toprule" in tex and "Case study: Xray" in tex and "case\\_study" not in tex
    assert r"\label{tab:coefficients-ordinal}" in tex and "1|2" not in tex
    again = tmp_path / "again"
    run(ratings, choices, study, root / "config" / "outcomes.csv", again, config)
    for file in files:  # deterministic
        assert (again / file).read_bytes() == (tmp_path / file).read_bytes(), file


def test_steps_write_exactly_the_named_outputs(survey, study, tmp_path):
    """Given {output name: path} (a rule's named outputs), a step writes those files and no
    other, with the bytes it writes into a directory under its own file names."""
    ratings, choices = survey
    named = {name: tmp_path / "named" / f"{name}-renamed{Path(file).suffix}"
             for step in ("task", "waves") for name, file in OUTPUTS[step].items()}
    written = {**run_task(choices, study, named, {"seed": 3}), **run_waves(ratings, choices, named)}
    assert written == named
    assert sorted((tmp_path / "named").iterdir()) == sorted(named.values())
    in_dir = {**run_task(choices, study, tmp_path / "dir", {"seed": 3}),
              **run_waves(ratings, choices, tmp_path / "dir")}
    assert {name: path.name for name, path in in_dir.items()} == {
        **OUTPUTS["task"], **OUTPUTS["waves"]}
    for name, path in named.items():
        assert path.read_bytes() == in_dir[name].read_bytes(), name


def test_failed_spec_is_reported_not_raised(survey, study, tmp_path, root):
    ratings, choices = survey
    bad = {
        "specs": [{"name": "bad", "family": "ordinal",
                   "formula": "expected ~ visual + (visual | participant) + (1 | source)"}]
    }  # names only the study's variables (checked at config time) but the CLMM cannot fit it
    run(ratings, choices, study, root / "config" / "outcomes.csv", tmp_path, bad)
    fits = pd.read_csv(tmp_path / "fit_stats.csv")
    assert not fits.loc[0, "converged"] and "CLMM supports" in fits.loc[0, "error"]


def test_paper_tables_booktabs():
    df = pd.DataFrame({"analysis": ["a_b"], "p": [1e-5], "n": [3.0], "dof": [3.0]})
    tex = paper_tables("task_dependence", df, caption="C")
    assert r"\begin{table}" in tex and r"\label{tab:task_dependence}" in tex and "A b" in tex
    assert "< .001" in tex and r"\bottomrule" in tex and "& 3 & 3" in tex


def test_cli_fit_json(reference, capsys):
    rc = main(
        [
            "fit",
            "rating ~ temp + contact + (1 | judge)",
            "--data",
            str(reference / "wine.csv"),
            "--family",
            "ordinal",
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert [t["term"] for t in out["thresholds"]] == ["1|2", "2|3", "3|4", "4|5"]
    fixed = {t["term"]: t for t in out["fixed"]}
    assert fixed["tempwarm"]["estimate"] == pytest.approx(3.062996626, rel=1e-3)
    assert out["random"][0]["variance"] == pytest.approx(1.279460909, rel=1e-3)
    assert out["loglik"] == pytest.approx(-81.56540929, rel=1e-3)


def test_cli_fit_table_gaussian_ml(reference, capsys):
    rc = main(
        [
            "fit",
            "Reaction ~ Days + (Days | Subject)",
            "--data",
            str(reference / "sleepstudy.csv"),
            "--family",
            "gaussian",
            "--ml",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "ML" in out and "-875.96967" in out and "Days" in out


def test_cli_input_errors(reference, capsys):
    data = str(reference / "wine.csv")
    assert main(["fit", "rating ~ temp + (temp:contact | judge)", "--data", data]) == 1
    assert "interaction" in capsys.readouterr().err
    assert main(["fit", "rating ~ temp + (1 | judge)", "--data", "missing.csv"]) == 1
    assert main(["fit", "rating ~ temp + (temp | judge) + (1 | bottle)", "--data", data]) == 1
    assert "CLMM supports" in capsys.readouterr().err


def test_singular_fit_is_flagged(reference):
    from tlsurvey.models import fit
    from tlsurvey.models.stats import wide_ratings
    from tlsurvey.models.tables import fit_stats
    from tlsurvey.simulate.survey import simulate_ratings

    # the simulator plants no source effect beyond the similarity ratings: with seed 7 the
    # source variance is estimated at the boundary, as lme4 would flag with isSingular()
    wide = wide_ratings(simulate_ratings(40, 7))
    formula = "expected ~ visual + semantic + embedding + domain + case_study + (1 | participant)"
    assert not fit_stats(fit(formula, wide, "ordinal"))["singular"]
    crossed = fit(formula + " + (1 | source)", wide, "ordinal")
    assert fit_stats(crossed)["singular"] and crossed.random["sd"].iloc[1] < 1e-4
    sleep = pd.read_csv(reference / "sleepstudy.csv")
    assert not fit_stats(fit("Reaction ~ Days + (Days | Subject)", sleep, "gaussian"))["singular"]


def test_specs_checked_against_the_study_or_built_from_it(study, root):
    from tlsurvey.errors import InputError
    from tlsurvey.models.specs import default_specs, model_specs

    config = yaml.safe_load((root / "config" / "config.yaml").read_text())["models"]
    assert model_specs(config, study) == config["specs"]
    defaults = model_specs({}, study)
    assert [s["name"] for s in defaults] == [s["name"] for s in config["specs"]]
    assert [s["formula"] for s in defaults] == [s["formula"] for s in config["specs"]]
    assert defaults == default_specs(study)
    bad = {"specs": [{"name": "m", "family": "gaussian",
                      "formula": "expected ~ visual + gloss + (1 | lab)"}]}
    with pytest.raises(InputError, match=r"config: models.specs\[0\] \(m\): the study has no "
                                         r"'gloss', 'lab'"):
        model_specs(bad, study, "config")


def test_lrt_checked_against_the_study_or_built_from_it(study, root):
    """A null ``specs``/``lrt`` (how a --configfile merged over config/config.yaml omits them)
    gives the study's defaults; the example's configured test is exactly the default one."""
    from tlsurvey.errors import InputError
    from tlsurvey.models.specs import default_specs, model_lrt, model_specs

    config = yaml.safe_load((root / "config" / "config.yaml").read_text())["models"]
    assert model_lrt(config, study) == config["lrt"]
    assert model_lrt({"lrt": None}, study) == config["lrt"]
    assert model_specs({"specs": None}, study) == default_specs(study)
    assert model_lrt({"lrt": []}, study) == []
    bad = {"lrt": [{"name": "t", "formulas": ["expected ~ visual + (1 | participant)",
                                              "expected ~ visual + gloss + (1 | participant)"]}]}
    with pytest.raises(InputError, match=r"config: models.lrt\[0\] \(t\): the study has no "
                                         r"'gloss'"):
        model_lrt(bad, study, "config")
