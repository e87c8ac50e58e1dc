"""Ingest of surveys unlike the example: study.json, every problem listed, Google Forms ids,
TSV exports and blank submissions."""

import csv
import json

import pandas as pd
import pytest
import yaml

from tlsurvey import ingest
from tlsurvey.ingest.check import check
from tlsurvey.simulate import design, simulate
from tlsurvey.study import Study

PUBLIC = {"public_example_salt": True}


@pytest.fixture(scope="module")
def follow_up(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("follow_up")
    design.simulate(root / "config/designs/follow_up.yaml", 12, 5, "w1", out)
    return out


def test_study_json_from_a_design_unlike_the_example(follow_up, tmp_path):
    tables = ingest.run([{"label": "w1", "file": str(follow_up / "w1.csv")}],
                        follow_up / "instrument.yaml", PUBLIC, None, tmp_path)
    study = Study.load(tmp_path / "study.json")
    assert study == tables["study"]
    assert study.source_ids == ("imagenet21k", "radimagenet", "medsam_pretrain", "ecoset")
    assert study.label("medsam_pretrain") == "MedSAM pre-training set"
    assert study.other_choice.id == "other" and study.outcome == "expected"
    assert study.dimension_scale("expected").high == 7 and study.factors == ()
    assert set(tables["choices"]["source"].dropna()) <= set(study.choice_ids)
    assert (tables["choices"]["source"] == "other").any()  # kept, not an error
    assert tables["factors"].empty
    counts = json.loads((follow_up / "truth/w1/counts.json").read_text())
    assert tables["ratings"]["participant"].nunique() == counts["kept"]


def test_waves_that_disagree_fail_naming_the_field(follow_up, tmp_path):
    doc = yaml.safe_load((follow_up / "instrument.yaml").read_text())
    doc["study"]["sources"][0]["label"] = "ImageNet-22K"
    other = tmp_path / "v2.yaml"
    other.write_text(yaml.safe_dump(doc))
    waves = [{"label": "w1", "file": str(follow_up / "w1.csv")},
             {"label": "w2", "file": str(follow_up / "w1.csv"), "instrument": str(other)}]
    with pytest.raises(ingest.InputError, match="waves disagree on sources 'imagenet21k'"):
        ingest.run(waves, follow_up / "instrument.yaml", PUBLIC, None, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_check_instrument_lists_every_problem(follow_up, tmp_path):
    lines, errors = check(follow_up / "w1.csv", follow_up / "instrument.yaml")
    assert errors == []
    assert ("study: case studies derm, fundus; sources imagenet21k, radimagenet, "
            "medsam_pretrain, ecoset; other option other; similarity dimensions visual, "
            "semantic, embedding; outcome expected; 0 factors; 0 attention checks") in lines
    doc = yaml.safe_load((follow_up / "instrument.yaml").read_text())
    for item in doc["ratings"][:3]:
        item["scale"] = 5  # three schema errors
    doc["choices"][0]["case_study"] = None  # a fourth
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    _, errors = check(follow_up / "w1.csv", bad)
    assert len(errors) == 4 and all(str(e).startswith(str(bad)) for e in errors)
    doc = yaml.safe_load((follow_up / "instrument.yaml").read_text())
    doc["study"]["sources"].append({"id": "typo"})
    doc["ratings"][0]["column"] = "QID_MISSING"
    doc["ratings"][1]["column"] = "QID_GONE"
    bad.write_text(yaml.safe_dump(doc))
    _, errors = check(follow_up / "w1.csv", bad)
    messages = [e.message for e in errors]
    assert any("'typo' is declared but no item uses it" in m for m in messages)
    assert sum("column not found" in m for m in messages) == 2


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    out = tmp_path_factory.mktemp("forms")
    simulate(10, 4, "w1", out, "google-forms")
    with open(out / "w1.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return out, rows


def _write(rows, path, delimiter=","):
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def test_google_forms_tsv_is_read_tab_separated(forms, tmp_path):
    out, rows = forms
    tsv = _write(rows, tmp_path / "w1.tsv", "\t")
    via_tsv = ingest.ingest_wave(tsv, "w1", out / "instrument.yaml", PUBLIC)
    via_csv = ingest.ingest_wave(out / "w1.csv", "w1", out / "instrument.yaml", PUBLIC)
    for name in ingest.TABLES:
        pd.testing.assert_frame_equal(via_tsv.tables[name], via_csv.tables[name])
    assert len(via_tsv.tables["ratings"]) > 0


def test_equal_timestamps_are_duplicates_only_with_identical_answers(forms, tmp_path):
    out, rows = forms
    head, body = rows[0], rows[1:]
    stamp = head.index("Timestamp")
    email = head.index("Email Address")
    first = list(body[0])
    same_second = list(body[1])
    same_second[stamp] = first[stamp]  # another person, same second
    resubmitted = list(first)
    resubmitted[email] = ""  # the same submission again (identical answers)
    blank = [first[stamp] if i == stamp else "" for i in range(len(head))]
    path = _write([head, first, same_second, resubmitted, blank, *body[2:]], tmp_path / "f.csv")
    tables = ingest.combine([ingest.ingest_wave(path, "w1", out / "instrument.yaml", PUBLIC)])
    excluded = tables["excluded"].set_index("response_row")["reasons"]
    assert "duplicate" not in excluded.get(2, "")  # same second, other answers: a participant
    assert excluded[3] == "duplicate"
    assert "blank" in excluded[4].split(";")
    flow = tables["flow"].query("wave == 'w1'").set_index("step")["n"]
    assert flow["excluded:blank"] == 1
    assert flow["raw"] == flow.filter(like="excluded:").sum() + flow["analysed"]


def test_google_forms_other_text_in_a_choice_cell(forms, tmp_path):
    """Google Forms' "Other:" option writes the typed text into the choice cell: with
    ``other_text`` it is the other choice plus a free-text answer; without, an error."""
    out, rows = forms
    instrument = yaml.safe_load((out / "instrument.yaml").read_text())
    item = instrument["choices"][0]
    column = rows[0].index(item["column"])
    body = [list(r) for r in rows[1:]]
    body[0][column] = "  A pathology foundation model  "  # response 1: analysed
    path = _write([rows[0], *body], tmp_path / "w1.csv")
    with pytest.raises(ingest.InputError, match=r"w1\.csv:row 2:.*unknown choice.*other_text"):
        ingest.ingest_wave(path, "w1", out / "instrument.yaml", PUBLIC)

    for choice in instrument["choices"]:
        choice["other_text"] = {"choice": "other", "field": "other_source"}
    (tmp_path / "instrument.yaml").write_text(yaml.safe_dump(instrument, sort_keys=False))
    tables = ingest.run([{"label": "w1", "file": str(path)}], tmp_path / "instrument.yaml",
                        PUBLIC, None, tmp_path / "out")
    study = tables["study"]
    assert study.other_choice.id == "other" and "other" not in study.source_ids
    choices = tables["choices"].query("case_study == @item['case_study']")
    assert (choices["source"] == "other").sum() == 1
    typed = tables["texts"].query("field == 'other_source'")
    assert typed["text"].tolist() == ["A pathology foundation model"]
    assert typed["case_study"].tolist() == [item["case_study"]]
    assert typed["participant"].tolist() == choices.loc[choices["source"] == "other",
                                                        "participant"].tolist()


def test_other_text_must_name_the_other_option(forms):
    out, _ = forms
    instrument = yaml.safe_load((out / "instrument.yaml").read_text())
    instrument["choices"][0]["other_text"] = {"choice": instrument["ratings"][0]["source"],
                                              "field": "other_source"}
    with pytest.raises(ingest.InputError, match=r"choices\[0\]\.other_text\.choice: .* is not "
                                                r"the other option"):
        Study.from_instrument(instrument)
