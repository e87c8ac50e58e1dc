"""Participant-flow diagram as inline SVG (raw -> exclusions -> analysed)."""

from __future__ import annotations

from html import escape

import pandas as pd

BOX_W, BOX_H, GAP = 210, 34, 26


def steps(flow: pd.DataFrame, wave: str = "total") -> tuple[int, list[tuple[str, int]], int]:
    """Raw count, (reason, n) exclusions and analysed count of ``wave`` in a flow table."""
    rows = flow[flow["wave"].astype(str) == wave]
    counts = dict(zip(rows["step"].astype(str), rows["n"].astype(int), strict=True))
    excluded = [(s.split(":", 1)[1], n) for s, n in counts.items() if s.startswith("excluded:")]
    return counts.get("raw", 0), excluded, counts.get("analysed", 0)


def box(x: int, y: int, w: int, h: int, lines: list[str]) -> str:
    """A rectangle with centred text lines."""
    text = "".join(
        f'<text x="{x + w / 2:g}" y="{y + 14 + 12 * i:g}" text-anchor="middle">'
        f"{escape(line)}</text>" for i, line in enumerate(lines)
    )
    return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" class="box"/>{text}'


def arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    """A line with an arrow head at (x2, y2)."""
    return (f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" class="edge" '
            'marker-end="url(#head)"/>')


def flow_svg(flow: pd.DataFrame, wave: str = "total") -> str:
    """SVG markup of the participant flow of ``wave`` (all text escaped)."""
    raw, excluded, analysed = steps(flow, wave)
    side_h = max(BOX_H, 16 + 12 * sum(1 for _, n in excluded if n))
    x0, y_raw = 10, 10
    y_side = y_raw + BOX_H + GAP
    y_end = y_side + side_h + GAP
    n_excluded = sum(n for _, n in excluded)
    reasons = [f"{r.replace('_', ' ')}: {n}" for r, n in excluded if n]
    side_lines = [f"Excluded (n = {n_excluded})", *reasons]
    mid = x0 + BOX_W / 2
    parts = [
        box(x0, y_raw, BOX_W, BOX_H, [f"Responses received (n = {raw})"]),
        box(x0 + BOX_W + 40, y_side, BOX_W, side_h, side_lines),
        box(x0, y_end, BOX_W, BOX_H, [f"Analysed (n = {analysed})"]),
        arrow(mid, y_raw + BOX_H, mid, y_end),
        arrow(mid, y_side + side_h / 2, x0 + BOX_W + 40, y_side + side_h / 2),
    ]
    width, height = x0 + 2 * BOX_W + 50, y_end + BOX_H + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Participant flow ({escape(wave)})">'
        '<defs><marker id="head" markerWidth="8" markerHeight="8" refX="7" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>'
        '<style>.box{fill:#f4f4f4;stroke:#333;stroke-width:1}.edge{stroke:#333;stroke-width:1.2}'
        'text{font:11px sans-serif;fill:#111}</style>' + "".join(parts) + "</svg>"
    )
