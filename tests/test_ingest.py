"""Mapping, exclusions, de-identification, waves and the CLI of tlsurvey.ingest."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tlsurvey import cli as tlcli
from tlsurvey import ingest
from tlsurvey.errors import InputError
from tlsurvey.ingest.deidentify import PUBLIC_EXAMPLE_SALT, get_salt, scrub
from tlsurvey.io import read_table
from tlsurvey.layout import INGEST_FILES, WAVE_FILES, by_wave, wave_files

PUBLIC = {
    "public_example_salt": True,
    "salt_env": "TLSURVEY_TEST_NO_SUCH_VAR",
    "salt_file": "/nonexistent/salt",
    "scrub_names": ["Jane Doe", "Okafor"],
}
META = [  # short name, question text, ImportId
    ("StartDate", "Start Date", "startDate"),
    ("Status", "Response Type", "status"),
    ("IPAddress", "IP Address", "ipAddress"),
    ("Progress", "Progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration"),
    ("Finished", "Finished", "finished"),
    ("ResponseId", "Response ID", "_recordId"),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName"),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName"),
    ("RecipientEmail", "Recipient Email", "recipientEmail"),
    ("ExternalReference", "External Data Reference", "externalDataReference"),
    ("LocationLatitude", "Location Latitude", "locationLatitude"),
    ("LocationLongitude", "Location Longitude", "locationLongitude"),
]
SECRETS = ("192.0.2.", "jane.doe", "Doe", "Jane", "EXT-", "55.61", "12.57", "R_test")


@pytest.fixture(scope="module")
def instrument(root):
    return yaml.safe_load((root / "config/instrument.yaml").read_text())


def answer_columns(instrument):
    sections = ("demographics", "ratings", "choices", "texts", "attention_checks", "factors")
    return [item["column"] for s in sections for item in instrument.get(s, [])]


def response(instrument, i: int, **overrides) -> dict:
    """A valid, complete response keyed by ImportId; ratings vary so it is no straight-liner."""
    scales = {name: list(labels) for name, labels in instrument["scales"].items()}
    row = {
        "startDate": f"2025-03-0{1 + i % 9} 10:00:00",
        "status": "IP Address",
        "ipAddress": f"192.0.2.{i}",
        "progress": "100",
        "duration": str(600 + 10 * i),
        "finished": "True",
        "_recordId": f"R_test{i:03d}",
        "recipientLastName": "Doe",
        "recipientFirstName": "Jane",
        "recipientEmail": f"jane.doe{i}@example.org",
        "externalDataReference": f"EXT-{i}",
        "locationLatitude": "55.61",
        "locationLongitude": "12.57",
        "QID1": "PhD student",
        "QID2": "1-2 years",
        "QID3": "3",
        "QID4": "Often",
        "QID8": "ImageNet-1K",
        "QID13": "2",
        "QID15": "Moderately similar",
        "QID9_TEXT": "ImageNet is the standard choice.",
        "QID14_TEXT": "",
        "QID17_TEXT": "Dataset size.",
        "QID18_TEXT": "Looks alike.",
    }
    for k, item in enumerate(instrument["ratings"]):
        row[item["column"]] = scales[item["scale"]][(i + k) % 5]
    for k, item in enumerate(instrument["factors"]):
        row[item["column"]] = str((i + k) % 5 + 1)
    row.update(overrides)
    return row


def write_qualtrics(path, instrument, rows, drop=()):
    """A modern 3-header-row Qualtrics CSV with the instrument's columns."""
    answers = [c for c in answer_columns(instrument) if c not in drop]
    names = [m[0] for m in META] + [c.replace("QID", "Q").replace("_TEXT", "") for c in answers]
    texts = [m[1] for m in META] + [f"Question {c}" for c in answers]
    ids = [m[2] for m in META] + answers
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerows([names, texts, [json.dumps({"ImportId": i}) for i in ids]])
        writer.writerows([[r.get(i, "") for i in ids] for r in rows])
    return path


@pytest.fixture
def export(tmp_path, instrument):
    def make(rows, name="wave1.csv", drop=()):
        return write_qualtrics(tmp_path / name, instrument, rows, drop)

    return make


def test_mapping_values(export, instrument, root):
    rows = [response(instrument, i) for i in range(3)]
    rows[1]["QID5_1"] = "4"  # a code instead of a label
    rows[2]["QID5_2"] = ""  # skipped
    path = export(rows)
    result = ingest.ingest_wave(path, "wave1", root / "config/instrument.yaml", PUBLIC)
    tables = ingest.combine([result])
    r, c = tables["ratings"], tables["choices"]
    assert len(r) == 3 * len(instrument["ratings"])
    assert not r.duplicated(["participant", "case_study", "source", "dimension"]).any()
    pid = [ingest.participant_id("wave1", f"R_test{i:03d}", PUBLIC_EXAMPLE_SALT) for i in range(3)]
    cell = r.set_index(["participant", "case_study", "source", "dimension"])
    assert cell.loc[(pid[0], "tissue", "imagenet", "visual"), "value"] == 1
    assert cell.loc[(pid[0], "tissue", "imagenet", "visual"), "label"] == "Not at all similar"
    assert cell.loc[(pid[1], "tissue", "imagenet", "visual"), "label"] == "Very similar"
    assert pd.isna(cell.loc[(pid[2], "tissue", "imagenet", "semantic"), "value"])
    assert str(r["value"].dtype) == "Int64"
    assert set(c.query("case_study == 'tissue'")["source"]) == {"imagenet"}
    assert set(c.query("case_study == 'xray'")["source"]) == {"radimagenet"}
    resp = tables["responses"].set_index("participant")
    assert list(tables["responses"].columns[:6]) == [
        "participant",
        "wave",
        "start",
        "duration_s",
        "progress",
        "finished",
    ]
    assert resp.loc[pid[0], "ml_years"] == "1-2 years" and resp.loc[pid[0], "ml_years_code"] == 2
    assert (
        resp.loc[pid[0], "mi_years"] == "3-5 years"
        and resp.loc[pid[0], "start"] == "2025-03-01T10:00:00"
    )
    f = tables["factors"]
    assert len(f) == 3 * 6 and f["value"].between(1, 5).all()
    t = tables["texts"]
    assert set(t["field"]) == {"rationale", "considerations", "meaning_of_similar"}
    assert f"{pid[0]}:rationale:tissue" in set(t["text_id"])
    assert t["case_study"].isna().sum() == 6  # considerations + meaning, 3 participants


@pytest.mark.parametrize(
    "override, drop, row, column, words",
    [
        ({"QID5_1": "Somewhat similar"}, (), 5, "QID5_1", "unknown label"),
        ({"QID16_2": "7"}, (), 5, "QID16_2", "outside scale"),
        ({"QID8": "CIFAR-10"}, (), 5, "QID8", "unknown choice"),
        ({}, ("QID6_3",), None, "QID6_3", "not found"),
    ],
)
def test_input_errors_are_one_line(
    export, instrument, root, tmp_path, override, drop, row, column, words
):
    rows = [response(instrument, 0), response(instrument, 1, **override)]
    path = export(rows, drop=drop)
    out = tmp_path / "out"
    with pytest.raises(InputError) as info:
        ingest.run(
            [{"label": "w1", "file": str(path)}], root / "config/instrument.yaml", PUBLIC, None, out
        )
    message = str(info.value)
    assert "\n" not in message and str(path) in message and words in message
    assert f"column {column}" in message
    assert (f"row {row}" in message) if row else ("row" not in message.split(": ")[0])
    assert not out.exists()


def flagged_exports(export, instrument) -> list[dict]:
    """Two waves with every exclusion reason, duplicates within and across waves."""
    straight = {
        item["column"]: "Very similar" if item["scale"] == "similarity" else "Good"
        for item in instrument["ratings"]
    }
    straight.update({item["column"]: "4" for item in instrument["ratings"]})
    w1 = [response(instrument, i) for i in range(8)] + [
        response(instrument, 8, status="Survey Preview"),
        response(instrument, 9, finished="False", progress="40", QID15="", duration="30"),
        response(instrument, 10, duration="20"),
        response(instrument, 11, QID15="Very similar"),
        response(instrument, 12, **straight),
        response(instrument, 13, recipientEmail="JANE.DOE0@example.org"),  # dup of row 1
        response(instrument, 14, QID15=""),  # finished, attention check left empty
    ]
    w2 = [response(instrument, i) for i in range(20, 24)] + [
        response(instrument, 24, _recordId="R_test003"),  # same record as wave1 row 4
        response(instrument, 25, status="Survey Test", recipientEmail="jane.doe2@example.org"),
    ]
    return [{"label": "w1", "file": str(export(w1, "w1.csv"))},
            {"label": "w2", "file": str(export(w2, "w2.csv"))}]


def test_exclusions_and_flow(export, instrument, root, tmp_path):
    inst = root / "config/instrument.yaml"
    results = [ingest.ingest_wave(w["file"], w["label"], inst, PUBLIC)
               for w in flagged_exports(export, instrument)]
    tables = ingest.combine(results, "keep_first")
    ex = tables["excluded"].set_index(["wave", "response_row"])["reasons"].to_dict()
    assert ex == {
        ("w1", 9): "preview",
        ("w1", 10): "unfinished;low_progress;speeder",
        ("w1", 11): "speeder",
        ("w1", 12): "attention_check",
        ("w1", 13): "straightlining",
        ("w1", 14): "duplicate",
        ("w1", 15): "attention_check",
        ("w2", 5): "duplicate",
        ("w2", 6): "test",  # same e-mail as wave1 row 3: a returning participant
    }
    flow = tables["flow"].set_index(["wave", "step"])["n"]
    for wave in ("w1", "w2", "total"):
        excluded = sum(flow[(wave, f"excluded:{r}")] for r in ingest.exclusions.REASONS)
        assert flow[(wave, "raw")] == excluded + flow[(wave, "analysed")]
    assert flow[("w1", "raw")] == 15 and flow[("w1", "analysed")] == 8
    assert flow[("w2", "excluded:test")] == 1 and flow[("w2", "excluded:duplicate")] == 1
    assert flow[("total", "analysed")] == 12 == tables["responses"]["participant"].nunique()
    assert set(tables["excluded"]["response_hash"]).isdisjoint(tables["responses"]["participant"])
    identity = ingest.combine(results, "keep_first", cross_wave_identity=True)["excluded"]
    assert (
        identity.set_index(["wave", "response_row"]).loc[("w2", 6), "reasons"] == "test;duplicate"
    )
    last = ingest.combine(results, "keep_last")["excluded"]
    assert ("w1", 1) in set(zip(last["wave"], last["response_row"], strict=True))
    with pytest.raises(InputError, match="duplicate response"):
        ingest.combine(results, "error")


def test_privacy_nothing_identifying_is_written(export, instrument, root, tmp_path):
    text = (
        "Ask Jane Doe (jane.doe@uni.example, +45 12 34 56 78) or see "
        "https://example.org/x and www.okafor-lab.example; Dr. Okafor agrees."
    )
    rows = [response(instrument, i, QID14_TEXT=text) for i in range(3)]
    out = tmp_path / "out"
    ingest.run(
        [{"label": "w1", "file": str(export(rows))}],
        root / "config/instrument.yaml",
        PUBLIC,
        None,
        out,
    )
    result = ingest.ingest_wave(export(rows), "w1", root / "config/instrument.yaml", PUBLIC)
    result.write(tmp_path / "waves" / "w1")
    for path in [*out.iterdir(), *(tmp_path / "waves" / "w1").iterdir()]:
        data = (
            path.read_bytes()
            if path.suffix == ".csv"
            else read_table(path).to_csv(index=False).encode()
        )
        for secret in SECRETS:
            assert secret.encode() not in data, (path.name, secret)
    texts = read_table(out / "texts.parquet").query("field == 'rationale' and case_study == 'xray'")
    assert (
        texts["text"].iloc[0] == "Ask [NAME] ([EMAIL], [PHONE]) or see [URL] and [URL]; "
        "Dr. [NAME] agrees."
    )
    assert (texts["n_redacted"] == 6).all()
    flow = pd.read_csv(out / "flow.csv").set_index(["wave", "step"])["n"]
    assert flow[("total", "redacted:email")] == 3 and flow[("total", "redacted:name")] == 6


def test_scrub_leaves_numbers_and_years():
    text = "AUC 0.9897 on 7,180 patches from 2010-2020, n = 834; call 030 1234 5678."
    clean, counts = scrub(text)
    assert clean == "AUC 0.9897 on 7,180 patches from 2010-2020, n = 834; call [PHONE]."
    assert counts == {"email": 0, "url": 0, "ip": 0, "phone": 1, "name": 0, "control": 0}


def test_salt_sources(tmp_path, monkeypatch):
    privacy = {
        "salt_env": "TLSURVEY_TEST_SALT",
        "salt_file": str(tmp_path / "salt"),
        "public_example_salt": False,
    }
    monkeypatch.delenv("TLSURVEY_TEST_SALT", raising=False)
    with pytest.raises(InputError, match="no salt"):
        get_salt(privacy)
    (tmp_path / "salt").write_text("from-file\n")
    assert get_salt(privacy) == "from-file"
    monkeypatch.setenv("TLSURVEY_TEST_SALT", "from-env")
    assert get_salt(privacy) == "from-env"
    assert (
        get_salt(
            {**privacy, "salt_env": "NOPE_X", "salt_file": "/nope", "public_example_salt": True}
        )
        == PUBLIC_EXAMPLE_SALT
    )
    import hashlib

    expected = "P" + hashlib.sha256(b"s" + b"w1" + b"R_1").hexdigest()[:10]
    assert ingest.participant_id("w1", "R_1", "s") == expected


@pytest.mark.parametrize("variant", [
    {},
    {"require_finished": False, "min_progress": 0, "speeder_fraction": 0,
     "attention_checks": False, "straightlining": False},
    {"previews": False, "blank": False, "speeder_fraction": 0.9, "duplicates": "keep_last",
     "cross_wave_identity": True},
])
def test_other_exclusion_rules_on_ingested_waves_equal_a_fresh_ingest(
    export, instrument, root, tmp_path, variant
):
    """reapply (the waves ingested under the default rules, then screened again) writes the
    same bytes as ingesting the exports under the variant's rules."""
    inst = root / "config/instrument.yaml"
    waves = flagged_exports(export, instrument)
    for w in waves:
        ingest.ingest_wave(w["file"], w["label"], inst, PUBLIC).write(tmp_path / w["label"])
    again = ingest.reapply([tmp_path / w["label"] for w in waves], variant, tmp_path / "again")
    fresh = ingest.run(waves, inst, PUBLIC, variant, tmp_path / "fresh")
    assert len(again["excluded"]) == len(fresh["excluded"]) > 0
    for path in (tmp_path / "fresh").iterdir():
        assert path.read_bytes() == (tmp_path / "again" / path.name).read_bytes(), path.name


def test_steps_read_and_write_exactly_the_named_files(export, instrument, root, tmp_path):
    """Given {name: path} (a rule's declared inputs and outputs), ingest reads and writes exactly
    those files, with the bytes of the directory layout."""
    inst, variant = root / "config/instrument.yaml", {"duplicates": "keep_last"}
    waves, named = flagged_exports(export, instrument), {}
    for w in waves:
        result = ingest.ingest_wave(w["file"], w["label"], inst, PUBLIC)
        named[w["label"]] = {name: tmp_path / "named" / f"{w['label']}-{name}{Path(file).suffix}"
                             for name, file in WAVE_FILES.items()}
        assert result.write(named[w["label"]]) == named[w["label"]]
        assert set(result.write(tmp_path / "dirs" / w["label"]).values()) == {
            tmp_path / "dirs" / w["label"] / file for file in WAVE_FILES.values()}
    assert sorted((tmp_path / "named").iterdir()) == sorted(
        path for files in named.values() for path in files.values())
    outputs = {name: tmp_path / "out" / f"all-{name}{Path(file).suffix}"
               for name, file in INGEST_FILES.items()}
    ingest.reapply(named, variant, outputs)
    assert sorted((tmp_path / "out").iterdir()) == sorted(outputs.values())
    labels = [w["label"] for w in waves]
    inputs = by_wave(wave_files(labels, tmp_path / "dirs"), labels)  # a rule's named inputs
    assert inputs["w2"]["screening"] == str(tmp_path / "dirs/w2/screening.parquet")
    ingest.reapply(inputs, variant, tmp_path / "dir")
    for name, path in outputs.items():
        assert path.read_bytes() == (tmp_path / "dir" / INGEST_FILES[name]).read_bytes(), name


def test_wave_roundtrip_through_files_is_identical(export, instrument, root, tmp_path):
    rows = [response(instrument, i) for i in range(4)]
    result = ingest.ingest_wave(export(rows), "w1", root / "config/instrument.yaml", PUBLIC)
    result.write(tmp_path / "w1")
    direct = ingest.combine([result])
    via = ingest.combine([ingest.WaveResult.read(tmp_path / "w1")])
    assert direct.pop("study") == via.pop("study") == result.study
    for name, frame in direct.items():
        pd.testing.assert_frame_equal(frame, via[name], check_dtype=True)


def test_cli_ingest_and_check(export, instrument, root, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump({"privacy": PUBLIC}))
    good = export([response(instrument, i) for i in range(3)], "good.csv")
    inst = str(root / "config/instrument.yaml")
    assert (
        tlcli.main(
            ["ingest", str(good), "--instrument", inst, "--out", "out", "--config", "cfg.yaml"]
        )
        == 0
    )
    assert len(pd.read_parquet(tmp_path / "out/responses.parquet")) == 3
    assert tlcli.main(["check-instrument", str(good), "--instrument", inst]) == 0
    assert "mapped" in capsys.readouterr().out
    bad = export(
        [response(instrument, 0, QID5_1="Somewhat similar", QID16_1="9")],
        "bad.csv",
        drop=("QID7_2",),
    )
    assert tlcli.main(["check-instrument", str(bad), "--instrument", inst]) == 1
    out = capsys.readouterr().out
    assert "unknown label" in out and "outside scale" in out and "QID7_2" in out
    assert (
        tlcli.main(
            ["ingest", str(bad), "--instrument", inst, "--out", "out2", "--config", "cfg.yaml"]
        )
        == 1
    )
    assert not (tmp_path / "out2").exists()
    logging.getLogger("tlsurvey").handlers.clear()  # the CLI logged to capsys' stream


def test_example_data_matches_planted_truth(root, monkeypatch, tmp_path):
    """Ingest of data/raw/example: analysed ids and exclusion reasons equal the truth."""
    monkeypatch.chdir(root)
    config = yaml.safe_load((root / "config/config.yaml").read_text())
    if not all((root / w["file"]).is_file() for w in config["waves"]):
        pytest.skip("example data not simulated yet (tlsurvey simulate)")
    privacy = {
        **config["privacy"],
        "salt_env": "TLSURVEY_TEST_NO_SUCH_VAR",
        "salt_file": "/nonexistent/salt",
        "public_example_salt": True,
    }
    results = [
        ingest.ingest_wave(
            root / w["file"], w["label"], root / config["instrument"], privacy, config["exclusions"]
        )
        for w in config["waves"]
    ]
    tables = ingest.combine(results, config["exclusions"]["duplicates"])
    ingest.write_outputs(tables, tmp_path / "out")
    written = b"".join(
        p.read_bytes() if p.suffix == ".csv" else read_table(p).to_csv().encode()
        for p in (tmp_path / "out").iterdir()
    )
    for wave in config["waves"]:
        raw = ingest.read_export(root / wave["file"])
        for name in ("ipAddress", "recipientEmail", "recipientLastName", "externalDataReference"):
            for value in set(raw.data[raw.resolve(name)]) - {""}:
                assert value.encode() not in written, (name, value)
    for wave in config["waves"]:
        label = wave["label"]
        truth = pd.read_csv(
            root / f"data/raw/example/truth/{label}/participants.csv",
            dtype=str,
            keep_default_na=False,
        )
        truth["pid"] = [
            ingest.participant_id(label, r, PUBLIC_EXAMPLE_SALT) for r in truth["response_id"]
        ]
        kept = truth["kept"] == "True"
        analysed = set(tables["responses"].query("wave == @label")["participant"])
        assert analysed == set(truth.loc[kept, "pid"])
        excluded = tables["excluded"].query("wave == @label")
        assert dict(zip(excluded["response_hash"], excluded["reasons"], strict=True)) == dict(
            zip(truth.loc[~kept, "pid"], truth.loc[~kept, "reasons"], strict=True)
        )
        assert excluded["response_row"].tolist() == truth.loc[~kept, "row"].astype(int).tolist()


def test_limesurvey_fixture_through_an_instrument(shared, tmp_path):
    """Real LimeSurvey R export: short names, value labels, incomplete = empty submit date."""
    instrument = {
        "platform": "limesurvey",
        "metadata": {"response_id": "id", "start": "startdate", "end": "submitdate"},
        "identifiers": ["address_street", "address_number", "address_pc", "address_city"],
        "scales": {
            "seven": {
                "1 in zeer bepekrte mate": 1,
                **{str(k): k for k in range(2, 7)},
                "7 in zeer ruime mate": 7,
            }
        },
        "demographics": [
            {"column": "gender", "variable": "gender"},
            {"column": "How old are you?", "variable": "age"},
        ],
        "ratings": [
            {
                "column": "activities_exp#0",
                "case_study": "tissue",
                "source": "imagenet",
                "dimension": "visual",
                "scale": "seven",
            }
        ],
        "texts": [{"column": "mood", "field": "considerations"}],
    }
    path = tmp_path / "instrument.yaml"
    path.write_text(yaml.safe_dump(instrument))
    export = shared / "fixtures/exports/limesurvey/survey_998192_R_data_file.csv"
    result = ingest.ingest_wave(export, "ls", path, PUBLIC, {"speeder_fraction": 0,
                                                             "blank": False})
    tables = ingest.combine([result])
    assert tables["excluded"]["reasons"].tolist() == ["unfinished"] * 5
    assert sorted(tables["responses"]["gender"].fillna("-")) == ["-", "Woman"]  # labelled
    assert len(tables["ratings"]) == 2
    # with blank submissions excluded, the complete one answering none of the mapped items goes
    blank = ingest.combine([ingest.ingest_wave(export, "ls", path, PUBLIC,
                                               {"speeder_fraction": 0})])
    assert sorted(blank["responses"]["gender"].fillna("-")) == ["Woman"]
    assert blank["excluded"]["reasons"].str.split(";").map(set).tolist().count({"blank"}) == 1


def test_outputs_are_byte_identical_across_runs(export, instrument, root, tmp_path):
    rows = [response(instrument, i) for i in range(5)] + [response(instrument, 9, status="1")]
    path = export(rows)
    for out in ("a", "b"):
        ingest.run(
            [{"label": "w1", "file": str(path)}],
            root / "config/instrument.yaml",
            PUBLIC,
            None,
            tmp_path / out,
        )
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == [
        "choices.parquet",
        "excluded.csv",
        "factors.parquet",
        "flow.csv",
        "ratings.parquet",
        "responses.parquet",
        "study.json",
        "texts.parquet",
    ]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert pd.read_csv(tmp_path / "a/excluded.csv")["reasons"].tolist() == ["preview"]


def test_wave_inputs_include_the_limesurvey_syntax_file(shared):
    data = shared / "fixtures/exports/limesurvey/survey_998192_R_data_file.csv"
    inputs = ingest.wave_inputs({"file": str(data), "instrument": "i.yaml"})
    assert inputs["syntax"].endswith("survey_998192_R_syntax_file.R")
    assert ingest.wave_inputs({"file": "w1.csv", "instrument": "i.yaml"}) == {
        "export": "w1.csv",
        "instrument": "i.yaml",
    }
