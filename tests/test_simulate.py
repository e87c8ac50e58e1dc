"""Tests for the survey simulator: determinism, export structure, truth, formats, example data."""

import csv
import json

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from tlsurvey.config import load_yaml
from tlsurvey.io import read_table
from tlsurvey.simulate import FORMATS, cli, instrument, simulate, simulate_ratings
from tlsurvey.simulate import text as phrases
from tlsurvey.simulate.instrument import COLUMNS, FACTORS, QUALTRICS_META, RATING_KEYS, address

N, SEED, WAVE = 15, 1, "w1"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """Every format of the same simulated wave, one directory per format."""
    base = tmp_path_factory.mktemp("sim")
    for fmt in FORMATS:
        simulate(N, SEED, WAVE, base / fmt, fmt)
    return base


def qualtrics_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def strs(values):
    return ["" if pd.isna(v) else str(v) for v in values]


def truth(out, name):
    return read_table(out / "qualtrics-csv" / "truth" / WAVE / name)  # formula-safe CSV


def counts(out):
    return json.loads((out / "qualtrics-csv" / "truth" / WAVE / "counts.json").read_text())


def test_same_seed_gives_byte_identical_files(out, tmp_path):
    for fmt in FORMATS:
        paths = simulate(N, SEED, WAVE, tmp_path / fmt, fmt)
        for p in paths:
            ref = out / fmt / p.relative_to(tmp_path / fmt)
            assert p.read_bytes() == ref.read_bytes(), p
    other = simulate(N, SEED + 1, WAVE, tmp_path / "other")[0]
    assert other.read_bytes() != (out / "qualtrics-csv" / f"{WAVE}.csv").read_bytes()


def test_qualtrics_csv_structure(out):
    raw = (out / "qualtrics-csv" / f"{WAVE}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfStartDate,EndDate,Status,")
    rows = qualtrics_rows(out / "qualtrics-csv" / f"{WAVE}.csv")
    short, question, ids = rows[:3]
    assert short[: len(QUALTRICS_META)] == [m[0] for m in QUALTRICS_META]
    assert ids[0] == '{"ImportId":"startDate","timeZone":"Z"}'
    import_ids = [json.loads(i)["ImportId"] for i in ids]
    inst = instrument("qualtrics-csv")
    for section in ("demographics", "ratings", "choices", "texts", "attention_checks",
                    "factors"):
        for entry in inst[section]:
            assert entry["column"] in import_ids
    assert set(inst["metadata"].values()) <= set(import_ids)
    assert "Q5_1" in short and "QID9_TEXT" in import_ids and len(set(short)) == len(short)
    assert len(rows) - 3 == counts(out)["raw_rows"] == N + 2
    assert all(len(r) == len(short) for r in rows)


def test_config_instrument_matches_generated(root):
    on_disk = yaml.safe_load((root / "config" / "instrument.yaml").read_text())
    assert on_disk == instrument("qualtrics-csv")


@pytest.mark.parametrize("fmt", FORMATS)
def test_instrument_maps_validate(out, fmt):
    doc = load_yaml(out / fmt / "instrument.yaml", "instrument")
    assert doc == instrument(fmt)
    assert len(doc["ratings"]) == 30 and len(doc["factors"]) == len(FACTORS)


def test_truth_matches_export(out):
    rows = qualtrics_rows(out / "qualtrics-csv" / f"{WAVE}.csv")
    df = pd.DataFrame(rows[3:], columns=rows[0])
    parts = truth(out, "participants.csv")
    assert list(parts["response_id"]) == list(df["ResponseId"])
    c = counts(out)
    assert parts["kept"].sum() == c["kept"] == N - 4
    reasons = parts["reasons"].fillna("").str.split(";").explode()
    for reason, n in c["excluded"].items():
        assert (reasons == reason).sum() == n
    by = dict(zip(parts["reasons"].fillna(""), range(len(parts)), strict=False))
    assert df["Status"][by["preview"]] == "Survey Preview"
    unf = df.iloc[by["unfinished;low_progress"]]
    assert unf["Finished"] == "False" and int(unf["Progress"]) < 100 and unf["Q18"] == ""
    duration = df["Duration (in seconds)"].astype(int)
    assert duration[by["speeder"]] < 0.3 * duration.median()
    assert (duration[parts["kept"]] > 0.3 * duration.median()).all()
    shorts = [col.short for col in COLUMNS if col.key in RATING_KEYS]
    straight = df.iloc[by["straightlining"]][shorts]
    assert set(straight) == {"Moderately similar", "Fair"}
    assert df["Q15"][by["attention_check"]] != "Moderately similar"
    assert (df["Q15"][parts["kept"]] == "Moderately similar").all()
    dup = df.iloc[by["duplicate"]]
    first = df[(df["RecipientEmail"] == dup["RecipientEmail"]) & parts["kept"]]
    assert len(first) == 1 and first["StartDate"].iloc[0] < dup["StartDate"]
    assert first["ExternalReference"].iloc[0] == dup["ExternalReference"]
    assert (df.loc[parts["kept"], shorts] == "").sum().sum() == c["skipped_rating_cells"] > 0
    factors = [f"Q16_{i}" for i in range(1, 7)]
    assert (df.loc[parts["kept"], factors] == "").sum().sum() == c["skipped_factor_cells"] == 1
    assert df["IPAddress"].str.match(r"^$|^(192\.0\.2|198\.51\.100)\.\d+$").all()
    assert df["RecipientEmail"].str.match(r"^$|.+@example\.org$").all()
    assert "\n" in "".join(df["Q9"]) and "\u2019" in "".join(df["Q9"] + df["Q14"] + df["Q17"])


def test_planted_effects_and_mixture(out):
    parts = truth(out, "participants.csv").dropna(subset=["aligned"])
    people = parts.drop_duplicates("person")
    assert len(people) == N and (~people["aligned"].astype(bool)).sum() == round(0.2 * N)
    anti = people[~people["aligned"].astype(bool)]
    assert (anti[["w_visual", "w_semantic", "w_embedding", "w_domain"]].sum(axis=1) < 0).all()
    eff = json.loads((out / "qualtrics-csv" / "truth" / WAVE / "effects.json").read_text())
    assert eff["beta_embedding"] > 0 and len(eff["thresholds"]) == 4
    assert eff["formula"].startswith("expected ~ visual + semantic + embedding + domain")
    assert (people["pref_tissue"] != people["pref_xray"]).mean() > 0.3


def test_text_truth(out):
    codes, c = truth(out, "text_codes.csv"), counts(out)
    assert set(codes["code"]) <= set(phrases.PHRASES)
    fair = codes[codes["code"] == "fairness_ethics"]
    assert len(fair) == c["fairness_answers"] <= 0.05 * c["text_answers"] + 1
    neg = truth(out, "negations.csv")
    keys = ["response_id", "field", "case_study", "code"]
    clash = neg.merge(codes, on=keys, how="inner")
    assert clash.empty  # a negated code is never planted in the same answer
    assert c["content_free_answers"] >= 1
    senses = truth(out, "term_senses.csv")
    assert {"term", "code"} <= set(senses.columns)
    pii = truth(out, "pii.csv")
    assert list(pii["kind"]) == ["email", "url", "phone"]
    rows = qualtrics_rows(out / "qualtrics-csv" / f"{WAVE}.csv")
    cells = "\n".join("\t".join(r) for r in rows[3:])
    assert all(v in cells for v in pii["value"])


def test_phrase_bank():
    for code, items in phrases.PHRASES.items():
        assert len(items) >= 8 and len(set(items)) == len(items), code
    multi = {}
    for code, items in phrases.PHRASES.items():
        for item in items:
            for term, _ in phrases.term_senses(item, code):
                multi.setdefault(term, set()).add(code)
    assert all(len(multi[t]) >= 2 for t in ("similar", "domain", "distribution", "features"))
    rng = np.random.default_rng(0)
    answer, _ = phrases.compose(rng, ["dataset_size", "acquisition"], source="imagenet",
                                alt="ecoset", case="xray", negate="community_practice")
    assert answer[0].isupper() and "{" not in answer


def test_coder_sheets(out):
    a = pd.read_csv(out / "qualtrics-csv" / "coders" / f"{WAVE}_coder_a.csv")
    b = pd.read_csv(out / "qualtrics-csv" / "coders" / f"{WAVE}_coder_b.csv")
    assert list(a.columns) == ["wave", "response_id", "field", "case_study", "coder", "code",
                               "value"]
    assert len(a) == len(b) and len(a) % len(phrases.PHRASES) == 0
    keys = ["response_id", "field", "case_study", "code"]
    both = a.merge(b, on=keys, suffixes=("_a", "_b"))
    agree = (both["value_a"] == both["value_b"]).mean()
    assert 0.8 < agree < 1.0
    kept = set(truth(out, "participants.csv").query("kept")["response_id"])
    assert set(a["response_id"]) <= kept


def test_every_format_loads_with_identical_values(out):
    q = pd.read_csv(out / "qualtrics-csv" / f"{WAVE}.csv", skiprows=[1, 2], dtype=str,
                    keep_default_na=False)
    tsv = pd.read_csv(out / "qualtrics-tsv" / f"{WAVE}.tsv", sep="\t", encoding="utf-16",
                      skiprows=[1, 2], dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(q, tsv)
    xlsx = pd.read_excel(out / "qualtrics-xlsx" / f"{WAVE}.xlsx", skiprows=[1, 2], dtype=str)
    assert list(xlsx.columns) == list(q.columns) and strs(xlsx["Q5_1"]) == list(q["Q5_1"])
    sav, meta = pyreadstat.read_sav(out / "spss" / f"{WAVE}.sav", apply_value_formats=True)
    assert list(sav["ResponseId"]) == list(q["ResponseId"])
    for name in ("Q10_3", "Q1", "Q8", "Status", "Finished", "Q9"):
        assert strs(sav[name]) == list(q[name]), name
    submitted = q[(q["Status"] == "IP Address") & (q["Finished"] == "True")]
    ls = pd.read_csv(out / "limesurvey-csv" / f"{WAVE}.csv", dtype=str, keep_default_na=False)
    gf = pd.read_csv(out / "google-forms" / f"{WAVE}.csv", dtype=str, keep_default_na=False)
    lsr = pd.read_csv(out / "limesurvey" / f"{WAVE}_R_data_file.csv", dtype=str,
                      keep_default_na=False)
    syntax = (out / "limesurvey" / f"{WAVE}_R_syntax_file.R").read_text()
    assert len(ls) == len(gf) == len(lsr) == len(submitted)
    for col in COLUMNS:
        expected = list(submitted[col.short])
        assert list(ls[address(col, "limesurvey-csv")]) == expected
        assert list(gf[col.text("google")]) == expected
        assert f'"{col.code}"' in syntax
    assert list(lsr["Date started"]) == list(submitted["StartDate"])
    assert list(gf.columns[:2]) == ["Timestamp", "Email Address"]


def test_simulate_ratings_is_tidy_and_clean():
    df = simulate_ratings(20, 5, anti_aligned_share=0.0, slope_sd=0.0)
    assert len(df) == 20 * 2 * 3 * 5 and df["value"].notna().all()
    assert df["aligned"].all() and df.attrs["effects"]["slope_sd"] == 0.0
    assert set(df.columns) >= {"participant", "wave", "case_study", "source", "dimension",
                               "value", "label"}
    assert simulate_ratings(20, 5).equals(simulate_ratings(20, 5))


def test_cli(tmp_path, capsys):
    assert cli(["--participants", "9", "--seed", "3", "--wave", "x", "--out",
                str(tmp_path)]) == 0
    assert (tmp_path / "x.csv").exists() and (tmp_path / "truth" / "x" / "effects.json").exists()
    with pytest.raises(SystemExit):
        cli(["--out", str(tmp_path), "--format", "nope"])
    with pytest.raises(ValueError):
        simulate(5, 1, "y", tmp_path)


def test_example_data_is_reproducible(root, tmp_path):
    example = root / "data" / "raw" / "example"
    simulate(15, 1, "wave1", tmp_path)
    simulate(40, 2, "wave2", tmp_path, returning=3, returning_seed=1)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (example / path.relative_to(tmp_path)).read_bytes(), path
    w1 = qualtrics_rows(example / "wave1.csv")
    w2 = qualtrics_rows(example / "wave2.csv")
    emails = {r[11] for r in w1[3:]} & {r[11] for r in w2[3:]} - {""}
    assert len(emails) == 3
