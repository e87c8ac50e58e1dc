"""Chosen source per case study, and the comparison of survey waves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tlsurvey import CASE_STUDIES, DIMENSIONS, SOURCES
from tlsurvey.figures import theme
from tlsurvey.figures.data import mean_ci, present

SKIPPED = "(skipped)"
WAVE_COLORS = [theme.OKABE_ITO[c] for c in ("black", "vermillion", "sky_blue", "purple", "yellow")]


def choice_shares(choices: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Participants choosing each source (skipped as ``(skipped)``) and their % per ``by`` group."""
    data = choices.assign(source=choices["source"].astype("string").fillna(SKIPPED))
    counts = data.groupby([*by, "source"]).size().rename("n").reset_index()
    counts["pct"] = 100 * counts["n"] / counts.groupby(by)["n"].transform("sum")
    return counts


def choices(choices: pd.DataFrame):
    """Grouped bars: participants choosing each source, per case study.

    Bars have ``gid`` ``"<case_study>/<source>"``.
    """
    if choices.empty:
        return theme.message("No choices to show.")
    counts = choice_shares(choices, ["case_study"])
    cases = present(counts["case_study"], CASE_STUDIES)
    sources = present(counts["source"], [*SOURCES, SKIPPED])
    fig, axes = theme.figure(width=theme.SINGLE, height=2.3)
    ax = axes[0, 0]
    width = 0.8 / len(sources)
    table = counts.pivot(index="case_study", columns="source", values="n").reindex(
        index=cases, columns=sources).fillna(0).astype(int)
    for k, source in enumerate(sources):
        values = table[source].to_numpy()
        x = np.arange(len(cases)) + (k - (len(sources) - 1) / 2) * width
        bars = ax.bar(x, values, width, color=theme.SOURCE_COLORS.get(source, theme.GREY),
                      label=theme.label(source))
        for bar, case in zip(bars, cases, strict=True):
            bar.set_gid(f"{case}/{source}")
        ax.bar_label(bars, padding=1, fontsize=6)
    ax.set_xticks(range(len(cases)), [theme.label(c) for c in cases])
    ax.set_ylabel("Participants")
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
    return fig


def waves(ratings: pd.DataFrame, choices: pd.DataFrame):
    """Per case study (rows): mean rating (95% CI) of each source per dimension and the share
    choosing each source, with one colour per wave (``gid`` ``"<wave>/<case>/<panel>/<source>"``).
    """
    wave_order = list(dict.fromkeys(ratings["wave"].astype(str)))
    cases = present(ratings["case_study"], CASE_STUDIES)
    dims = present(ratings["dimension"], DIMENSIONS)
    panels = [*dims, "chosen"]
    summary = ratings.groupby(["wave", "case_study", "dimension", "source"])["value"].apply(
        mean_ci).unstack()
    shares = choice_shares(choices, ["wave", "case_study"]).set_index(
        ["wave", "case_study", "source"])["pct"]
    fig, grid = theme.facets(cases, panels, row_height=1.4)
    offsets = np.linspace(-0.15, 0.15, len(wave_order)) if len(wave_order) > 1 else [0.0]
    for (case, panel), ax in grid.items():
        for w, (wave, dx) in enumerate(zip(wave_order, offsets, strict=True)):
            color = WAVE_COLORS[w % len(WAVE_COLORS)]
            for i, source in enumerate(SOURCES):
                if panel == "chosen":
                    y, low, high = shares.get((wave, case, source), 0.0), None, None
                elif (wave, case, panel, source) in summary.index:
                    y, low, high = summary.loc[(wave, case, panel, source),
                                               ["mean", "ci_low", "ci_high"]]
                else:
                    continue
                err = None if low is None or np.isnan(low) else [[y - low], [high - y]]
                ax.errorbar(i + dx, y, yerr=err, fmt="o", color=color, markersize=3, capsize=1.5,
                            label=wave if i == 0 else None, gid=f"{wave}/{case}/{panel}/{source}")
        ax.set_xticks(range(len(SOURCES)), [theme.label(s) for s in SOURCES], rotation=45,
                      ha="right")
        ax.set_ylim(*((0, 100) if panel == "chosen" else (1, 5)))
        ax.set_xlim(-0.5, len(SOURCES) - 0.5)
        if case != cases[-1]:
            ax.tick_params(labelbottom=False)
        if panel == panels[0]:
            ax.set_ylabel(f"{theme.label(case)}\nMean rating")
        if panel == "chosen":
            ax.set_ylabel("% choosing")
    grid[(cases[0], "chosen")].set_title("Chosen")
    handles, labels = grid[(cases[0], panels[0])].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=len(labels))
    return fig
