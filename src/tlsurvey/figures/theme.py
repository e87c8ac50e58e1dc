"""One theme for every figure: Okabe-Ito palette, column-width sizes, deterministic saving."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from tlsurvey import CASE_STUDY_LABELS, SOURCE_LABELS  # noqa: E402
from tlsurvey.io import write_bytes  # noqa: E402

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
GREY = "#999999"
SOURCE_COLORS = {
    "imagenet": OKABE_ITO["orange"],
    "radimagenet": OKABE_ITO["blue"],
    "ecoset": OKABE_ITO["green"],
}
CASE_COLORS = {"tissue": OKABE_ITO["purple"], "xray": OKABE_ITO["sky_blue"]}
# Five ordered Likert levels: negative, slightly negative, neutral, slightly positive, positive.
LIKERT_COLORS = (OKABE_ITO["vermillion"], OKABE_ITO["orange"], "#D9D9D9",
                 OKABE_ITO["sky_blue"], OKABE_ITO["blue"])

SINGLE = 3.5  # inches, one journal column
DOUBLE = 7.0  # inches, two columns
DPI = 300
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
    "axes.prop_cycle": matplotlib.cycler(color=list(OKABE_ITO.values())),
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "svg.hashsalt": SALT,
    "pdf.fonttype": 42,
    "path.simplify": False,
}


def apply() -> None:
    """Install the theme in matplotlib's global rcParams (Agg backend)."""
    plt.rcParams.update(RC)


LABELS = {
    **CASE_STUDY_LABELS,
    **SOURCE_LABELS,
    "ml_years": "ML experience",
    "mi_years": "Medical-imaging experience",
    "tl_frequency": "Use of transfer learning",
    "fairness_ethics": "Fairness / ethics",
}


def label(value) -> str:
    """Display label of a canonical id (case study, source, dimension, factor, variable)."""
    value = str(value)
    return LABELS.get(value, value.replace("_", " ").capitalize())


def figure(nrows=1, ncols=1, width=SINGLE, height=None, **kwargs):
    """New figure with an ``nrows`` x ``ncols`` grid of axes (always a 2-D array)."""
    apply()
    height = height if height is not None else width * 0.75
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, height), layout="constrained", squeeze=False, **kwargs
    )
    return fig, axes


def facets(rows, cols, width=DOUBLE, row_height=1.4, **kwargs):
    """Grid with one axis per (row, col) value, titled and labelled with display labels.

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
                ax.set_ylabel(label(r), fontweight="bold")
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
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("okabe_blue", ["#FFFFFF", OKABE_ITO["blue"]])


def render(fig, fmt: str) -> bytes:
    """Figure bytes in ``fmt`` ("png" or "pdf") with fixed metadata (no dates, fixed producer)."""
    metadata = {
        "png": {"Software": "tlsurvey"},
        "pdf": {"Creator": "tlsurvey", "Producer": "tlsurvey", "CreationDate": None},
    }[fmt]
    buffer = io.BytesIO()
    with plt.rc_context(RC):
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def save(fig, stem) -> list[Path]:
    """Write ``<stem>.png`` (300 dpi) and ``<stem>.pdf`` deterministically, then close ``fig``."""
    stem = Path(stem)
    paths = [write_bytes(render(fig, fmt), stem.with_suffix(f".{fmt}")) for fmt in ("png", "pdf")]
    plt.close(fig)
    return paths
