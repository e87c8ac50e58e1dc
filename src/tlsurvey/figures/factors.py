"""Radar of the six framework factors: mean importance with 95% CI."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tlsurvey import FACTORS
from tlsurvey.figures import theme
from tlsurvey.figures.data import mean_ci, present


def factors(factors: pd.DataFrame):
    """Radar chart of mean importance (1-5) per factor, with the 95% CI as a band.

    The mean line has ``gid`` ``"mean"``; its vertices follow :data:`tlsurvey.FACTORS` order.
    """
    names = present(factors["factor"], FACTORS)
    if not names:
        return theme.message("No factor ratings to show.")
    summary = factors.groupby("factor")["value"].apply(mean_ci).unstack().reindex(names)
    angles = np.linspace(0, 2 * np.pi, len(names), endpoint=False)
    closed = np.append(angles, angles[0])

    def ring(col):
        return np.append(summary[col].to_numpy(float), summary[col].iloc[0])

    fig, _ = theme.figure(width=theme.SINGLE, height=3.0, subplot_kw={"projection": "polar"})
    ax = fig.axes[0]
    ax.fill_between(closed, ring("ci_low"), ring("ci_high"), color=theme.OKABE_ITO["sky_blue"],
                    alpha=0.35, linewidth=0, label="95% CI")
    ax.plot(closed, ring("mean"), color=theme.OKABE_ITO["blue"], marker="o", markersize=3,
            gid="mean", label="Mean importance")
    ax.set_xticks(angles, [theme.label(f).replace(" similarity", "\nsimilarity") for f in names])
    ax.set_ylim(1, 5)
    ax.set_yticks([1, 2, 3, 4, 5], ["1", "2", "3", "4", "5"], fontsize=5.5)
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    ax.spines["polar"].set_visible(False)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.32), ncols=2)
    return fig
