"""Ambiguous terms: the sense each participant gives a term, and where participants disagree.

The sense of one use of an ambiguous term is the code of the nearest unambiguous coded match
in the same sentence ("the domain gap in *appearance*" -> visual_similarity; "*visually*
similar" -> visual_similarity via the longer match that contains it), else the term's own code
(or "unqualified"). A participant's sense is their most frequent one. Disagreement is the
Gini-Simpson diversity of participants' senses: 0 when all agree.
"""

from __future__ import annotations

import re
from collections import namedtuple

import pandas as pd

from tlsurvey.coding.lexicon import coded

SENTENCE = re.compile(r"[^.;!?\n]+")
COLUMNS = ["term_id", "disagreement", "n_participants_term", "n_senses", "sense",
           "n_participants", "n_uses", "participant", "text_id", "quote"]


def _sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in SENTENCE.finditer(text)] or [(0, len(text))]


def _sense(use, qualifiers: list, bounds) -> str:
    """Code of the qualifier covering ``use``, else of the nearest unambiguous one in its
    sentence, else the term's own code (``qualifiers``: records of one text, in match order)."""
    for q in qualifiers:
        if q.start <= use.start and q.end >= use.end and q.term_id != use.term_id:
            return str(q.code)
    lo, hi = next(((a, b) for a, b in bounds if a <= use.start < b), (0, 0))
    near = [q for q in qualifiers if q.start >= lo and q.end <= hi and not q.ambiguous]
    if near:
        return str(min(near, key=lambda q: abs(q.start - use.start)).code)
    return use.code if isinstance(use.code, str) else "unqualified"


Match = namedtuple("Match", ["text_id", "term_id", "code", "start", "end", "ambiguous"])


def _records(matches: pd.DataFrame) -> list[Match]:
    return list(map(Match._make, zip(*(matches[f] for f in Match._fields), strict=True)))


def term_uses(matches: pd.DataFrame, texts: pd.DataFrame) -> pd.DataFrame:
    """One row per non-negated use of an ambiguous term: participant, term_id, sense, quote."""
    body = dict(zip(texts["text_id"], texts["text"], strict=True))
    person = dict(zip(texts["text_id"], texts["participant"], strict=True))
    qualifiers: dict[str, list[Match]] = {}
    for q in _records(coded(matches)):
        qualifiers.setdefault(q.text_id, []).append(q)
    uses = _records(matches[matches["ambiguous"] & ~matches["negated"]])
    rows, bounds = [], {}
    for use in sorted(uses, key=lambda u: u.text_id):  # stable: match order within a text
        text = str(body[use.text_id])
        if use.text_id not in bounds:
            bounds[use.text_id] = _sentences(text)
        lo, hi = next(((a, b) for a, b in bounds[use.text_id] if a <= use.start < b),
                      (0, len(text)))
        rows.append({"participant": person[use.text_id], "text_id": use.text_id,
                     "term_id": use.term_id,
                     "sense": _sense(use, qualifiers.get(use.text_id, []), bounds[use.text_id]),
                     "quote": text[lo:hi].strip()})
    return pd.DataFrame(rows, columns=["participant", "text_id", "term_id", "sense", "quote"])


def gini_simpson(counts) -> float:
    """``1 - sum p_i^2`` of category counts: 0 when one category, towards 1 when many."""
    counts = pd.Series(counts, dtype=float)
    p = counts / counts.sum()
    return float(1 - (p ** 2).sum())


def ambiguous_terms(matches: pd.DataFrame, texts: pd.DataFrame) -> pd.DataFrame:
    """Ambiguous terms ranked by how much participants' senses disagree, one row per sense,
    each with a quote; sorted by disagreement (descending), term, participants per sense."""
    uses = term_uses(matches, texts)
    rows = []
    for term_id, part in uses.groupby("term_id", sort=True):
        per_person = (part.groupby(["participant", "sense"]).size().reset_index(name="n")
                      .sort_values(["participant", "n", "sense"], ascending=[True, False, True])
                      .drop_duplicates("participant"))
        senses = per_person["sense"].value_counts()
        score = gini_simpson(senses)
        for sense, n_people in senses.items():
            example = part[part["sense"] == sense].iloc[0]
            rows.append({"term_id": term_id, "disagreement": round(score, 6),
                         "n_participants_term": len(per_person), "n_senses": len(senses),
                         "sense": sense, "n_participants": int(n_people),
                         "n_uses": int((part["sense"] == sense).sum()),
                         "participant": example["participant"], "text_id": example["text_id"],
                         "quote": example["quote"]})
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values(["disagreement", "term_id", "n_participants", "sense"],
                           ascending=[False, True, False, True], ignore_index=True)
