"""Radar of the framework factors: mean importance with 95% CI, pooled and per group."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tlsurvey.figures import theme
from tlsurvey.figures.data import mean_ci, present

POOLED = "All participants"


def factor_range(study, values: pd.Series) -> tuple[int, int]:
    """Lowest and highest code of the factors' scale (observed range when unknown)."""
    scale = study.scales.get(study.factor_scale) if study is not None else None
    if scale is not None:
        return int(scale.low), int(scale.high)
    values = values.dropna().astype(float)
    return int(values.min()), int(values.max())


def factors(factors: pd.DataFrame, study=None, by: str = "wave"):
    """Radar charts of mean importance per factor with the 95% CI (t interval over
    participants) as a band: pooled (left) and one per ``by`` group (right, when there are at
    least two groups). The radial axis spans the factors' scale.

    Mean lines have ``gid`` ``"mean/<group>"`` (``"mean/all"`` pooled); vertices follow the
    study's factor order.
    """
    label = theme.labeller(study)
    if factors.empty or factors["value"].dropna().empty:
        reason = ("The study asks no framework-factor questions." if study is not None
                  and not study.factors else "No factor ratings to show.")
        return theme.message(reason)
    names = present(factors["factor"], study.factor_ids if study else ())
    groups = list(dict.fromkeys(factors[by].astype(str))) if by in factors else []
    panels = [("all", factors)] + ([(g, factors[factors[by].astype(str) == g]) for g in groups]
                                   if len(groups) > 1 else [])
    low, high = factor_range(study, factors["value"])
    angles = np.linspace(0, 2 * np.pi, len(names), endpoint=False)
    closed = np.append(angles, angles[0])
    fig, axes = theme.figure(1, len(panels), min(theme.DOUBLE, 3.2 * len(panels)), 3.2,
                             subplot_kw={"projection": "polar"})
    palette = [theme.OKABE_ITO[c] for c in ("blue", "vermillion", "green", "purple", "orange")]
    for k, (ax, (group, part)) in enumerate(zip(axes[0], panels, strict=True)):
        summary = part.groupby("factor")["value"].apply(mean_ci).unstack().reindex(names)
        n = part.dropna(subset=["value"])["participant"].nunique()

        def ring(col, summary=summary):
            return np.append(summary[col].to_numpy(float), summary[col].iloc[0])

        color = palette[k % len(palette)]
        ax.fill_between(closed, ring("ci_low"), ring("ci_high"), color=color, alpha=0.25,
                        linewidth=0, label="95% CI")
        ax.plot(closed, ring("mean"), color=color, marker="o", markersize=3,
                gid=f"mean/{group}", label="Mean importance")
        ax.set_xticks(angles, [label(f).replace(" ", "\n", 1) for f in names], fontsize=6)
        ax.set_ylim(low, high)
        ax.set_yticks(range(low, high + 1), [str(v) for v in range(low, high + 1)], fontsize=5.5)
        ax.set_theta_offset(np.pi / 2)
        ax.set_theta_direction(-1)
        ax.spines["polar"].set_visible(False)
        ax.set_title(f"{POOLED if group == 'all' else group} (n = {n})", pad=14)
    axes[0, 0].legend(loc="lower center", bbox_to_anchor=(0.5, -0.35), ncols=2)
    return fig
