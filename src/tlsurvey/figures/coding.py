"""Figures of the free-text coding: code frequencies and families, co-occurrence, topics,
ambiguous terms."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tlsurvey.figures import theme
from tlsurvey.figures.common import families
from tlsurvey.figures.data import pick, present
from tlsurvey.figures.theme import sns  # seaborn as theme imports it

KEYS = ["participant", "wave", "case_study"]


def code_labels(codebook: Mapping | None, codes) -> dict[str, str]:
    """Display label of each code (codebook ``label``, else the id made readable)."""
    book = (codebook or {}).get("codes", {})
    return {c: book.get(c, {}).get("label") or theme.readable(c) for c in codes}


def code_order(codes: pd.DataFrame, codebook: Mapping | None) -> list[str]:
    """Codebook order of the codes present (unknown codes last, by frequency)."""
    return present(codes["code"], list((codebook or {}).get("codes", {})))


def grouped_barh(ax, table: pd.DataFrame, colors: Mapping[str, str], prefix: str,
                 names: Mapping[str, str]) -> None:
    """Horizontal grouped bars (seaborn) of ``table`` (rows: codes, columns: groups); gid
    ``"<prefix>/<group>/<code>"``; legend entries ``names[group]`` below the axes, where they
    cover no bar."""
    groups = list(table.columns)
    rows = [str(k) for k in range(len(table))]
    long = (table.set_axis(rows).rename_axis("row").reset_index()
            .melt(id_vars="row", var_name="group", value_name="share"))
    long["group"] = long["group"].map(names)
    theme.bars(ax, long, x="share", y="row", hue="group", order=rows,
               hue_order=[names[g] for g in groups], orient="y",
               palette={names[g]: colors.get(g, theme.GREY) for g in groups})
    for container, group in zip(ax.containers, groups, strict=True):
        for bar, code in zip(container, table.index, strict=True):
            bar.set_gid(f"{prefix}/{group}/{code}")
    ax.set_xlabel("% of participant x case-study rationales")
    ax.set_ylabel("")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.5 / max(len(table), 4) - 0.1),
              ncols=1)


def automatic(codes: pd.DataFrame, origins=("lexicon",)) -> pd.DataFrame:
    """Codes of the given ``origins`` (all codes when none has such an origin)."""
    if "origin" not in codes.columns:
        return codes
    chosen = codes[codes["origin"].isin(origins)]
    return chosen if not chosen.empty else codes


def shares(coded: pd.DataFrame, base: pd.DataFrame, by: str, order: list[str],
           column: str = "code") -> pd.DataFrame:
    """% of ``base`` rows (participant x case study) in each ``by`` group carrying each value of
    ``column`` (a row counts once per value)."""
    totals = base.groupby(by).size()
    counts = (coded.drop_duplicates([*KEYS, column]).groupby([by, column]).size()
              .unstack(by, fill_value=0))
    return (100 * counts.reindex(index=order, fill_value=0) / totals).fillna(0)


def _by_case_and_source(coded, choices, column, order, study, title):
    """Two panels of grouped bars: shares by case study and by chosen source, n in legends."""
    label = theme.labeller(study)
    chosen = choices.dropna(subset=["source"]).astype({"source": str})
    by_case = shares(coded, choices, "case_study", order, column)
    by_source = shares(coded.merge(chosen[[*KEYS, "source"]], on=KEYS), chosen, "source", order,
                       column)
    cases = present(by_case.columns, study.case_study_ids if study else ())
    sources = present(by_source.columns, study.choice_ids if study else ())
    n_case, n_source = choices.groupby("case_study").size(), chosen.groupby("source").size()
    fig, axes = theme.figure(1, 2, theme.DOUBLE, 0.9 + 0.26 * len(order), sharey=True)
    grouped_barh(axes[0, 0], by_case[cases], theme.colors(study, cases), "case",
                 {c: f"{label(c)} (n = {n_case.get(c, 0)})" for c in cases})
    grouped_barh(axes[0, 1], by_source[sources], theme.colors(study, sources), "source",
                 {s: f"{label(s)} (n = {n_source.get(s, 0)})" for s in sources})
    top = max(by_case.to_numpy().max(), by_source.to_numpy().max(), 1)
    for ax in axes[0]:
        ax.set_xlim(0, min(100, top * 1.15))
    axes[0, 0].set_yticks(range(len(order)), title)
    axes[0, 0].set_title("By case study")
    axes[0, 1].set_title("By chosen source")
    return fig


def code_frequency(codes: pd.DataFrame, choices: pd.DataFrame, codebook: Mapping | None = None,
                   study=None):
    """Share of participant x case-study rationales carrying each (lexicon) code, by case study
    (left) and by the source chosen (right); n of each group in the legend."""
    coded = automatic(codes).dropna(subset=["case_study"])[[*KEYS, "code"]].drop_duplicates()
    if coded.empty:
        return theme.message("No coded rationales to show.")
    order = code_order(coded, codebook)
    labels = code_labels(codebook, order)
    return _by_case_and_source(coded, choices, "code", order, study, [labels[c] for c in order])


def code_families(codes: pd.DataFrame, choices: pd.DataFrame, codebook: Mapping | None = None,
                  study=None):
    """Share of participant x case-study rationales citing each code family (any of its codes,
    lexicon origin), by case study and by chosen source; n of each group in the legend.

    Bars have ``gid`` ``"case/<case>/<family>"`` and ``"source/<source>/<family>"``.
    """
    of, names = families(codebook)
    coded = automatic(codes).dropna(subset=["case_study"])[[*KEYS, "code"]].drop_duplicates()
    coded = coded.assign(family=coded["code"].map(lambda c: of.get(c, c)))
    if coded.empty:
        return theme.message("No coded rationales to show.")
    order = present(coded["family"], list(names))
    return _by_case_and_source(coded, choices, "family", order, study,
                               [names.get(f, theme.readable(f)) for f in order])


def code_cooccurrence(codes: pd.DataFrame, codebook: Mapping | None = None):
    """Upper-triangle heatmap of the answers given both (lexicon) codes of a pair, with the
    answers per code as bars beside it (the diagonal, kept off the colour scale).

    Cell annotations have ``gid`` ``"<code>/<code>"``; bars ``"total/<code>"``.
    """
    pairs = automatic(codes)[["text_id", "code"]].drop_duplicates()
    if pairs.empty:
        return theme.message("No codes to show.")
    order = code_order(pairs, codebook)
    labels = code_labels(codebook, order)
    indicator = pd.crosstab(pairs["text_id"], pairs["code"]).reindex(columns=order, fill_value=0)
    matrix = indicator.T.dot(indicator)
    size = len(order)
    fig, axes = theme.figure(1, 2, theme.DOUBLE, 1.2 + 0.3 * size,
                             gridspec_kw={"width_ratios": [size, 3]})
    ax, bars = axes[0]
    mask = np.tril(np.ones((size, size), dtype=bool))
    off = matrix.where(~mask)
    sns.heatmap(off, mask=mask, ax=ax, cmap=theme.sequential(), vmin=0, cbar=False,
                linewidths=0.5, linecolor="white")
    top = max(float(np.nanmax(off.to_numpy())) if (~mask).any() else 0, 1)
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            if j > i:
                value = int(matrix.iloc[i, j])
                ax.text(j + 0.5, i + 0.5, str(value), ha="center", va="center", fontsize=6.5,
                        color="white" if value > top / 2 else "black", gid=f"{a}/{b}")
    ticks = [labels[c] for c in order]
    ax.set_xticks(np.arange(size) + 0.5, ticks, rotation=45, ha="right")
    ax.set_yticks(np.arange(size) + 0.5, ticks, rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Answers with both codes")
    totals = np.diag(matrix.to_numpy())
    drawn = theme.bars(bars, x=totals, y=ticks, order=ticks, orient="y", width=0.7,
                       color=theme.OKABE_ITO["blue"])
    for bar, code in zip(drawn, order, strict=True):
        bar.set_gid(f"total/{code}")
    bars.bar_label(drawn, padding=2, fontsize=6)
    bars.set_ylim(size - 0.5, -0.5)  # rows level with the heatmap's
    bars.set_yticks([])
    bars.set_ylabel("")
    bars.set_xlim(0, totals.max() * 1.25)
    bars.set_title("Answers\nwith the code")
    return fig


MAX_TOPICS = 40  # bars of the topics figure: the largest topics (all are in topic_info.csv)


def topics(topic_info: pd.DataFrame, codebook: Mapping | None = None, n_words: int = 6,
           max_topics: int = MAX_TOPICS):
    """Answers per topic, each labelled with its top words (outlier topic -1 left out); with
    more than ``max_topics`` topics, the ``max_topics`` largest (ties by topic number), and the
    x label says how many are shown.

    Bars have ``gid`` ``"topic/<topic>"``; the code a topic maps to is written beside its bar.
    """
    info = topic_info[topic_info["topic"].astype(int) >= 0]
    if info.empty:
        return theme.message("The topic model found no topics.")
    n_topics = len(info)
    count_col = pick(info, "count", "n", "Count")
    if n_topics > max_topics:
        info = info.assign(_n=-info[count_col].astype(int), _t=info["topic"].astype(int))
        info = info.sort_values(["_n", "_t"]).head(max_topics).drop(columns=["_n", "_t"])
    info = info.sort_values("topic")
    words = info[pick(info, "top_words", "representation")].fillna("").astype(str)
    labels = [f"T{t}: " + ", ".join(w.split("; ")[:n_words]) for t, w in zip(info["topic"], words,
                                                                            strict=True)]
    fig, axes = theme.figure(width=theme.DOUBLE, height=0.5 + 0.24 * len(info))
    ax = axes[0, 0]
    counts = info[count_col].to_numpy()
    bars = theme.bars(ax, x=counts, y=labels, order=labels, orient="y",
                      color=theme.OKABE_ITO["blue"])
    code_col = pick(info, "code", required=False)
    for bar, row in zip(bars, info.itertuples(), strict=True):
        bar.set_gid(f"topic/{row.topic}")
        code = getattr(row, code_col) if code_col else None
        if isinstance(code, str) and code:
            centre = (bar.get_width(), bar.get_y() + bar.get_height() / 2)
            ax.annotate(code_labels(codebook, [code])[code], centre, xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=6,
                        color=theme.OKABE_ITO["vermillion"])
    ax.set_xlim(0, counts.max() * 1.6)
    ax.set_xlabel("Answers" if len(info) == n_topics
                  else f"Answers ({len(info)} largest of {n_topics} topics)")
    ax.set_ylabel("")
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
    names = [f'"{t.replace("_", " ")}"' for t in order]
    for sense in senses:
        drawn = theme.bars(ax, x=counts[sense].to_numpy(), y=names, order=names, orient="y",
                           left=left, color=colors[sense], label=labels[sense], legend=False,
                           edgecolor="white", linewidth=0.3, hatch=hatches[sense])
        for bar, t in zip(drawn, order, strict=True):
            bar.set_gid(f"{t}/{sense}")
        left = left + counts[sense].to_numpy()
    score = data.drop_duplicates(term).set_index(term)["disagreement"].reindex(order)
    for y, (total, d) in enumerate(zip(left, score, strict=True)):
        ax.annotate(f"D = {d:.2f}", (total, y), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=6)
    ax.set_ylabel("")
    ax.set_xlim(0, left.max() * 1.15)
    ax.set_xlabel("Participants using the term, by the sense they gave it")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="Sense")
    return fig
