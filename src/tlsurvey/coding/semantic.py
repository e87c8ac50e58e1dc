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
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

DEFAULTS = {"threshold": 0.5, "folds": 5, "inner_folds": 4, "min_positive": 3, "C": 3.0,
            "seed": 42}
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


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def prototype_similarity(sentences: np.ndarray, protos: np.ndarray, proto_codes: list[str],
                         codes: list[str]) -> np.ndarray:
    """(n_sentences, n_codes) best cosine similarity of each sentence to each code's prototypes."""
    sims = _unit(sentences) @ _unit(protos).T
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
    labels = np.full((len(sentences), len(codes)), np.nan)
    text_ids = sentences["text_id"].to_numpy()
    starts, ends = sentences["start"].to_numpy(), sentences["end"].to_numpy()
    labels[np.isin(text_ids, answers.index)] = 0
    spans = sheets[(sheets["value"] == 1)].dropna(subset=["start", "end"])
    for j, code in enumerate(codes):
        positive = np.isin(text_ids, answers.index[answers[code] == 1])
        mine = {k: g[["start", "end"]].to_numpy(dtype=float)
                for k, g in spans[spans["code"] == code].groupby("text_id")}
        for i in np.flatnonzero(positive):
            theirs = mine.get(text_ids[i])
            labels[i, j] = 1.0 if theirs is None else float(
                ((theirs[:, 0] < ends[i]) & (theirs[:, 1] > starts[i])).any())
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


def _fold_scores(features, labels, answers, text_ids, train, test, j, settings):
    """Scores of sentences ``test`` for code ``j`` and their threshold, from an inner
    cross-validation on sentences ``train``: the inner models' mean prediction, and the threshold
    that maximises F1 of their out-of-fold predictions on the training answers (None, None when
    the training answers hold too few positives)."""
    from sklearn.model_selection import GroupKFold

    y = labels[train, j]
    positives = answers.loc[np.unique(text_ids[train]), answers.columns[j]]
    if positives.sum() < settings["min_positive"] or positives.sum() == len(positives):
        return None, None
    inner, predicted = np.zeros(len(train)), np.zeros(len(test))
    folds = GroupKFold(min(settings["inner_folds"], positives.size))
    for a, b in folds.split(train, groups=text_ids[train]):
        if len(np.unique(y[a])) < 2:
            return None, None
        model = _logistic(features[train][a], y[a], settings["C"], settings["seed"])
        inner[b] = model.predict_proba(features[train][b])[:, 1]
        predicted += model.predict_proba(features[test])[:, 1] / folds.get_n_splits()
    per_answer = _answer_max(inner[:, None], text_ids[train])[0]
    threshold = best_threshold(per_answer.to_numpy(), positives.loc[per_answer.index].to_numpy())
    return predicted, threshold


def cross_validated(features, labels, answers, sentences, settings, similarity):
    """Out-of-fold sentence scores, thresholds (per sentence, per code) and the method used."""
    from sklearn.model_selection import GroupKFold

    n, k = labels.shape
    scores, thresholds = similarity.copy(), np.full((n, k), settings["threshold"])
    method = np.full((n, k), "prototype", dtype=object)
    coded = ~np.isnan(labels[:, 0])
    text_ids, groups = sentences["text_id"].to_numpy(), sentences["group"].to_numpy()
    n_groups = len(np.unique(groups[coded]))
    if n_groups < 2:
        return scores, thresholds, method
    folds = GroupKFold(min(settings["folds"], n_groups))
    for train, test in folds.split(np.arange(n), groups=groups):
        train = train[coded[train]]
        for j in range(k):
            got, threshold = _fold_scores(features, labels, answers, text_ids, train, test, j,
                                          settings)
            if got is not None and threshold is not None:
                scores[test, j], thresholds[test, j] = got, threshold
                method[test, j] = "classifier-cv"
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
        Overrides of :data:`DEFAULTS` (threshold, folds, inner_folds, min_positive, C, seed).

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
        features = np.hstack([_unit(vectors), similarity])
        scores, thresholds, method = cross_validated(features, labels, answers, sentences,
                                                     settings, similarity)
        log.info("semantic: %d of %d codes scored by cross-validated classifiers", int(
            (method == "classifier-cv").any(axis=0).sum()), len(codes))
    return _answer_rows(sentences, scores, thresholds, method, codes)


def _answer_rows(sentences, scores, thresholds, method, codes) -> pd.DataFrame:
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
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def coded_pairs(scores: pd.DataFrame) -> set:
    """(text_id, code) pairs the semantic coder gives."""
    return set(map(tuple, scores.loc[scores["coded"].astype(bool), ["text_id", "code"]]
                   .to_numpy()))
