"""Diverging stacked Likert bars (seaborn bar plots, one layer per answer level): one bar per
case study x source x dimension, n beside it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tlsurvey.figures import theme
from tlsurvey.figures.data import present


def study_scales(study) -> dict[str, list[str]]:
    """Ordered answer labels of each rating dimension of the study."""
    out = {}
    for dim in study.dimension_ids if study is not None else ():
        scale = study.dimension_scale(dim)
        if scale is not None:
            out[dim] = list(scale.labels)
    return out


def shares(ratings: pd.DataFrame, n_levels: int) -> pd.DataFrame:
    """Percentage of answers at each level 1..n_levels per case study x source x dimension."""
    keys = ["case_study", "source", "dimension"]
    answered = ratings.dropna(subset=["value"]).astype({"value": int})
    counts = answered.groupby(keys)["value"].value_counts().unstack(fill_value=0)
    counts = counts.reindex(columns=range(1, n_levels + 1), fill_value=0)
    return counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0) * 100


def likert(ratings: pd.DataFrame, study=None, scales: Mapping[str, Sequence[str]] | None = None):
    """Diverging stacked bars of the rating distributions, neutral level centred on zero; the
    number of answers of each bar is written at its right end.

    Parameters
    ----------
    ratings
        Tidy ratings (case_study, source, dimension, value, label).
    study
        The study (order, labels and scales); scales override its scales per dimension; a
        dimension without either uses the labels observed in ``ratings``.

    Returns
    -------
    matplotlib.figure.Figure
        Rows are dimensions, columns case studies, one bar per source; every bar patch has
        ``gid`` ``"<case_study>/<source>/<dimension>/<level>"``.
    """
    if ratings.dropna(subset=["value"]).empty:
        return theme.message("No ratings to show.", width=theme.DOUBLE)
    label = theme.labeller(study)
    scales = {**study_scales(study), **dict(scales or {})}
    dims = present(ratings["dimension"], study.dimension_ids if study else ())
    cases = present(ratings["case_study"], study.case_study_ids if study else ())
    sources = present(ratings["source"], study.source_ids if study else ())
    for dim in dims:
        if dim not in scales:
            observed = ratings[ratings["dimension"] == dim].dropna(subset=["value"])
            levels = observed.drop_duplicates("value").set_index("value")["label"]
            top = int(levels.index.max())
            scales[dim] = [str(levels.get(v, v)) for v in range(1, top + 1)]
    fig, grid = theme.facets(dims, cases, row_height=0.25 * len(sources) + 0.35, sharex=True,
                             label=label)
    legends = {}
    answered = ratings.dropna(subset=["value"]).groupby(["case_study", "source", "dimension"])
    n = answered.size()
    for dim in dims:
        labels = list(scales[dim])
        pct = shares(ratings[ratings["dimension"] == dim], len(labels))
        colors = theme.diverging(len(labels))
        for case in cases:
            ax = grid[(dim, case)]
            rows = [pct.loc[(case, s, dim)].to_numpy() if (case, s, dim) in pct.index
                    else np.zeros(len(labels)) for s in sources]
            lefts = np.array([-(v[: len(labels) // 2].sum() + centre_half(v)) for v in rows])
            for level, color in enumerate(colors):
                widths = np.array([v[level] for v in rows])
                drawn = theme.bars(ax, x=widths, y=[label(s) for s in sources], orient="y",
                                   left=lefts, color=color, width=0.72, edgecolor="white",
                                   linewidth=0.3, label=labels[level], legend=False)
                for bar, source in zip(drawn, sources, strict=True):
                    bar.set_gid(f"{case}/{source}/{dim}/{level + 1}")
                lefts = lefts + widths
            for y, source in enumerate(sources):
                ax.text(101, y, f"n = {int(n.get((case, source, dim), 0))}", va="center",
                        fontsize=5.5, gid=f"n/{case}/{source}/{dim}")
            ax.axvline(0, color=theme.OKABE_ITO["black"], linewidth=0.5)
            ax.set_xlim(-100, 100)
            ax.set_xticks([-50, 0, 50], ["50%", "0", "50%"])
            ax.set_xlabel("")
            if case != cases[0]:
                ax.tick_params(labelleft=False)
        key = tuple(labels)
        if key not in legends:
            legends[key] = (list(ax.containers), dim)
    for i, (labels, (handles, dim)) in enumerate(legends.items()):
        where = "outside upper center" if i == 0 else "outside lower center"
        fig.legend(handles, labels, loc=where, ncols=min(len(labels), 7),
                   title=scale_title(dim, study), title_fontsize=6.5, handlelength=1,
                   columnspacing=0.8)
    for case in cases:
        grid[(dims[-1], case)].set_xlabel("Share of answers")
    return fig


def centre_half(values: np.ndarray) -> float:
    """Half of the middle level's share (odd scales), else zero."""
    return values[len(values) // 2] / 2 if len(values) % 2 else 0.0


def scale_title(dimension: str, study=None) -> str:
    """Legend title: the outcome dimension's label, else "Similarity"."""
    if study is not None and dimension == study.outcome:
        return study.label(dimension)
    return "Similarity"
