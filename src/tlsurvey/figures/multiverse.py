"""Specification curve (Simonsohn, Simmons and Nelson 2020): ranked key estimates above, the
analytic choices of each specification below."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tlsurvey.figures import theme

CHOICES = ("exclusions", "family", "predictors", "random", "waves")


def specification_curve(curve: pd.DataFrame):
    """Standardised estimate with 95% CI of every specification, ranked, coloured blue where the
    CI excludes zero; below, a dot marks each choice option the specification used.

    Each interval is a line with ``gid`` ``"spec/<id>"``.
    """
    data = curve.dropna(subset=["standardised"]).sort_values("rank").reset_index(drop=True)
    if data.empty:
        return theme.message("No specification could be fitted.")
    varying = [c for c in CHOICES if c in data and data[c].astype(str).nunique() > 1]
    options = [(c, o) for c in varying for o in dict.fromkeys(data[c].astype(str))]
    fig, axes = theme.figure(2, 1, theme.DOUBLE, 2.2 + 0.14 * len(options), sharex=True,
                             gridspec_kw={"height_ratios": [2.2, 0.3 + 0.14 * len(options)]})
    top, bottom = axes[0, 0], axes[1, 0]
    x = np.arange(1, len(data) + 1)
    colors = np.where(data["significant"].astype(bool), theme.OKABE_ITO["blue"], theme.GREY)
    for xi, row, color in zip(x, data.itertuples(), colors, strict=True):
        top.plot([xi, xi], [row.standardised_low, row.standardised_high], color=color,
                 linewidth=0.6, gid=f"spec/{row.spec}")
    top.scatter(x, data["standardised"], c=colors, s=6, zorder=3)
    top.axhline(0, color=theme.OKABE_ITO["black"], linewidth=0.5, linestyle="--")
    top.axhline(float(data["standardised"].median()), color=theme.OKABE_ITO["vermillion"],
                linewidth=0.6, label="median")
    top.set_ylabel("Similarity effect\n(residual SD units)")
    top.legend(loc="upper left")
    for yi, (choice, option) in enumerate(options):
        used = data[choice].astype(str).to_numpy() == option
        bottom.scatter(x[used], np.full(used.sum(), yi), c=colors[used], s=4, marker="s")
    bottom.set_yticks(range(len(options)),
                      [f"{theme.readable(c)}: {o.replace('_', ' ')}" for c, o in options])
    bottom.set_ylim(len(options) - 0.5, -0.5)
    bottom.set_xlabel("Specification (ranked by estimate)")
    return fig
