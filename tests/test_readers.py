"""Readers on every real export fixture in ../shared and on small exports of each format."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from tlsurvey.errors import InputError
from tlsurvey.ingest.mapping import parse_bool
from tlsurvey.ingest.readers import detect_format, read_export


@pytest.fixture(scope="module")
def exports(shared):
    return shared / "fixtures" / "exports"


def test_qualtrics_modern_sample(exports):
    raw = read_export(exports / "qualtrics/sample.csv")
    assert raw.format == "qualtrics-csv"
    assert (len(raw.data), len(raw.columns)) == (1, 20)
    assert raw.resolve("QID1") == "Q1" and raw.resolve("QID2_TEXT") == "Q2"
    assert (
        raw.data.loc[0, "Q1"] == "2" and raw.data.loc[0, raw.resolve("QID2_TEXT")] == "Hello World!"
    )
    assert raw.resolve("_recordId") == "ResponseId"
    assert raw.data.loc[0, "ResponseId"] == "R_2YPOQ602ER1jkf1"
    assert raw.questions["RecipientEmail"] == "E-Mail des Empfängers"  # German labels, UTF-8
    assert raw.resolve("This is a free text question.") == "Q2"  # by question text
    assert raw.data.loc[0, "Q2 - Topics"] == ""
    assert raw.file_rows == [4]


def test_qualtrics_legacy_bom(exports):
    raw = read_export(exports / "qualtrics/sample_legacy.csv")
    assert raw.format == "qualtrics-csv" and not raw.import_ids
    assert (len(raw.data), len(raw.columns)) == (1, 15)
    assert raw.columns[0] == "V1"  # BOM stripped; trailing empty header dropped
    assert raw.resolve("ResponseID") == "V1"
    assert raw.data.loc[0, raw.resolve("ResponseID")] == "R_2YPOQ602ER1jkf1"
    assert raw.data.loc[0, "Q2"] == "Hello World!" and raw.file_rows == [3]


def test_qualtrics_labels_newlines_previews(exports):
    raw = read_export(exports / "qualtrics/beskar_armor_labels.csv")
    assert (len(raw.data), len(raw.columns)) == (26, 24)
    status = raw.data[raw.resolve("status")]
    assert status.value_counts().to_dict() == {
        "Survey Test": 15,
        "IP Address": 10,
        "Survey Preview": 1,
    }
    resolved = raw.data[raw.resolve("QID18")]
    assert resolved.iloc[0] == "Yes, by me or someone outside the tribe \n\n"  # embedded newlines
    assert "boss\u2019s sail barge" in raw.data.loc[1, raw.resolve("QID19_TEXT")]  # typographic
    assert raw.data[raw.resolve("finished")].map(parse_bool).sum() == 24
    assert raw.data.loc[0, "Q16"] == "Somewhat satisfied"
    assert raw.file_rows[:3] == [4, 7, 10]  # records spanning lines start where they start


def test_limesurvey_r_export(exports):
    path = exports / "limesurvey/survey_998192_R_data_file.csv"
    raw = read_export(path)
    assert raw.format == "limesurvey" == detect_format(path)
    assert (len(raw.data), len(raw.columns)) == (7, 71)
    assert raw.columns[:3] == ["id", "submitdate", "lastpage"]
    assert raw.resolve("Response ID") == "id" and raw.resolve("How old are you?") == "age"
    assert raw.types["age"] == "F" and raw.types["submitdate"] == "DATETIME23.2"
    assert raw.labels["gender"] == {"man": "Man", "woman": "Woman"}
    assert raw.labelled("gender").tolist() == ["", "Man", "-oth-", "", "", "", "Woman"]
    assert raw.labelled("yesno").iloc[-1] in ("Yes", "No", "")
    assert raw.data["id"].tolist() == ["1", "4", "5", "6", "7", "8", "9"]
    complete = raw.data["submitdate"].map(parse_bool)
    assert complete.tolist() == [True, False, False, False, False, False, True]
    assert raw.columns[-1] == "Question time: order"  # no short name in the syntax file


def test_limesurvey_without_syntax_file(exports, tmp_path):
    src = exports / "limesurvey/survey_998192_R_data_file.csv"
    copy = tmp_path / "survey_1_R_data_file.csv"
    copy.write_bytes(src.read_bytes())
    assert detect_format(copy) == "limesurvey-csv"
    with pytest.raises(InputError, match="syntax"):
        read_export(copy, "limesurvey")
    raw = read_export(copy)
    assert raw.columns[0] == "Response ID" and len(raw.data) == 7


def _qualtrics_rows():
    return [
        ["ResponseId", "Q1", "Q2"],
        ["Response ID", "Pick one", "Why?"],
        [json.dumps({"ImportId": i}) for i in ("_recordId", "QID1", "QID2_TEXT")],
        ["R_1", "Very similar", "Line one\nline \u201ctwo\u201d"],
        ["R_2", "2", ""],
    ]


def _check_small_qualtrics(raw, fmt):
    assert raw.format == fmt
    assert raw.data[raw.resolve("QID1")].tolist() == ["Very similar", "2"]
    assert raw.data.loc[0, raw.resolve("QID2_TEXT")] == "Line one\nline \u201ctwo\u201d"
    assert raw.resolve("Pick one") == "Q1"


def test_qualtrics_tsv_utf16(tmp_path):
    path = tmp_path / "export.tsv"
    text = (
        "\r\n".join(
            "\t".join(
                f'"{c}"' if "\n" in c or '"' in c else c
                for c in (cell.replace('"', '""') for cell in row)
            )
            for row in _qualtrics_rows()
        )
        + "\r\n\r\n"
    )
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    assert detect_format(path) == "qualtrics-tsv"
    raw = read_export(path)
    _check_small_qualtrics(raw, "qualtrics-tsv")
    assert raw.file_rows == [4, 6]


def test_qualtrics_xlsx(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    for row in _qualtrics_rows():
        book.active.append([int(c) if c.isdigit() else c for c in row])
    path = tmp_path / "export.xlsx"
    book.save(path)
    raw = read_export(path)
    _check_small_qualtrics(raw, "qualtrics-xlsx")
    assert raw.file_rows == [4, 5]


def test_spss_value_labels(tmp_path):
    import pyreadstat

    frame = pd.DataFrame(
        {"ResponseId": ["R_1", "R_2"], "Q1": [4.0, float("nan")], "Q2": ["because", ""]}
    )
    path = tmp_path / "export.sav"
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels=["Response ID", "Pick one", "Why?"],
        variable_value_labels={"Q1": {1.0: "Not at all similar", 4.0: "Very similar"}},
    )
    raw = read_export(path)
    assert raw.format == "spss" and raw.data["Q1"].tolist() == ["4", ""]
    assert raw.labels["Q1"]["4"] == "Very similar"
    assert raw.labelled("Q1").tolist() == ["Very similar", ""]
    assert raw.resolve("Pick one") == "Q1" and raw.file_rows == [1, 2]


def test_google_forms(tmp_path):
    path = tmp_path / "form.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(
            [
                ["Timestamp", "Email Address", "Which sources?", "Why?"],
                ["2025/03/01 10:00:00 AM GMT+1", "a@example.org", "ImageNet-1K, Ecoset", "size"],
                ["2025/03/01 11:00:00 AM GMT+1", "b@example.org", "RadImageNet", ""],
            ]
        )
        fh.write("\n\n")
    raw = read_export(path)
    assert raw.format == "google-forms" and len(raw.data) == 2
    assert raw.resolve("Which sources?") == "Which sources?"
    assert raw.data.loc[0, "Which sources?"] == "ImageNet-1K, Ecoset"
    assert raw.data["_row"].tolist() == ["1", "2"] and raw.file_rows == [2, 3]


def test_unknown_format_and_missing_file(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="cannot detect"):
        read_export(path)
    assert read_export(path, "limesurvey-csv").data.loc[0, "b"] == "2"
    with pytest.raises(InputError, match="not found"):
        read_export(tmp_path / "missing.csv")
