"""Forest plot of model coefficients, one panel per model."""

from __future__ import annotations

import textwrap

import pandas as pd
from matplotlib.ticker import MaxNLocator

from tlsurvey import latex
from tlsurvey.figures import theme
from tlsurvey.figures.data import pick
from tlsurvey.figures.theme import sns  # seaborn as theme imports it

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
    """Estimates with 95% CIs of each model's fixed effects (seaborn line and scatter plots),
    models side by side on a shared term axis, titled by display name
    (:func:`tlsurvey.latex.model_label`); intervals excluding zero in blue.

    Each interval is a line with ``gid`` ``"<model>/<term>"``.
    """
    label = theme.labeller(study)
    data = fixed_effects(coefs)
    if data.empty:
        return theme.message("No coefficients to show.")
    terms = list(dict.fromkeys(data["term"]))
    data = data.assign(y=data["term"].map({t: k for k, t in enumerate(terms)}),
                       significant=(data["ci_low"] > 0) | (data["ci_high"] < 0))
    models = list(dict.fromkeys(data["model"]))
    palette = {True: theme.OKABE_ITO["blue"], False: theme.GREY}
    fig, axes = theme.figure(1, len(models), theme.DOUBLE, 0.9 + 0.28 * len(terms), sharey=True)
    for ax, model in zip(axes[0], models, strict=True):
        part = data[data["model"] == model]
        lines = theme.ranges(ax, part, "ci_low", "ci_high", "y", "significant", palette)
        sns.scatterplot(part, x="estimate", y="y", hue="significant", palette=palette, s=14,
                        linewidth=0, legend=False, ax=ax, zorder=3)
        for y, line in lines.items():
            line.set_gid(f"{model}/{terms[int(y)]}")
        ax.axvline(0, color=theme.OKABE_ITO["black"], linewidth=0.5, linestyle="--")
        ax.xaxis.set_major_locator(MaxNLocator(4))
        family = str(part["family"].iloc[0]) if "family" in part.columns else None
        ax.set_title(textwrap.fill(latex.model_label(model, family, label), 34), fontsize=6.5)
        ordinal = family in {"ordinal", "logit"} or "ordinal" in str(model)
        ax.set_xlabel("Log-odds" if ordinal else "Estimate (rating points)")
        ax.set_ylabel("")
    axes[0, 0].set_yticks(range(len(terms)), [latex.term_label(t, label) for t in terms])
    axes[0, 0].set_ylim(len(terms) - 0.5, -0.5)
    return fig
