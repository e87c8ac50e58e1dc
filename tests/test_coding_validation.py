"""The hand-coded validation sets: tests/data/validation (tuned on by halves) and
tests/data/validation_unseen (never tuned on): integrity, independence from the lexicon and
codebook, language detection, and the automatic coders' precision/recall/F1 on them."""

import re

import pandas as pd
import pytest

from tlsurvey.coding import reliability, sheets
from tlsurvey.coding.codebook import load_codebook
from tlsurvey.coding.language import detect_languages
from tlsurvey.coding.lexicon import coded, load_lexicon, match_texts
from tlsurvey.coding.pipeline import read_validation_texts, run_validation

CODERS = ("coder_a", "coder_b", "gold")
# set -> its subsets; validation also has coder_c, a third pass made independently of a and b
SETS = {"validation": {"tuning", "held_out"}, "validation_unseen": {"unseen"}}


@pytest.fixture(scope="module", params=list(SETS))
def data(root, request):
    return root / "tests/data" / request.param


@pytest.fixture(scope="module")
def texts(data):
    texts = read_validation_texts(data / "texts.csv")
    texts.attrs["set"] = data.name
    return texts


def sheet(data, name) -> pd.DataFrame:
    return pd.read_csv(data / f"{name}.csv", dtype={"span": str}, keep_default_na=False)


def positives(frame) -> set:
    return set(map(tuple, frame.loc[frame["value"] == 1, ["text_id", "code"]].to_numpy()))


def test_texts_are_varied(texts):
    assert len(texts) >= 120 and texts["text_id"].is_unique
    assert set(texts["field"]) == {"rationale", "considerations", "meaning_of_similar"}
    assert (texts["language"] != "en").sum() >= 5
    lengths = texts["text"].str.split().str.len()
    assert lengths.min() <= 2 and lengths.max() >= 30
    assert set(texts["subset"]) == SETS[texts.attrs["set"]]


@pytest.mark.parametrize("name", [*CODERS, "coder_c"])
def test_every_text_coded_with_spans_into_it(data, texts, root, name):
    if not (data / f"{name}.csv").exists():
        assert name == "coder_c" and data.name != "validation"
        return
    codes = list(load_codebook(root / "config/codebook.yaml"))
    rows = sheet(data, name)
    body = texts.set_index("text_id")["text"]
    assert set(rows["code"]) <= set(codes)
    per_text = rows.drop_duplicates(["text_id", "code"]).groupby("text_id").size()
    assert set(per_text.index) == set(texts["text_id"]) and (per_text == len(codes)).all()
    coded = rows[rows["value"] == 1]
    assert (coded["span"] != "").all()
    for row in coded.itertuples():
        assert body[row.text_id][int(row.start):int(row.end)] == row.span


def test_gold_is_agreement_plus_adjudication(data):
    a, b, gold = (positives(sheet(data, n)) for n in CODERS)
    adjudication = pd.read_csv(data / "adjudication.csv")
    assert set(zip(adjudication["text_id"], adjudication["code"], strict=True)) == a ^ b
    decided = {(r.text_id, r.code) for r in adjudication.itertuples() if r.gold == 1}
    assert gold == (a & b) | decided
    assert adjudication["reason"].str.len().min() > 20


def test_sentences_not_copied_into_lexicon_or_codebook(data, texts, root):
    config = " ".join((root / f"config/{f}.yaml").read_text().lower()
                      for f in ("lexicon", "codebook"))
    config = re.sub(r"\s+", " ", config)
    for text in texts["text"]:
        for sentence in re.split(r"[.!?;:\n]", text.lower()):
            words = sentence.split()
            if len(words) >= 5:
                assert " ".join(words) not in config, sentence


def test_language_detection_flags_the_non_english_answers(texts):
    found = pd.Series(detect_languages(texts["text"]), index=texts.index)
    written = texts["language"]
    assert ((found != "en") & (found != "und")).tolist() == (written != "en").tolist()
    assert (found[written != "en"] == written[written != "en"]).mean() >= 0.9


def test_lexicon_on_answers_it_was_never_tuned_on(root):
    """The unseen set's bar (issue: micro-F1 >= 0.75, no code below 0.5 precision)."""
    data, codebook = root / "tests/data/validation_unseen", load_codebook(
        root / "config/codebook.yaml")
    texts = read_validation_texts(data / "texts.csv")
    gold = reliability.human_matrix(sheets.read_sheets([data / "gold.csv"], codebook, texts),
                                    list(codebook))
    matches = match_texts(texts, load_lexicon(root / "config/lexicon.yaml", codebook))
    pairs = set(map(tuple, coded(matches)[["text_id", "code"]].to_numpy()))
    table = reliability.auto_vs_human(gold, {"lexicon": pairs}).set_index("code")
    print("\nlexicon vs gold on the unseen set\n",
          table[["precision", "recall", "f1"]].round(3).to_string())
    assert table.loc["(micro)", "f1"] >= 0.75
    assert table.drop(index=["(micro)"])["precision"].dropna().min() >= 0.5


@pytest.fixture(scope="module")
def validation(root, tmp_path_factory):
    data = root / "tests/data/validation"
    out = tmp_path_factory.mktemp("validation") / "validation.csv"
    table = run_validation(data / "texts.csv", [data / f"{n}.csv" for n in CODERS], "gold",
                           root / "config/codebook.yaml", root / "config/lexicon.yaml", out,
                           tmp_path_factory.mktemp("cache"))
    return table, out


@pytest.mark.slow
def test_automatic_coders_against_the_gold_standard(validation):
    table, out = validation
    assert out.exists() and set(table["origin"]) == {"lexicon", "semantic", "lexicon+semantic"}
    gold = table[(table["coder"] == "gold")]
    shown = gold.query("subset == 'all'")[["origin", "code", "precision", "recall", "f1"]]
    print("\nautomatic coders vs the gold standard of the validation set (written to", out, ")")
    print(shown.round(3).to_string(index=False))
    micro = gold.query("code == '(micro)'").set_index(["subset", "origin"])
    print(micro[["precision", "recall", "f1"]].round(3).to_string())
    best = micro.loc["all", "f1"].idxmax()
    assert micro.loc[("all", best), "f1"] >= 0.75
    # the held-out half: answers no lexicon rule was written from
    assert micro.loc[("held_out", best), "f1"] >= 0.75
    for subset in ("all", "held_out"):
        per_code = gold.query("subset == @subset and origin == @best and code != '(micro)'")
        assert per_code["precision"].dropna().min() >= 0.5, subset
    # the combination keeps the lexicon's codes and adds only confident semantic ones
    all_ = micro.loc["all"]
    assert all_.loc["lexicon+semantic", "recall"] >= all_.loc["lexicon", "recall"]
    assert all_.loc["lexicon+semantic", "precision"] >= 0.8 > all_.loc["semantic", "precision"]
    assert all_.loc["semantic", "recall"] >= 0.5
