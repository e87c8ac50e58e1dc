"""Similarity, expectation and outcome: scatter with rm_corr, alignment, per-participant rho,
benchmark outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from tlsurvey.figures import theme
from tlsurvey.figures.common import benchmark_note
from tlsurvey.figures.data import mean_ci, pick, present, t_interval
from tlsurvey.figures.theme import sns  # seaborn as theme imports it
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


POINT_SIZE = 6  # points^2, of a rating in the similarity-expected scatter


def similarity_expected(ratings: pd.DataFrame, study=None, rmcorr: pd.DataFrame | None = None,
                        seed: int = 0):
    """Similarity (x) against the outcome dimension (y), jittered, per case study x similarity
    dimension; axes span the dimensions' scales.

    Each participant's least-squares line over the sources is drawn in grey (``gid``
    ``"participant"``); points (one collection per panel, gid ``"points"``) are coloured by
    source; the repeated-measures correlation of ``rmcorr`` is written in each panel.
    """
    label = theme.labeller(study)
    outcome = study.outcome if study is not None else None
    wide = wide_ratings(ratings)
    if outcome is None or outcome not in wide.columns:
        return theme.message("No outcome ratings to show.", width=theme.DOUBLE)
    cases = present(wide["case_study"], study.case_study_ids if study else ())
    dims = [d for d in (study.similarity_dimensions if study else ()) if d in wide.columns]
    if not dims:
        return theme.message("No similarity ratings to show.", width=theme.DOUBLE)
    fig, grid = theme.facets(cases, dims, row_height=1.55, sharex=False, sharey=True,
                             label=label)
    rng = np.random.default_rng(seed)
    palette = theme.colors(study, present(wide["source"], study.source_ids if study else ()))
    index = {source: k for k, source in enumerate(palette)}
    rgba = to_rgba_array(list(palette.values()))
    for (case, dim), ax in grid.items():
        part = wide[wide["case_study"] == case].dropna(subset=[dim, outcome])
        ax.add_collection(LineCollection(participant_lines(part, dim, outcome),
                                         colors=theme.GREY, alpha=0.5, linewidths=0.5,
                                         gid="participant", zorder=1))
        pts = part[part["source"].isin(list(palette))]
        # one collection of every point in row order, each coloured by its source
        ax.scatter(pts[dim] + rng.uniform(-0.15, 0.15, len(pts)),
                   pts[outcome] + rng.uniform(-0.15, 0.15, len(pts)),
                   c=rgba[pts["source"].map(index).to_numpy()], s=POINT_SIZE, alpha=0.8,
                   linewidths=0, zorder=2, gid="points")
        ax.set_ylabel("")
        ax.set_xlabel("")
        note = rmcorr_label(rmcorr, case, dim)
        if note:  # above the panel, where it covers no point
            ax.text(0.5, 1.02, note.replace(", 95%", "\n95%"), transform=ax.transAxes,
                    ha="center", va="bottom", fontsize=5.5, gid="rmcorr")
        if case == cases[0]:
            ax.set_title(label(dim), pad=18 if note else 4)
        low, high = scale_limits(study, dim, part[dim])
        ax.set_xticks(range(low, high + 1))
        ax.set_xlim(low - 0.5, high + 0.5)
        ylow, yhigh = scale_limits(study, outcome, part[outcome])
        ax.set_yticks(range(ylow, yhigh + 1))
        ax.set_ylim(ylow - 0.5, yhigh + 0.5)
        if case == cases[-1]:
            ax.set_xlabel(theme.similarity_label(label(dim)))
    for case in cases:
        grid[(case, dims[0])].set_ylabel(f"{label(case)}\n{label(outcome)}")
    handles = [Line2D([], [], color=color, marker="o", linestyle="none", alpha=0.8,
                      markersize=np.sqrt(POINT_SIZE), markeredgewidth=0)
               for color in palette.values()]
    fig.legend(handles, [label(s) for s in palette], loc="outside upper center",
               ncols=len(palette), markerscale=2)
    return fig


def participant_lines(part: pd.DataFrame, x: str, y: str) -> np.ndarray:
    """Each (wave, participant)'s least-squares line of ``y`` on ``x`` from their lowest to
    their highest ``x``, for participants whose ``x`` varies: (n, 2, 2) segment ends."""
    xs, ys = part[x].to_numpy(float), part[y].to_numpy(float)
    grouped = pd.DataFrame({"x": xs, "y": ys}).groupby(
        [part["wave"].to_numpy(), part["participant"].to_numpy()], sort=True)
    ends = grouped.agg(low=("x", "min"), high=("x", "max"), x_mean=("x", "mean"),
                       y_mean=("y", "mean"))
    group = grouped.ngroup().to_numpy()  # row -> its participant's row of ``ends``
    x_mean, y_mean = ends["x_mean"].to_numpy(), ends["y_mean"].to_numpy()
    dx, dy = xs - x_mean[group], ys - y_mean[group]
    sxy = np.bincount(group, weights=dx * dy, minlength=len(ends))
    sxx = np.bincount(group, weights=dx * dx, minlength=len(ends))
    varies = (ends["high"] > ends["low"]).to_numpy()
    slope = sxy[varies] / sxx[varies]
    x0, x1 = ends["low"].to_numpy()[varies], ends["high"].to_numpy()[varies]
    at = y_mean[varies] - slope * x_mean[varies]
    return np.stack([np.stack([x0, at + slope * x0], axis=1),
                     np.stack([x1, at + slope * x1], axis=1)], axis=1)


def scale_limits(study, dimension: str, values=None) -> tuple[int, int]:
    """Lowest and highest code of the dimension's scale (observed range when unknown)."""
    scale = study.dimension_scale(dimension) if study is not None else None
    if scale is not None:
        return int(scale.low), int(scale.high)
    values = pd.Series(values, dtype=float).dropna()
    return (int(values.min()), int(values.max())) if len(values) else (1, 5)


TIE = "tie"


def _sets(values: pd.Series) -> pd.Series:
    return values.astype(str).str.split(";").map(frozenset)


def alignment_cells(misalignment: pd.DataFrame, levels: list[str]) -> pd.DataFrame:
    """Per case study x most-similar level x expected-best level (ties as ``tie``): participants
    ``n`` and how many of them are aligned (their most similar and best-expected sources share
    a source, as in the misalignment table)."""
    sim_col = pick(misalignment, "most_similar")
    exp_col = pick(misalignment, "expected_best", "best_expected")
    data = misalignment.dropna(subset=[sim_col, exp_col]).copy()
    if "misaligned" in data.columns:
        data["aligned"] = ~data["misaligned"].astype(bool)
    else:
        data["aligned"] = [bool(a & b) for a, b in zip(_sets(data[sim_col]), _sets(data[exp_col]),
                                                       strict=True)]
    for col, out in ((sim_col, "most_similar"), (exp_col, "expected_best")):
        data[out] = data[col].astype(str).where(~data[col].astype(str).str.contains(";"), TIE)
    cells = data.groupby(["case_study", "most_similar", "expected_best"]).agg(
        n=("aligned", "size"), aligned=("aligned", "sum")).reset_index()
    return cells


def alignment(misalignment: pd.DataFrame, study=None):
    """Most similar source (rows) against the source expected to perform best (columns), per
    case study, with ties (several sources at the maximum) as their own row and column.

    Each cell gives its participants; a tie cell also says how many of them are aligned (the
    tie includes the other source). The title's aligned count is the diagonal plus those, out
    of every participant in the panel. Cells have ``gid``
    ``"<case_study>/<most_similar>/<expected_best>"``; the title has gid ``"title/<case>"``.
    """
    label = theme.labeller(study)
    if misalignment.dropna(subset=[pick(misalignment, "most_similar")]).empty:
        return theme.message("No participants with both similarity and expectation ratings.")
    probe = alignment_cells(misalignment, [])
    cases = present(probe["case_study"], study.case_study_ids if study else ())
    levels = present(pd.concat([probe["most_similar"], probe["expected_best"]]),
                     [*(study.source_ids if study else ()), TIE])
    levels = [v for v in levels if v != TIE] + [TIE]
    fig, axes = theme.figure(1, len(cases), theme.DOUBLE, 0.9 + 0.42 * len(levels))
    for ax, case in zip(axes[0], cases, strict=True):
        part = probe[probe["case_study"] == case]
        n = part.pivot_table(index="most_similar", columns="expected_best", values="n",
                             aggfunc="sum").reindex(index=levels, columns=levels).fillna(0)
        ok = part.pivot_table(index="most_similar", columns="expected_best", values="aligned",
                              aggfunc="sum").reindex(index=levels, columns=levels).fillna(0)
        sns.heatmap(n, ax=ax, cmap=theme.sequential(), vmin=0, cbar=False, annot=False,
                    square=False, linewidths=0.5, linecolor="white")
        top = max(n.to_numpy().max(), 1)
        for i, sim in enumerate(levels):
            for j, exp in enumerate(levels):
                count, good = int(n.iloc[i, j]), int(ok.iloc[i, j])
                tie_cell = TIE in (sim, exp)
                note = f"{count}\n({good} aligned)" if tie_cell and count else str(count)
                ax.text(j + 0.5, i + 0.5, note, ha="center", va="center", gid=f"{case}/{sim}/{exp}",
                        fontsize=(6 if len(levels) <= 4 else 4.8) if tie_cell else 7,
                        color="white" if count > top / 2 else "black")
                if sim == exp and sim != TIE:
                    ax.add_patch(Rectangle((j, i), 1, 1, fill=False, lw=1.0,
                                           edgecolor=theme.OKABE_ITO["black"]))
        diag = int(sum(ok.loc[v, v] for v in levels if v != TIE))
        via_tie = int(ok.loc[TIE].sum() + ok[TIE].sum() - ok.loc[TIE, TIE])
        aligned, total = diag + via_tie, int(n.to_numpy().sum())
        ticks = [label(v) if v != TIE else "Tie" for v in levels]
        ax.set_xticks(np.arange(len(levels)) + 0.5, ticks, rotation=30, ha="right")
        ax.set_yticks(np.arange(len(levels)) + 0.5, ticks, rotation=0)
        ax.set_title(f"{label(case)}: {aligned}/{total} aligned\n"
                     f"({diag} same source + {via_tie} within a tie)", gid=f"title/{case}")
        ax.set_xlabel("Expected to perform best")
        ax.set_ylabel("Rated most similar")
    return fig


def rho_distribution(participants: pd.DataFrame, study=None, summary: pd.DataFrame | None = None,
                     seed: int = 0):
    """Per-participant Spearman rho between each similarity dimension and the outcome over the
    sources, one point per participant (jittered strip), per case study; the black point and
    bar are the mean and its bootstrap 95% CI from the alignment summary (``mean_rho``).

    Points have ``gid`` ``"rho/<case>/<dimension>"``; the n per dimension is in the tick label.
    """
    label = theme.labeller(study)
    data = participants.dropna(subset=["rho"])
    data = data[data["scope"].astype(str) != "pooled"]
    if data.empty:
        return theme.message("No participant has a defined rank correlation.")
    cases = present(data["scope"], study.case_study_ids if study else ())
    dims = present(data["dimension"], study.similarity_dimensions if study else ())
    fig, axes = theme.figure(1, len(cases), theme.DOUBLE, 2.4, sharey=True)
    means = None
    if summary is not None and not summary.empty:
        means = summary[summary["measure"] == "mean_rho"].set_index(["scope", "dimension"])
    for ax, case in zip(axes[0], cases, strict=True):
        part = data[data["scope"] == case]
        rng = np.random.default_rng(seed)
        for k, dim in enumerate(dims):
            points = part[part["dimension"] == dim]
            x = k + rng.uniform(-0.25, 0.25, len(points))
            sns.scatterplot(x=x, y=points["rho"].to_numpy(float), ax=ax, s=8, linewidth=0,
                            color=study.color(case) if study else theme.GREY, alpha=0.7,
                            legend=False, gid=f"rho/{case}/{dim}")
        for k, dim in enumerate(dims):
            if means is not None and (case, dim) in means.index:
                row = means.loc[(case, dim)]
                ax.errorbar(k + 0.3, row["estimate"], yerr=[[row["estimate"] - row["ci_low"]],
                            [row["ci_high"] - row["estimate"]]], fmt="o", color="black",
                            markersize=3, capsize=2, gid=f"mean/{case}/{dim}")
        counts = part.groupby("dimension").size()
        ax.set_xticks(range(len(dims)), [f"{label(d)}\n(n = {int(counts.get(d, 0))})"
                                         for d in dims])
        ax.axhline(0, color=theme.GREY, linewidth=0.6, linestyle="--")
        ax.set_ylim(-1.1, 1.1)
        ax.set_title(label(case))
        ax.set_xlabel("")
        ax.set_ylabel("Spearman rho (similarity vs outcome)")
    return fig


def intuition_outcome(ratings: pd.DataFrame, outcomes: pd.DataFrame | None, study=None,
                      min_span: float = 0.05):
    """Mean outcome rating (seaborn point plot, 95% t CI over participants) against the
    benchmark score, per case study (n in the title), with the benchmark's 95% CI as
    horizontal bars when ``outcomes`` has ``ci_low`` and ``ci_high``; the x axis spans at
    least ``min_span`` so small differences are not inflated, and each panel states whether
    the benchmark's differences are significant.

    One point per source present in both tables, with ``gid`` ``"<case_study>/<source>"``.
    """
    if outcomes is None:
        return theme.message("No benchmark outcomes file configured (config: outcomes).")
    label = theme.labeller(study)
    outcome = study.outcome if study is not None else None
    score = pick(outcomes, "macro_auc", "score", "outcome")
    expected = ratings[ratings["dimension"] == outcome]
    if expected.empty:
        return theme.message("No outcome ratings to compare with the benchmark.")
    summary = expected.groupby(["case_study", "source"])["value"].apply(mean_ci).unstack()
    bench = outcomes.rename(columns={"ci_low": "bench_low", "ci_high": "bench_high"})
    data = summary.reset_index().merge(bench, on=["case_study", "source"])
    if data.empty:
        return theme.message("No sources in common between ratings and outcomes.")
    cases = present(data["case_study"], study.case_study_ids if study else ())
    fig, axes = theme.figure(1, len(cases), theme.DOUBLE, 2.5, sharey=True)
    shown, colors = {}, {}
    for ax, case in zip(axes[0], cases, strict=True):
        part = data[data["case_study"] == case]
        order = present(part["source"], study.source_ids if study else ())
        raw = expected.dropna(subset=["value"]).astype({"value": float}).merge(
            part[["case_study", "source", score]], on=["case_study", "source"])
        palette = {s: study.color(s) if study else theme.GREY for s in order}
        colors.update(palette)
        sns.pointplot(raw, x=score, y="value", hue="source", hue_order=order, palette=palette,
                      native_scale=True, errorbar=t_interval, linestyle="none", markersize=4,
                      err_kws={"linewidth": 1.0}, legend=False, ax=ax)
        for source, line in zip(order, theme.point_lines(ax), strict=True):
            line.set_gid(f"{case}/{source}")
        for row in part.itertuples():
            x = getattr(row, score)
            if "bench_low" in part.columns and not np.isnan(row.bench_low):
                ax.errorbar(x, row.mean, xerr=[[x - row.bench_low], [row.bench_high - x]],
                            fmt="none", color=palette[row.source], capsize=2, linewidth=1.0)
            shown[row.source] = label(row.source)
        lo = part.get("bench_low", part[score]).fillna(part[score]).min()
        hi = part.get("bench_high", part[score]).fillna(part[score]).max()
        pad = max((min_span - (hi - lo)) / 2, (hi - lo) * 0.15)
        left, right = lo - pad, hi + pad
        if lo >= 0 and hi <= 1 and right > 1:  # a score in [0, 1] (AUC, accuracy): not past 1
            left, right = left - (right - 1), 1.0
        ax.set_xlim(left, right)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ns = sorted({int(v) for v in part["n"]})
        ax.set_title(f"{label(case)} (n = {'-'.join(map(str, ns[::len(ns) - 1 or 1]))} "
                     "participants per source)")
        ax.text(0.02, 0.02, benchmark_note(outcomes, case, part["source"]),
                transform=ax.transAxes, fontsize=5.5,
                va="bottom", gid=f"note/{case}")
        ax.set_xlabel(f"Benchmark score ({score.replace('_', ' ').replace('auc', 'AUC')})")
    keys = present(list(shown), study.source_ids if study else ())
    handles = [Line2D([], [], color=colors[s], marker="o", linestyle="none", markersize=4)
               for s in keys]
    fig.legend(handles, [shown[s] for s in keys], loc="outside upper center", ncols=len(keys))
    low, high = scale_limits(study, outcome, expected["value"])
    axes[0, 0].set_ylabel(f"{label(outcome)} ({low}-{high})")
    axes[0, 0].set_ylim(low - 0.2, high + 0.2)
    return fig
