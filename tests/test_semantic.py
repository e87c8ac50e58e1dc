"""Semantic coder: best-sentence rows, sentence labels, the training cap and progress lines."""

import logging

import numpy as np
import pandas as pd
import pytest
from test_coding_topics import CountingEncoder

from tlsurvey.coding import semantic

CODEBOOK = {
    "cost": {"label": "Cost", "definition": "the price or budget of the option",
             "examples": ["it is cheap", "the budget was low"]},
    "speed": {"label": "Speed", "definition": "how fast the option runs",
              "examples": ["it trains quickly", "inference is fast"]},
    "habit": {"label": "Habit", "definition": "what the person always used before",
              "examples": ["we always use it", "it is what I know"]},
}
PHRASES = {"cost": ["it was cheap to rent", "the budget decided it"],
           "speed": ["training runs fast on our machines", "results come back quickly"],
           "habit": ["our lab always used this one", "I know it from my thesis"]}
FILLER = ["no strong reason otherwise", "the rest did not matter much"]


def _texts_and_sheets(n_people: int, seed: int = 0):
    """Answers of ``n_people`` participants (two each) with planted codes, and two coders'
    sheets coding every answer x code (each misses a planted code 10% of the time)."""
    rng = np.random.default_rng(seed)
    texts, sheets = [], []
    for p in range(n_people):
        for a in range(2):
            planted = [c for c in CODEBOOK if rng.random() < 0.4]
            parts = [PHRASES[c][int(rng.integers(2))] for c in planted]
            parts.insert(int(rng.integers(len(parts) + 1)), FILLER[int(rng.integers(2))])
            text_id = f"p{p:03d}:q{a}"
            texts.append({"text_id": text_id, "participant": f"p{p:03d}",
                          "text": ". ".join(parts) + "."})
            sheets += [{"text_id": text_id, "coder": coder, "code": c,
                        "value": int(c in planted and rng.random() > 0.1),
                        "start": np.nan, "end": np.nan}
                       for coder in ("a", "b") for c in CODEBOOK]
    return pd.DataFrame(texts), pd.DataFrame(sheets)


def _loop_rows(sentences, scores, thresholds, method, codes):
    """The answer rows as a loop over answers x codes (the former implementation)."""
    rows = []
    for text_id, idx in sentences.groupby("text_id", sort=True).indices.items():
        for j, code in enumerate(codes):
            best = idx[int(np.argmax(scores[idx, j]))]
            sentence = sentences.iloc[best]
            score, threshold = float(scores[best, j]), float(thresholds[best, j])
            rows.append({"text_id": text_id, "code": code, "score": round(score, 6),
                         "threshold": round(threshold, 6), "coded": score >= threshold,
                         "start": int(sentence["start"]), "end": int(sentence["end"]),
                         "evidence": sentence["sentence"], "method": method[best, j]})
    return pd.DataFrame(rows, columns=semantic.SCORE_COLUMNS)


def test_answer_rows_pick_each_codes_best_sentence():
    sentences = semantic.sentence_table(pd.DataFrame({
        "text_id": ["b", "a"], "text": ["One. Two. Three.", "Only one"]}))
    scores = np.array([[0.2, 0.9], [0.7, 0.9], [0.7, 0.1], [0.3, 0.4]])
    thresholds = np.full(scores.shape, 0.5)
    method = np.array([["prototype", "classifier-cv"]] * 4, dtype=object)
    rows = semantic._answer_rows(sentences, scores, thresholds, method, ["x", "y"])
    assert rows[["text_id", "code", "evidence", "start", "end"]].values.tolist() == [
        ["a", "x", "Only one", 0, 8], ["a", "y", "Only one", 0, 8],
        ["b", "x", "Two.", 5, 9],  # two sentences tie at 0.7: the first wins
        ["b", "y", "One.", 0, 4]]
    assert rows["score"].tolist() == [0.3, 0.4, 0.7, 0.9]
    assert rows["coded"].tolist() == [False, False, True, True]
    assert rows["method"].tolist() == ["prototype", "classifier-cv"] * 2


def test_answer_rows_equal_the_loop_on_random_scores():
    rng = np.random.default_rng(5)
    texts = pd.DataFrame({"text_id": [f"t{i:02d}" for i in range(30)],
                          "text": [". ".join(["word"] * int(rng.integers(1, 5))) + "."
                                   for _ in range(30)]})
    sentences = semantic.sentence_table(texts).sample(frac=1, random_state=1) \
        .reset_index(drop=True)  # answers' sentences need not be adjacent
    n, codes = len(sentences), ["c1", "c2", "c3", "c4"]
    scores = rng.integers(0, 4, size=(n, len(codes))) / 4 + 1e-7  # many ties
    thresholds = rng.choice([0.25, 0.5, 0.75], size=(n, len(codes)))
    method = rng.choice(np.array(["prototype", "classifier-cv"], dtype=object),
                        size=(n, len(codes)))
    got = semantic._answer_rows(sentences, scores, thresholds, method, codes)
    pd.testing.assert_frame_equal(got, _loop_rows(sentences, scores, thresholds, method, codes))
    assert len(got) == 30 * len(codes)


def test_sentence_labels_follow_coder_spans():
    texts = pd.DataFrame({"text_id": ["t1", "t2", "t3"], "participant": ["p1", "p2", "p3"],
                          "text": ["Cheap. And fast.", "Fast. Cheap too.", "Nothing."]})
    sentences = semantic.sentence_table(texts)
    sheets = pd.DataFrame({
        "text_id": ["t1", "t1", "t1", "t2", "t2", "t2"], "coder": "a",
        "code": ["cost", "speed", "habit", "cost", "speed", "habit"],
        "value": [1, 1, 0, 1, 1, 0],
        "start": [0, np.nan, np.nan, 8, 0, np.nan], "end": [6, np.nan, np.nan, 14, 3, np.nan]})
    answers, labels = semantic.human_labels(sentences, sheets, list(CODEBOOK))
    assert answers.to_dict("index") == {"t1": {"cost": 1, "speed": 1, "habit": 0},
                                        "t2": {"cost": 1, "speed": 1, "habit": 0}}
    np.testing.assert_array_equal(labels, [
        [1, 1, 0],  # t1 "Cheap." inside the cost span; speed without span: every sentence
        [0, 1, 0],  # t1 "And fast."
        [0, 1, 0],  # t2 "Fast." (speed span 0-3)
        [1, 0, 0],  # t2 "Cheap too." (6-16) overlaps the cost span 8-14
        [np.nan] * 3])  # t3: nobody coded it


def test_training_cap_draws_whole_participants_deterministically():
    groups = np.repeat([f"p{i}" for i in range(50)], 3)  # 50 people, 3 sentences each
    text_ids = np.array([f"{g}:{i % 3 // 2}" for i, g in enumerate(groups)])  # 2 answers each
    coded = np.ones(len(groups), dtype=bool)
    coded[:30] = False  # the first ten people are uncoded
    same = semantic.training_sentences(text_ids, groups, coded, cap=80, seed=1)
    assert same is coded  # 80 coded answers: nothing changes at the cap
    drawn = semantic.training_sentences(text_ids, groups, coded, cap=25, seed=1)
    people = set(groups[drawn])
    assert len(people) == 12 and len(set(text_ids[drawn])) == 24  # whole people, <= 25 answers
    assert not drawn[~coded].any() and all((groups == p).sum() == 3 for p in people)
    again = semantic.training_sentences(text_ids, groups, coded, cap=25, seed=1)
    np.testing.assert_array_equal(drawn, again)
    other = semantic.training_sentences(text_ids, groups, coded, cap=25, seed=2)
    assert set(groups[other]) != people


@pytest.fixture(scope="module")
def coded_study():
    texts, sheets = _texts_and_sheets(40)
    return texts, sheets, CountingEncoder()


def test_classifiers_learn_from_the_capped_sample_only(coded_study, caplog):
    texts, sheets, encoder = coded_study
    settings = {"folds": 3, "inner_folds": 2}
    full = semantic.code_texts(texts, CODEBOOK, encoder, sheets, settings)
    assert full["method"].eq("classifier-cv").all()
    at_cap = semantic.code_texts(texts, CODEBOOK, encoder, sheets,
                                 {**settings, "max_training_answers": 80})
    pd.testing.assert_frame_equal(at_cap, full)  # 80 coded answers: unchanged
    with caplog.at_level(logging.INFO, logger="tlsurvey.coding.semantic"):
        caplog.clear()  # the lines of this run only
        capped = semantic.code_texts(texts, CODEBOOK, encoder, sheets,
                                     {**settings, "max_training_answers": 41})
    messages = [r.getMessage() for r in caplog.records]
    sentences = semantic.sentence_table(texts.sort_values("text_id"))
    mask = semantic.training_sentences(
        sentences["text_id"].to_numpy(), sentences["group"].to_numpy(),
        np.ones(len(sentences), dtype=bool), 41, semantic.DEFAULTS["seed"])
    sample = set(sentences.loc[mask, "text_id"])
    assert len(sample) == 40 and not capped.equals(full)  # 20 people of 2 answers each
    # Training on the sample with every answer scored = coder sheets of the sample only.
    only = semantic.code_texts(texts, CODEBOOK, encoder, sheets[sheets["text_id"].isin(sample)],
                               settings)
    pd.testing.assert_frame_equal(capped, only)
    assert "semantic: the classifiers learn from 40 of 80 human-coded answers (20 of 40 " \
           "participants; max_training_answers 41)" in messages
    folds = [m for m in messages if m.startswith("semantic: fold ")]
    sizes = _training_answers(sentences, sample)
    assert folds == [f"semantic: fold {f}/3 done ({n} training answers): 3 codes, 3 by "
                     f"classifier" for f, n in enumerate(sizes, start=1)]


def _training_answers(sentences, sample):
    """Training answers of each of three outer folds over the sentences' groups."""
    from sklearn.model_selection import GroupKFold

    groups = sentences["group"].to_numpy()
    ids = sentences["text_id"].to_numpy()
    return [len(set(ids[train]) & sample)
            for train, _ in GroupKFold(3).split(ids, groups=groups)]


def test_schema_defaults_are_the_coders(root):
    import yaml

    schema = yaml.safe_load((root / "workflow/schemas/config.schema.yaml").read_text())
    semantic_schema = schema["properties"]["coding"]["properties"]["semantic"]["properties"]
    assert {k: v["default"] for k, v in semantic_schema.items()} == semantic.DEFAULTS
