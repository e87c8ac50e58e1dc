"""Property tests of ingest, descriptives and models on random survey designs (seeded loop):
1-3 case studies, 2-5 sources, 3-7 scale points, optional dimensions, factors, attention check
and "other" option."""

import itertools

import numpy as np
import pandas as pd
import pytest
import yaml

from tlsurvey import descriptives, ingest
from tlsurvey.models import workflow
from tlsurvey.models.formula import parse
from tlsurvey.models.specs import default_specs
from tlsurvey.models.stats import wide_ratings
from tlsurvey.simulate import design as simdesign
from tlsurvey.study import Study

PUBLIC = {"public_example_salt": True}
N_DESIGNS = 6
N_PEOPLE = 12


def random_design(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n_cases, n_sources = int(rng.integers(1, 4)), int(rng.integers(2, 6))
    dims = [{"id": f"sim{k}", "label": f"Similarity {k}", "role": "similarity",
             "points": int(rng.integers(3, 8))} for k in range(int(rng.integers(0, 4)))]
    if rng.random() < 0.8 or not dims:
        dims.append({"id": "perf", "label": "Expected", "role": "outcome",
                     "points": int(rng.integers(3, 8))})
    doc = {
        "title": f"design {seed}",
        "case_studies": [{"id": f"case{k}", "label": f"Case {k}"} for k in range(n_cases)],
        "sources": [{"id": f"src{k}", "label": f"Source {k}"} for k in range(n_sources)],
        "dimensions": dims,
        "factors": [f"f{k}" for k in range(int(rng.integers(0, 3)))],
        "attention_check": bool(rng.random() < 0.5),
        "demographics": bool(rng.random() < 0.7),
    }
    if rng.random() < 0.6:
        doc |= {"other_choice": {"id": "free", "label": "Something else"}, "other_share": 0.2}
    return doc


@pytest.fixture(scope="module", params=range(N_DESIGNS))
def survey(request, tmp_path_factory):
    seed = request.param
    out = tmp_path_factory.mktemp(f"design{seed}")
    doc = random_design(seed)
    (out / "design.yaml").write_text(yaml.safe_dump(doc))
    simdesign.simulate(out / "design.yaml", N_PEOPLE, seed, "w1", out / "raw")
    tables = ingest.run([{"label": "w1", "file": str(out / "raw/w1.csv")}],
                        out / "raw/instrument.yaml", PUBLIC, {"straightlining": False},
                        out / "ingest")
    return doc, tables, out


def test_study_follows_the_design(survey):
    doc, tables, out = survey
    study = Study.load(out / "ingest/study.json")
    assert study.case_study_ids == tuple(c["id"] for c in doc["case_studies"])
    assert study.source_ids == tuple(s["id"] for s in doc["sources"])
    assert [study.dimension_scale(d["id"]).high for d in doc["dimensions"]] == \
        [d["points"] for d in doc["dimensions"]]
    assert study.outcome == ("perf" if any(d["role"] == "outcome" for d in doc["dimensions"])
                             else None)
    assert study.factor_ids == tuple(doc["factors"])
    assert study.attention_checks == int(doc["attention_check"])
    assert (study.other_choice is not None) == ("other_choice" in doc)
    assert len(set(study.colors.values()) - {"#999999"}) == min(
        8, len(study.sources) + len(study.case_studies))


def test_tables_have_one_row_per_cell_and_values_in_scale(survey):
    doc, tables, out = survey
    study = tables["study"]
    ratings = tables["ratings"]
    n = tables["responses"]["participant"].nunique()
    assert n == N_PEOPLE  # the preview and the unfinished response are excluded
    assert len(ratings) == n * len(doc["case_studies"]) * len(doc["sources"]) * \
        len(doc["dimensions"])
    for dim in doc["dimensions"]:
        values = ratings.loc[ratings["dimension"] == dim["id"], "value"].dropna()
        assert values.between(1, dim["points"]).all()
    assert set(tables["choices"]["source"].dropna()) <= set(study.choice_ids)
    assert len(tables["factors"]) == n * len(doc["factors"])


def test_descriptives_on_any_design(survey, tmp_path):
    doc, tables, out = survey
    written = descriptives.run(out / "ingest", tmp_path)
    likert = pd.read_csv(written["likert"]).query("wave == 'all'")
    answered = tables["ratings"].dropna(subset=["value"])
    assert likert["n"].sum() == len(answered)
    factors = pd.read_csv(written["factors"])
    assert factors.empty == (not doc["factors"])
    choices = pd.read_csv(written["choices"]).query("wave == 'all'")
    assert choices["n"].sum() == len(tables["choices"])
    # given by name (the rule's declared inputs and outputs): the same bytes, no other file
    inputs = {name: out / "ingest" / file
              for name, file in {**descriptives.INPUTS, "study": "study.json"}.items()}
    named = {name: tmp_path / "named" / f"{name}-renamed.csv" for name in descriptives.OUTPUTS}
    assert descriptives.run(inputs, named) == named
    assert sorted((tmp_path / "named").iterdir()) == sorted(named.values())
    for name, path in named.items():
        assert path.read_bytes() == written[name].read_bytes(), name


def test_task_dependence_on_any_design(survey, tmp_path):
    doc, tables, out = survey
    study = tables["study"]
    workflow.run_task(tables["choices"], study, tmp_path, {"seed": 1})
    dep = pd.read_csv(tmp_path / "task_dependence.csv")
    pairs = pd.read_csv(tmp_path / "task_choices.csv")
    cases = study.case_study_ids
    if len(cases) < 2:
        assert dep["analysis"].tolist() == ["skipped"] and "two case studies" in dep["note"][0]
        assert pairs.empty
        return
    wide = tables["choices"].pivot(index="participant", columns="case_study", values="source")
    for a, b in itertools.combinations(cases, 2):
        both = wide[[a, b]].dropna()
        listed = both.isin(study.source_ids).all(axis=1)
        rows = dep[dep["case_studies"] == f"{a}|{b}"].set_index("analysis")
        assert rows.loc["bowker", "n"] == listed.sum()
        assert rows.loc["bowker", "n_other"] == (~listed).sum()
        n_mcnemar = len(study.sources) * (len(study.sources) - 1) // 2
        assert rows.index.str.startswith("mcnemar:").sum() == n_mcnemar
        pair = pairs[(pairs["case_study_a"] == a) & (pairs["case_study_b"] == b)]
        assert pair["n"].sum() == len(both)  # every option kept, the other one too


def test_alignment_and_outcome_on_any_design(survey, tmp_path):
    doc, tables, out = survey
    study = tables["study"]
    workflow.run_alignment(tables["ratings"], study, tmp_path, {"bootstrap": 100})
    rm = pd.read_csv(tmp_path / "alignment_rmcorr.csv")
    rng = np.random.default_rng(0)
    outcomes = pd.DataFrame([{"case_study": c, "source": s, "macro_auc": rng.uniform(0.6, 0.9)}
                             for c in study.case_study_ids for s in study.source_ids])
    workflow.run_outcome(tables["ratings"], study, outcomes, tmp_path, {"bootstrap": 100})
    per = pd.read_csv(tmp_path / "intuition_outcome.csv")
    workflow.run_outcome(tables["ratings"], study, None, tmp_path / "none")
    assert pd.read_csv(tmp_path / "none/intuition_outcome_summary.csv")["note"].notna().all()
    if study.outcome is None or not study.similarity_dimensions:
        assert rm["note"].notna().all() and "note" in per
        return
    scopes = len(study.case_studies) + (len(study.case_studies) > 1)
    assert len(rm) == scopes * len(study.similarity_dimensions)
    assert rm["r"].dropna().between(-1, 1).all()
    assert per["n_sources"].max() <= len(study.sources)
    assert per["tau"].dropna().between(-1, 1).all()


def test_default_specs_name_only_study_columns(survey):
    doc, tables, out = survey
    study = tables["study"]
    wide = wide_ratings(tables["ratings"], study.dimension_ids)
    specs = default_specs(study)
    assert bool(specs) == (study.outcome is not None and bool(study.similarity_dimensions))
    for spec in specs:
        assert set(parse(spec["formula"]).variables) <= set(wide.columns)
