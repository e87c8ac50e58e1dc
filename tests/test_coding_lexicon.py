"""Codebook, lexicon matching, negation, qualifiers, ambiguity and F1 against planted codes."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tlsurvey.coding.ambiguity import ambiguous_terms, gini_simpson
from tlsurvey.coding.codebook import load_codebook
from tlsurvey.coding.lexicon import coded, load_lexicon, match_texts
from tlsurvey.errors import InputError

CODES = ["task_dependence", "community_practice", "dataset_size", "dataset_diversity",
         "label_quality", "acquisition", "embedding_similarity", "visual_similarity",
         "semantic_similarity", "domain_similarity", "general_similarity", "robustness",
         "fairness_ethics", "resources_weights"]

TEXTS = {
    "P1:rationale:tissue": "I chose ImageNet, not because it is popular, but because it is "
                           "visually similar and much larger.",
    "P1:meaning_of_similar": "Similar means the embeddings overlap in feature space.",
    "P2:rationale:xray": "RadImageNet is in the medical domain, so the domain gap is smaller. "
                         "<script>alert('x')</script>",
    "P1:considerations": "The domain gap in appearance: the images look alike.",
    "P3:rationale:tissue": "It depends on the task. Pretrained weights are readily available.",
    "P3:considerations": "Popularity doesn't matter to me; label noise and inductive bias do.",
}


def make_texts() -> pd.DataFrame:
    """A small texts table shaped like results/ingest/texts.parquet."""
    rows = []
    for text_id, text in TEXTS.items():
        participant, field, *case = text_id.split(":")
        rows.append({"text_id": text_id, "participant": participant, "wave": "wave1",
                     "field": field, "case_study": case[0] if case else None, "text": text,
                     "n_redacted": 0})
    return pd.DataFrame(rows).sort_values("text_id", ignore_index=True)


@pytest.fixture(scope="module")
def lexicon(root):
    return load_lexicon(root / "config/lexicon.yaml", load_codebook(root / "config/codebook.yaml"))


@pytest.fixture(scope="module")
def matches(lexicon):
    return match_texts(make_texts(), lexicon)


def codes_of(matches, text_id):
    return set(coded(matches).query("text_id == @text_id")["code"])


def test_codebook_has_canonical_codes(root):
    codebook = load_codebook(root / "config/codebook.yaml")
    assert list(codebook) == CODES
    assert all(spec["include"] and spec["examples"] for spec in codebook.values())


def test_lexicon_rejects_unknown_code(tmp_path, root):
    bad = tmp_path / "lexicon.yaml"
    bad.write_text((root / "config/lexicon.yaml").read_text().replace(
        "code: robustness", "code: not_a_code", 1))
    with pytest.raises(InputError, match="not_a_code"):
        load_lexicon(bad, load_codebook(root / "config/codebook.yaml"))


def test_spacy_loads_without_torch_and_matches_the_same(tmp_path, root, matches):
    """A fresh process builds the pipeline with torch blocked (thinc would import it for
    nothing), gets the same matches, and can still import torch afterwards."""
    out = tmp_path / "matches.parquet"
    probe = f"""
import sys
from tests.test_coding_lexicon import make_texts
from tlsurvey.coding.codebook import load_codebook
from tlsurvey.coding.lexicon import load_lexicon, match_texts
lexicon = load_lexicon("config/lexicon.yaml", load_codebook("config/codebook.yaml"))
match_texts(make_texts(), lexicon).to_parquet({str(out)!r})
print("torch" in sys.modules)
import torch
print(int(torch.ones(2).sum()))
"""
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, check=True, cwd=root)
    assert done.stdout.split() == ["False", "2"]
    pd.testing.assert_frame_equal(pd.read_parquet(out), matches)


def test_offsets_point_into_text(matches):
    texts = make_texts().set_index("text_id")["text"]
    for row in matches.itertuples():
        assert texts[row.text_id][row.start:row.end] == row.matched


def test_negation_and_qualifier(matches):
    first = matches.query("text_id == 'P1:rationale:tissue'")
    popular = first[first["term_id"] == "popular"]
    assert popular["negated"].all()
    assert codes_of(matches, "P1:rationale:tissue") == {"visual_similarity", "dataset_size"}
    visual = first[first["code"] == "visual_similarity"].query("kept")
    assert visual["matched"].tolist() == ["visually similar"]
    # "doesn't matter" after the term negates it; "inductive bias" shields "bias"
    assert codes_of(matches, "P3:considerations") == {"label_quality"}


def test_ambiguous_senses(matches):
    table = ambiguous_terms(matches, make_texts())
    gap = table[table["term_id"] == "domain_gap"]
    assert set(gap["sense"]) == {"domain_similarity", "visual_similarity"}
    assert gap["disagreement"].iloc[0] == pytest.approx(0.5)
    assert table["disagreement"].is_monotonic_decreasing
    assert gini_simpson([3]) == 0


def micro_f1(pred: set, truth: set) -> float:
    tp = len(pred & truth)
    return 2 * tp / (2 * tp + len(pred - truth) + len(truth - pred))


def test_f1_against_planted_codes(lexicon):
    """Micro-F1 of lexicon codes against the simulator's planted codes (its phrase bank)."""
    text = pytest.importorskip("tlsurvey.simulate.text")
    rng = np.random.default_rng(7)
    rows, truth = [], set()
    for i in range(300):
        bank = text.MEANING if i % 4 == 0 else text.PHRASES
        codes = list(rng.choice(list(bank), size=int(rng.integers(1, 4)), replace=False))
        negate = [c for c in text.NEGATIONS if c not in codes][int(rng.integers(3))]
        answer, _ = text.compose(rng, codes, bank=bank, source="imagenet", alt="ecoset",
                                 case=["tissue", "xray", None][i % 3],
                                 negate=negate if rng.random() < 0.3 else None,
                                 curly=rng.random() < 0.2, typos=int(rng.random() < 0.1))
        rows.append({"text_id": f"t{i:03d}", "field": "rationale", "text": answer})
        truth |= {(f"t{i:03d}", c) for c in codes}
    found = coded(match_texts(pd.DataFrame(rows), lexicon))
    f1 = micro_f1(set(map(tuple, found[["text_id", "code"]].to_numpy())), truth)
    print(f"lexicon micro-F1 vs planted codes: {f1:.3f}")
    assert f1 >= 0.85


@pytest.fixture(scope="module")
def example_texts(root, tmp_path_factory):
    """Ingest the bundled example (both waves) into a temporary directory."""
    export = root / "data/raw/example"
    if not (export / "wave1.csv").exists():
        pytest.skip("example survey not generated")
    from tlsurvey.cli import main

    out = tmp_path_factory.mktemp("ingest")
    assert main(["ingest", str(export / "wave1.csv"), str(export / "wave2.csv"),
                 "--instrument", str(root / "config/instrument.yaml"), "--out", str(out),
                 "--config", str(root / "config/config.yaml")]) == 0
    return pd.read_parquet(out / "texts.parquet")


@pytest.mark.parametrize("wave", ["wave1", "wave2"])
def test_f1_on_example_truth(root, lexicon, example_texts, wave):
    """Micro-F1 >= 0.85 against truth/<wave>/text_codes.csv of the bundled example."""
    from tlsurvey.coding.pipeline import participant_mapper
    from tlsurvey.coding.sheets import text_id
    from tlsurvey.config import load_yaml

    pid = participant_mapper(load_yaml(root / "config/config.yaml")["privacy"])
    planted = pd.read_csv(root / f"data/raw/example/truth/{wave}/text_codes.csv", dtype=str)
    texts = example_texts[example_texts["wave"] == wave]
    truth = {(text_id(pid(r.wave, r.response_id), r.field, r.case_study), r.code)
             for r in planted.itertuples()} & {(t, c) for t in texts["text_id"] for c in CODES}
    found = coded(match_texts(texts, lexicon))
    f1 = micro_f1(set(map(tuple, found[["text_id", "code"]].to_numpy())), truth)
    print(f"{wave}: lexicon micro-F1 vs planted codes {f1:.3f} ({len(truth)} planted codes)")
    assert f1 >= 0.85


CONTEXT_TEXTS = {
    "c1": "A stronger shape bias would make the detector ignore colour.",
    "c2": "The gap between scanners is large.",
    "c3": "Historical records may be biased against older patients.",
    "c4": "We were given no demographic data about the patients.",
    "c5": "Its pretraining set is large.",
    "c6": "Evrybody in radiologgy starts from the same checkpoint, so it is teh standrad.",
    "c7": "Popularity does not decide it for me.",
}


@pytest.fixture(scope="module")
def context_matches(lexicon):
    texts = pd.DataFrame({"text_id": list(CONTEXT_TEXTS), "field": "considerations",
                          "text": list(CONTEXT_TEXTS.values())})
    return match_texts(texts, lexicon)


def test_context_rules_from_the_lexicon_file(context_matches):
    """exclude words near a term cancel it (shape bias, a gap that is large); others keep it."""
    assert "fairness_ethics" not in codes_of(context_matches, "c1")
    assert "dataset_size" not in codes_of(context_matches, "c2")
    assert context_matches.query("text_id == 'c2' and code == 'dataset_size'")[
        "out_of_context"].all()
    assert "fairness_ethics" in codes_of(context_matches, "c3")
    assert codes_of(context_matches, "c5") == {"dataset_size"}


def test_negation_kept_where_the_codebook_counts_absence(context_matches):
    """A noted absence of demographic information is still a fairness mention; negating a
    popularity statement ("does not decide") still cancels it."""
    rows = context_matches.query("text_id == 'c4' and code == 'fairness_ethics'")
    assert rows["negated"].any() and rows["keep_negated"].all()
    assert "fairness_ethics" in codes_of(context_matches, "c4")
    assert "community_practice" not in codes_of(context_matches, "c7")


def test_typos_one_edit_from_a_lexicon_word(context_matches, lexicon):
    from tlsurvey.coding.lexicon import edit_distance

    assert edit_distance("standrad", "standard") == 1 and edit_distance("kitten", "sitting") == 3
    row = context_matches.query("text_id == 'c6' and code == 'community_practice'")
    assert {"Evrybody", "standrad"} <= set(row["matched"])
    assert "checkpoint" in set(context_matches.query("text_id == 'c6'")["matched"])


SCOPE_TEXTS = {
    "s1": "We plotted both sets with UMAP first. The target ended up closest to the second source.",
    "s2": "The target ended up closest to the second source.",
    "s3": "Die Aufnahmen sind medizinisch und die Datenmenge ist groß.",
    "s4": "Prefiero la fuente más usada; la resolución también cuenta.",
    "s5": "Les poids pré-entraînés sont disponibles et le modèle est robuste.",
    "s6": "Nicht die Größe zählt, sondern die Vielfalt.",
}


def test_qualifier_scope_and_answers_in_other_languages(lexicon):
    """Similarity qualified in another sentence of the answer is not unqualified similarity;
    German, Spanish and French words of the lexicon code as their English counterparts."""
    texts = pd.DataFrame({"text_id": list(SCOPE_TEXTS), "field": "rationale",
                          "text": list(SCOPE_TEXTS.values())})
    found = match_texts(texts, lexicon)
    assert codes_of(found, "s1") == {"embedding_similarity"}
    assert codes_of(found, "s2") == {"general_similarity"}
    assert codes_of(found, "s3") == {"domain_similarity", "dataset_size"}
    assert codes_of(found, "s4") == {"community_practice", "acquisition"}
    assert codes_of(found, "s5") == {"resources_weights", "robustness"}
    assert codes_of(found, "s6") == {"dataset_diversity"}  # "nicht" negates as "not" does


def test_match_cache_codes_only_new_texts_and_changes_nothing(tmp_path, root, monkeypatch):
    from tlsurvey.coding import lexicon as lex
    from tlsurvey.coding.pipeline import run_lexicon

    texts = make_texts()
    first, added = texts.iloc[:4], texts.iloc[4:]
    cb, lx = root / "config/codebook.yaml", root / "config/lexicon.yaml"
    for name, table in (("first", first), ("all", texts)):
        table.to_parquet(tmp_path / f"{name}.parquet")
    run_lexicon(tmp_path / "all.parquet", cb, lx, tmp_path / "plain")  # no cache
    seen = []
    match_new = lex._match_new
    monkeypatch.setattr(lex, "_match_new", lambda t, *a: seen.append(list(t)) or match_new(t, *a))
    cache = tmp_path / "cache"
    run_lexicon(tmp_path / "first.parquet", cb, lx, tmp_path / "wave1", cache)
    run_lexicon(tmp_path / "all.parquet", cb, lx, tmp_path / "cached", cache)
    assert seen == [first["text"].tolist(), added["text"].tolist()]  # the added wave only
    for name in ("lexicon_matches.parquet", "ambiguous_terms.csv"):
        assert (tmp_path / "cached" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()
    wave1 = pd.read_parquet(tmp_path / "wave1/lexicon_matches.parquet")
    plain = pd.read_parquet(tmp_path / "plain/lexicon_matches.parquet")
    pd.testing.assert_frame_equal(wave1, plain[plain["text_id"].isin(first["text_id"])]
                                  .reset_index(drop=True))
    other = tmp_path / "lexicon.yaml"  # another lexicon: its own cache file, everything rematched
    other.write_text(lx.read_text() + "\n# edited\n")
    run_lexicon(tmp_path / "all.parquet", cb, other, tmp_path / "edited", cache)
    assert seen[-1] == texts["text"].tolist() and len(list(cache.iterdir())) == 2
