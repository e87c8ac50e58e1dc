"""The codes table: one row per (text_id, code, origin) with evidence spans and provenance."""

from __future__ import annotations

import json
import re

import pandas as pd

from tlsurvey.coding.lexicon import coded

META = ["participant", "wave", "field", "case_study"]
COLUMNS = ["text_id", "code", "origin", *META, "source", "evidence", "lexicon_sha256",
           "embedding_model", "embedding_sha256", "seed"]
ORIGINS = ("lexicon", "semantic", "topic", "human")
_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps(..., ensure_ascii=False), built once


def _columns(table: pd.DataFrame, *names) -> list[list]:
    """Columns of ``table`` as Python lists (iterating Arrow-backed columns is slow)."""
    return [table[name].tolist() for name in names]


def _span(start, end, text, term_id, **extra) -> dict:
    return {"start": int(start), "end": int(end), "text": text, "term_id": term_id, **extra}


def lexicon_rows(matches: pd.DataFrame) -> list[dict]:
    """Codes given by kept, non-negated lexicon matches, with their spans as evidence."""
    part = coded(matches)
    groups: dict[tuple, list] = {}
    for text_id, code, start, end, matched, term_id in zip(
            *_columns(part, "text_id", "code", "start", "end", "matched", "term_id"),
            strict=True):
        groups.setdefault((text_id, code), []).append(_span(start, end, matched, term_id))
    return [{"text_id": text_id, "code": code, "origin": "lexicon",
             "source": ";".join(sorted({s["term_id"] for s in spans})), "evidence": spans}
            for (text_id, code), spans in sorted(groups.items())]


def semantic_rows(scores: pd.DataFrame) -> list[dict]:
    """Codes the semantic coder gave; evidence = the best sentence, with its score and threshold."""
    given = scores[scores["coded"].astype(bool)]
    return [{"text_id": text_id, "code": code, "origin": "semantic", "source": method,
             "evidence": [_span(start, end, evidence, method, score=float(score),
                                threshold=float(threshold))]}
            for text_id, code, start, end, evidence, method, score, threshold in zip(
                *_columns(given, "text_id", "code", "start", "end", "evidence", "method",
                          "score", "threshold"), strict=True)]


def topic_rows(topics: pd.DataFrame, info: pd.DataFrame, texts: pd.DataFrame,
               codebook=None) -> list[dict]:
    """Codes of texts in a topic mapped to a code (not ``unmapped``); evidence = the topic's top
    words in the text."""
    mapped = info.dropna(subset=["code"])
    mapped = mapped[mapped["code"].isin(list(codebook))] if codebook is not None else mapped
    patterns = {}  # topic -> (code, label, pattern of its top words or None)
    for topic, code, label, top_words in zip(
            *_columns(mapped, "topic", "code", "label", "top_words"), strict=True):
        words = [w for w in top_words.split("; ") if w]
        patterns[topic] = (code, label, re.compile(
            r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE) if words else None)
    text = dict(zip(*_columns(texts, "text_id", "text"), strict=True))
    rows = []
    for text_id, topic in zip(*_columns(topics, "text_id", "topic"), strict=True):
        if topic not in patterns:
            continue
        code, label, pattern = patterns[topic]
        spans = [_span(m.start(), m.end(), m.group(), f"topic:{topic}")
                 for m in pattern.finditer(str(text[text_id]))] if pattern else []
        rows.append({"text_id": text_id, "code": code, "origin": "topic", "source": label,
                     "evidence": spans})
    return rows


def human_rows(sheets: pd.DataFrame, texts: pd.DataFrame) -> list[dict]:
    """Codes any human coder gave (value 1); evidence = coder spans when the sheet has them."""
    text = dict(zip(*_columns(texts, "text_id", "text"), strict=True))
    positive = sheets[sheets["value"] == 1]
    groups: dict[tuple, tuple[list, set]] = {}
    for text_id, code, coder, start, end in zip(
            *_columns(positive, "text_id", "code", "coder", "start", "end"), strict=True):
        spans, coders = groups.setdefault((text_id, code), ([], set()))
        coders.add(coder)
        if pd.notna(start) and pd.notna(end):
            spans.append(_span(start, end, str(text[text_id])[int(start):int(end)],
                               f"coder:{coder}"))
    return [{"text_id": text_id, "code": code, "origin": "human",
             "source": ";".join(sorted(coders)), "evidence": spans}
            for (text_id, code), (spans, coders) in sorted(groups.items())]


SUMMARY_COLUMNS = ["origin", "n_texts", "n_texts_coded", "n_codes", "n_non_english",
                   "n_non_english_uncoded"]


def summary(texts: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Per origin: answers, answers given at least one code, codes, and how many answers are
    not in English (``language`` of texts, detected when absent) and got no code from it."""
    from tlsurvey.coding.language import codeable, detect_languages

    languages = (texts["language"] if "language" in texts
                 else pd.Series(detect_languages(texts["text"]), index=texts.index))
    foreign = set(texts.loc[[not ok for ok in codeable(languages)], "text_id"])
    rows = []
    for origin in ORIGINS:
        mine = table[table["origin"] == origin]
        coded_ids = set(mine["text_id"])
        rows.append({"origin": origin, "n_texts": len(texts), "n_texts_coded": len(coded_ids),
                     "n_codes": len(mine), "n_non_english": len(foreign),
                     "n_non_english_uncoded": len(foreign - coded_ids)})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _span_order(span: dict) -> tuple:
    return span["start"], span["end"]


def build_codes(texts: pd.DataFrame, rows: list[dict], provenance: dict) -> pd.DataFrame:
    """Assemble rows from :func:`lexicon_rows`, :func:`topic_rows`, :func:`human_rows`.

    ``provenance`` holds lexicon_sha256, embedding_model, embedding_sha256 and seed; evidence is
    serialised as a JSON list of {start, end, text, term_id}. Sorted by text_id, code, origin.
    """
    out = pd.DataFrame(rows, columns=["text_id", "code", "origin", "source", "evidence"])
    out["evidence"] = [_JSON.encode(sorted(e, key=_span_order) if len(e) > 1 else e)
                       for e in out["evidence"].tolist()]
    out = out.merge(texts[["text_id", *META]], on="text_id", how="left")
    for key in COLUMNS[-4:]:
        out[key] = provenance.get(key)
    out["origin_order"] = out["origin"].map({o: i for i, o in enumerate(ORIGINS)})
    out = out.sort_values(["text_id", "code", "origin_order"]).drop(columns="origin_order")
    return out[COLUMNS].reset_index(drop=True)
