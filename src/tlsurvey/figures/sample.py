"""Sample description: counts of each demographic variable's levels."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from tlsurvey import RESPONSE_COLUMNS
from tlsurvey.figures import theme
from tlsurvey.figures.data import scale_labels
from tlsurvey.ingest.mapping import MULTIPLE_SEPARATOR, multiple_choice_options


def variable_levels(instrument: Mapping | None) -> dict[str, list[str] | None]:
    """Demographic variables of the instrument with their ordered levels (None: unordered)."""
    scales = (instrument or {}).get("scales", {})
    out = {}
    for item in (instrument or {}).get("demographics", []):
        scale = scales.get(item.get("scale"))
        out[item["variable"]] = scale_labels(scale) if scale else item.get("options")
    return out


def demographics(responses: pd.DataFrame, instrument: Mapping | None = None):
    """Horizontal bars of participants per level, one panel per demographic variable.

    Ordered variables keep their scale order and multi-select variables their option order
    (each chosen option counts); others are sorted by frequency. Every bar has ``gid``
    ``"<variable>/<level>"``.
    """
    levels, multiple = variable_levels(instrument), multiple_choice_options(instrument or {})
    variables = [v for v in levels if v in responses.columns] or [
        c for c in responses.columns if c not in RESPONSE_COLUMNS and not c.endswith("_code")]
    if responses.empty or not variables:
        return theme.message("No demographic data to show.")
    ncols = 2 if len(variables) > 1 else 1
    nrows = int(np.ceil(len(variables) / ncols))
    fig, axes = theme.figure(nrows, ncols, theme.DOUBLE, 1.5 * nrows + 0.3)
    for ax, var in zip(axes.flat, variables, strict=False):
        answers = responses[var].astype("string").fillna("(skipped)")
        if var in multiple:
            answers = answers.str.split(MULTIPLE_SEPARATOR).explode()
        counts = answers.value_counts()
        order = levels.get(var) or sorted(counts.index, key=lambda k: (-counts[k], k))
        order = [lvl for lvl in order if lvl in counts.index or levels.get(var)]
        order += [lvl for lvl in counts.index if lvl not in order]
        values = counts.reindex(order, fill_value=0)
        bars = ax.barh(range(len(order)), values.to_numpy(), color=theme.OKABE_ITO["blue"])
        for bar, level in zip(bars, order, strict=True):
            bar.set_gid(f"{var}/{level}")
        ax.bar_label(bars, padding=2, fontsize=6)
        ax.set_yticks(range(len(order)), order)
        ax.invert_yaxis()
        ax.set_title(theme.label(var))
        ax.set_xlabel("Participants")
        ax.set_xlim(0, max(values.max(), 1) * 1.15)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in list(axes.flat)[len(variables):]:
        ax.axis("off")
    return fig
