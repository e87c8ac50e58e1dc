"""Chosen source per case study, its transitions between case studies, and the survey waves."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from tlsurvey.figures import theme
from tlsurvey.figures.common import transition_table
from tlsurvey.figures.data import present, t_interval
from tlsurvey.figures.theme import sns  # seaborn as theme imports it

SKIPPED = "(skipped)"
WAVE_COLORS = [theme.OKABE_ITO[c] for c in ("black", "vermillion", "sky_blue", "purple", "yellow")]


def choice_shares(choices: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Participants choosing each source (skipped as ``(skipped)``) and their % per ``by`` group."""
    data = choices.assign(source=choices["source"].astype("string").fillna(SKIPPED))
    counts = data.groupby([*by, "source"]).size().rename("n").reset_index()
    counts["pct"] = 100 * counts["n"] / counts.groupby(by)["n"].transform("sum")
    return counts


def choices(choices: pd.DataFrame, study=None):
    """Grouped bars (seaborn): participants choosing each source, per case study; n per case
    study in its tick label.

    Bars have ``gid`` ``"<case_study>/<source>"``.
    """
    if choices.empty:
        return theme.message("No choices to show.")
    label = theme.labeller(study)
    counts = choice_shares(choices, ["case_study"])
    cases = present(counts["case_study"], study.case_study_ids if study else ())
    sources = present(counts["source"], [*(study.choice_ids if study else ()), SKIPPED])
    full = (counts.set_index(["case_study", "source"])["n"]
            .reindex(pd.MultiIndex.from_product([cases, sources], names=["case_study", "source"]),
                     fill_value=0).reset_index())
    fig, axes = theme.figure(width=theme.SINGLE, height=2.3)
    ax = axes[0, 0]
    theme.bars(ax, full, x="case_study", y="n", hue="source", order=cases, hue_order=sources,
               palette=theme.colors(study, sources), legend=True)
    for container, source in zip(ax.containers, sources, strict=True):
        for bar, case in zip(container, cases, strict=True):
            bar.set_gid(f"{case}/{source}")
        ax.bar_label(container, padding=1, fontsize=6)
    totals = counts.groupby("case_study")["n"].sum()
    ax.set_xticks(range(len(cases)), [f"{label(c)}\n(n = {totals[c]})" for c in cases])
    ax.set_xlabel("")
    ax.set_ylabel("Participants")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles, [label(s) for s in sources], loc="upper left", bbox_to_anchor=(1, 1))
    return fig


def _band(ax, x0, x1, bottom0, top0, bottom1, top1, color, gid):
    """A smooth band from [bottom0, top0] at x0 to [bottom1, top1] at x1."""
    t = np.linspace(0, 1, 50)
    ease = 3 * t**2 - 2 * t**3
    x = x0 + (x1 - x0) * t
    ax.fill_between(x, bottom0 + (bottom1 - bottom0) * ease, top0 + (top1 - top0) * ease,
                    color=color, alpha=0.45, linewidth=0, gid=gid)


def transitions(choices: pd.DataFrame, study=None):
    """Alluvial plot of the chosen source from one case study to the next: a stacked column of
    participants per case study and a band per (source, source) pair, as wide as its count and
    coloured by the first source; counts on bands of at least two participants.

    Bands have ``gid`` ``"<case>/<case>/<source>/<source>"`` and columns
    ``"<case>/<source>"``.
    """
    label = theme.labeller(study)
    data = choices.dropna(subset=["source"])
    cases = present(data["case_study"], study.case_study_ids if study else ())
    if len(cases) < 2:
        return theme.message("Transitions need at least two case studies.")
    order = present(data["source"], study.choice_ids if study else ())
    pairs = list(zip(cases, cases[1:], strict=False))
    tables = [transition_table(data, a, b).reindex(index=order, columns=order, fill_value=0)
              for a, b in pairs]
    n = int(tables[0].to_numpy().sum())
    if not n:
        return theme.message("No participant chose a source in two case studies.")
    fig, axes = theme.figure(width=theme.SINGLE + 1.2 * (len(cases) - 1), height=2.8)
    ax = axes[0, 0]
    palette = theme.colors(study, order)
    gap, width = 0.03 * n, 0.12
    for k, ((a, b), table) in enumerate(zip(pairs, tables, strict=True)):
        left, right = table.sum(axis=1), table.sum(axis=0)
        starts = {"l": _stack(left, gap), "r": _stack(right, gap)}
        for x, case, totals, key in ((k, a, left, "l"), (k + 1, b, right, "r")):
            for src in order:
                low = starts[key][src]
                if totals[src]:
                    ax.bar(x, totals[src], bottom=low, width=width, color=palette[src],
                           gid=f"{case}/{src}", edgecolor="white", linewidth=0.4)
                    ax.text(x + (-width if key == "l" and k == 0 else width) / 2 * 1.2,
                            low + totals[src] / 2,
                            f"{label(src)} ({int(totals[src])})", fontsize=6, va="center",
                            ha="right" if key == "l" and k == 0 else "left")
        out_pos = {s: starts["l"][s] for s in order}
        in_pos = {s: starts["r"][s] for s in order}
        for src in order:
            for dst in order:
                m = int(table.loc[src, dst])
                if not m:
                    continue
                _band(ax, k + width / 2, k + 1 - width / 2, out_pos[src], out_pos[src] + m,
                      in_pos[dst], in_pos[dst] + m, palette[src], f"{a}/{b}/{src}/{dst}")
                if m >= 2:
                    ax.text(k + width / 2 + 0.03, out_pos[src] + m / 2, str(m), fontsize=5.5,
                            ha="left", va="center", gid=f"count/{a}/{b}/{src}/{dst}")
                out_pos[src] += m
                in_pos[dst] += m
    ax.set_xticks(range(len(cases)), [label(c) for c in cases])
    ax.set_xlim(-0.75, len(cases) - 0.25)
    ax.set_yticks([])
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.tick_params(axis="x", length=0)
    changed = int(n - np.trace(tables[0].to_numpy()))
    ax.set_title(f"Source chosen per case study (n = {n}; {changed} changed source)")
    return fig


def _stack(totals: pd.Series, gap: float) -> dict:
    """Bottom of each source's block in a column stacked top-down in ``totals`` order."""
    out, y = {}, float(totals.sum() + gap * (len(totals) - 1))
    for src, value in totals.items():
        y -= value
        out[src] = y
        y -= gap if value else 0
    return out


def waves(ratings: pd.DataFrame, choices: pd.DataFrame, study=None):
    """Per case study (rows), seaborn point plots with one colour per wave: mean rating (95% t
    interval over participants) of each source per dimension, and the share choosing each
    source (no interval); y ranges are the dimensions' scales.

    The points of a wave in a panel are one line with ``gid`` ``"<wave>/<case>/<panel>"``.
    """
    label = theme.labeller(study)
    wave_order = list(dict.fromkeys(ratings["wave"].astype(str)))
    cases = present(ratings["case_study"], study.case_study_ids if study else ())
    dims = present(ratings["dimension"], study.dimension_ids if study else ())
    rated = present(ratings["source"], study.source_ids if study else ())
    sources = present(pd.concat([ratings["source"], choices["source"].dropna()]),
                      study.choice_ids if study else ())  # the chosen panel's: "other" too
    panels = [*dims, "chosen"]
    data = ratings.dropna(subset=["value"]).astype({"value": float, "wave": str, "source": str})
    keys = ["wave", "case_study", "source"]
    full = pd.MultiIndex.from_product([wave_order, cases, sources], names=keys)
    shares = (choice_shares(choices.astype({"wave": str}), ["wave", "case_study"])
              .set_index(keys)["pct"].reindex(full, fill_value=0.0).reset_index())
    n = data.groupby("wave")["participant"].nunique()
    palette = dict(zip(wave_order, WAVE_COLORS * len(wave_order), strict=False))
    fig, grid = theme.facets(cases, panels, row_height=1.4, label=label)
    style = {"x": "source", "hue": "wave", "hue_order": wave_order, "palette": palette,
             "dodge": 0.3 if len(wave_order) > 1 else False, "linestyle": "none",
             "markersize": 3, "legend": False}
    for (case, panel), ax in grid.items():
        order = sources if panel == "chosen" else rated
        if panel == "chosen":
            sns.pointplot(shares[shares["case_study"] == case], y="pct", errorbar=None,
                          order=order, ax=ax, **style)
        else:
            part = data[(data["case_study"] == case) & (data["dimension"] == panel)]
            sns.pointplot(part, y="value", errorbar=t_interval, capsize=0.15, order=order,
                          err_kws={"linewidth": 0.8}, ax=ax, **style)
            low, high = scale_range(study, panel, ratings)
            ax.set_yticks(range(int(np.ceil(low)), int(high) + 1))
        for wave, line in zip(wave_order, theme.point_lines(ax), strict=False):
            line.set_gid(f"{wave}/{case}/{panel}")
        ax.set_xticks(range(len(order)), [label(s) for s in order], rotation=45, ha="right")
        ax.set_ylim(*((0, 100) if panel == "chosen" else scale_range(study, panel, ratings)))
        ax.set_xlim(-0.5, len(order) - 0.5)
        ax.set_xlabel("")
        ax.set_ylabel("")
        if case != cases[-1]:
            ax.tick_params(labelbottom=False)
        if panel == panels[0]:
            ax.set_ylabel(f"{label(case)}\nMean rating")
        if panel == "chosen":
            ax.set_ylabel("% choosing")
    grid[(cases[0], "chosen")].set_title("Chosen")
    handles = [Line2D([], [], color=palette[w], marker="o", linestyle="none", markersize=3)
               for w in wave_order]
    fig.legend(handles, [f"{w} (n = {int(n.get(w, 0))})" for w in wave_order],
               loc="outside upper center", ncols=len(wave_order))
    return fig


def scale_range(study, dimension: str, ratings: pd.DataFrame | None = None) -> tuple[float, float]:
    """(low, high) of the dimension's scale, padded by 0.3; observed values when unknown."""
    scale = study.dimension_scale(dimension) if study is not None else None
    if scale is not None:
        return scale.low - 0.3, scale.high + 0.3
    values = ratings.loc[ratings["dimension"] == dimension, "value"].dropna().astype(float)
    return values.min() - 0.3, values.max() + 0.3
