"""Semantic coder (origin ``semantic``): answer sentences embedded with the bundled MiniLM and
scored against every code of the codebook.

Each sentence is compared (cosine similarity) with each code's prototypes: its label and
definition, its include rules and its examples. Without human codes a code's score in a
sentence is its best prototype similarity, and the code is given when the answer's best
sentence clears the configured ``threshold``. With human coder sheets, a logistic regression
per code on [sentence embedding, prototype similarities] is trained on human-coded sentences
(those overlapping a coder's span) by grouped K-fold cross-validation, folds = participants, so
no answer is scored by a model that saw it. Within each fold an inner cross-validation on the
training answers gives the threshold (the one that maximises F1 of its out-of-fold
predictions) and the fold's scores (the mean of the inner models), so scores and threshold share
one calibration. Codes with fewer than ``min_positive`` human-coded answers in a fold fall back
to prototype similarity with the configured threshold. The evidence of a code is the sentence
that scored highest; every (answer, code) score is kept.

The classifiers learn from at most ``max_training_answers`` human-coded answers: when the sheets
code more, whole participants are drawn in a seeded random order until the next would exceed
the cap (the other coded answers are still scored, like uncoded ones). Each fold's training
features and inner splits are computed once and shared by the codes, so the work is linear in
sentences and bounded in training answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

DEFAULTS = {"threshold": 0.5, "folds": 5, "inner_folds": 4, "min_positive": 3, "C": 3.0,
            "seed": 42, "max_training_answers": 2000}
SCORE_COLUMNS = ["text_id", "code", "score", "threshold", "coded", "start", "end", "evidence",
                 "method"]
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]*")
_WORD = re.compile(r"\w")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (split at . ! ? ; and line breaks),
    stripped of surrounding space; pieces without a word character are dropped."""
    spans = []
    for match in _SENTENCE.finditer(str(text)):
        piece = match.group()
        if _WORD.search(piece):
            start = match.start() + len(piece) - len(piece.lstrip())
            spans.append((start, match.start() + len(piece.rstrip())))
    return spans


def sentence_table(texts: pd.DataFrame) -> pd.DataFrame:
    """One row per sentence: text_id, group (participant, or text_id), start, end, sentence."""
    rows = []
    groups = texts["participant"] if "participant" in texts else texts["text_id"]
    for text_id, group, text in zip(texts["text_id"], groups, texts["text"].astype(str),
                                    strict=True):
        rows += [(text_id, group, s, e, text[s:e]) for s, e in split_sentences(text)]
    return pd.DataFrame(rows, columns=["text_id", "group", "start", "end", "sentence"])


def prototypes(codebook: dict) -> tuple[list[str], list[str]]:
    """(code of each prototype, prototype text): label and definition, include rules, examples."""
    codes, texts = [], []
    for code, spec in codebook.items():
        for text in [f"{spec['label']}: {spec['definition']}", *spec.get("include", []),
                     *spec.get("examples", [])]:
            codes.append(code)
            texts.append(text)
    return codes, texts


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` (float64) with each row scaled to length 1 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def prototype_similarity(sentences: np.ndarray, protos: np.ndarray, proto_codes: list[str],
                         codes: list[str]) -> np.ndarray:
    """(n_sentences, n_codes) best cosine similarity of each sentence to each code's prototypes."""
    sims = unit_rows(sentences) @ unit_rows(protos).T
    owner = np.asarray(proto_codes)
    return np.stack([sims[:, owner == code].max(axis=1) for code in codes], axis=1)


def human_labels(sentences: pd.DataFrame, sheets: pd.DataFrame, codes: list[str]):
    """Answer- and sentence-level human labels from coder sheets.

    An answer has a code when at least half of the coders who coded it gave it; its sentences
    carry the code when they overlap a span of that code (all of them when no coder gave spans).

    Returns
    -------
    answers : DataFrame
        Index text_id (coded answers only), one 0/1 column per code.
    labels : ndarray, shape (n_sentences, n_codes)
        Sentence labels, NaN for sentences of answers no coder coded.
    """
    wide = sheets.pivot_table(index=["text_id", "coder"], columns="code", values="value",
                              aggfunc="max").reindex(columns=codes).fillna(0)
    answers = (wide.groupby(level="text_id").mean() >= 0.5).astype(int)
    text_ids = sentences["text_id"].to_numpy()
    labels = np.full((len(sentences), len(codes)), np.nan)
    labels[sentences["text_id"].isin(answers.index).to_numpy()] = 0  # hashed (np.isin: n x m)
    positive = answers.reindex(text_ids).to_numpy() == 1
    labels[positive] = 1
    spans = sheets[(sheets["value"] == 1)].dropna(subset=["start", "end"])
    if len(spans):  # where coders gave spans of a code, only the sentences they overlap carry it
        row, j = np.nonzero(positive)
        column = {code: j for j, code in enumerate(codes)}
        pairs = pd.DataFrame({"row": row, "j": j, "text_id": text_ids[row]}).merge(
            spans.assign(j=spans["code"].map(column)), on=["text_id", "j"])
        starts, ends = (sentences[c].to_numpy()[pairs["row"]] for c in ("start", "end"))
        pairs["hit"] = (pairs["start"].to_numpy() < ends) & (pairs["end"].to_numpy() > starts)
        hit = pairs.groupby(["row", "j"])["hit"].any()
        labels[hit.index.get_level_values("row"), hit.index.get_level_values("j")] = hit
    return answers, labels


def _answer_max(scores: np.ndarray, text_ids: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(scores).groupby(text_ids, sort=True).max()


def best_threshold(scores, truth) -> float | None:
    """Threshold on answer scores that maximises F1 against 0/1 ``truth`` (midpoint between the
    last kept and the next score); None without a positive answer."""
    scores, truth = np.asarray(scores, dtype=float), np.asarray(truth, dtype=bool)
    if not truth.any():
        return None
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], truth[order]
    tp = np.cumsum(t)
    f1 = 2 * tp / (np.arange(1, len(s) + 1) + t.sum())
    k = int(np.argmax(f1))
    return float((s[k] + s[k + 1]) / 2) if k + 1 < len(s) else float(s[k] - 1e-9)


def _logistic(features, labels, C: float, seed: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight="balanced", max_iter=2000,
                              random_state=seed).fit(features, labels)


def training_sentences(text_ids, groups, coded, cap: int, seed: int) -> np.ndarray:
    """Mask of the sentences the classifiers learn from: the ``coded`` ones, or when they come
    from more than ``cap`` answers, those of whole groups (participants) drawn in a random order
    (``seed``) while the answers drawn stay within ``cap``."""
    answers = pd.DataFrame({"text_id": text_ids[coded], "group": groups[coded]}) \
        .drop_duplicates("text_id")
    if len(answers) <= cap:
        return coded
    per_group = answers.groupby("group").size()
    order = np.random.default_rng(seed).permutation(len(per_group))
    drawn = per_group.index[order[np.cumsum(per_group.to_numpy()[order]) <= cap]]
    log.info("semantic: the classifiers learn from %d of %d human-coded answers (%d of %d "
             "participants; max_training_answers %d)", per_group[drawn].sum(), len(answers),
             len(drawn), len(per_group), cap)
    return coded & pd.Series(groups).isin(drawn).to_numpy()


class _Fold:
    """One outer fold: its training sentences' features, answers and inner splits (the same
    for every code), and its test sentences' features."""

    def __init__(self, features, answers, text_ids, train, test, settings):
        from sklearn.model_selection import GroupKFold

        self.settings, self.train_ids = settings, text_ids[train]
        self.answers = answers.loc[np.unique(self.train_ids)]
        x, self.test, self.inner = features[train], features[test], []
        if len(self.answers) >= 2:  # fewer: too few positives for any code (see scores)
            folds = GroupKFold(min(settings["inner_folds"], len(self.answers)))
            self.inner = [(a, b, x[a], x[b]) for a, b in folds.split(x, groups=self.train_ids)]

    def scores(self, y, j):
        """Test scores for code ``j`` (training labels ``y``) and their threshold: the inner
        models' mean prediction, and the threshold that maximises F1 of their out-of-fold
        predictions on the training answers (None, None when the training answers hold too few
        positives)."""
        positives = self.answers.iloc[:, j]
        if positives.sum() < self.settings["min_positive"] or positives.sum() == len(positives):
            return None, None
        inner, predicted = np.zeros(len(y)), np.zeros(len(self.test))
        for a, b, x_a, x_b in self.inner:
            if len(np.unique(y[a])) < 2:
                return None, None
            model = _logistic(x_a, y[a], self.settings["C"], self.settings["seed"])
            inner[b] = model.predict_proba(x_b)[:, 1]
            predicted += model.predict_proba(self.test)[:, 1] / len(self.inner)
        per_answer = _answer_max(inner[:, None], self.train_ids)[0]
        threshold = best_threshold(per_answer.to_numpy(),
                                   positives.loc[per_answer.index].to_numpy())
        return predicted, threshold


def cross_validated(features, labels, answers, sentences, settings, similarity):
    """Out-of-fold sentence scores, thresholds (per sentence, per code) and the method used."""
    from sklearn.model_selection import GroupKFold

    n, k = labels.shape
    scores, thresholds = similarity.copy(), np.full((n, k), settings["threshold"])
    method = np.full((n, k), "prototype", dtype=object)
    text_ids, groups = sentences["text_id"].to_numpy(), sentences["group"].to_numpy()
    coded = training_sentences(text_ids, groups, ~np.isnan(labels[:, 0]),
                               settings["max_training_answers"], settings["seed"])
    n_groups = len(np.unique(groups[coded]))
    if n_groups < 2:
        return scores, thresholds, method
    folds = GroupKFold(min(settings["folds"], n_groups))
    for f, (train, test) in enumerate(folds.split(np.arange(n), groups=groups), start=1):
        train = train[coded[train]]
        fold = _Fold(features, answers, text_ids, train, test, settings)
        for j in range(k):
            got, threshold = fold.scores(labels[train, j], j)
            if got is not None and threshold is not None:
                scores[test, j], thresholds[test, j] = got, threshold
                method[test, j] = "classifier-cv"
        log.info("semantic: fold %d/%d done (%d training answers): %d codes, %d by classifier",
                 f, folds.get_n_splits(), len(fold.answers), k,
                 int((method[test] == "classifier-cv").any(axis=0).sum()))
    return scores, thresholds, method


def code_texts(texts: pd.DataFrame, codebook: dict, encode: Callable[[list[str]], np.ndarray],
               sheets: pd.DataFrame | None = None, settings: dict | None = None) -> pd.DataFrame:
    """Semantic scores of every (answer, code) of ``texts`` (text_id, text[, participant]).

    Parameters
    ----------
    encode : callable
        ``list[str] -> ndarray`` sentence embeddings (e.g. ``EmbeddingCache.encode``).
    sheets : DataFrame, optional
        Human coder sheets (text_id, coder, code, value, start, end); without them (or with
        too few codes) prototype similarity and the configured threshold decide.
    settings : dict, optional
        Overrides of :data:`DEFAULTS` (threshold, folds, inner_folds, min_positive, C, seed,
        max_training_answers).

    Returns
    -------
    DataFrame
        :data:`SCORE_COLUMNS`, one row per answer x code sorted by text_id and codebook order:
        the best sentence's score, the threshold applied, coded, the sentence span as evidence
        and the method (``prototype`` or ``classifier-cv``).
    """
    settings = {**DEFAULTS, **(settings or {})}
    codes = list(codebook)
    texts = texts.sort_values("text_id", ignore_index=True)
    sentences = sentence_table(texts)
    if sentences.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    proto_codes, proto_texts = prototypes(codebook)
    log.info("semantic: embedding %d sentences of %d answers and %d prototypes", len(sentences),
             len(texts), len(proto_texts))
    vectors = np.asarray(encode(sentences["sentence"].tolist()), dtype=np.float64)
    similarity = prototype_similarity(vectors, np.asarray(encode(proto_texts)), proto_codes,
                                      codes)
    scores = similarity
    thresholds = np.full(similarity.shape, settings["threshold"])
    method = np.full(similarity.shape, "prototype", dtype=object)
    if sheets is not None and len(sheets):
        answers, labels = human_labels(sentences, sheets, codes)
        features = np.hstack([unit_rows(vectors), similarity])
        scores, thresholds, method = cross_validated(features, labels, answers, sentences,
                                                     settings, similarity)
        log.info("semantic: %d of %d codes scored by cross-validated classifiers", int(
            (method == "classifier-cv").any(axis=0).sum()), len(codes))
    return _answer_rows(sentences, scores, thresholds, method, codes)


def _answer_rows(sentences, scores, thresholds, method, codes) -> pd.DataFrame:
    """One row per answer x code (:data:`SCORE_COLUMNS`, sorted by text_id and ``codes``) from
    the answer's best sentence for the code (the first of equal best scores)."""
    order = np.argsort(sentences["text_id"].to_numpy(), kind="stable")
    ids, s = sentences["text_id"].to_numpy()[order], scores[order]
    starts_answer = np.r_[True, ids[1:] != ids[:-1]]
    first, answer = np.flatnonzero(starts_answer), np.cumsum(starts_answer) - 1
    top = np.maximum.reduceat(s, first, axis=0)[answer]
    where = np.where(s == top, np.arange(len(s))[:, None], len(s))
    best = order[np.minimum.reduceat(where, first, axis=0)]
    picked = {name: values[best, np.arange(len(codes))].ravel()
              for name, values in (("score", scores), ("threshold", thresholds),
                                   ("method", method))}
    rows = best.ravel()
    return pd.DataFrame({
        "text_id": ids[first].repeat(len(codes)),
        "code": np.tile(np.asarray(codes, dtype=object), len(first)),
        "score": [round(x, 6) for x in picked["score"].tolist()],
        "threshold": [round(x, 6) for x in picked["threshold"].tolist()],
        "coded": picked["score"] >= picked["threshold"],
        **{c: sentences[c].to_numpy()[rows] for c in ("start", "end")},
        "evidence": sentences["sentence"].to_numpy()[rows],
        "method": picked["method"],
    }, columns=SCORE_COLUMNS)


def coded_pairs(scores: pd.DataFrame) -> set:
    """(text_id, code) pairs the semantic coder gives."""
    return set(map(tuple, scores.loc[scores["coded"].astype(bool), ["text_id", "code"]]
                   .to_numpy()))
