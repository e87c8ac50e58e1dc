"""Hostile and broken input: each case is one mutation of a simulated export, config or coder
sheet, run through the ``tlsurvey`` command line. Every case ends in a one-line error naming
file, row and column with exit status 1 and nothing written, or in a safe result that is checked.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tlsurvey import cli as tlcli
from tlsurvey.ingest.readers import read_export
from tlsurvey.simulate import simulate

WAVE = "w"
PRIVACY = {"public_example_salt": True, "salt_env": "TLSURVEY_HOSTILE_NO_SALT",
           "salt_file": "/nonexistent/salt", "scrub_names": ["Jane Doe", "Okafor"]}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    """A small simulated Qualtrics CSV export (3 header rows) with its instrument and config."""
    out = tmp_path_factory.mktemp("hostile_base")
    simulate(8, 7, WAVE, out)
    config = out / "config.yaml"
    config.write_text(yaml.safe_dump({"privacy": PRIVACY}))
    raw = read_export(out / f"{WAVE}.csv")
    text = (out / f"{WAVE}.csv").read_bytes().decode("utf-8-sig")
    return {"dir": out, "export": out / f"{WAVE}.csv", "instrument": out / "instrument.yaml",
            "config": config, "rows": list(csv.reader(io.StringIO(text, newline=""))),
            "ids": raw.import_ids, "lines": raw.file_rows}


def col(base, name: str) -> int:
    """Index in the export of a column given by ImportId or short name."""
    return base["rows"][0].index(base["ids"].get(name, name))


def write_rows(rows, path: Path) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def instrument(base) -> dict:
    return yaml.safe_load(base["instrument"].read_text())


def run(argv, capsys) -> tuple[int, str, str]:
    code = tlcli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ingest(base, tmp_path, capsys, export, instrument_path=None, config=None, fmt=None):
    """``tlsurvey ingest`` of one export; returns exit code, stderr and the output dir."""
    out = tmp_path / "out"
    argv = ["ingest", export, "--instrument", instrument_path or base["instrument"],
            "--wave", WAVE, "--out", out, "--config", config or base["config"]]
    code, _, err = run(argv + (["--format", fmt] if fmt else []), capsys)
    return code, err, out


def assert_error(code, err, out, path, pattern, row=None, column=None):
    """Exit 1, one error line ``error: path[:row N][:column C]: message`` (last on stderr, after
    any log lines) matching ``pattern``, and nothing in the output directory. ``row`` is a line
    number, ``"any"`` (some row) or None (no row)."""
    assert code == 1, err
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    where = re.escape(str(path))
    if row is not None:
        where += r":row \d+" if row == "any" else f":row {row}"
    if column:
        where += f":column {re.escape(column)}"
    assert re.match(rf"error: {where}: .*{pattern}", errors[0]), errors[0]
    assert not out.exists() or not any(out.rglob("*")), list(out.rglob("*"))


# ------------------------------------------------------------------ row-level export mutations


def data_row(base, i: int) -> int:
    """Index in ``rows`` of data row ``i`` (0-based) and its file line."""
    return 3 + i


def _set(name, value, i=0):
    def edit(base, rows):
        rows[data_row(base, i)][col(base, name)] = value
        return rows
    return edit


def _rename(name, new):
    def edit(base, rows):
        rows[0][col(base, name)] = new
        return rows
    return edit


def _append(values, i=0):
    def edit(base, rows):
        rows[data_row(base, i)] += values
        return rows
    return edit


def _drop_field(i=0):
    def edit(base, rows):
        rows[data_row(base, i)].pop()
        return rows
    return edit


def _drop_column(name):
    def edit(base, rows):
        j = col(base, name)
        return [r[:j] + r[j + 1:] for r in rows]
    return edit


def _duplicate_header(name, other, legacy=True):
    """Give column ``other`` the short name of ``name``; ``legacy`` drops the ImportId row."""
    def edit(base, rows):
        rows[0][col(base, other)] = base["ids"].get(name, name)
        return [rows[0], rows[1], *rows[3:]] if legacy else rows
    return edit


def _add_column(header, values, question=None):
    def edit(base, rows):
        out = [rows[0] + [header], rows[1] + [question or header],
               rows[2] + ['{"ImportId":"QID99"}']]
        return out + [r + [values[k % len(values)]] for k, r in enumerate(rows[3:])]
    return edit


def _header_only(base, rows):
    return rows[:3]


def _legacy_renamed_ip(base, rows):
    rows[0][col(base, "ipAddress")] = "IP_Address"
    return [rows[0], rows[1], *rows[3:]]


ROW_ERRORS = {
    # case: (edit, message pattern, row given?, column)
    "progress_250": (_set("progress", "250"), r"progress 250 outside 0-100", True, "progress"),
    "progress_minus_3": (_set("progress", "-3"), r"progress -3 outside 0-100", True, "progress"),
    "progress_text": (_set("progress", "most"), r"not a number: 'most'", True, "progress"),
    "progress_nan": (_set("progress", "NaN"), r"not a number", True, "progress"),
    "duration_negative": (_set("duration", "-5"), r"duration -5 outside", True, "duration"),
    "duration_inf": (_set("duration", "inf"), r"not a number", True, "duration"),
    "finished_maybe": (_set("finished", "maybe"), r"'maybe' is not a boolean", True, "finished"),
    "rating_unknown_label": (_set("QID5_1", "Very very similar"), r"unknown label", True,
                             "QID5_1"),
    "rating_code_7": (_set("QID5_1", "7"), r"outside scale similarity \(1-5\)", True, "QID5_1"),
    "rating_code_2_5": (_set("QID5_1", "2.5"), r"outside scale", True, "QID5_1"),
    "rating_formula": (_set("QID5_1", "=1+1"), r"unknown label '=1\+1'", True, "QID5_1"),
    "choice_unknown": (_set("QID8", "CIFAR-10"), r"unknown choice 'CIFAR-10'", True, "QID8"),
    "start_not_a_date": (_set("startDate", "jane.doe@example.org"), r"is not a date and time",
                         True, "startDate"),
    "empty_response_id": (_set("_recordId", ""), r"empty response id", True, "_recordId"),
    "missing_column": (_drop_column("QID5_2"), r"ratings column not found", False, "QID5_2"),
    "ragged_long_row": (_append(["surplus", "cells"]), r"data beyond the last column", True,
                        lambda base: str(len(base["rows"][0]) + 1)),
    "short_row": (_drop_field(2), r"fields but the header \(line 1\) has", True, None),
    "duplicate_header_different": (_duplicate_header("QID17_TEXT", "QID18_TEXT"),
                                   r"share the header 'Q17' but differ in content", False,
                                   "Q17"),
    "header_only": (_header_only, r"header but no responses", False, None),
    "identifier_renamed_legacy": (_legacy_renamed_ip, r"looks like a personal identifier "
                                  r"\(header 'IP_Address'\)", False, "IP_Address"),
    "undeclared_email_column": (_add_column("Contact", ["a.b@example.org"]),
                                r"a value that is an e-mail address", False, "Contact"),
    "undeclared_ip_values": (_add_column("Q99", ["10.20.30.40", ""]),
                             r"a value that is an IP address", False, "Q99"),
    "undeclared_ipv6_values": (_add_column("Q99", ["2001:db8::8a2e:370:7334"]),
                               r"an IP address", False, "Q99"),
    "undeclared_latitude": (_add_column("GeoLat", ["55.6761"]), r"header 'GeoLat'", False,
                            "GeoLat"),
    "undeclared_latitude_by_question": (_add_column("Q97", ["55.6761"], "Location latitude"),
                                        r"header 'Location latitude'", False, "Q97"),
    "undeclared_name_column": (_add_column("Q98", ["x"], "What is your name?"),
                               r"header 'What is your name\?'", False, "Q98"),
    "undeclared_surname_header": (_add_column("Surname", ["Okafor"]), r"header 'Surname'",
                                  False, "Surname"),
}


def by_short_name(base, tmp_path) -> Path:
    """The instrument with every ImportId replaced by its short name (for legacy layouts)."""
    doc, ids = instrument(base), base["ids"]
    doc["metadata"] = {key: ids.get(name, name) for key, name in doc["metadata"].items()}
    doc["identifiers"] = [ids.get(name, name) for name in doc["identifiers"]]
    for items in doc.values():
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                item["column"] = ids.get(item["column"], item["column"])
    path = tmp_path / "instrument_short.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


LEGACY = {"identifier_renamed_legacy"}  # cases read through the short-name instrument


@pytest.mark.parametrize("case", sorted(ROW_ERRORS))
def test_export_mutation_is_a_one_line_error(case, base, tmp_path, capsys):
    edit, pattern, has_row, column = ROW_ERRORS[case]
    export = write_rows(edit(base, [list(r) for r in base["rows"]]), tmp_path / "export.csv")
    mapping = by_short_name(base, tmp_path) if case in LEGACY else None
    code, err, out = ingest(base, tmp_path, capsys, export, mapping)
    column = column(base) if callable(column) else column
    assert_error(code, err, out, export, pattern, row="any" if has_row else None, column=column)


def test_error_names_the_file_line_of_the_response(base, tmp_path, capsys):
    rows = _set("progress", "250", i=4)(base, [list(r) for r in base["rows"]])
    export = write_rows(rows, tmp_path / "export.csv")
    code, err, out = ingest(base, tmp_path, capsys, export)
    assert_error(code, err, out, export, "outside", row=base["lines"][4], column="progress")


# -------------------------------------------------------------------- byte-level mutations


def _truncate_mid_row(data: bytes) -> bytes:
    last = data.rstrip(b"\n").rfind(b"\n")
    return data[: last + (len(data) - last) // 2]


def _truncate_in_quote(data: bytes) -> bytes:
    return data + b'R_x,"an answer cut off'


def _undefined_cp1252(data: bytes) -> bytes:
    """Not UTF-8 (a cp1252 e-acute) and a byte cp1252 leaves undefined, without a BOM."""
    return data.removeprefix(b"\xef\xbb\xbf").replace(b"Dataset", b"D\xe9t\x81set", 1)


def _invalid_after_bom(data: bytes) -> bytes:
    return data.replace(b"Dataset", b"D\xe9taset", 1)


BYTE_ERRORS = {
    "truncated_mid_row": (_truncate_mid_row, r"truncated file", True),
    "truncated_inside_quoted_field": (_truncate_in_quote, r"quoted field is never closed", True),
    "undefined_cp1252_byte": (_undefined_cp1252, r"byte 0x81 .* undefined", True),
    "invalid_utf8_after_bom": (_invalid_after_bom, r"not valid UTF-8", True),
    "zero_bytes": (lambda data: b"", r"export is empty \(0 bytes\)", False),
    "blank_lines_only": (lambda data: b"\n\n \n", r"cannot detect the export format", False),
    "semicolon_delimited": (lambda data: data.replace(b",", b";"),
                            r"cannot detect the export format", False),
    "workbook_named_csv": (lambda data: b"PK\x03\x04" + b"\x00" * 40,
                           r"the file is a spreadsheet workbook", False),
}


@pytest.mark.parametrize("case", sorted(BYTE_ERRORS))
def test_byte_mutation_is_a_one_line_error(case, base, tmp_path, capsys):
    mutate, pattern, has_row = BYTE_ERRORS[case]
    export = tmp_path / "export.csv"
    export.write_bytes(mutate(base["export"].read_bytes()))
    code, err, out = ingest(base, tmp_path, capsys, export)
    assert_error(code, err, out, export, pattern, row="any" if has_row else None)


def test_truncated_row_names_its_line(base, tmp_path, capsys):
    export = tmp_path / "export.csv"
    export.write_bytes(_truncate_mid_row(base["export"].read_bytes()))
    code, err, out = ingest(base, tmp_path, capsys, export)
    assert_error(code, err, out, export, "truncated file", row=base["lines"][-1])


@pytest.fixture(scope="module")
def xlsx(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("hostile_xlsx")
    simulate(8, 3, WAVE, out, fmt="qualtrics-xlsx")
    return {"export": out / f"{WAVE}.xlsx", "instrument": out / "instrument.yaml"}


XLSX_ERRORS = {
    "xlsx_truncated": (lambda data: data[: len(data) // 2], r"not a readable .xlsx workbook"),
    "xlsx_that_is_csv": (lambda data: b"StartDate,EndDate\n1,2\n",
                         r"not an .xlsx workbook: the file is text"),
    "xlsx_that_is_legacy_xls": (lambda data: b"\xd0\xcf\x11\xe0" + b"\x00" * 60,
                                r"legacy .xls workbook"),
    "xlsx_zip_garbage": (lambda data: b"PK\x03\x04" + b"garbage" * 20,
                         r"not a readable .xlsx workbook"),
}


@pytest.mark.parametrize("case", sorted(XLSX_ERRORS))
def test_broken_workbook_is_a_one_line_error(case, base, xlsx, tmp_path, capsys):
    mutate, pattern = XLSX_ERRORS[case]
    export = tmp_path / "export.xlsx"
    export.write_bytes(mutate(xlsx["export"].read_bytes()))
    code, err, out = ingest(base, tmp_path, capsys, export, xlsx["instrument"])
    assert_error(code, err, out, export, pattern)


def test_csv_read_as_spss_is_a_one_line_error(base, tmp_path, capsys):
    code, err, out = ingest(base, tmp_path, capsys, base["export"], fmt="spss")
    assert_error(code, err, out, base["export"], "cannot read SPSS file")


# -------------------------------------------------------------------------- SPSS value labels


@pytest.fixture(scope="module")
def sav(tmp_path_factory) -> dict:
    import pyreadstat

    out = tmp_path_factory.mktemp("hostile_sav")
    simulate(8, 4, WAVE, out, fmt="spss")
    frame, meta = pyreadstat.read_sav(str(out / f"{WAVE}.sav"))
    column = yaml.safe_load((out / "instrument.yaml").read_text())["ratings"][0]["column"]
    return {"dir": out, "frame": frame, "meta": meta, "column": column,
            "instrument": out / "instrument.yaml"}


def write_sav(sav, path, labels=None, values=None) -> Path:
    import pyreadstat

    frame = sav["frame"].copy()
    if values is not None:
        frame.loc[0, sav["column"]] = values
    value_labels = dict(sav["meta"].variable_value_labels)
    if labels is not None:
        value_labels[sav["column"]] = labels
    pyreadstat.write_sav(frame, str(path), column_labels=sav["meta"].column_names_to_labels,
                         variable_value_labels=value_labels)
    return path


SIMILARITY = ["Not at all similar", "Slightly similar", "Moderately similar", "Very similar",
              "Extremely similar"]
SAV_ERRORS = {
    "spss_labels_of_another_scale": (
        {float(i): t for i, t in enumerate(["Strongly disagree", "Disagree", "Neutral", "Agree",
                                            "Strongly agree"], 1)}, None,
        r"value label 'Strongly disagree' \(code 1\) is not a label of scale similarity", False),
    "spss_labels_reversed": ({float(6 - i): t for i, t in enumerate(SIMILARITY, 1)}, None,
                             r"is on code \d but scale similarity gives it \d", False),
    "spss_code_without_label": ({float(i): t for i, t in enumerate(SIMILARITY, 1)}, 0.0,
                                r"code 0 has no value label", True),
    "spss_code_out_of_scale_unlabelled": ({1.0: SIMILARITY[0], 5.0: SIMILARITY[4]}, 9.0,
                                          r"value 9 outside scale similarity", True),
}


@pytest.mark.parametrize("case", sorted(SAV_ERRORS))
def test_spss_value_label_mismatch_is_a_one_line_error(case, base, sav, tmp_path, capsys):
    labels, value, pattern, has_row = SAV_ERRORS[case]
    export = write_sav(sav, tmp_path / "export.sav", labels, value)
    code, err, out = ingest(base, tmp_path, capsys, export, sav["instrument"])
    assert_error(code, err, out, export, pattern, row="any" if has_row else None,
                 column=sav["column"])


def test_spss_end_point_labels_are_accepted_with_a_warning(base, sav, tmp_path, capsys, caplog):
    export = write_sav(sav, tmp_path / "export.sav", {1.0: SIMILARITY[0], 5.0: SIMILARITY[4]})
    code, _, out = ingest(base, tmp_path, capsys, export, sav["instrument"])
    assert code == 0
    ratings = pd.read_parquet(out / "ratings.parquet")
    assert ratings["value"].dropna().between(1, 5).all() and len(ratings)
    assert "carry no value label" in caplog.text


# ------------------------------------------------------------------------- instrument, config


def _instrument_edit(base, tmp_path, edit) -> Path:
    doc = instrument(base)
    edit(doc)
    path = tmp_path / "instrument.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


EXPORT_NAMED = {"identifier_mapped_as_text_by_short_name", "identifier_mapped_by_question_text"}
INSTRUMENT_ERRORS = {
    "identifier_mapped_as_text_by_short_name": (
        lambda d: d["texts"].append({"column": "IPAddress", "field": "ip"}),
        r"mapped column is the identifier 'ipAddress' \(IPAddress\) and would be kept",
        "IPAddress"),
    "identifier_mapped_by_question_text": (
        lambda d: d["demographics"].append({"column": "Recipient Email", "variable": "mail"}),
        r"is the identifier 'recipientEmail'", "Recipient Email"),
    "scale_code_not_integer": (lambda d: d["scales"]["similarity"].update({"Very similar": "4"}),
                               r"invalid instrument at scales/similarity/Very similar", None),
    "no_response_id": (lambda d: d["metadata"].pop("response_id"),
                       r"invalid instrument at metadata: 'response_id' is a required", None),
    "unknown_scale": (lambda d: d["ratings"][0].update({"scale": "agreement"}),
                      r"unknown scale 'agreement'", "QID5_1"),
}


@pytest.mark.parametrize("case", sorted(INSTRUMENT_ERRORS))
def test_bad_instrument_is_a_one_line_error(case, base, tmp_path, capsys):
    edit, pattern, column = INSTRUMENT_ERRORS[case]
    path = _instrument_edit(base, tmp_path, edit)
    code, err, out = ingest(base, tmp_path, capsys, base["export"], path)
    named = base["export"] if case in EXPORT_NAMED else path
    assert_error(code, err, out, named, pattern, column=column)


CONFIG_ERRORS = {
    "min_progress_text": ({"exclusions": {"min_progress": "abc"}},
                          r"invalid config at exclusions/min_progress: 'abc' is not of type"),
    "min_progress_250": ({"exclusions": {"min_progress": 250}},
                         r"invalid config at exclusions/min_progress: 250 is greater"),
    "scrub_names_string": ({"privacy": {**PRIVACY, "scrub_names": "Jane"}},
                           r"invalid config at privacy/scrub_names: 'Jane' is not of type"),
    "unknown_exclusion": ({"exclusions": {"speeders": True}},
                          r"invalid config at exclusions: Additional properties"),
    "duplicates_policy": ({"exclusions": {"duplicates": "drop"}},
                          r"invalid config at exclusions/duplicates: 'drop' is not one of"),
    "config_is_a_list": ([1, 2], r"invalid config at \(top level\): not a mapping"),
    "config_broken_yaml": ("privacy: {salt_env: [", r"not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_bad_config_gives_the_schema_message(case, base, tmp_path, capsys):
    doc, pattern = CONFIG_ERRORS[case]
    config = tmp_path / "config.yaml"
    if isinstance(doc, dict) and "privacy" not in doc:
        doc = {"privacy": PRIVACY, **doc}
    config.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    code, err, out = ingest(base, tmp_path, capsys, base["export"], config=config)
    assert_error(code, err, out, config, pattern, row="any" if "YAML" in pattern else None)


# ---------------------------------------------------------------- accepted safely, and checked


def ingest_ok(base, tmp_path, capsys, rows=None, data: bytes | None = None, mapping=None):
    export = tmp_path / "export.csv"
    if data is not None:
        export.write_bytes(data)
    else:
        write_rows(rows, export)
    code, err, out = ingest(base, tmp_path, capsys, export, mapping)
    assert code == 0, err
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in
            ("responses", "texts", "ratings")} | {"flow": pd.read_csv(out / "flow.csv"),
                                                  "out": out}


@pytest.fixture(scope="module")
def reference(base, tmp_path_factory):
    """Tables of the unmutated export."""
    out = tmp_path_factory.mktemp("hostile_ref")
    code = tlcli.main(["ingest", str(base["export"]), "--instrument", str(base["instrument"]),
                       "--wave", WAVE, "--out", str(out), "--config", str(base["config"])])
    assert code == 0
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in ("responses", "ratings")
            } | {"flow": pd.read_csv(out / "flow.csv")}


def analysed_row(base, reference) -> int:
    """Index (0-based data row) of a response that is analysed, and its participant."""
    rows = base["rows"][3:]
    rid_col = col(base, "_recordId")
    from tlsurvey.ingest import participant_id
    from tlsurvey.ingest.deidentify import PUBLIC_EXAMPLE_SALT

    kept = set(reference["responses"]["participant"])
    for i, row in enumerate(rows):
        if participant_id(WAVE, row[rid_col], PUBLIC_EXAMPLE_SALT) in kept:
            return i
    raise AssertionError("no analysed response")


SCRUB = {
    # planted text: (replacement expected, secret that must vanish)
    "ipv4": ("I ran it on 10.20.30.40 last week.", "[IP]", "10.20.30.40"),
    "ipv6": ("Server 2001:db8::8a2e:370:7334 hosts it.", "[IP]", "2001:db8::8a2e:370:7334"),
    "ipv4_mapped_ipv6": ("Via ::ffff:192.0.2.7 only.", "[IP]", "192.0.2.7"),
    "url_without_scheme": ("See github.com/jdoe-secret for code.", "[URL]", "jdoe-secret"),
    "bare_domain": ("Notes on jdoe-lab.org help.", "[URL]", "jdoe-lab.org"),
    "url_with_scheme": ("Read https://jdoe.example.net/x?a=1.", "[URL]", "jdoe.example.net"),
    "email": ("Mail jane.doe@uni.example.edu please.", "[EMAIL]", "jane.doe@uni"),
    "phone": ("Call +45 12 34 56 78 anytime.", "[PHONE]", "12 34 56 78"),
    "configured_name": ("Ask jane doe or OKAFOR.", "[NAME]", "OKAFOR"),
}


@pytest.mark.parametrize("case", sorted(SCRUB))
def test_pii_in_free_text_is_scrubbed(case, base, reference, tmp_path, capsys):
    text, token, secret = SCRUB[case]
    i = analysed_row(base, reference)
    rows = _set("QID17_TEXT", text, i)(base, [list(r) for r in base["rows"]])
    tables = ingest_ok(base, tmp_path, capsys, rows)
    texts = tables["texts"].query("field == 'considerations'")
    assert texts["text"].str.contains(token, regex=False).any()
    assert not texts["text"].str.contains(secret, case=False, regex=False).any()


@pytest.mark.parametrize("case", ["email", "phone", "ipv4", "url_without_scheme"])
def test_pii_in_free_text_demographic_is_scrubbed(case, base, reference, tmp_path, capsys):
    text, token, secret = SCRUB[case]
    i = analysed_row(base, reference)
    rows = _set("QID1", f"Other: {text}", i)(base, [list(r) for r in base["rows"]])
    tables = ingest_ok(base, tmp_path, capsys, rows)
    roles = tables["responses"]["role"].dropna()
    assert roles.str.contains(token, regex=False).any()
    assert not roles.str.contains(secret, case=False, regex=False).any()
    flow = tables["flow"].set_index(["wave", "step"])["n"]
    kind = {"[EMAIL]": "email", "[PHONE]": "phone", "[IP]": "ip", "[URL]": "url"}[token]
    assert flow[("total", f"redacted:{kind}")] >= 1


def test_times_and_numbers_are_not_taken_for_addresses(base, reference, tmp_path, capsys):
    text = "Trained 10:00:00 to 12:30, AUC 0.93 on 7,180 patches (v2.1)."
    i = analysed_row(base, reference)
    rows = _set("QID17_TEXT", text, i)(base, [list(r) for r in base["rows"]])
    texts = ingest_ok(base, tmp_path, capsys, rows)["texts"]
    assert text in set(texts["text"])


@pytest.mark.parametrize("chars", ["\x00", "\x07\x1b", "\x0b\x0c", "\x7f\x85"])
def test_control_characters_in_free_text_are_removed_and_counted(chars, base, reference,
                                                                 tmp_path, capsys):
    i = analysed_row(base, reference)
    rows = _set("QID17_TEXT", f"Size{chars} matters", i)(base, [list(r) for r in base["rows"]])
    tables = ingest_ok(base, tmp_path, capsys, rows)
    assert "Size matters" in set(tables["texts"]["text"])
    flow = tables["flow"].set_index(["wave", "step"])["n"]
    assert flow[("total", "redacted:control")] == len(chars)


def test_formula_in_free_text_kept_raw_in_parquet(base, reference, tmp_path, capsys):
    i = analysed_row(base, reference)
    rows = _set("QID17_TEXT", "=HYPERLINK(\"x\")", i)(base, [list(r) for r in base["rows"]])
    texts = ingest_ok(base, tmp_path, capsys, rows)["texts"]
    assert '=HYPERLINK("x")' in set(texts["text"])


@pytest.mark.parametrize("value,expected", [("TRUE", True), ("1", True), ("no", False),
                                            ("0", False)])
def test_finished_booleans_are_accepted(value, expected, base, reference, tmp_path, capsys):
    i = analysed_row(base, reference)
    rows = _set("finished", value, i)(base, [list(r) for r in base["rows"]])
    tables = ingest_ok(base, tmp_path, capsys, rows)
    flow = tables["flow"].set_index(["wave", "step"])["n"]
    before = reference["flow"].set_index(["wave", "step"])["n"]
    unfinished = ("total", "excluded:unfinished")
    assert flow[unfinished] == before[unfinished] + (0 if expected else 1)


def test_ragged_row_with_empty_extra_cells_is_accepted(base, reference, tmp_path, capsys):
    rows = _append(["", " "])(base, [list(r) for r in base["rows"]])
    tables = ingest_ok(base, tmp_path, capsys, rows)
    pd.testing.assert_frame_equal(tables["ratings"], reference["ratings"])


def test_repeated_header_with_same_content_is_dropped(base, reference, tmp_path, capsys, caplog):
    j = col(base, "QID17_TEXT")
    rows = [r + [r[j]] for r in base["rows"]]
    rows = [rows[0], rows[1], *rows[3:]]  # legacy layout: no ImportIds to tell them apart
    tables = ingest_ok(base, tmp_path, capsys, rows, mapping=by_short_name(base, tmp_path))
    assert len(tables["texts"]) > 0 and "with the same content; dropped" in caplog.text


def test_repeated_short_name_with_distinct_import_ids_is_read_by_import_id(base, reference,
                                                                        tmp_path, capsys):
    rows = _duplicate_header("QID17_TEXT", "QID18_TEXT", legacy=False)(
        base, [list(r) for r in base["rows"]])
    tables = ingest_ok(base, tmp_path, capsys, rows)
    pd.testing.assert_frame_equal(tables["ratings"], reference["ratings"])


def test_renamed_identifier_with_import_id_is_still_an_identifier(base, reference, tmp_path,
                                                                  capsys):
    rows = _rename("ipAddress", "IP_Address")(base, [list(r) for r in base["rows"]])
    export = write_rows(rows, tmp_path / "export.csv")
    code, out, _ = run(["check-instrument", export, "--instrument", base["instrument"]], capsys)
    assert code == 0 and "identifiers dropped:" in out and "IP_Address" in out.split(
        "identifiers dropped:")[1].splitlines()[0]
    tables = ingest_ok(base, tmp_path, capsys, rows)
    ips = {r[col(base, "ipAddress")] for r in base["rows"][3:]} - {""}
    dumped = "".join(t.to_csv() for name, t in tables.items() if name != "out")
    assert ips and not any(ip in dumped for ip in ips)


@pytest.mark.parametrize("transform", ["crlf", "cp1252", "bom_less", "nul_before_header"])
def test_encodings_and_line_endings_are_read_alike(transform, base, reference, tmp_path, capsys):
    text = base["export"].read_bytes().decode("utf-8-sig")
    data = {"crlf": lambda: ("\ufeff" + text.replace("\n", "\r\n")).encode(),
            "cp1252": lambda: text.encode("cp1252", "replace"),
            "bom_less": lambda: text.encode(),
            "nul_before_header": lambda: ("\x00" + text).encode()}[transform]()
    tables = ingest_ok(base, tmp_path, capsys, data=data)
    pd.testing.assert_frame_equal(tables["ratings"], reference["ratings"])


# -------------------------------------------------------------------- coder sheets and coding


@pytest.fixture(scope="module")
def ingested(base, reference, tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile_ingested")
    assert tlcli.main(["ingest", str(base["export"]), "--instrument", str(base["instrument"]),
                       "--wave", WAVE, "--out", str(out), "--config", str(base["config"])]) == 0
    return out


def code_cli(root, ingested, tmp_path, capsys, sheets, base, texts=None):
    out = tmp_path / "coding"
    argv = ["code", texts or ingested / "texts.parquet", "--codebook",
            root / "config/codebook.yaml",
            "--lexicon", root / "config/lexicon.yaml", "--out", out, "--no-topics",
            "--config", base["config"], "--responses", ingested / "responses.parquet",
            "--coders", *sheets]
    code, _, err = run(argv, capsys)
    return code, err, out


SHEET_ERRORS = {
    "empty_sheet": (b"", r"coder sheet is empty", None, None),
    "unknown_code": (b"text_id,coder,code,value\nP1:rationale,a,magic,1\n", r"unknown code",
                     2, "code"),
    "value_two": (b"text_id,coder,code,value\nP1:rationale,a,dataset_size,2\n",
                  r"value must be 0 or 1", 2, "value"),
    "missing_columns": (b"coder,code\na,dataset_size\n", r"missing column", None, None),
    "undecodable": (b"text_id,coder,code,value\n\xff\xfe\x00,a,b,1\n",
                    r"not a readable CSV coder sheet|unknown code", None, None),
}


@pytest.mark.parametrize("case", sorted(SHEET_ERRORS))
def test_bad_coder_sheet_leaves_no_coding_output(case, root, base, ingested, tmp_path, capsys):
    data, pattern, row, column = SHEET_ERRORS[case]
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes(data)
    code, err, out = code_cli(root, ingested, tmp_path, capsys, [sheet], base)
    assert_error(code, err, out, sheet, pattern, row=row, column=column)


def test_header_only_coder_sheet_is_accepted(root, base, ingested, tmp_path, capsys, caplog):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("text_id,coder,code,value\n")
    code, err, out = code_cli(root, ingested, tmp_path, capsys, [sheet], base)
    assert code == 0, err
    assert (out / "project.qdpx").is_file() and "header but no rows" in caplog.text


def test_control_characters_never_reach_xml(root, base, ingested, tmp_path, capsys):
    from tlsurvey.coding.qdpx import read_qdpx
    from tlsurvey.io import write_table

    texts = pd.read_parquet(ingested / "texts.parquet")
    texts.loc[0, "text"] = "bad\x00byte\x1b and \x0b tab"  # a texts table not made by ingest
    write_table(texts, tmp_path / "texts.parquet")
    code, err, out = code_cli(root, ingested, tmp_path, capsys, [], base,
                              texts=tmp_path / "texts.parquet")
    assert code == 0, err
    assert len(read_qdpx(out / "project.qdpx")["codes"]) > 0
    page = (out / "audit.html").read_text()
    assert "\x00" not in page and "\x1b" not in page


# ------------------------------------------------------------ interrupted runs and stale locks


def _make(workdir, target, **env):
    import subprocess
    import sys

    return subprocess.run(["make", "-s", target, f"BIN={Path(sys.executable).parent}"],
                          cwd=workdir, capture_output=True, text=True,
                          env={**__import__("os").environ, **env})


def test_make_unlock_refuses_while_snakemake_runs_here(root, tmp_path):
    import os
    import shutil
    import subprocess

    shutil.copy(root / "Makefile", tmp_path)
    (tmp_path / ".snakemake/locks").mkdir(parents=True)
    (tmp_path / ".snakemake/locks/0.input.lock").write_text("x")
    fake = tmp_path / "snakemake"  # a process whose argv names snakemake, working here
    os.symlink(shutil.which("sleep"), fake)
    process = subprocess.Popen([str(fake), "60"], cwd=tmp_path)
    try:
        done = _make(tmp_path, "unlock")
    finally:
        process.kill()
        process.wait()
    assert done.returncode != 0 and f"(pid {process.pid}): not unlocking" in done.stderr
    assert (tmp_path / ".snakemake/locks/0.input.lock").exists()


def _digests(workdir) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(workdir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((workdir / "results").rglob("*"))
            if p.is_file() and "cache" not in p.parts and p.name != "report.zip"}


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_rerun_after_a_killed_run_is_byte_identical(signal_name, root, workflow_run, tmp_path):
    """Kill the workflow while it reruns the audit page and the report, then ``make unlock`` and
    run again: every result is byte-identical to an uninterrupted run."""
    import os
    import shutil
    import signal
    import subprocess
    import time

    from conftest import SNAKEMAKE, snakemake

    work = tmp_path / "work"
    shutil.copytree(workflow_run, work, symlinks=True)
    shutil.copy(root / "Makefile", work)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    # the uninterrupted run: coding_audit, coding_exports (the .qdpx, dated SOURCE_DATE_EPOCH)
    # and report
    snakemake(work, "--forcerun", "coding_audit", "coding_exports", "report", env=env)
    before = _digests(work)
    audit_log = work / "logs/coding/audit.log"
    started = audit_log.stat().st_mtime
    process = subprocess.Popen([*SNAKEMAKE, "--forcerun", "coding_audit"], cwd=work, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None and (
            not audit_log.exists() or audit_log.stat().st_mtime == started):
        time.sleep(0.2)
    assert process.poll() is None, "the run ended before it could be interrupted"
    os.killpg(process.pid, getattr(signal, signal_name))
    process.wait()
    assert _make(work, "unlock").returncode == 0
    # what `make run` runs: a SIGKILL during the job leaves its outputs marked incomplete
    snakemake(work, "--rerun-incomplete", env=env)
    assert _digests(work) == before
