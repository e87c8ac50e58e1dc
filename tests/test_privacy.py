"""Privacy scan over every output format, and formula-injection and atomic-write guarantees.

A simulated export gets identifiers and PII planted in its free text and free-text demographics
(IPv4, IPv6, URLs with and without scheme, e-mails, phones, configured names). It then goes
through ingest, descriptives, coding, a models table, a figure and the report, and every output
(parquet, csv, html, json, tex, pdf text, qdpx) is read back as text and searched.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tlsurvey import cli as tlcli
from tlsurvey.coding.qdpx import read_qdpx
from tlsurvey.ingest.readers import read_export
from tlsurvey.io import FORMULA_START, all_or_nothing, read_table, write_table, write_text
from tlsurvey.simulate import simulate

NAMES = ["Jane Doe", "Okafor"]
PLANTED = [  # (free text, secrets that must not appear in any output)
    ("I run this on 10.20.30.40 at work.", ["10.20.30.40"]),
    ("Our box 2001:db8::8a2e:370:7334 has the data.", ["2001:db8::8a2e:370:7334"]),
    ("Code at github.com/jdoe-secret, notes on jdoe-lab.org.", ["jdoe-secret", "jdoe-lab.org"]),
    ("See https://private.example.net/x for it.", ["private.example.net"]),
    ("Write to jane.doe@uni.example.edu.", ["jane.doe@uni.example.edu"]),
    ("Call +45 12 34 56 78.", ["12 34 56 78"]),
    ("Ask Jane Doe or okafor about it.", ["Jane Doe", "okafor"]),
    ("=HYPERLINK(\"http://evil.example.com\") similar images", ["evil.example.com"]),
]
DEMOGRAPHIC = "Other: researcher, reach me at jdoe@lab.example.org or 10.1.2.3"
DEMOGRAPHIC_SECRETS = ["jdoe@lab.example.org", "10.1.2.3"]


def pdf_text(data: bytes) -> str:
    """Text drawn in a PDF written by matplotlib: literal strings of each BT..ET block of the
    (Flate-compressed) content streams, two-byte codes decoded."""
    chunks = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            stream = zlib.decompress(match.group(1))
        except zlib.error:
            continue
        for block in re.findall(rb"BT(.*?)ET", stream, re.S):
            raw = b"".join(re.findall(rb"\(((?:\\.|[^\\)])*)\)", block))
            raw = re.sub(rb"\\(.)", rb"\1", raw)
            chunks.append(raw.decode("utf-16-be", "replace") if b"\x00" in raw
                          else raw.decode("latin-1"))
    return "\n".join(chunks)


def readable(path: Path) -> str:
    """An output file as searchable text, by format."""
    suffix = path.suffix
    if suffix == ".parquet":
        return read_table(path).to_csv()
    if suffix == ".pdf":
        return pdf_text(path.read_bytes())
    if suffix in (".qdpx", ".zip"):
        with zipfile.ZipFile(path) as archive:
            return "\n".join(archive.read(n).decode("utf-8") for n in archive.namelist())
    if suffix == ".png":
        return ""
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, root) -> dict:
    from tlsurvey import descriptives
    from tlsurvey.figures import make
    from tlsurvey.models.workflow import run_task
    from tlsurvey.report import build_report

    work = tmp_path_factory.mktemp("privacy")
    simulate(10, 21, "w", work / "raw")
    export = work / "raw" / "w.csv"
    raw = read_export(export)
    text = export.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    texts = [rows[0].index(raw.import_ids[c]) for c in ("QID9_TEXT", "QID17_TEXT", "QID18_TEXT")]
    role = rows[0].index(raw.import_ids["QID1"])
    for k, row in enumerate(rows[3:]):
        for j, column in enumerate(texts):
            row[column] = PLANTED[(k + j) % len(PLANTED)][0]
        row[role] = DEMOGRAPHIC
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    export.write_text(buffer.getvalue(), encoding="utf-8")
    privacy = {"public_example_salt": True, "salt_env": "TLSURVEY_PRIVACY_NO_SALT",
               "salt_file": "/nonexistent/salt", "scrub_names": NAMES}
    config = work / "config.yaml"
    config.write_text(yaml.safe_dump({"privacy": privacy}))
    results = work / "results"
    ingest, coding = results / "ingest", results / "coding"
    assert tlcli.main(["ingest", str(export), "--instrument", str(work / "raw/instrument.yaml"),
                       "--wave", "w", "--out", str(ingest), "--config", str(config)]) == 0
    descriptives.run(ingest, results / "descriptives")
    assert tlcli.main(["code", str(ingest / "texts.parquet"), "--codebook",
                       str(root / "config/codebook.yaml"), "--lexicon",
                       str(root / "config/lexicon.yaml"), "--out", str(coding), "--no-topics",
                       "--config", str(config), "--responses",
                       str(ingest / "responses.parquet")]) == 0
    run_task(ingest / "choices.parquet", ingest / "study.json", results / "models", {})
    make("code_frequency", {"codes": coding / "codes.parquet",
                            "choices": ingest / "choices.parquet",
                            "codebook": root / "config/codebook.yaml"},
         results / "figures" / "code_frequency")
    inputs = {"flow": ingest / "flow.csv", "excluded": ingest / "excluded.csv",
              "responses": ingest / "responses.parquet", "codes": coding / "codes.parquet",
              "ambiguous_terms": coding / "ambiguous_terms.csv", "audit": coding / "audit.html",
              "demographics": results / "descriptives/demographics.csv"}
    build_report(inputs, results / "report" / "report.html",
                 config={"privacy": privacy, "coding": {"seed": 1}})
    secrets = [s for _, found in PLANTED for s in found] + DEMOGRAPHIC_SECRETS
    identifiers = {v for c in ("ipAddress", "recipientEmail", "recipientLastName",
                               "locationLatitude") for v in raw.data[raw.resolve(c)] if v}
    return {"results": results, "secrets": secrets, "identifiers": identifiers}


def test_every_output_format_is_written(outputs):
    suffixes = {p.suffix for p in outputs["results"].rglob("*") if p.is_file()}
    assert {".parquet", ".csv", ".html", ".json", ".tex", ".pdf", ".qdpx"} <= suffixes


def test_the_scan_reads_each_format(outputs):
    results = outputs["results"]
    assert "[IP]" in readable(results / "ingest/texts.parquet")
    assert "[EMAIL]" in readable(results / "coding/project.qdpx")
    assert "[URL]" in readable(results / "coding/audit.html")
    assert "[IP]" in readable(results / "ingest/responses.parquet")
    assert "lexicon_sha256" in readable(results / "coding/provenance.json")
    assert "\\begin{table}" in readable(results / "models/task_dependence.tex")
    assert "Ecoset" in pdf_text((results / "figures/code_frequency.pdf").read_bytes())


def test_no_planted_secret_or_identifier_in_any_output(outputs):
    wanted = outputs["secrets"] + sorted(outputs["identifiers"])
    assert len(outputs["identifiers"]) >= 10
    leaks = [(str(p.relative_to(outputs["results"])), s)
             for p in sorted(outputs["results"].rglob("*")) if p.is_file()
             for text in [readable(p).casefold()] for s in wanted if s.casefold() in text]
    assert not leaks


def test_report_never_prints_privacy_values(outputs):
    page = (outputs["results"] / "report/report.html").read_text()
    assert "scrub_names" in page and "(set; not shown)" in page
    assert "TLSURVEY_PRIVACY_NO_SALT" not in page and "/nonexistent/salt" not in page


def test_no_csv_cell_starts_a_formula(outputs):
    cells = [(p.name, cell) for p in outputs["results"].rglob("*.csv")
             for row in csv.reader(io.StringIO(p.read_bytes().decode(), newline=""))
             for cell in row]
    assert len(cells) > 100
    bad = [(name, cell) for name, cell in cells if cell.lstrip(" ").startswith(FORMULA_START)
           and not re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", cell.strip())]
    assert not bad


# ------------------------------------------------------------------ formula injection (OWASP)


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", "\tX", "\rX",
                                   "\nX", " =cmd|' /C calc'!A0", "\uff1d1+1", "\x00=1"])
def test_formula_cells_are_neutralised_in_csv_and_raw_in_parquet(value, tmp_path):
    frame = pd.DataFrame({"quote": [value, "plain"], "n": [1, 2]})
    write_table(frame, tmp_path / "t.csv")
    write_table(frame, tmp_path / "t.parquet")
    cells = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_bytes().decode(), newline="")))
    assert cells[1][0] == "'" + value.replace("\r", "\n") and cells[2][0] == "plain"
    assert read_table(tmp_path / "t.parquet")["quote"].tolist() == [value, "plain"]
    assert read_table(tmp_path / "t.csv")["quote"].tolist() == [value.replace("\r", "\n"),
                                                                "plain"]


@pytest.mark.parametrize("value", ["'=1", "''+2", "'plain", "it's", "' -x"])
def test_quoted_values_round_trip_through_csv(value, tmp_path):
    path = write_table(pd.DataFrame({"a": [value]}), tmp_path / "t.csv")
    assert read_table(path)["a"].tolist() == [value]


def test_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame({"estimate": [-0.25, 1.5], "text": ["-3", "+1.5e-3"],
                          "count": pd.array([-2, None], "Int64")})
    path = write_table(frame, tmp_path / "t.csv")
    assert path.read_text().splitlines() == ["estimate,text,count", "-0.25,-3,-2", "1.5,+1.5e-3,"]
    back = read_table(path)
    assert back["estimate"].tolist() == [-0.25, 1.5] and back["text"].tolist() == [-3.0, 0.0015]


def test_tsv_is_neutralised_too(tmp_path):
    path = write_table(pd.DataFrame({"a": ["=1", "x"]}), tmp_path / "t.tsv")
    assert path.read_text().splitlines() == ["a", "'=1", "x"]


# ------------------------------------------------------------------------ all or nothing


def test_failed_step_removes_its_outputs_and_restores_replaced_files(tmp_path):
    old = write_text("old\n", tmp_path / "kept.txt")
    with pytest.raises(RuntimeError), all_or_nothing():
        write_text("new\n", old)
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "new.csv")
        raise RuntimeError("step failed")
    assert old.read_text() == "old\n" and not (tmp_path / "new.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]


def test_successful_step_keeps_outputs_and_leaves_no_temporary_files(tmp_path):
    write_text("old\n", tmp_path / "a.txt")
    with all_or_nothing():
        write_text("new\n", tmp_path / "a.txt")
        with all_or_nothing():  # nested: belongs to the outer block
            write_text("b\n", tmp_path / "b.txt")
    assert (tmp_path / "a.txt").read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_leftovers_of_a_killed_writer_are_swept(tmp_path):
    (tmp_path / ".a.txt.k1ll3d.txt").write_text("partial")
    (tmp_path / ".a.txt.k1ll3d.bak").write_text("backup")
    write_text("x\n", tmp_path / "a.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_failing_code_command_leaves_no_output(root, tmp_path, capsys):
    texts = pd.DataFrame({"text_id": ["P1:considerations"], "participant": ["P1"],
                          "wave": ["w"], "field": ["considerations"], "case_study": [None],
                          "text": ["Dataset size matters."], "n_redacted": [0]})
    write_table(texts, tmp_path / "texts.parquet")
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("text_id,coder,code,value\nP1:considerations,a,dataset_size,7\n")
    out = tmp_path / "coding"
    code = tlcli.main(["code", str(tmp_path / "texts.parquet"), "--codebook",
                       str(root / "config/codebook.yaml"), "--lexicon",
                       str(root / "config/lexicon.yaml"), "--out", str(out), "--no-topics",
                       "--coders", str(sheet)])
    assert code == 1 and "value must be 0 or 1" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_qdpx_of_outputs_parses(outputs):
    project = read_qdpx(outputs["results"] / "coding/project.qdpx")
    assert project["codes"] and len(project["codings"]) > 0


def test_failed_block_restores_a_replaced_file_given_by_a_relative_path(tmp_path, monkeypatch):
    """A file replaced inside a failing all_or_nothing block and named relative to the working
    directory (as the CLI's default caches are) gets its old bytes back."""
    from tlsurvey.io import all_or_nothing, write_text

    monkeypatch.chdir(tmp_path)
    write_text("old\n", Path("cache/table.txt"))
    with pytest.raises(RuntimeError), all_or_nothing():
        write_text("new\n", Path("cache/table.txt"))
        raise RuntimeError("step failed")
    assert Path("cache/table.txt").read_text() == "old\n"
    assert sorted(p.name for p in Path("cache").iterdir()) == ["table.txt"]
