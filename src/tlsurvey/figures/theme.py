"""One theme for every figure (seaborn "ticks" style in the "paper" context with the project's
font sizes), colours from the study (:meth:`tlsurvey.study.Study.color`, Okabe-Ito by order),
column-width sizes and deterministic saving."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from tlsurvey.imports import blocked  # noqa: E402

# seaborn guards its imports of scipy.stats (KDE) and scipy.cluster (clustermap), which no figure
# uses: about 1 s of imports in every figures process
with blocked("scipy.stats", "scipy.cluster"):
    import seaborn as sns  # noqa: E402

from tlsurvey.figures.common import DPI, labeller, readable, similarity_label  # noqa: E402, F401
from tlsurvey.io import write_bytes  # noqa: E402
from tlsurvey.study import OTHER_COLOR, PALETTE  # noqa: E402

OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
GREY = OTHER_COLOR
NEUTRAL = "#D9D9D9"

SINGLE = 3.5  # inches, one journal column
DOUBLE = 7.0  # inches, two columns
SALT = "tlsurvey"

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 7,
    "axes.titlesize": 7.5,
    "axes.labelsize": 7,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "legend.fontsize": 6.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE)),
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "svg.hashsalt": SALT,
    "pdf.fonttype": 42,
    "path.simplify": False,
}


def apply() -> None:
    """Install the theme: seaborn's ticks style and paper context, then the project's sizes."""
    sns.set_theme(context="paper", style="ticks", palette=list(PALETTE), rc=RC)
    plt.rcParams.update(RC)


def colors(study, ids) -> dict[str, str]:
    """Colour of each id from the study (grey when the study gives none)."""
    return {i: study.color(i) if study is not None else GREY for i in ids}


def diverging(n: int) -> list[str]:
    """``n`` colours from negative (vermillion) through neutral grey to positive (blue); any
    scale length, no repeats."""
    negative = sns.blend_palette([OKABE_ITO["vermillion"], "#F4C7A8"], max(n // 2, 2))
    positive = sns.blend_palette(["#B5D6EC", OKABE_ITO["blue"]], max(n // 2, 2))
    neg = [matplotlib.colors.to_hex(c) for c in negative][: n // 2]
    pos = [matplotlib.colors.to_hex(c) for c in positive][-(n // 2):] if n // 2 else []
    return neg + ([NEUTRAL] if n % 2 else []) + pos


def figure(nrows=1, ncols=1, width=SINGLE, height=None, **kwargs):
    """New figure with an ``nrows`` x ``ncols`` grid of axes (always a 2-D array)."""
    apply()
    height = height if height is not None else width * 0.75
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, height), layout="constrained", squeeze=False, **kwargs
    )
    return fig, axes


ROW_LABEL_CHARS = 14  # longer row labels are wrapped so that they fit a short row


def facets(rows, cols, width=DOUBLE, row_height=1.4, label=readable, **kwargs):
    """Grid with one axis per (row, col) value, titled and labelled with ``label``.

    Returns ``(fig, {(row, col): ax})``.
    """
    rows, cols = list(rows), list(cols)
    fig, axes = figure(len(rows), len(cols), width, row_height * len(rows) + 0.4, **kwargs)
    grid = {}
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            ax = axes[i, j]
            grid[(r, c)] = ax
            if i == 0:
                ax.set_title(label(c))
            if j == 0 and len(rows) > 1:
                ax.set_ylabel(textwrap.fill(label(r), ROW_LABEL_CHARS, break_long_words=False),
                              fontweight="bold")
    return fig, grid


def message(text: str, width=SINGLE):
    """A figure that only states ``text`` (used when an input holds no data)."""
    fig, axes = figure(width=width, height=1.2)
    ax = axes[0, 0]
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return fig


def sequential():
    """White-to-blue colour map for counts (heatmaps)."""
    return sns.light_palette(OKABE_ITO["blue"], as_cmap=True)


DENSE = 2000  # a collection with more points or lines is drawn as an image in vector formats


def dense_collections(fig, at_least: int = DENSE) -> list:
    """The collections of ``fig`` with at least ``at_least`` offsets or paths (one point or
    line of a participant each: thousands at survey scale)."""
    return [c for ax in fig.axes for c in ax.collections
            if max(len(c.get_offsets()), len(c.get_paths())) >= at_least]


def render(fig, fmt: str) -> bytes:
    """Figure bytes in ``fmt`` ("png" or "pdf") with fixed metadata (no dates, fixed producer).

    In a PDF the :func:`dense_collections` are rasterized at the PNG's resolution (axes, text
    and sparse layers stay vector), so that its size and drawing time do not grow with the
    number of participants. The first call lays the figure out (constrained layout) and
    fixes that layout, so that every format has the same one and it is solved once.
    """
    metadata = {
        "png": {"Software": "tlsurvey"},
        "pdf": {"Creator": "tlsurvey", "Producer": "tlsurvey", "CreationDate": None},
    }[fmt]
    dense = [c for c in dense_collections(fig) if not c.get_rasterized()] if fmt == "pdf" else []
    buffer = io.BytesIO()
    try:
        for collection in dense:
            collection.set_rasterized(True)
        with plt.rc_context(RC):
            fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
            # laid out once: later formats keep this layout and skip savefig's layout pass
            # (which "none" would still run); RC turns on no automatic layout
            fig.set_layout_engine(None)
    finally:
        for collection in dense:
            collection.set_rasterized(False)
    return buffer.getvalue()


def save(fig, stem) -> list[Path]:
    """Write ``<stem>.png`` (300 dpi) and ``<stem>.pdf`` deterministically, then close ``fig``."""
    stem = Path(stem)
    paths = [write_bytes(render(fig, fmt), stem.with_suffix(f".{fmt}")) for fmt in ("png", "pdf")]
    plt.close(fig)
    return paths


def point_lines(ax) -> list:
    """The marker lines seaborn's ``pointplot`` drew on ``ax``, one per hue level in hue order
    (its error bars are lines without markers)."""
    return [line for line in ax.lines if line.get_marker() not in (None, "", "None", " ")]


def ranges(ax, data, low: str, high: str, at: str, hue: str, palette, orient: str = "y",
           **kwargs) -> dict:
    """Precomputed intervals ``[low, high]`` of the rows of ``data`` drawn as seaborn lines at
    the numeric position ``at`` (on the ``orient`` axis), coloured by ``hue``.

    Returns ``{position: line}``.
    """
    ends = data.assign(_row=range(len(data))).melt(
        id_vars=["_row", at, hue], value_vars=[low, high], value_name="_end")
    xy = {"x": "_end", "y": at} if orient == "y" else {"x": at, "y": "_end"}
    before = len(ax.lines)
    sns.lineplot(ends, **xy, units="_row", estimator=None, sort=False, hue=hue,
                 palette=palette, legend=False, ax=ax, **kwargs)
    return {float((line.get_ydata() if orient == "y" else line.get_xdata())[0]): line
            for line in ax.lines[before:]}


def bars(ax, data=None, **kwargs):
    """``seaborn.barplot`` of given values (no estimate or interval) in the study's colours as
    given (no desaturation) on ``ax``; returns the bar container it added (the last one)."""
    sns.barplot(data, ax=ax, saturation=1, errorbar=None, **kwargs)
    return ax.containers[-1]
