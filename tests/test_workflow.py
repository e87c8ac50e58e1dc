"""End to end: the real Snakemake workflow on the bundled example, checked against the truth."""

import io
import json
import os
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import snakemake

from tlsurvey.io import read_table
from tlsurvey.study import Study

EXAMPLE = Path("data/raw/example")
IDENTIFIER_COLUMNS = ["IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
                      "ExternalReference", "LocationLatitude", "LocationLongitude", "ResponseId"]
TEXT_SUFFIXES = {".csv", ".html", ".json", ".tex", ".txt", ".log", ".qde", ".xml", ".rst"}


@pytest.fixture(scope="module")
def waves(workflow_run):
    config = yaml.safe_load((workflow_run / "config" / "config.yaml").read_text())
    return [wave["label"] for wave in config["waves"]]


def truth(workdir: Path, wave: str, name: str):
    path = workdir / EXAMPLE / "truth" / wave / name
    return json.loads(path.read_text()) if path.suffix == ".json" else read_table(path)


def test_flow_adds_up_and_matches_truth(workflow_run, waves):
    flow = pd.read_csv(workflow_run / "results/ingest/flow.csv")
    for wave in [*waves, "total"]:
        steps = flow[flow.wave == wave].set_index("step")["n"]
        excluded = steps[steps.index.str.startswith("excluded:")].sum()
        assert steps["raw"] == excluded + steps["analysed"], wave
    for wave in waves:
        counts = truth(workflow_run, wave, "counts.json")
        steps = flow[flow.wave == wave].set_index("step")["n"]
        assert (steps["raw"], steps["analysed"]) == (counts["raw_rows"], counts["kept"])
    total = flow[flow.wave == "total"].set_index("step")["n"]
    per_wave = flow[flow.wave.isin(waves)].groupby("step")["n"].sum()
    assert total.to_dict() == per_wave.reindex(total.index).to_dict()


def test_every_excluded_response_has_its_planted_reasons(workflow_run, waves):
    excluded = pd.read_csv(workflow_run / "results/ingest/excluded.csv")
    assert excluded["reasons"].notna().all() and (excluded["reasons"] != "").all()
    for wave in waves:
        planted = truth(workflow_run, wave, "participants.csv")
        planted = planted[~planted["kept"]]
        got = excluded[excluded.wave == wave]
        assert dict(zip(got.response_row, got.reasons.str.split(";").map(set), strict=True)) == {
            row: set(reasons.split(";")) for row, reasons in zip(planted.row, planted.reasons,
                                                                  strict=True)}
        by_reason = got.reasons.str.split(";").explode().value_counts().to_dict()
        assert by_reason == truth(workflow_run, wave, "counts.json")["excluded"]


def test_one_rating_row_per_participant_case_source_dimension(workflow_run, waves):
    ratings = pd.read_parquet(workflow_run / "results/ingest/ratings.parquet")
    responses = pd.read_parquet(workflow_run / "results/ingest/responses.parquet")
    keys = ["participant", "case_study", "source", "dimension"]
    assert not ratings.duplicated(keys).any()
    study = Study.load(workflow_run / "results/ingest/study.json")
    assert (len(study.case_studies), len(study.sources), len(study.dimensions)) == (2, 3, 5)
    cells = len(study.case_studies) * len(study.sources) * len(study.dimensions)
    assert len(ratings) == len(responses) * cells
    for wave in waves:
        counts = truth(workflow_run, wave, "counts.json")
        sub = ratings[ratings.wave == wave]
        assert sub.participant.nunique() == counts["kept"]
        assert sub["value"].isna().sum() == counts["skipped_rating_cells"]


def test_only_coding_topics_embeds(workflow_run):
    """coding_topics embeds every answer, sentence and prototype while the model is loaded;
    the semantic coder finds them all in the cache (the validation step likewise:
    test_coding_outputs)."""
    log = (workflow_run / "logs/coding/semantic.log").read_text()
    assert "(0 new embeddings)" in log and "new texts" not in log  # the encoder's progress


def planted_identifiers(workdir: Path, waves) -> set[str]:
    """Identifier values in the raw exports and the PII planted in their free text."""
    values = set()
    for wave in waves:
        raw = pd.read_csv(workdir / EXAMPLE / f"{wave}.csv", skiprows=[1, 2], dtype=str,
                          encoding="utf-8-sig")
        for column in IDENTIFIER_COLUMNS:
            values |= set(raw[column].dropna())
        values |= set(truth(workdir, wave, "pii.csv")["value"])
    return {v for v in values if len(v) >= 3}


def readable_text(path: Path) -> str:
    """The text of an output file (tables decoded, zip members read); '' for images."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_csv()
    if path.suffix in {".zip", ".qdpx"}:
        with zipfile.ZipFile(path) as archive:
            return "\n".join(readable_text_bytes(archive.read(n), n) for n in archive.namelist())
    return readable_text_bytes(path.read_bytes(), path.name)


def readable_text_bytes(data: bytes, name: str) -> str:
    suffix = Path(name).suffix
    if suffix == ".parquet":
        return pd.read_parquet(io.BytesIO(data)).to_csv()
    return data.decode("utf-8", "replace") if suffix in TEXT_SUFFIXES or not suffix else ""


def test_no_identifier_reaches_results_or_logs(workflow_run, waves):
    identifiers = planted_identifiers(workflow_run, waves)
    kinds = {"ip": r"^\d+\.\d+\.\d+\.\d+$", "email": "@", "coordinate": r"^-?\d+\.\d{3,}$"}
    found = pd.Series(sorted(identifiers))
    for kind, pattern in kinds.items():  # the scan below looks for every kind of identifier
        assert found.str.contains(pattern).any(), kind
    snakemake(workflow_run, "--report", "results/report.zip")
    files = [p for top in ("results", "logs") for p in (workflow_run / top).rglob("*")
             if p.is_file()]
    assert len(files) > 50
    patterns = {v: re.compile(rf"(?<![\w.]){re.escape(v)}(?![\w])") for v in identifiers}
    # the substring test first: a pattern that starts with a lookbehind scans character by
    # character (about 0.3 s per identifier in the 13 MB report.zip)
    leaks = [(str(p.relative_to(workflow_run)), value) for p in files
             for text in [readable_text(p)] for value, pattern in patterns.items()
             if value in text and pattern.search(text)]
    assert not leaks


def test_report_zip_captions_every_table_and_figure(workflow_run):
    report = workflow_run / "results/report.zip"
    if not report.exists():
        snakemake(workflow_run, "--report", "results/report.zip")
    names = zipfile.ZipFile(report).namelist()
    outputs = [p.name for stage in ("ingest", "descriptives", "models", "coding", "figures")
               for p in (workflow_run / "results" / stage).glob("*")
               if p.suffix in {".csv", ".png", ".tex"}]
    assert outputs and all(any(n.endswith("/" + name) for n in names) for name in outputs)


def test_every_file_in_results_is_a_declared_output(workflow_run):
    """Rules write only their declared outputs: the files under results/ are the outputs of the
    workflow's jobs (``snakemake --summary``; a directory output holds its files), but for the
    embedding cache (a params directory, kept across runs) and ``snakemake --report``'s zip."""
    summary = snakemake(workflow_run, "--summary").stdout
    declared = {line.split("\t")[0] for line in summary.splitlines()
                if line.startswith("results/")}
    assert "results/multiverse/data/none/study.json" in declared
    written = {p.relative_to(workflow_run).as_posix() for p in (workflow_run / "results").rglob(
        "*") if p.is_file()} - {"results/report.zip"}
    undeclared = {f for f in written if f not in declared
                  and not any(f.startswith(f"{d}/") for d in declared)}
    assert {f.split("/")[1] for f in undeclared} <= {"cache"}
    assert {f for f in declared if not (workflow_run / f).exists()} == set()


def test_rerun_has_nothing_to_do(workflow_run):
    done = snakemake(workflow_run, "-n")
    assert "Nothing to be done" in done.stdout + done.stderr


def test_adding_a_wave_reruns_only_what_depends_on_it(workflow_run, tmp_path):
    config = yaml.safe_load((workflow_run / "config" / "config.yaml").read_text())
    config["waves"].append({"label": "wave3", "file": str(EXAMPLE / "wave2.csv")})
    extra = tmp_path / "three_waves.yaml"
    extra.write_text(yaml.safe_dump(config))  # keys sorted: key order must not matter
    done = snakemake(workflow_run, "-n", "--configfile", str(extra))
    planned = done.stdout + done.stderr
    jobs = dict(re.findall(r"^(ingest_wave|ingest_combine)\s+(\d+)$", planned, re.M))
    assert jobs == {"ingest_wave": "1", "ingest_combine": "1"}  # from the "Job stats" table
    assert "wave=wave3" in planned and "wave=wave1" not in planned and "wave=wave2" not in planned


def test_a_new_salt_reruns_every_step_that_hashes_ids(workflow_run):
    env = {**os.environ, "TLSURVEY_SALT": "a-different-secret"}
    done = snakemake(workflow_run, "-n", env=env)
    planned = done.stdout + done.stderr
    jobs = dict(re.findall(r"^(ingest_wave|coding_reliability|coding_codes)\s+(\d+)$", planned,
                           re.M))
    assert jobs == {"ingest_wave": "2", "coding_reliability": "1", "coding_codes": "1"}
    assert "a-different-secret" not in planned


def test_workflow_passes_snakemake_lint(root):
    done = snakemake(root, "--lint")
    assert "Congratulations, your workflow is in a good condition!" in done.stdout + done.stderr
