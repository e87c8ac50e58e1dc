"""End to end on a survey unlike the example (config/designs/follow_up.yaml): two other case
studies, four sources, no domain dimension, a 7-point outcome scale, no factors, no attention
check, an "other" option, its own benchmark outcomes, no coder sheets, default model specs."""

import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import ROOT, WORKFLOW_FILES, snakemake

from tlsurvey.simulate import design
from tlsurvey.study import Study

pytestmark = pytest.mark.slow
UPSTREAM = ["results/descriptives/likert.csv", "results/models/fit_stats.csv",
            "results/models/alignment_summary.csv", "results/models/task_dependence.csv",
            "results/models/intuition_outcome_summary.csv", "results/models/waves_ratings.csv",
            "results/coding/codes.parquet"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("design_workflow")
    for name in WORKFLOW_FILES:
        if name == "data":
            continue
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, workdir / name)
    raw = workdir / "data/raw/follow_up"
    for wave, n, seed in (("wave1", 24, 11), ("wave2", 16, 12)):
        design.simulate(ROOT / "config/designs/follow_up.yaml", n, seed, wave, raw)
    benchmark = [(c, s, 0.70 + 0.05 * i + 0.02 * j) for j, c in enumerate(["derm", "fundus"])
                 for i, s in enumerate(["ecoset", "medsam_pretrain", "radimagenet",
                                        "imagenet21k"])]
    pd.DataFrame(benchmark, columns=["case_study", "source", "macro_auc"]).to_csv(
        raw / "outcomes.csv", index=False)
    config = yaml.safe_load((workdir / "config/config.yaml").read_text())
    config |= {"waves": [{"label": w, "file": f"data/raw/follow_up/{w}.csv"}
                         for w in ("wave1", "wave2")],
               "instrument": "data/raw/follow_up/instrument.yaml",
               "outcomes": "data/raw/follow_up/outcomes.csv", "coder_sheets": []}
    config["models"] = {"seed": 1, "bootstrap": 200}  # no specs: defaults from the study
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


@pytest.fixture(scope="module")
def upstream(project):
    snakemake(project, *UPSTREAM)
    return project


def test_study_flows_from_the_instrument(upstream):
    study = Study.load(upstream / "results/ingest/study.json")
    assert study.case_study_ids == ("derm", "fundus")
    assert study.source_ids == ("imagenet21k", "radimagenet", "medsam_pretrain", "ecoset")
    assert study.similarity_dimensions == ("visual", "semantic", "embedding")
    assert study.dimension_scale("expected").codes == tuple(range(1, 8))
    likert = pd.read_csv(upstream / "results/descriptives/likert.csv")
    assert likert.loc[likert.dimension == "expected", "value"].max() > 5  # 6 and 7 kept
    assert set(likert["source"]) == set(study.source_ids)


def test_models_on_the_follow_up_design(upstream):
    fits = pd.read_csv(upstream / "results/models/fit_stats.csv")
    assert fits["model"].tolist() == ["expected_similarity_ordinal",
                                      "expected_similarity_linear",
                                      "expected_similarity_crossed"]
    assert fits["converged"].all()
    assert "domain" not in fits.loc[0, "formula"]
    dep = pd.read_csv(upstream / "results/models/task_dependence.csv")
    assert set(dep["case_studies"]) == {"derm|fundus"}
    bowker = dep.set_index("analysis").loc["bowker"]
    assert bowker["n_other"] > 0 and "excluded" in bowker["note"]
    outcome = pd.read_csv(upstream / "results/models/intuition_outcome_summary.csv")
    assert outcome["scope"].tolist() == ["derm", "fundus", "pooled"]
    per = pd.read_csv(upstream / "results/models/intuition_outcome.csv")
    assert per["n_sources"].max() == 4 and per["tau"].dropna().between(-1, 1).all()
    waves = pd.read_csv(upstream / "results/models/waves_ratings.csv")
    assert set(waves["wave"]) == {"wave2"} and set(waves["source"]) == {
        "imagenet21k", "radimagenet", "medsam_pretrain", "ecoset"}


def test_spec_naming_a_missing_dimension_fails_at_config_time(project, tmp_path):
    for name in ("Snakefile", "workflow", "scripts", "config", "data"):
        source = project / name
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, tmp_path / name)
    config = yaml.safe_load((tmp_path / "config/config.yaml").read_text())
    config["models"]["specs"] = [{"name": "old", "family": "ordinal",
                                  "formula": "expected ~ visual + domain + (1 | participant)"}]
    (tmp_path / "config/config.yaml").write_text(yaml.safe_dump(config))
    done = subprocess.run([sys.executable, "-m", "snakemake", "-n"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "models.specs[0] (old): the study has no 'domain'" in done.stdout + done.stderr


def test_report_on_the_follow_up_design(upstream):
    snakemake(upstream)
    html = (upstream / "results/report/report.html").read_text()
    assert "MedSAM pre-training set" in html and "Dermoscopy" in html
