"""Similarity, expectation and outcome: scatter with rm_corr, alignment, benchmark outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from tlsurvey import CASE_STUDIES, SIMILARITY_DIMENSIONS, SOURCES
from tlsurvey.figures import theme
from tlsurvey.figures.data import mean_ci, pick, present
from tlsurvey.models.stats import wide_ratings
from tlsurvey.report.text import stat


def rmcorr_label(rmcorr: pd.DataFrame | None, case: str, dim: str) -> str | None:
    """``r_rm = ..., 95% CI [...], p = ...`` for ``case`` x ``dim`` from an rm_corr table."""
    if rmcorr is None or rmcorr.empty:
        return None
    rows = rmcorr[rmcorr[pick(rmcorr, "dimension", "similarity", "x")].astype(str) == dim]
    case_col = pick(rows, "scope", "case_study", required=False)
    if case_col is not None:
        rows = rows[rows[case_col].astype(str) == case]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return stat("r_rm", row[pick(rows, "r", "r_rm", "rmcorr")],
                row.get(pick(rows, "ci_low", "ci95_low", "ci_lower", required=False)),
                row.get(pick(rows, "ci_high", "ci95_high", "ci_upper", required=False)),
                row.get(pick(rows, "p", "pval", "p_value", required=False)))


def similarity_expected(ratings: pd.DataFrame, rmcorr: pd.DataFrame | None = None, seed: int = 0):
    """Similarity (x) against expected performance (y), jittered, per case study x dimension.

    Each participant's least-squares line over the sources is drawn in grey (``gid``
    ``"participant"``); points are coloured by source; the repeated-measures correlation of
    ``rmcorr`` is written in each panel.
    """
    wide = wide_ratings(ratings)
    if "expected" not in wide.columns:
        return theme.message("No expected-performance ratings to show.", width=theme.DOUBLE)
    cases = present(wide["case_study"], CASE_STUDIES)
    dims = [d for d in SIMILARITY_DIMENSIONS if d in wide.columns]
    fig, grid = theme.facets(cases, dims, row_height=1.55, sharex=True, sharey=True)
    rng = np.random.default_rng(seed)
    for (case, dim), ax in grid.items():
        part = wide[wide["case_study"] == case].dropna(subset=[dim, "expected"])
        for _, person in part.groupby(["wave", "participant"], sort=True):
            if person[dim].nunique() > 1:
                slope, icept = np.polyfit(person[dim], person["expected"], 1)
                xs = np.array([person[dim].min(), person[dim].max()])
                ax.plot(xs, icept + slope * xs, color=theme.GREY, alpha=0.5, linewidth=0.5,
                        gid="participant", zorder=1)
        for source in present(part["source"], SOURCES):
            pts = part[part["source"] == source]
            ax.scatter(pts[dim] + rng.uniform(-0.15, 0.15, len(pts)),
                       pts["expected"] + rng.uniform(-0.15, 0.15, len(pts)),
                       s=6, color=theme.SOURCE_COLORS.get(source, theme.GREY), alpha=0.8,
                       linewidths=0, label=theme.label(source), zorder=2)
        note = rmcorr_label(rmcorr, case, dim)
        if note:
            ax.text(0.02, 0.98, note.replace(", 95%", "\n95%"), transform=ax.transAxes,
                    va="top", fontsize=5.5, gid="rmcorr")
        ax.set_xticks(range(1, 6))
        ax.set_yticks(range(1, 6))
        ax.set_xlim(0.5, 5.5)
        ax.set_ylim(0.5, 6.3)
        if case == cases[-1]:
            ax.set_xlabel(f"{theme.label(dim)} similarity")
    for case in cases:
        grid[(case, dims[0])].set_ylabel(f"{theme.label(case)}\nExpected performance")
    handles, labels = grid[(cases[0], dims[0])].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=len(labels), markerscale=2)
    return fig


TIE = "tie"


def alignment(misalignment: pd.DataFrame):
    """Most similar source against the source expected to perform best, per case study.

    Heatmaps of participant counts (tied sources, ``;``-joined in the table, count as "tie");
    the diagonal holds participants whose most similar source is also the one they expect to
    transfer best. Cells have ``gid`` ``"<case_study>/<most_similar>/<expected_best>"``.
    """
    sim_col = pick(misalignment, "most_similar")
    exp_col = pick(misalignment, "expected_best", "best_expected")
    data = misalignment.dropna(subset=[sim_col, exp_col]).astype({sim_col: str, exp_col: str})
    if data.empty:
        return theme.message("No participants with both similarity and expectation ratings.")
    for col in (sim_col, exp_col):
        data[col] = data[col].where(~data[col].str.contains(";"), TIE)
    cases = present(data["case_study"], CASE_STUDIES)
    levels = present(pd.concat([data[sim_col], data[exp_col]]), [*SOURCES, TIE])
    fig, axes = theme.figure(1, len(cases), theme.DOUBLE, 2.6, sharey=True)
    for ax, case in zip(axes[0], cases, strict=True):
        part = data[data["case_study"] == case]
        table = pd.crosstab(part[sim_col], part[exp_col]).reindex(
            index=levels, columns=levels, fill_value=0)
        counts = table.to_numpy()
        ax.imshow(counts, cmap=theme.sequential(), vmin=0, vmax=max(1, counts.max()))
        for i, sim in enumerate(levels):
            for j, exp in enumerate(levels):
                n = int(counts[i, j])
                ax.text(j, i, str(n), ha="center", va="center", gid=f"{case}/{sim}/{exp}",
                        color="white" if n > counts.max() / 2 else "black")
        ticks = [theme.label(v) for v in levels]
        ax.set_xticks(range(len(levels)), ticks, rotation=30, ha="right")
        ax.set_yticks(range(len(levels)), ticks)
        aligned = int((~part["misaligned"].astype(bool)).sum()) if "misaligned" in part \
            else int(np.trace(table.to_numpy()))
        ax.set_title(f"{theme.label(case)}: {aligned}/{len(part)} aligned")
        ax.set_xlabel("Expected to perform best")
        ax.spines[:].set_visible(False)
    axes[0, 0].set_ylabel("Rated most similar")
    return fig


def intuition_outcome(ratings: pd.DataFrame, outcomes: pd.DataFrame):
    """Mean expected performance (95% CI) against benchmark macro-AUC, per case study.

    One point per source present in both tables, with ``gid`` ``"<case_study>/<source>"``.
    """
    expected = ratings[ratings["dimension"] == "expected"]
    summary = expected.groupby(["case_study", "source"])["value"].apply(mean_ci).unstack()
    data = summary.reset_index().merge(outcomes, on=["case_study", "source"])
    if data.empty:
        return theme.message("No sources in common between ratings and outcomes.")
    cases = present(data["case_study"], CASE_STUDIES)
    fig, axes = theme.figure(1, len(cases), theme.DOUBLE, 2.4, sharey=True)
    for ax, case in zip(axes[0], cases, strict=True):
        part = data[data["case_study"] == case]
        for row in part.itertuples():
            color = theme.SOURCE_COLORS.get(row.source, theme.GREY)
            ax.errorbar(row.macro_auc, row.mean, yerr=[[row.mean - row.ci_low],
                        [row.ci_high - row.mean]], fmt="o", color=color, markersize=4,
                        capsize=2, gid=f"{case}/{row.source}", label=theme.label(row.source))
            ax.annotate(theme.label(row.source), (row.macro_auc, row.mean), fontsize=6,
                        xytext=(4, 4), textcoords="offset points", color=color)
        span = part["macro_auc"].max() - part["macro_auc"].min()
        pad = max(span * 0.35, 0.002)
        ax.set_xlim(part["macro_auc"].min() - pad, part["macro_auc"].max() + pad)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.set_title(theme.label(case))
        ax.set_xlabel("Benchmark test macro-AUC")
    axes[0, 0].set_ylabel("Expected performance (1-5)")
    axes[0, 0].set_ylim(1, 5)
    return fig
