"""Forest plot of model coefficients, one panel per model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from tlsurvey import latex
from tlsurvey.figures import theme
from tlsurvey.figures.data import pick

SKIP = ("intercept", "threshold", "|")


def fixed_effects(coefs: pd.DataFrame) -> pd.DataFrame:
    """Rows of slope terms (no intercepts or ordinal thresholds), with standard column names."""
    names = {pick(coefs, "model", "spec", "name"): "model", pick(coefs, "term", "variable"): "term",
             pick(coefs, "estimate", "coef", "beta"): "estimate",
             pick(coefs, "ci_low", "ci_lower", "conf_low"): "ci_low",
             pick(coefs, "ci_high", "ci_upper", "conf_high"): "ci_high"}
    data = coefs.rename(columns=names)
    if "kind" in data.columns:
        data = data[data["kind"].astype(str) == "fixed"]
    keep = ~data["term"].astype(str).str.lower().str.contains("|".join(map(_escape, SKIP)))
    return data[keep]


def _escape(token: str) -> str:
    return "\\" + token if token == "|" else token


def coefficients(coefs: pd.DataFrame, study=None):
    """Estimates with 95% CIs of each model's fixed effects, models side by side.

    Each interval is a line with ``gid`` ``"<model>/<term>"``.
    """
    label = theme.labeller(study)
    data = fixed_effects(coefs)
    if data.empty:
        return theme.message("No coefficients to show.")
    models = list(dict.fromkeys(data["model"]))
    fig, axes = theme.figure(1, len(models), theme.DOUBLE, 0.3 + 0.28 * data.groupby(
        "model").size().max() + 0.6, sharey=False)
    for ax, model in zip(axes[0], models, strict=True):
        part = data[data["model"] == model].reset_index(drop=True)
        y = np.arange(len(part))[::-1]
        for yi, row in zip(y, part.itertuples(), strict=True):
            color = theme.OKABE_ITO["blue"] if (row.ci_low > 0 or row.ci_high < 0) else theme.GREY
            ax.plot([row.ci_low, row.ci_high], [yi, yi], color=color, gid=f"{model}/{row.term}")
            ax.plot(row.estimate, yi, "o", color=color, markersize=3.5)
        ax.axvline(0, color=theme.OKABE_ITO["black"], linewidth=0.5, linestyle="--")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_yticks(y, [latex.term_label(t, label) for t in part["term"]])
        ax.set_title(theme.readable(model), fontsize=6.5)
        family = str(part["family"].iloc[0]) if "family" in part.columns else ""
        ax.set_xlabel("Log-odds" if family in {"ordinal", "logit"} or "ordinal" in model
                      else "Estimate (rating points)")
    return fig
