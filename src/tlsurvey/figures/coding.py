"""Figures of the free-text coding: code frequencies, co-occurrence, topics, ambiguous terms."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tlsurvey import CASE_STUDIES, SOURCES
from tlsurvey.figures import theme
from tlsurvey.figures.data import pick, present


def code_labels(codebook: Mapping | None, codes) -> dict[str, str]:
    """Display label of each code (codebook ``label``, else the id made readable)."""
    book = (codebook or {}).get("codes", {})
    return {c: book.get(c, {}).get("label") or theme.label(c) for c in codes}


def code_order(codes: pd.DataFrame, codebook: Mapping | None) -> list[str]:
    """Codebook order of the codes present (unknown codes last, by frequency)."""
    return present(codes["code"], list((codebook or {}).get("codes", {})))


def grouped_barh(ax, table: pd.DataFrame, colors: Mapping[str, str], prefix: str) -> None:
    """Horizontal grouped bars of ``table`` (rows: codes, columns: groups); gid
    ``"<prefix>/<group>/<code>"``."""
    groups = list(table.columns)
    height = 0.8 / max(len(groups), 1)
    for k, group in enumerate(groups):
        y = np.arange(len(table)) + (k - (len(groups) - 1) / 2) * height
        bars = ax.barh(y, table[group].to_numpy(), height, label=theme.label(group),
                       color=colors.get(group, theme.GREY))
        for bar, code in zip(bars, table.index, strict=True):
            bar.set_gid(f"{prefix}/{group}/{code}")
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.set_xlabel("% of participants")
    ax.legend(loc="lower right")


def automatic(codes: pd.DataFrame, origins=("lexicon",)) -> pd.DataFrame:
    """Codes of the given ``origins`` (all codes when none has such an origin)."""
    if "origin" not in codes.columns:
        return codes
    chosen = codes[codes["origin"].isin(origins)]
    return chosen if not chosen.empty else codes


def code_frequency(codes: pd.DataFrame, choices: pd.DataFrame, codebook: Mapping | None = None):
    """Share of participants whose case-study rationale carries each (lexicon) code, by case
    study (left) and by the source they chose (right)."""
    keys = ["participant", "wave", "case_study"]
    coded = automatic(codes).dropna(subset=["case_study"])[[*keys, "code"]].drop_duplicates()
    if coded.empty:
        return theme.message("No coded rationales to show.")
    order = code_order(coded, codebook)
    labels = code_labels(codebook, order)
    by_case = shares(coded, choices, "case_study", order)
    chosen = choices.dropna(subset=["source"]).astype({"source": str})
    by_source = shares(coded.merge(chosen, on=keys), chosen, "source", order)
    fig, axes = theme.figure(1, 2, theme.DOUBLE, 0.6 + 0.22 * len(order), sharey=True)
    grouped_barh(axes[0, 0], by_case[present(by_case.columns, CASE_STUDIES)],
                 theme.CASE_COLORS, "case")
    grouped_barh(axes[0, 1], by_source[present(by_source.columns, SOURCES)],
                 theme.SOURCE_COLORS, "source")
    top = max(by_case.to_numpy().max(), by_source.to_numpy().max(), 1)
    axes[0, 0].set_xlim(0, min(100, top * 1.15))
    axes[0, 1].set_xlim(0, min(100, top * 1.15))
    axes[0, 0].set_yticks(range(len(order)), [labels[c] for c in order])
    axes[0, 0].set_title("By case study")
    axes[0, 1].set_title("By chosen source")
    return fig


def shares(coded: pd.DataFrame, base: pd.DataFrame, by: str, order: list[str]) -> pd.DataFrame:
    """% of ``base`` rows (participant x case study) in each ``by`` group coded with each code."""
    totals = base.groupby(by).size()
    counts = coded.groupby([by, "code"]).size().unstack(by, fill_value=0)
    return (100 * counts.reindex(index=order, fill_value=0) / totals).fillna(0)


def code_cooccurrence(codes: pd.DataFrame, codebook: Mapping | None = None):
    """Heatmap of the number of answers given both (lexicon) codes (diagonal: with the code).

    Cell annotations have ``gid`` ``"<code>/<code>"``.
    """
    pairs = automatic(codes)[["text_id", "code"]].drop_duplicates()
    if pairs.empty:
        return theme.message("No codes to show.")
    order = code_order(pairs, codebook)
    labels = code_labels(codebook, order)
    indicator = pd.crosstab(pairs["text_id"], pairs["code"]).reindex(columns=order, fill_value=0)
    matrix = indicator.T.dot(indicator).to_numpy()
    fig, axes = theme.figure(width=theme.DOUBLE * 0.75, height=theme.DOUBLE * 0.62)
    ax = axes[0, 0]
    image = ax.imshow(matrix, cmap=theme.sequential(), vmin=0)
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=5,
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black", gid=f"{a}/{b}")
    ticks = [labels[c] for c in order]
    ax.set_xticks(range(len(order)), ticks, rotation=45, ha="right")
    ax.set_yticks(range(len(order)), ticks)
    ax.spines[:].set_visible(False)
    fig.colorbar(image, ax=ax, shrink=0.6, label="Answers")
    return fig


def topics(topic_info: pd.DataFrame, codebook: Mapping | None = None, n_words: int = 6):
    """Answers per topic, each labelled with its top words (outlier topic -1 left out).

    Bars have ``gid`` ``"topic/<topic>"``; the code a topic maps to is written beside its bar.
    """
    info = topic_info[topic_info["topic"].astype(int) >= 0].sort_values("topic")
    if info.empty:
        return theme.message("The topic model found no topics.")
    words = info[pick(info, "top_words", "representation")].fillna("").astype(str)
    labels = [f"T{t}: " + ", ".join(w.split("; ")[:n_words]) for t, w in zip(info["topic"], words,
                                                                            strict=True)]
    fig, axes = theme.figure(width=theme.DOUBLE, height=0.5 + 0.24 * len(info))
    ax = axes[0, 0]
    counts = info[pick(info, "count", "n", "Count")].to_numpy()
    bars = ax.barh(range(len(info)), counts, color=theme.OKABE_ITO["blue"])
    code_col = pick(info, "code", required=False)
    for bar, row in zip(bars, info.itertuples(), strict=True):
        bar.set_gid(f"topic/{row.topic}")
        code = getattr(row, code_col) if code_col else None
        if isinstance(code, str) and code:
            centre = (bar.get_width(), bar.get_y() + bar.get_height() / 2)
            ax.annotate(code_labels(codebook, [code])[code], centre, xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=6,
                        color=theme.OKABE_ITO["vermillion"])
    ax.set_yticks(range(len(info)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, counts.max() * 1.3)
    ax.set_xlabel("Answers")
    return fig


def ambiguous_terms(terms: pd.DataFrame, codebook: Mapping | None = None):
    """Per ambiguous term, participants by the sense (code) they gave it, stacked; terms sorted
    by disagreement (Gini-Simpson of the senses), which is written beside each bar.

    Segments have ``gid`` ``"<term>/<sense>"``.
    """
    if terms.empty:
        return theme.message("No ambiguous terms were used.")
    term = pick(terms, "term_id", "term")
    data = terms.drop_duplicates([term, "sense"])
    order = (data.drop_duplicates(term).sort_values(["disagreement", term], ascending=[False, True])
             [term].tolist())
    senses = present(data["sense"], list((codebook or {}).get("codes", {})))
    senses = [x for x in senses if x != "unqualified"] + ["unqualified"] * (
        "unqualified" in senses)
    palette = list(theme.OKABE_ITO.values())
    qualified = [x for x in senses if x != "unqualified"]
    colors = {s: palette[i % len(palette)] for i, s in enumerate(qualified)}
    hatches = {s: "////" if i >= len(palette) else None for i, s in enumerate(qualified)}
    colors["unqualified"], hatches["unqualified"] = theme.GREY, None
    labels = code_labels(codebook, senses)
    fig, axes = theme.figure(width=theme.DOUBLE, height=0.9 + 0.26 * len(order))
    ax = axes[0, 0]
    counts = data.pivot(index=term, columns="sense", values="n_participants").reindex(
        index=order, columns=senses).fillna(0)
    left = np.zeros(len(order))
    for sense in senses:
        bars = ax.barh(range(len(order)), counts[sense], left=left, color=colors[sense],
                       label=labels[sense], edgecolor="white", linewidth=0.3,
                       hatch=hatches[sense])
        for bar, t in zip(bars, order, strict=True):
            bar.set_gid(f"{t}/{sense}")
        left += counts[sense].to_numpy()
    score = data.drop_duplicates(term).set_index(term)["disagreement"].reindex(order)
    for y, (total, d) in enumerate(zip(left, score, strict=True)):
        ax.annotate(f"D = {d:.2f}", (total, y), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=6)
    ax.set_yticks(range(len(order)), [f'"{t.replace("_", " ")}"' for t in order])
    ax.invert_yaxis()
    ax.set_xlim(0, left.max() * 1.15)
    ax.set_xlabel("Participants using the term, by the sense they gave it")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="Sense")
    return fig
