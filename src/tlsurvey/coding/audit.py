"""Self-contained HTML audit page: every text with its evidence spans highlighted by code.

All user text is HTML-escaped. Texts with a disagreement (human-human or lexicon-human) come
first; a small inline script filters by code, participant and case study. Lexicon and human
spans are highlighted; topic codes appear as chips naming the topic.
"""

from __future__ import annotations

import json
from html import escape

import pandas as pd

from tlsurvey.coding.codebook import color

SCRIPT = """
function applyFilter() {
  const v = id => document.getElementById(id).value;
  for (const el of document.querySelectorAll('.text')) {
    const ok = (!v('f-code') || el.dataset.codes.split(' ').includes(v('f-code')))
      && (!v('f-participant') || el.dataset.participant === v('f-participant'))
      && (!v('f-case') || el.dataset.case === v('f-case'));
    el.style.display = ok ? '' : 'none';
  }
}
"""
STYLE = """
body{font-family:sans-serif;max-width:60em;margin:auto}
.text{border:1px solid #ccc;margin:.6em 0;padding:.5em}
.text.disagree{border-left:6px solid #d62728}
mark{padding:0 .1em;border-radius:2px}
.meta{color:#555;font-size:.85em}
.chip{display:inline-block;padding:0 .4em;margin:.1em;border-radius:3px;font-size:.85em}
"""


def _segments(text: str, spans: list[dict]) -> str:
    """``text`` with each span wrapped in <mark>; overlaps split into segments."""
    cuts = sorted({0, len(text), *(s["start"] for s in spans), *(s["end"] for s in spans)})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        cover = [s for s in spans if s["start"] <= a and s["end"] >= b]
        piece = escape(text[a:b])
        if cover:
            codes = sorted({s["code"] for s in cover})
            title = "; ".join(sorted({f"{s['code']} <- {s['origin']}:{s['term_id']}"
                                      for s in cover}))
            out.append(f'<mark class="code-{codes[0]}" data-codes="{escape(" ".join(codes))}" '
                       f'title="{escape(title)}">{piece}</mark>')
        else:
            out.append(piece)
    return "".join(out)


def _select(name: str, label: str, values) -> str:
    options = "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
    return (f'<label>{label} <select id="{name}" onchange="applyFilter()">'
            f'<option value="">all</option>{options}</select></label> ')


def _text_block(row, mine: pd.DataFrame, codebook: dict, disagree: dict) -> str:
    spans = [{**s, "code": c.code, "origin": c.origin} for c in mine.itertuples()
             if c.origin != "topic" for s in json.loads(c.evidence)]  # topics: chips only
    chips = "".join(
        f'<span class="chip" style="background:{color(codebook, c.code)}">'
        f'{escape(c.code)} &larr; {escape(c.origin)}: {escape(str(c.source))}</span>'
        for c in mine.itertuples())
    case = row.case_study if isinstance(row.case_study, str) else ""
    flag = " disagree" if row.text_id in disagree else ""
    review = escape(", ".join(disagree.get(row.text_id, [])))
    return (f'<div class="text{flag}" data-codes="{escape(" ".join(sorted(set(mine["code"]))))}" '
            f'data-participant="{escape(str(row.participant))}" data-case="{escape(case)}">'
            f'<div class="meta">{escape(str(row.text_id))} | wave {escape(str(row.wave))} | '
            f'{escape(str(row.field))} {escape(case)}'
            f'{f" | <b>disagreement</b>: {review}" if flag else ""}</div>'
            f'<p>{_segments(str(row.text), spans)}</p><div>{chips}</div></div>')


def render_audit(texts: pd.DataFrame, codes: pd.DataFrame, codebook: dict,
                 disagreements: pd.DataFrame | None = None, title: str = "tlsurvey coding audit"
                 ) -> str:
    """The audit page as one HTML string (no external resources)."""
    disagree = ({} if disagreements is None else
                disagreements.groupby("text_id")["code"].agg(sorted).to_dict())
    order = texts.assign(_d=~texts["text_id"].isin(disagree)).sort_values(["_d", "text_id"])
    css = "".join(f".code-{c}{{background:{color(codebook, c)}80}}\n" for c in codebook)
    legend = "".join(f'<span class="chip code-{c}">{escape(c)}: {escape(spec["label"])}</span>'
                     for c, spec in codebook.items())
    cases = sorted(texts["case_study"].dropna().unique())
    filters = (_select("f-code", "code", list(codebook))
               + _select("f-participant", "participant", sorted(texts["participant"].unique()))
               + _select("f-case", "case study", cases))
    by_text = dict(list(codes.groupby("text_id", sort=False)))
    body = "\n".join(_text_block(r, by_text.get(r.text_id, codes.iloc[:0]), codebook, disagree)
                     for r in order.itertuples())
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{STYLE}{css}</style><script>{SCRIPT}</script></head><body>"
            f"<h1>{escape(title)}</h1><p>{len(texts)} texts, {len(disagree)} with disagreements "
            f"(shown first).</p><div>{legend}</div><p>{filters}</p>\n{body}\n</body></html>\n")
