"""Lexicon coding with spaCy: lemma phrases and token patterns mapped to codes, with negation.

The pipeline is ``spacy.blank("en")`` plus the lookup lemmatizer; a small component then sets
each token's NORM to its lower-cased lemma, and both the PhraseMatcher and the Matcher match on
NORM. Overlapping matches are resolved longest-first (``kept``); a match preceded (or followed)
by a negation cue in the same clause is ``negated`` and codes nothing, unless its term has
``keep_negated`` (a noted absence still counts, as the codebook says for that code). A term's
``context`` rules (words required or excluded near it in the same sentence) mark matches
``out_of_context``. A term with ``qualifiers`` yields to those codes in its sentence (or
anywhere in the answer, ``qualifier_scope: answer``). Unknown words one edit away from a
lexicon word (``evryone``) are read as that word before matching.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tlsurvey.config import file_sha256, load_yaml
from tlsurvey.errors import InputError
from tlsurvey.imports import blocked
from tlsurvey.io import read_table, write_table

if TYPE_CHECKING:  # spaCy is imported by the matching functions only (3 s of start-up)
    from spacy.language import Language
    from spacy.matcher import Matcher, PhraseMatcher

MATCH_COLUMNS = ["text_id", "field", "code", "term_id", "start", "end", "matched", "negated",
                 "kept", "qualified", "ambiguous", "out_of_context", "keep_negated"]
MIN_TYPO_LENGTH = 6  # shorter words are not corrected
log = logging.getLogger(__name__)


def _make_lemma_norm(nlp, name):
    tables = []  # the lemmatizer's lookup table (keys are hashed; look up by string)

    def lemma_norm(doc):
        if not tables:
            tables.append(nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup"))
        for token in doc:
            key = token.lower_.replace("\u2019", "'")  # typographic apostrophe
            token.norm_ = "not" if key == "n't" else tables[0].get(key, token.lemma_.lower())
        return doc

    return lemma_norm


@cache
def pipeline() -> Language:
    """Blank English pipeline with lookup lemmas; NORM holds the lower-cased lemma.

    spaCy is imported with torch blocked (unless torch is already loaded): thinc imports torch
    when it can (3 s of CPU) and a blank pipeline never uses it.
    """
    with blocked("torch"):
        import spacy
        from spacy.language import Language

    if not Language.has_factory("tlsurvey_lemma_norm"):
        Language.factory("tlsurvey_lemma_norm", func=_make_lemma_norm)
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("tlsurvey_lemma_norm")
    nlp.initialize()
    return nlp


def norms(text: str) -> tuple[str, ...]:
    """Lower-cased lemmas of ``text`` as the pipeline sees them."""
    return tuple(t.norm_ for t in pipeline()(text))


@dataclass
class Lexicon:
    """A validated lexicon: terms, negation cues and the file's sha256."""

    path: Path
    sha256: str
    terms: dict
    negation: dict
    _matchers: tuple | None = field(default=None, repr=False)
    _words: frozenset | None = field(default=None, repr=False)

    def code_of(self, term_id: str) -> str | None:
        return self.terms[term_id]["code"]

    def words(self) -> frozenset:
        """Single-word norms of the lexicon's phrases and patterns (targets of typo repair)."""
        if self._words is None:
            found = set()
            for spec in self.terms.values():
                found.update(w for phrase in spec.get("phrases", []) for w in norms(phrase))
                for pattern in spec.get("patterns", []):
                    for token in _lemmatise_pattern(pattern):
                        value = token.get("NORM")
                        found.update([value] if isinstance(value, str) else
                                     (value or {}).get("IN", []) if isinstance(value, dict)
                                     else [])
            self._words = frozenset(found)
        return self._words

    def matchers(self) -> tuple[PhraseMatcher, Matcher]:
        """PhraseMatcher and Matcher over NORM, match ids = term ids (built once)."""
        if self._matchers is None:
            self._matchers = _build_matchers(self)
        return self._matchers


def load_lexicon(path, codes=None) -> Lexicon:
    """Read and validate ``lexicon.yaml``; ``codes`` (codebook ids) checks every term's code."""
    data = load_yaml(path, "lexicon")
    for term_id, spec in data["terms"].items():
        if codes is not None and spec["code"] is not None and spec["code"] not in codes:
            raise InputError(path, f"term {term_id!r}: code {spec['code']!r} not in the codebook")
    return Lexicon(Path(path), file_sha256(path), data["terms"], data["negation"])


def _lemma(word: str) -> str:
    return " ".join(norms(word))


def _lemmatise_pattern(pattern: list[dict]) -> list[dict]:
    """Token pattern with its NORM values (a word or ``{IN: [...]}``) lemmatised like the text."""
    out = []
    for token in pattern:
        value = token.get("NORM")
        if isinstance(value, str):
            token = {**token, "NORM": _lemma(value)}
        elif isinstance(value, dict) and "IN" in value:
            token = {**token, "NORM": {**value, "IN": sorted({_lemma(v) for v in value["IN"]})}}
        out.append(token)
    return out


def _build_matchers(lexicon: Lexicon) -> tuple[PhraseMatcher, Matcher]:
    from spacy.matcher import Matcher, PhraseMatcher

    nlp = pipeline()
    phrase_matcher = PhraseMatcher(nlp.vocab, attr="NORM")
    matcher = Matcher(nlp.vocab)
    owner = {}
    for term_id, spec in sorted(lexicon.terms.items()):
        docs = []
        for phrase in spec.get("phrases", []):
            doc = nlp(phrase)
            key = tuple(t.norm_ for t in doc)
            if owner.setdefault(key, term_id) != term_id:
                raise InputError(lexicon.path, f"phrase {phrase!r} of term {term_id!r} duplicates "
                                 f"term {owner[key]!r}")
            docs.append(doc)
        if docs:
            phrase_matcher.add(term_id, docs)
        if spec.get("patterns"):
            try:
                matcher.add(term_id, [_lemmatise_pattern(p) for p in spec["patterns"]])
            except (ValueError, KeyError) as exc:
                raise InputError(lexicon.path, f"term {term_id!r}: bad pattern: {exc}") from None
    return phrase_matcher, matcher


def _padded(seq) -> str:
    return " " + " ".join(seq) + " "


def _window(words, start: int, end: int, step: int, size: int, breakers: set) -> list[str]:
    """Up to ``size`` norms before (step -1) or after (+1) a match, within the clause."""
    out, i = [], (start - 1 if step < 0 else end)
    while 0 <= i < len(words) and len(out) < size and words[i] not in breakers:
        out.append(words[i])
        i += step
    return out[::-1] if step < 0 else out


def _has_cue(window: list[str], cues: list[str], exceptions: list[str]) -> bool:
    text = _padded(window)
    for exception in exceptions:
        text = text.replace(_padded(exception.split()), " ")
    return any(_padded(cue.split()) in text for cue in cues)


def _negation_cues(lexicon: Lexicon) -> dict:
    neg = lexicon.negation
    return {
        "size": neg["window"],
        "breakers": {_lemma(b) for b in neg["breakers"]},
        "before": [_lemma(c) for c in neg["before"]],
        "after": [_lemma(c) for c in neg["after"]],
        "exceptions": [_lemma(c) for c in neg.get("exceptions", [])],
        "context": {term_id: _lemmatise_context(spec.get("context")) for term_id, spec
                    in lexicon.terms.items()},
    }


def _lemmatise_context(context: dict | None) -> dict | None:
    if not context:
        return None
    return {**context, **{key: [norms(w) for w in context[key]] for key in ("require", "exclude")
                          if key in context}}


def _negated(words, start: int, end: int, cues: dict) -> bool:
    before = _window(words, start, end, -1, cues["size"], cues["breakers"])
    after = _window(words, start, end, 1, cues["size"], cues["breakers"])
    return (_has_cue(before, cues["before"], cues["exceptions"])
            or _has_cue(after, cues["after"], cues["exceptions"]))


SENTENCE_END = {".", "!", "?", ";"}


def _sentences(words, breakers: set = SENTENCE_END) -> list[int]:
    """Sentence number of each token (a breaker token or a line break starts a new one)."""
    ids, current = [], 0
    for word in words:
        current += word in breakers or "\n" in word
        ids.append(current)
    return ids


def _qualify(rows: list[dict], lexicon: Lexicon) -> None:
    """Mark matches of terms with ``qualifiers`` when a qualifier code is in the same sentence
    (anywhere in the answer for terms with ``qualifier_scope: answer``)."""
    for row in rows:
        spec = lexicon.terms[row["term_id"]]
        wanted = set(spec.get("qualifiers", []))
        anywhere = spec.get("qualifier_scope", "sentence") == "answer"
        row["qualified"] = bool(wanted) and row["kept"] and any(
            _gives_code(o) and o["code"] in wanted
            and (anywhere or o["sentence"] == row["sentence"]) for o in rows)


def _gives_code(row) -> bool:
    """A kept, in-context match whose negation (if any) does not cancel it."""
    return (row["kept"] and not row["out_of_context"]
            and (not row["negated"] or row["keep_negated"]))


def _out_of_context(words, sentence, start: int, end: int, context: dict | None) -> bool:
    """Whether the match ``words[start:end]`` breaks its term's ``context`` rules: none of the
    ``require`` words (or an ``exclude`` word) within ``window`` tokens in its sentence."""
    if not context:
        return False
    size = context.get("window", 5)
    near = [w for i, w in enumerate(words[max(0, start - size):end + size], max(0, start - size))
            if sentence[i] == sentence[start] and not start <= i < end]
    text = _padded(near)
    found = [any(_padded(cue) in text for cue in context.get(key, [])) for key in
             ("require", "exclude")]
    return ("require" in context and not found[0]) or found[1]


def _doc_matches(doc, lexicon: Lexicon, cues: dict) -> list[dict]:
    phrase_matcher, matcher = lexicon.matchers()
    vocab = doc.vocab.strings
    raw = {(s, e, vocab[m]) for m, s, e in [*phrase_matcher(doc), *matcher(doc)]}
    words = [t.norm_ for t in doc]
    sentence = _sentences(words)
    taken, rows = set(), []
    for s, e, term_id in sorted(raw, key=lambda r: (r[0] - r[1], r[0], r[2])):
        kept = not taken.intersection(range(s, e))
        if kept:
            taken.update(range(s, e))
        span = doc[s:e]
        spec = lexicon.terms[term_id]
        rows.append({
            "code": lexicon.code_of(term_id), "term_id": term_id, "start": span.start_char,
            "end": span.end_char, "matched": span.text, "negated": _negated(words, s, e, cues),
            "kept": kept, "sentence": sentence[s],
            "ambiguous": bool(spec.get("ambiguous", False)),
            "out_of_context": _out_of_context(words, sentence, s, e, cues["context"][term_id]),
            "keep_negated": bool(spec.get("keep_negated", False)),
        })
    _qualify(rows, lexicon)
    return [{k: v for k, v in row.items() if k != "sentence"} for row in rows]


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (insertions, deletions, substitutions, transpositions)."""
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            best = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, prev2[j - 2] + 1)
            row.append(best)
        prev2, prev = prev, row
    return prev[-1]


@cache
def _lookup() -> tuple:
    """spaCy's English lookup table (keyed by word forms) and the set of its lemmas."""
    table = pipeline().get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    return table, frozenset(table.values())


@cache
def _one_edit_away(word: str, words: frozenset) -> tuple[str, ...]:
    """Lexicon words one edit from ``word`` (memoised: a survey repeats its words)."""
    return tuple(sorted(w for w in words if len(w) >= MIN_TYPO_LENGTH
                        and abs(len(w) - len(word)) <= 1 and edit_distance(w, word) == 1))


def _repair_typos(doc, lexicon: Lexicon) -> None:
    """Set NORM of unknown words one edit away from exactly one lexicon word to that word."""
    words, (forms, lemmas) = lexicon.words(), _lookup()
    for token in doc:
        word = token.norm_
        if (len(word) < MIN_TYPO_LENGTH or not token.is_alpha or word in words
                or word in lemmas or token.lower_ in forms):
            continue
        near = _one_edit_away(word, words)
        if len(near) == 1:
            token.norm_ = near[0]


PROGRESS = 5000  # texts between progress lines


def _match_new(texts: list[str], lexicon: Lexicon, batch_size: int) -> pd.DataFrame:
    """Matches of each distinct text of ``texts`` (column ``key``: its :func:`match_key`); a
    text without matches is one row with no ``term_id`` (so the cache knows it was coded)."""
    cues, rows = _negation_cues(lexicon), []
    for i, (text, doc) in enumerate(zip(texts, pipeline().pipe(texts, batch_size=batch_size),
                                        strict=True), 1):
        _repair_typos(doc, lexicon)
        found = _doc_matches(doc, lexicon, cues) or [{"term_id": None}]
        key = match_key(text)
        rows += [{"key": key, **r} for r in found]
        if i % PROGRESS == 0 or i == len(texts):
            log.info("lexicon: matched %d/%d new texts", i, len(texts))
    return pd.DataFrame(rows, columns=["key", *MATCH_COLUMNS[2:]])


def match_key(text: str) -> str:
    """Key of ``text`` in a :class:`MatchCache` (sha256 of the text)."""
    return hashlib.sha256(text.encode()).hexdigest()


class MatchCache:
    """Lexicon matches of texts, one file per lexicon: ``<cache_dir>/<key>.parquet``, the key a
    hash of the lexicon's and codebook's sha256, spaCy's version and :data:`CACHE_VERSION`.

    An added wave then matches only its own texts; outputs are the same with or without it.
    """

    def __init__(self, cache_dir, lexicon: Lexicon, codebook_sha256: str = ""):
        import spacy

        ident = "\n".join([lexicon.sha256, codebook_sha256, spacy.__version__, CACHE_VERSION])
        self.path = Path(cache_dir) / f"{hashlib.sha256(ident.encode()).hexdigest()[:32]}.parquet"

    def load(self) -> pd.DataFrame | None:
        """The stored matches (None when there are none)."""
        return read_table(self.path) if self.path.exists() else None

    def save(self, table: pd.DataFrame) -> None:
        write_table(table.sort_values(["key", "start", "end", "term_id"], ignore_index=True),
                    self.path)


CACHE_VERSION = "1"  # bump when matching changes


def match_texts(texts: pd.DataFrame, lexicon: Lexicon, batch_size: int = 512,
                cache: MatchCache | None = None) -> pd.DataFrame:
    """Match the lexicon against ``texts`` (columns text_id, field, text).

    Returns one row per match with character offsets ``start``/``end`` into the text,
    ``kept`` (not inside a longer match), ``negated`` and ``qualified`` (a term with
    ``qualifiers`` whose sentence also holds one of those codes yields to them); sorted by
    text_id, start, end, term_id. Each distinct text is matched once; with a ``cache``, only
    texts it does not hold (and they are added to it).
    """
    body = texts["text"].astype(str)
    keys = body.map(match_key)
    stored = cache.load() if cache is not None else None
    known = set(stored["key"]) if stored is not None else set()
    todo = list(dict.fromkeys(t for t, k in zip(body, keys, strict=True) if k not in known))
    log.info("lexicon: %d texts, %d distinct not yet matched", len(texts), len(todo))
    table = _match_new(todo, lexicon, batch_size)
    if stored is not None:
        table = pd.concat([stored, table], ignore_index=True) if len(table) else stored
    if cache is not None and todo:
        cache.save(table)
    ids = pd.DataFrame({"text_id": texts["text_id"].to_numpy(), "field": texts["field"].to_numpy(),
                        "key": keys.to_numpy()})
    out = ids.merge(table[table["term_id"].notna()], on="key").drop(columns="key")
    out = out[MATCH_COLUMNS].astype({"start": "int64", "end": "int64", "negated": bool,
                                     "kept": bool, "qualified": bool, "ambiguous": bool,
                                     "out_of_context": bool, "keep_negated": bool})
    return out.sort_values(["text_id", "start", "end", "term_id"], ignore_index=True)


def coded(matches: pd.DataFrame) -> pd.DataFrame:
    """Matches that give a code: kept, in context, not negated (or negation kept), not
    qualified, with a non-null code."""
    mask = (matches["kept"] & ~matches["out_of_context"]
            & (~matches["negated"] | matches["keep_negated"]) & ~matches["qualified"]
            & matches["code"].notna())
    return matches[mask]
