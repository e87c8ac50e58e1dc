"""Sample description: counts of each demographic variable's levels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from tlsurvey import RESPONSE_COLUMNS
from tlsurvey.figures import theme
from tlsurvey.ingest.mapping import MULTIPLE_SEPARATOR


def variable_levels(study) -> dict[str, list[str] | None]:
    """Demographic variables of the study with their ordered levels or options (None: free)."""
    return {d.variable: list(d.options) or None for d in (study.demographics if study else ())}


def multiple(responses: pd.DataFrame, levels: dict) -> set[str]:
    """Variables with options whose answers join several options (multi-select)."""
    return {var for var, opts in levels.items() if opts and var in responses.columns
            and responses[var].astype("string").str.contains(MULTIPLE_SEPARATOR, regex=False)
            .fillna(False).any()}


def demographics(responses: pd.DataFrame, study=None):
    """Horizontal bars (seaborn) of participants per level, one panel per demographic variable.

    Ordered variables keep their scale order and multi-select variables their option order
    (each chosen option counts); others are sorted by frequency. Every bar has ``gid``
    ``"<variable>/<level>"``.
    """
    label = theme.labeller(study)
    levels = variable_levels(study)
    multi = multiple(responses, levels)
    variables = [v for v in levels if v in responses.columns] or [
        c for c in responses.columns if c not in RESPONSE_COLUMNS and not c.endswith("_code")]
    if responses.empty or not variables:
        return theme.message("No demographic data to show.")
    ncols = 2 if len(variables) > 1 else 1
    nrows = int(np.ceil(len(variables) / ncols))
    fig, axes = theme.figure(nrows, ncols, theme.DOUBLE, 1.5 * nrows + 0.3)
    for ax, var in zip(axes.flat, variables, strict=False):
        answers = responses[var].astype("string").fillna("(skipped)")
        if var in multi:
            answers = answers.str.split(MULTIPLE_SEPARATOR).explode()
        counts = answers.value_counts()
        order = levels.get(var) or sorted(counts.index, key=lambda k: (-counts[k], k))
        order = [lvl for lvl in order if lvl in counts.index or levels.get(var)]
        order += [lvl for lvl in counts.index if lvl not in order]
        values = counts.reindex(order, fill_value=0)
        bars = theme.bars(ax, x=values.to_numpy(), y=order, order=order, orient="y",
                          color=theme.OKABE_ITO["blue"])
        for bar, level in zip(bars, order, strict=True):
            bar.set_gid(f"{var}/{level}")
        ax.bar_label(bars, padding=2, fontsize=6)
        ax.set_title(f"{label(var)} (n = {int(responses[var].notna().sum())})")
        ax.set_xlabel("Participants")
        ax.set_xlim(0, max(values.max(), 1) * 1.15)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in list(axes.flat)[len(variables):]:
        ax.axis("off")
    return fig
