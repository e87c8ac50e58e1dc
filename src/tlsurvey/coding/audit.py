"""Self-contained HTML audit page: every answer with its evidence highlighted by code, filters,
text search, counts after filtering and a disagreements-only view.

Disagreement is measured per answer, not per (answer, code): with a dozen codes, one split code
per answer would flag nearly every answer. ``coders`` is 1 - the mean pairwise Jaccard
similarity of the code sets of the coders who reviewed the answer; an automatic origin's
disagreement (``lexicon``, ``semantic``, ...) is 1 - the Jaccard similarity of its codes and the
codes all coders gave, leaving out codes the coders split on. An answer is *flagged* when a
disagreement exceeds :data:`FLAG` (more than half of the codes involved are disputed); the
disagreements-only view lists every answer with any disagreement, ranked by the coders'
disagreement, then the automatic origins'. Topic codes label a cluster of answers, not an
answer, and are shown but not counted as disagreement.

All user text is HTML-escaped; the page loads nothing from elsewhere. Filters are buttons
(``aria-pressed``) and a search field, so the page works from the keyboard.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections import namedtuple
from html import escape

import pandas as pd

from tlsurvey.coding.codebook import color
from tlsurvey.io import records

FLAG = 0.5
PROGRESS = 5000  # answers between progress lines
log = logging.getLogger(__name__)
NOT_COUNTED = {"human", "topic"}  # origins that are not automatic coders of single answers

SCRIPT = r"""
const facets = ['code', 'origin', 'coder', 'type', 'case', 'chosen', 'language'];
const chosen = Object.fromEntries(facets.map(f => [f, new Set()]));
let onlyDisagreements = false;
function matches(el) {
  const d = el.dataset, pairs = JSON.parse(d.pairs);
  const c = chosen.code, o = chosen.origin, k = chosen.coder;
  if (c.size || o.size || k.size) {
    const hit = pairs.some(([code, origin, coder]) => (!c.size || c.has(code))
      && (!o.size || o.has(origin)) && (!k.size || k.has(coder)));
    if (!hit) return false;
  }
  const any = (facet, values) => !chosen[facet].size
    || values.some(v => chosen[facet].has(v));
  const words = s => s ? s.split(' ') : [];
  if (!any('type', words(d.types)) || !any('case', [d.case]) || !any('chosen', words(d.chosen))
      || !any('language', [d.language || '']))
    return false;
  if (onlyDisagreements && !d.types) return false;
  const q = document.getElementById('search').value.trim().toLowerCase();
  return !q || el.textContent.toLowerCase().includes(q);
}
function apply() {
  const list = document.getElementById('texts');
  const items = Array.from(list.children);
  const key = onlyDisagreements ? (a, b) => b.dataset.score - a.dataset.score
    || a.dataset.order - b.dataset.order : (a, b) => a.dataset.order - b.dataset.order;
  items.sort(key).forEach(el => list.appendChild(el));
  let shown = 0, flagged = 0;
  for (const el of items) {
    const ok = matches(el);
    el.hidden = !ok;
    if (ok) { shown++; if (el.dataset.flag === '1') flagged++; }
  }
  document.getElementById('count').textContent =
    `Showing ${shown} of ${items.length} answers (${flagged} flagged)`;
}
function toggle(button) {
  const on = button.getAttribute('aria-pressed') !== 'true';
  button.setAttribute('aria-pressed', on);
  if (button.id === 'only') onlyDisagreements = on;
  else chosen[button.dataset.facet][on ? 'add' : 'delete'](button.dataset.value);
  apply();
}
function reset() {
  for (const b of document.querySelectorAll('button[aria-pressed]'))
    b.setAttribute('aria-pressed', 'false');
  facets.forEach(f => chosen[f].clear());
  onlyDisagreements = false;
  document.getElementById('search').value = '';
  apply();
}
document.addEventListener('DOMContentLoaded', () => {
  for (const b of document.querySelectorAll('button[aria-pressed]'))
    b.addEventListener('click', () => toggle(b));
  document.getElementById('reset').addEventListener('click', reset);
  document.getElementById('search').addEventListener('input', apply);
  document.addEventListener('keydown', e => {
    if (e.key === '/' && document.activeElement.id !== 'search') {
      e.preventDefault(); document.getElementById('search').focus();
    }
  });
  apply();
});
"""
STYLE = """
body{font-family:sans-serif;max-width:64em;margin:auto;padding:0 1em}
fieldset{border:1px solid #ccc;margin:.3em 0;padding:.2em .5em}
legend{font-weight:bold;font-size:.9em}
button{margin:.1em;padding:.15em .5em;border:1px solid #888;border-radius:3px;background:#fff}
button[aria-pressed=true]{background:#1f4e79;color:#fff}
button:focus-visible,input:focus-visible{outline:3px solid #e69f00;outline-offset:1px}
.text{border:1px solid #ccc;margin:.6em 0;padding:.5em}
.text.flag{border-left:6px solid #d62728}
mark{padding:0 .1em;border-radius:2px}
.meta{color:#444;font-size:.85em}
.chip{display:inline-block;padding:0 .4em;margin:.1em;border-radius:3px;font-size:.85em}
#count{font-weight:bold}
"""


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _sets(human: pd.DataFrame | None) -> dict:
    """{text_id: {coder: set of codes}} over the texts each coder reviewed."""
    if human is None or human.empty:
        return {}
    human = human.dropna(subset=["text_id", "coder"])
    given = {}
    for text_id, coder, code, value in records(human, ["text_id", "coder", "code", "value"]):
        codes = given.setdefault((text_id, coder), set())
        if value == 1:
            codes.add(code)
    out = {}
    for text_id, coder in sorted(given):
        out.setdefault(text_id, {})[str(coder)] = given[text_id, coder]
    return out


def disagreement(human: pd.DataFrame | None, codes: pd.DataFrame) -> pd.DataFrame:
    """Per answer reviewed by a coder: ``coders`` and one column per automatic origin (degrees
    in [0, 1], NaN when undefined), ``split`` (codes the coders split on), ``score`` (ranking
    key) and ``flagged`` (types above :data:`FLAG`)."""
    origins = sorted(set(codes["origin"]) - NOT_COUNTED)
    auto = {}
    for text_id, origin, code in records(codes, ["text_id", "origin", "code"]):
        auto.setdefault((text_id, origin), set()).add(code)
    rows = []
    for text_id, by_coder in _sets(human).items():
        sets = list(by_coder.values())
        pairs = list(itertools.combinations(sets, 2))
        row = {"text_id": text_id, "coders": (1 - sum(_jaccard(a, b) for a, b in pairs)
                                              / len(pairs)) if pairs else float("nan")}
        everyone, anyone = set.intersection(*sets), set.union(*sets)
        split = anyone - everyone
        row["split"] = sorted(split)
        for origin in origins:
            row[origin] = 1 - _jaccard(auto.get((text_id, origin), set()) - split, everyone)
        rows.append(row)
    table = pd.DataFrame(rows, columns=["text_id", "coders", "split", *origins])
    degrees = table[["coders", *origins]]
    table["score"] = degrees["coders"].fillna(0) + degrees[origins].max(axis=1).fillna(0) / 10
    table["flagged"] = [[t for t, above in zip(degrees.columns, row, strict=True) if above]
                        for row in (degrees > FLAG).to_numpy()]
    return table.set_index("text_id")


def _segments(text: str, spans: list[dict]) -> str:
    """``text`` with each span wrapped in <mark>; overlaps split into segments."""
    cuts = sorted({0, len(text), *(s["start"] for s in spans), *(s["end"] for s in spans)})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        cover = frozenset((s["code"], s["who"]) for s in spans if s["start"] <= a and s["end"] >= b)
        piece = escape(text[a:b])
        out.append(f"{_mark(cover)}{piece}</mark>" if cover else piece)
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _mark(cover: frozenset) -> str:
    """Opening <mark> tag of a segment covered by the (code, who) pairs ``cover``."""
    codes = sorted({code for code, _ in cover})
    title = "; ".join(sorted({f"{code} <- {who}" for code, who in cover}))
    return (f'<mark class="code-{codes[0]}" data-codes="{escape(" ".join(codes))}" '
            f'title="{escape(title)}">')


def _facet(name: str, legend: str, values, labels=None) -> str:
    labels = labels or {}
    buttons = "".join(f'<button type="button" aria-pressed="false" data-facet="{name}" '
                      f'data-value="{escape(v)}">{escape(labels.get(v, v))}</button>'
                      for v in values)
    return f'<fieldset role="group"><legend>{escape(legend)}</legend>{buttons}</fieldset>'


Code = namedtuple("Code", ["code", "origin", "source", "evidence"])
Human = namedtuple("Human", ["code", "coder", "value", "start", "end"])


def _by_text(table: pd.DataFrame, record) -> dict:
    """{text_id: list of ``record`` (a namedtuple of columns of ``table``)} in table order."""
    out = {}
    for text_id, *values in records(table, ["text_id", *record._fields]):
        out.setdefault(text_id, []).append(record._make(values))
    return out


def _pairs_and_spans(mine: list, human: list | None, text: str):
    """(code, origin, coder) triples of one answer (``mine``: its :data:`Code` records,
    ``human``: its :data:`Human` records) and its highlighted spans."""
    pairs, spans = set(), []
    for c in mine:
        if c.origin == "human":
            continue
        pairs.add((c.code, c.origin, ""))
        if c.origin != "topic":  # topics: chips only
            spans += [{**s, "code": c.code, "who": f"{c.origin}:{s['term_id']}"}
                      for s in json.loads(c.evidence)]
    if human is not None:
        for h in human:
            if h.value != 1:
                continue
            pairs.add((h.code, "human", str(h.coder)))
            if pd.notna(h.start):
                spans.append({"start": int(h.start), "end": int(h.end), "code": h.code,
                              "who": f"coder {h.coder}"})
    spans = [s for s in spans if 0 <= s["start"] < s["end"] <= len(text)]
    return sorted(pairs), spans


def _degrees(row: dict | None) -> str:
    """The degrees line of an answer (``row``: its :func:`disagreement` row as a dict)."""
    if row is None:
        return "no coder"
    parts = [f"{name} {row[name]:.2f}" for name in row
             if name not in ("split", "score", "flagged") and pd.notna(row[name])]
    split = f" | coders split on: {', '.join(row['split'])}" if row["split"] else ""
    return "disagreement " + ", ".join(parts) + split


def _swatches(ids, study) -> str:
    """Chosen sources as labels with their study colour."""
    if not ids:
        return "-"
    return ", ".join(f'<span class="chip" style="border:2px solid {study.color(i)}">'
                     f'{escape(study.label(i))}</span>' if study else escape(i) for i in ids)


def _chip(codebook: dict, code: str, origin: str, source) -> str:
    return (f'<span class="chip" style="background:{color(codebook, code)}">'
            f'{escape(code)} &larr; {escape(origin)}: {escape(str(source))}</span>')


def _text_block(row, order: int, mine, human, chip, degree, chosen, swatches,
                study=None) -> str:
    """One answer's <article>. ``chip(code, origin, source)`` and ``swatches(chosen)`` give the HTML
    of a code chip and of the chosen sources (memoised by the caller), ``degree`` is the answer's
    :func:`disagreement` row as a dict (None without coders)."""
    text = str(row.text)
    pairs, spans = _pairs_and_spans(mine, human, text)
    chips = "".join(chip(c.code, c.origin, c.source) for c in mine)
    case = row.case_study if isinstance(row.case_study, str) else ""
    language = str(getattr(row, "language", "") or "")
    types = [] if degree is None else [t for t in degree
                                       if t not in ("split", "score", "flagged")
                                       and pd.notna(degree[t]) and degree[t] > 0]
    flagged = [] if degree is None else degree["flagged"]
    score = 0.0 if degree is None else float(degree["score"])
    flag = f" | <b>flagged</b>: {escape(', '.join(flagged))}" if flagged else ""
    return (f'<article class="text{" flag" if flagged else ""}" data-order="{order}" '
            f'data-score="{score:.6f}" data-flag="{int(bool(flagged))}" '
            f'data-types="{escape(" ".join(types))}" data-case="{escape(case)}" '
            f'data-language="{escape(language)}" '
            f'data-chosen="{escape(" ".join(chosen))}" data-text-id="{escape(row.text_id)}" '
            f'data-pairs="{escape(json.dumps(pairs))}">'
            f'<div class="meta">{escape(str(row.text_id))} | wave {escape(str(row.wave))} | '
            f'{escape(str(row.field))} {escape(study.label(case) if study else case)} | '
            f'chose {swatches(tuple(chosen))}'
            f'{f" | language <b>{escape(language)}</b>" if language else ""}'
            f' | {escape(_degrees(degree))}{flag}</div>'
            f'<p>{_segments(text, spans)}</p><div>{chips}</div></article>')


def _chosen(texts: pd.DataFrame, choices: pd.DataFrame | None) -> dict:
    """Source(s) chosen for each answer: its case study's choice, else all the participant's."""
    if choices is None or choices.empty:
        return {}
    by_case = choices.set_index(["participant", "case_study"])["source"].to_dict()
    by_person = {}
    for participant, source in records(choices, ["participant", "source"]):
        by_person.setdefault(participant, set()).add(source)
    by_person = {p: sorted(sources) for p, sources in by_person.items()}
    return {r.text_id: ([by_case[(r.participant, r.case_study)]]
                        if (r.participant, r.case_study) in by_case
                        else by_person.get(r.participant, []))
            for r in records(texts, ["text_id", "participant", "case_study"])}


def _ordered(values, study, kind: str) -> list[str]:
    """Distinct ``values`` in the study's order of case studies / choice options, else sorted."""
    values = set(values)
    order = list(study.case_study_ids if kind == "case" else study.choice_ids) if study else []
    return [v for v in order if v in values] + sorted(values - set(order))


def render_audit(texts: pd.DataFrame, codes: pd.DataFrame, codebook: dict,
                 human: pd.DataFrame | None = None, choices: pd.DataFrame | None = None,
                 study=None) -> str:
    """The audit page as one HTML string (no external resources).

    ``human`` is the coder-sheet table (text_id, coder, code, value, start, end), ``choices``
    the ingest choices table (participant, case_study, source), ``study`` the
    :class:`~tlsurvey.study.Study` giving labels and colours of case studies and sources.
    """
    title = f"{study.title}: coding audit" if study else "Coding audit"
    labels = {i: study.label(i) for i in (*study.case_study_ids, *study.choice_ids)} \
        if study else {}
    texts = texts.sort_values("text_id", ignore_index=True)
    degrees = disagreement(human, codes)
    chosen = _chosen(texts, choices)
    by_text = _by_text(codes, Code)
    by_human = _by_text(human, Human) if human is not None else {}
    rows = degrees.to_dict("index")
    chip = functools.cache(functools.partial(_chip, codebook))
    swatches = functools.cache(lambda ids: _swatches(ids, study))
    blocks = []
    for i, r in enumerate(records(texts)):
        blocks.append(_text_block(
            r, i, by_text.get(r.text_id, []), by_human.get(r.text_id), chip,
            rows.get(r.text_id), chosen.get(r.text_id, []), swatches, study))
        if (i + 1) % PROGRESS == 0 or i + 1 == len(texts):
            log.info("audit page: %d/%d answers", i + 1, len(texts))
    body = "\n".join(blocks)
    css = "".join(f".code-{c}{{background:{color(codebook, c)}80}}\n" for c in codebook)
    origins = sorted(set(codes["origin"]) | ({"human"} if by_human else set()))
    coders = sorted(human["coder"].astype(str).unique()) if human is not None else []
    kinds = ["coders", *sorted(set(degrees.columns) - {"coders", "split", "score", "flagged"})]
    sources = sorted({s for values in chosen.values() for s in values})
    filters = "".join([
        _facet("code", "code", list(codebook), {c: s["label"] for c, s in codebook.items()}),
        _facet("origin", "origin", origins), _facet("coder", "coder", coders),
        _facet("type", "disagreement", kinds),
        _facet("case", "case study", _ordered(texts["case_study"].dropna(), study, "case"),
               labels),
        _facet("chosen", "chosen source", _ordered(sources, study, "choice"), labels),
        _facet("language", "language", sorted(texts["language"].dropna().astype(str).unique()))
        if "language" in texts else ""])
    n_flag = int(degrees["flagged"].map(bool).sum())
    n_any = int((degrees[kinds].fillna(0) > 0).any(axis=1).sum())
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}{css}</style>"
            f"<script>{SCRIPT}</script></head><body><main>"
            f"<h1>{escape(title)}</h1><p>{len(texts)} answers; {n_any} with a disagreement "
            f"between coders or between an automatic origin and the coders, {n_flag} flagged "
            f"(disagreement above {FLAG:g}: more than half of the codes involved disputed).</p>"
            f'<section aria-label="filters">{filters}'
            f'<p><label>search <input type="search" id="search" '
            f'placeholder="words in the answer (press /)"></label> '
            f'<button type="button" id="only" aria-pressed="false">disagreements only, ranked'
            f'</button> <button type="button" id="reset">reset filters</button></p></section>'
            f'<p id="count" role="status" aria-live="polite"></p>'
            f'<div id="texts">\n{body}\n</div></main></body></html>\n')
