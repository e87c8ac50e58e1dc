"""Diverging stacked Likert bars: one bar per case study x source x dimension."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tlsurvey import CASE_STUDIES, DIMENSIONS, SOURCES
from tlsurvey.figures import theme
from tlsurvey.figures.data import present, scale_labels


def scales_from_instrument(instrument: Mapping) -> dict[str, list[str]]:
    """Ordered answer labels of each rating dimension, from an instrument map."""
    scales = {
        name: scale_labels(levels)
        for name, levels in instrument.get("scales", {}).items()
    }
    return {
        item["dimension"]: scales[item["scale"]]
        for item in instrument.get("ratings", [])
        if item.get("scale") in scales
    }


def shares(ratings: pd.DataFrame, n_levels: int) -> pd.DataFrame:
    """Percentage of answers at each level 1..n_levels per case study x source x dimension."""
    keys = ["case_study", "source", "dimension"]
    answered = ratings.dropna(subset=["value"]).astype({"value": int})
    counts = answered.groupby(keys)["value"].value_counts().unstack(fill_value=0)
    counts = counts.reindex(columns=range(1, n_levels + 1), fill_value=0)
    return counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0) * 100


def likert(ratings: pd.DataFrame, scales: Mapping[str, Sequence[str]] | None = None):
    """Diverging stacked bars of the rating distributions, neutral level centred on zero.

    Parameters
    ----------
    ratings
        Tidy ratings (case_study, source, dimension, value, label).
    scales
        Ordered answer labels per dimension (see :func:`scales_from_instrument`); when absent,
        labels observed in ``ratings`` are used.

    Returns
    -------
    matplotlib.figure.Figure
        Rows are dimensions, columns case studies, one bar per source; every bar patch has
        ``gid`` ``"<case_study>/<source>/<dimension>/<level>"``.
    """
    if ratings.dropna(subset=["value"]).empty:
        return theme.message("No ratings to show.", width=theme.DOUBLE)
    scales = dict(scales or {})
    dims = present(ratings["dimension"], DIMENSIONS)
    cases = present(ratings["case_study"], CASE_STUDIES)
    sources = present(ratings["source"], SOURCES)
    for dim in dims:
        if dim not in scales:
            observed = ratings[ratings["dimension"] == dim].dropna(subset=["value"])
            levels = observed.drop_duplicates("value").set_index("value")["label"]
            top = max(5, int(levels.index.max()))
            scales[dim] = [str(levels.get(v, v)) for v in range(1, top + 1)]
    fig, grid = theme.facets(dims, cases, row_height=0.95, sharex=True)
    legends = {}
    for dim in dims:
        labels = list(scales[dim])
        pct = shares(ratings[ratings["dimension"] == dim], len(labels))
        colors = diverging_colors(len(labels))
        for case in cases:
            ax = grid[(dim, case)]
            for y, source in enumerate(reversed(sources)):
                row = pct.loc[(case, source, dim)] if (case, source, dim) in pct.index else None
                values = row.to_numpy() if row is not None else np.zeros(len(labels))
                left = -(values[: len(labels) // 2].sum() + centre_half(values))
                for level, (value, color) in enumerate(zip(values, colors, strict=True), 1):
                    bar = ax.barh(y, value, left=left, color=color, height=0.72,
                                  edgecolor="white", linewidth=0.3, label=labels[level - 1])
                    bar.patches[0].set_gid(f"{case}/{source}/{dim}/{level}")
                    left += value
            ax.axvline(0, color=theme.OKABE_ITO["black"], linewidth=0.5)
            ax.set_yticks(range(len(sources)), [theme.label(s) for s in reversed(sources)])
            ax.set_xlim(-100, 100)
            ax.set_xticks([-50, 0, 50], ["50%", "0", "50%"])
            if case != cases[0]:
                ax.tick_params(labelleft=False)
        key = tuple(labels)
        if key not in legends:
            handles = [ax.patches[i] for i in range(len(labels))]
            legends[key] = (handles, dim)
    for i, (labels, (handles, dim)) in enumerate(legends.items()):
        where = "outside upper center" if i == 0 else "outside lower center"
        fig.legend(handles, labels, loc=where, ncols=len(labels), title=scale_title(dim),
                   title_fontsize=6.5, handlelength=1, columnspacing=0.8)
    for case in cases:
        grid[(dims[-1], case)].set_xlabel("Share of answers")
    return fig


def centre_half(values: np.ndarray) -> float:
    """Half of the middle level's share (odd scales), else zero."""
    return values[len(values) // 2] / 2 if len(values) % 2 else 0.0


def diverging_colors(n: int) -> list[str]:
    """``n`` Okabe-Ito colours from negative through neutral grey to positive."""
    base = theme.LIKERT_COLORS
    if n == len(base):
        return list(base)
    idx = np.round(np.linspace(0, len(base) - 1, n)).astype(int)
    return [base[i] for i in idx]


def scale_title(dimension: str) -> str:
    """Legend title for the scale of ``dimension``."""
    return "Expected performance" if dimension == "expected" else "Similarity"
