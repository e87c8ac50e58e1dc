"""Specification curve (Simonsohn, Simmons and Nelson 2020): ranked key estimates above, the
analytic choices of each specification below."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tlsurvey.figures import theme
from tlsurvey.figures.theme import sns  # seaborn as theme imports it
from tlsurvey.latex import FAMILY_SHORT

CHOICES = ("exclusions", "family", "predictors", "random", "waves")


def specification_curve(curve: pd.DataFrame):
    """Standardised estimate with 95% CI of every specification (seaborn lines and scatter),
    ranked, coloured blue where the CI excludes zero; below, a dot marks each choice option
    the specification used.

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
    data = data.assign(x=x, significant=data["significant"].astype(bool))
    palette = {True: theme.OKABE_ITO["blue"], False: theme.GREY}
    lines = theme.ranges(top, data, "standardised_low", "standardised_high", "x", "significant",
                         palette, orient="x", linewidth=0.6)
    for xi, spec in zip(x, data["spec"], strict=True):
        lines[float(xi)].set_gid(f"spec/{spec}")
    sns.scatterplot(data, x="x", y="standardised", hue="significant", palette=palette, s=6,
                    linewidth=0, legend=False, ax=top, zorder=3)
    top.axhline(0, color=theme.OKABE_ITO["black"], linewidth=0.5, linestyle="--")
    top.axhline(float(data["standardised"].median()), color=theme.OKABE_ITO["vermillion"],
                linewidth=0.6, label="median")
    top.set_ylabel("Similarity effect\n(residual SD units)")
    top.legend(loc="upper left")
    used = pd.DataFrame([{"x": xi, "y": yi, "significant": sig}
                         for yi, (choice, option) in enumerate(options)
                         for xi, value, sig in zip(x, data[choice].astype(str),
                                                   data["significant"], strict=True)
                         if value == option])
    sns.scatterplot(used, x="x", y="y", hue="significant", palette=palette, s=4, marker="s",
                    linewidth=0, legend=False, ax=bottom)
    bottom.set_yticks(range(len(options)),
                      [f"{theme.readable(c)}: {option_label(c, o)}" for c, o in options])
    bottom.set_ylim(len(options) - 0.5, -0.5)
    bottom.set_xlabel("Specification (ranked by estimate)")
    bottom.set_ylabel("")
    top.set_xlabel("")
    return fig


def option_label(choice: str, option: str) -> str:
    """Display text of a choice's option (model families as ``ordinal (CLMM)``)."""
    if choice == "family":
        return FAMILY_SHORT.get(option, option)
    return option.replace("_", " ")
