"""Report sections: each builds a list of blocks (paragraphs, tables, figures) from the inputs."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from tlsurvey import CASE_STUDIES, DIMENSIONS, SOURCES, descriptives
from tlsurvey.figures.theme import label
from tlsurvey.report import text
from tlsurvey.report.flow import flow_svg, steps

POOLED = descriptives.POOLED


def para(*sentences: str) -> dict:
    """Paragraph block (escaped by the template)."""
    return {"kind": "p", "text": " ".join(s for s in sentences if s)}


def bullets(items) -> dict:
    """Bulleted list block (one result sentence per item)."""
    return {"kind": "list", "items": [i for i in items if i]}


def note(message: str) -> dict:
    """Greyed note block, e.g. for an input that is not available."""
    return {"kind": "note", "text": message}


def fmt_cell(value, digits: int | str) -> str:
    """Table cell text: floats rounded to ``digits`` (``"p"``: APA p value), NA as an en dash."""
    if text.missing(value):
        return "–"
    if digits == "p" and isinstance(value, float):
        return text.pval(value).removeprefix("p = ").removeprefix("p ").replace(" ", "")
    if isinstance(value, float):
        return text.num(value, digits)
    return str(value)


def column_digits(name: str, column: pd.Series, digits: int) -> int | str:
    """Format of a column: ``"p"`` for p values, 0 for whole-number floats (counts with NAs),
    else ``digits``."""
    if name in {"p", "pval", "p_value"} or name.startswith("p_"):
        return "p"
    values = pd.to_numeric(column, errors="coerce").dropna()
    whole = column.dtype.kind == "f" and len(values) and (values % 1 == 0).all()
    return 0 if whole else digits


def table(df: pd.DataFrame | None, caption: str, digits: int = 2, max_rows: int = 200) -> dict:
    """Table block from ``df`` (at most ``max_rows`` rows; cells escaped by the template)."""
    if df is None or df.empty:
        return note(f"{caption}: no data.")
    for col in ("method", "test"):  # a constant method column goes into the caption
        if col in df.columns and df[col].nunique(dropna=False) == 1:
            caption += f" ({col}: {df[col].iloc[0]})"
            df = df.drop(columns=col)
    shown = df.head(max_rows)
    places = [column_digits(str(c), shown[c], digits) for c in shown.columns]
    rows = [[fmt_cell(v, d) for v, d in zip(row, places, strict=True)]
            for row in shown.itertuples(index=False)]
    suffix = f" (first {max_rows} of {len(df)} rows)" if len(df) > max_rows else ""
    return {"kind": "table", "caption": caption + suffix, "columns": [str(c) for c in df.columns],
            "rows": rows}


def h3(title: str) -> dict:
    """Sub-heading block."""
    return {"kind": "h3", "text": title}


def figure(inp, name: str) -> dict:
    """Figure block of ``name``, or a note when it was not built."""
    return inp.figure(name) or note(f"Figure {name} not available in this run.")


def missing(*names: str) -> dict:
    """Note naming inputs that were not available."""
    return note("Not available in this run: " + ", ".join(names) + ".")


def pooled(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """Rows of the pooled wave (``all``) when the table has a wave column."""
    if df is None or "wave" not in df.columns or POOLED not in set(df["wave"].astype(str)):
        return df
    return df[df["wave"].astype(str) == POOLED].drop(columns="wave")


def relabel(df: pd.DataFrame, columns=("case_study", "source", "dimension", "factor")):
    """Copy of ``df`` with canonical ids replaced by display labels."""
    out = df.copy()
    for col in columns:
        if col in out.columns:
            out[col] = out[col].map(lambda v: label(v) if not text.missing(v) else v)
    return out


# --- sections ---------------------------------------------------------------------------------


def data_section(inp) -> list[dict]:
    """Data and exclusions: flow diagram, flow table, excluded responses."""
    flow = inp.table("flow")
    if flow is None:
        return [missing("flow.csv")]
    waves = [w for w in flow["wave"].astype(str).unique() if w != "total"]
    whole = "total" if "total" in set(flow["wave"].astype(str)) else waves[0]
    raw, excluded, analysed = steps(flow, whole)
    reasons = "; ".join(f"{r.replace('_', ' ')}: {n}" for r, n in excluded if n) or "none"
    blocks = [
        para(f"Across {text.plural(len(waves), 'wave')}, {raw} responses were received and "
             f"{raw - analysed} excluded ({reasons}), leaving {analysed} for analysis "
             "(each excluded response counted once, under its first reason; all its reasons are "
             "listed in the table of excluded responses)."),
        {"kind": "svg", "markup": Markup(flow_svg(flow, whole))},
        table(flow.pivot_table(index="step", columns="wave", values="n", sort=False)
              .reset_index().rename_axis(columns=None), "Participant flow per wave", digits=0),
    ]
    excl = inp.table("excluded")
    if excl is not None:
        blocks.append(table(excl, "Excluded responses (row in the export, no identifiers)"))
    return blocks


def sample_section(inp) -> list[dict]:
    """Sample: participants per wave, completion time, demographics."""
    responses = inp.table("responses")
    if responses is None:
        return [missing("responses.parquet")]
    per_wave = responses.groupby("wave").size()
    minutes = responses["duration_s"].astype(float).median() / 60
    timing = "" if text.missing(minutes) else f"; median completion time {text.num(minutes, 1)} min"
    sentence = para(f"{text.plural(len(responses), 'participant')} were analysed ("
                    + ", ".join(f"{w}: {n}" for w, n in per_wave.items()) + f"){timing}.")
    demo = pooled(inp.table("demographics"))
    if demo is None:
        demo = pooled(descriptives.demographics(responses))
    return [sentence, figure(inp, "demographics"),
            table(demo, "Demographics (all waves)", digits=1)]


def ratings_section(inp) -> list[dict]:
    """Ratings: Likert figure and mean (SD) per case study x source x dimension."""
    blocks = [figure(inp, "likert")]
    summary = pooled(inp.table("rating_summary"))
    ratings = inp.table("ratings")
    if summary is None and ratings is not None:
        summary = pooled(descriptives.rating_summary(ratings))
    if summary is None:
        return blocks + [missing("ratings")]
    wide = summary.assign(cell=[f"{text.num(m)} ({text.num(s)})"
                                for m, s in zip(summary["mean"], summary["sd"], strict=True)])
    wide = wide.pivot(index=["case_study", "source"], columns="dimension", values="cell")
    wide = wide.reindex(columns=[d for d in DIMENSIONS if d in wide.columns])
    order = [(c, s) for c in CASE_STUDIES for s in SOURCES if (c, s) in wide.index]
    wide = wide.reindex(order + [i for i in wide.index if i not in order]).reset_index()
    wide = relabel(wide).rename(columns=lambda c: label(c) if c in DIMENSIONS else c)
    blocks.append(table(wide, "Ratings, mean (SD), 1-5, all waves"))
    return blocks


def provenance_blocks(inp) -> list[dict]:
    """Methods paragraph (the provenance tables are rendered by the template)."""
    return [para(
        "Exports were read with the instrument map, de-identified, screened with the configured "
        "exclusion rules and reshaped into tidy tables; descriptive tables, free-text coding "
        "(lexicon, topic model and human coders), mixed models and figures were produced by the "
        "Snakemake workflow. The versions, configuration and input hashes below identify this run."
    )]


def scope_label(scope) -> str:
    """Display label of a model-table scope (a case study id or ``pooled``)."""
    return "Pooled over case studies" if str(scope) == "pooled" else label(scope)


def holm(row: pd.Series) -> str:
    """`` (Holm-adjusted p = ...)`` when the row has a Holm p value."""
    p = text.first(row, "p_holm", default=None)
    return "" if text.missing(p) else f" (Holm-adjusted {text.pval(p)})"


def task_sentences(dep: pd.DataFrame) -> list[str]:
    """Bowker test and share of participants changing source between case studies."""
    rows = dep.set_index("analysis")
    out = []
    if "share_changed" in rows.index:
        r = rows.loc["share_changed"]
        out.append(f"{int(r['n_changed'])} of {int(r['n'])} participants "
                   f"({text.share(r['estimate'], r['ci_low'], r['ci_high'])}) chose a different "
                   "source for the two case studies.")
    if "bowker" in rows.index:
        r = rows.loc["bowker"]
        dof = "NA" if text.missing(r["dof"]) else int(r["dof"])
        out.append(f"Bowker's test of symmetry: χ²({dof}) = {text.num(r['statistic'])}, "
                   f"{text.pval(r['p'])}; exact {text.pval(r['p_exact'])}.")
    return out


def choices_section(inp) -> list[dict]:
    """Source choices per case study and the test of task dependence."""
    blocks = [figure(inp, "choices")]
    counts = pooled(inp.table("choice_counts"))
    if counts is not None:
        blocks.append(table(relabel(counts), "Chosen source per case study (all waves)", 1))
    dep = inp.table("task_dependence")
    if dep is not None:
        blocks += [bullets(task_sentences(dep)),
                   table(dep, "Task dependence of the chosen source", 3)]
    return blocks


def coefficient_sentences(coefs: pd.DataFrame) -> list[str]:
    """Per model, every fixed effect (no intercept or thresholds) with CI and p."""
    fixed = coefs[(coefs.get("kind", "fixed") == "fixed") & (coefs["term"] != "(Intercept)")]
    out = []
    for model, part in fixed.groupby("model", sort=False):
        terms = "; ".join(
            f"{r['term']}: " + text.stat("b", r["estimate"], r["ci_low"], r["ci_high"], r["p"])
            for _, r in part.iterrows())
        out.append(f"{model}: {terms}.")
    return out


def rmcorr_sentences(rm: pd.DataFrame) -> list[str]:
    """One sentence per row of the repeated-measures correlation table."""
    out = []
    for _, row in rm.iterrows():
        scope = text.first(row, "scope", "case_study", default="pooled")
        dim = text.first(row, "dimension", default="similarity")
        value = text.stat("r_rm", row["r"], row["ci_low"], row["ci_high"], row["p"])
        out.append(f"{scope_label(scope)}, {label(dim)} similarity vs expected performance: "
                   f"{value}{holm(row)}.")
    return out


def misalignment_sentences(summary: pd.DataFrame) -> list[str]:
    """Share of participants whose most similar source is not the one expected best."""
    rows = summary[summary["measure"] == "share_misaligned"]
    return [f"{scope_label(r['scope'])}: the source rated most similar was not the one expected "
            f"to perform best for {text.share(r['estimate'])} of participants "
            f"({text.share_ci(r['ci_low'], r['ci_high'])}, "
            f"n = {int(r['n'])})." for _, r in rows.iterrows()]


def models_section(inp) -> list[dict]:
    """Model coefficients, fit statistics and the alignment of similarity and expectation."""
    blocks = [h3("Mixed models of expected performance"), figure(inp, "coefficients")]
    coefs, fit = inp.table("coefficients"), inp.table("fit_stats")
    if coefs is None:
        blocks.append(missing("coefficients.csv"))
    else:
        blocks += [bullets(coefficient_sentences(coefs)),
                   table(coefs, "Model coefficients (95% CI)", 3)]
    if fit is not None:
        failed = fit[fit["error"].fillna("").astype(str) != ""] if "error" in fit else fit.iloc[:0]
        blocks += [note(f"Model {r['model']} failed: {r['error']}") for _, r in failed.iterrows()]
        singular = fit[fit["singular"].fillna(False).astype(bool)] if "singular" in fit else []
        blocks += [note(f"Model {r['model']}: singular fit (a random-effect variance is "
                        "estimated at zero, or a correlation at +-1); consider dropping that "
                        "random term.") for _, r in singular.iterrows()]
        blocks.append(table(fit, "Model fit statistics", 3))
    blocks += [h3("Are similarity and expected performance aligned?"),
               figure(inp, "similarity_expected")]
    rm = inp.table("alignment_rmcorr")
    if rm is not None:
        blocks += [bullets(rmcorr_sentences(rm)), table(rm, "Repeated-measures correlations", 3)]
    blocks.append(figure(inp, "alignment"))
    summary = inp.table("alignment_summary")
    if summary is not None:
        blocks += [bullets(misalignment_sentences(summary)),
                   table(relabel(summary), "Alignment of similarity and expectation", 3)]
    return blocks


def codebook_table(codebook: dict | None) -> dict:
    """Table block of the codebook (code, label, group, definition)."""
    codes = (codebook or {}).get("codes", {})
    rows = pd.DataFrame([{"code": c, "label": spec.get("label", ""), "group": spec.get("group", ""),
                          "definition": spec.get("definition", "")} for c, spec in codes.items()])
    return table(rows, "Codebook")


def ethics_sentence(codes: pd.DataFrame, n_participants: int) -> str:
    """How many participants' answers carry the fairness/ethics code, per origin of the code."""
    ethics = codes[codes["code"] == "fairness_ethics"]
    parts = []
    for origin, by in ETHICS_ORIGINS.items():
        if origin in set(codes["origin"]):
            n = len(ethics.loc[ethics["origin"] == origin, ["wave", "participant"]]
                    .drop_duplicates())
            parts.append(f"{n} of {n_participants} participants "
                         f"({text.pct(n, n_participants)}) {by}")
    return "Fairness, ethics or privacy was coded for " + "; ".join(parts) + "."


ETHICS_ORIGINS = {"lexicon": "by the lexicon", "topic": "by a topic",
                  "human": "by at least one human coder"}


def reliability_sentence(rel: pd.DataFrame) -> str | None:
    """Pooled inter-coder reliability (row code == "(all)")."""
    pooled_rows = rel[rel["code"].astype(str) == "(all)"]
    if pooled_rows.empty:
        return None
    row = pooled_rows.iloc[0]
    alpha = text.stat("Krippendorff's alpha", row["alpha"], row.get("alpha_ci_low"),
                      row.get("alpha_ci_high"))
    kappa = text.num(pooled_rows["kappa"].mean())
    return (f"Agreement between human coders over all codes: {alpha}; mean Cohen's kappa "
            f"{kappa} over {text.plural(len(pooled_rows), 'coder pair')}.")


def auto_sentence(auto: pd.DataFrame) -> str | None:
    """Lexicon codes against each human coder, micro-averaged."""
    micro = auto[auto["code"].astype(str) == "(micro)"]
    if micro.empty:
        return None
    parts = [f"coder {r['coder']}: precision {text.num(r['precision'])}, recall "
             f"{text.num(r['recall'])}, F1 {text.num(r['f1'])}" for _, r in micro.iterrows()]
    return "Automatic (lexicon) codes against human coders, micro-averaged over codes: " + \
        "; ".join(parts) + "."


def coding_section(inp) -> list[dict]:
    """Codebook, code frequencies, reliability, topics, ambiguous terms, audit link."""
    blocks = [codebook_table(inp.yaml("codebook"))]
    codes = inp.table("codes")
    responses = inp.table("responses")
    if codes is not None and responses is not None:
        blocks.append(para(ethics_sentence(codes, len(responses))))
    blocks += [figure(inp, "code_frequency"), figure(inp, "code_cooccurrence")]
    rel, auto = inp.table("reliability"), inp.table("auto_vs_human")
    blocks.append(h3("Reliability"))
    if rel is None and auto is None:
        blocks.append(missing("reliability.csv", "auto_vs_human.csv"))
    if rel is not None:
        blocks += [para(reliability_sentence(rel) or ""), table(rel, "Inter-coder reliability", 3)]
    if auto is not None:
        blocks += [para(auto_sentence(auto) or ""), table(auto, "Lexicon vs human coders", 3)]
    blocks += [h3("Topics"), figure(inp, "topics")]
    info = inp.table("topic_info")
    if info is not None:
        cols = [c for c in ("topic", "count", "top_words", "code") if c in info.columns]
        blocks.append(table(info[cols], "Topics of the free-text answers"))
    blocks += [h3("Ambiguous terminology"), figure(inp, "ambiguous_terms")]
    terms = inp.table("ambiguous_terms")
    if terms is not None and not terms.empty:
        top = terms.sort_values(["disagreement", "term_id"], ascending=[False, True]).iloc[0]
        blocks.append(para(
            f'The most contested term was "{top["term_id"]}": {int(top["n_participants_term"])} '
            f"participants gave it {text.plural(int(top['n_senses']), 'sense')} "
            f"(disagreement {text.num(top['disagreement'])})."))
        cols = [c for c in ("term_id", "disagreement", "n_senses", "sense", "n_participants",
                            "quote") if c in terms.columns]
        blocks.append(table(terms[cols], "Ambiguous terms: senses with an example quote"))
    href = inp.href("audit")
    if href:
        blocks.append({"kind": "link", "href": href,
                       "text": "Coding audit: every code with its evidence (audit.html)"})
    return blocks


def factors_section(inp) -> list[dict]:
    """Importance of the six framework factors."""
    summary = pooled(inp.table("factor_summary"))
    blocks = [figure(inp, "factors")]
    if summary is not None:
        top = summary.sort_values("mean", ascending=False).iloc[0]
        low = summary.sort_values("mean").iloc[0]
        blocks += [para(
            f"Rated most important: {label(top['factor'])} (M = {text.num(top['mean'])}, "
            f"{text.ci(top['ci_low'], top['ci_high'])}); least important: "
            f"{label(low['factor'])} (M = {text.num(low['mean'])}, "
            f"{text.ci(low['ci_low'], low['ci_high'])})."),
            table(relabel(summary), "Importance of the framework factors (1-5, all waves)")]
    return blocks


def outcome_sentences(summary: pd.DataFrame) -> list[str]:
    """Mean Kendall tau between expected performance and benchmark outcome, per scope."""
    return [f"{scope_label(r['scope'])}: Kendall tau-b between a participant's expected "
            f"performance and the benchmark macro-AUC of the sources: "
            + text.stat("mean tau", r["mean_tau"], r["ci_low"], r["ci_high"])
            + f", {r.get('p_method') or 'permutation'} {text.pval(r['p_exact'])}{holm(r)}; "
            "positive for "
            f"{text.share(r['share_positive'])} of {int(r['n'])} participants."
            for _, r in summary.iterrows()]


def outcome_section(inp) -> list[dict]:
    """Expected performance against the benchmark outcome."""
    blocks = [figure(inp, "intuition_outcome")]
    summary = inp.table("intuition_outcome_summary")
    if summary is not None:
        blocks += [bullets(outcome_sentences(summary)),
                   table(relabel(summary), "Expected performance vs benchmark outcome", 3)]
    if inp.table("outcomes") is not None:
        blocks.append(table(relabel(inp.table("outcomes")), "Benchmark outcomes (macro-AUC)", 4))
    return blocks


def multiverse_sentence(summary: pd.DataFrame) -> str:
    """How the key estimate varies across the specifications of the multiverse."""
    row = summary[summary["choice"] == "all"].iloc[0]
    n, failed = int(row["n_specs"]), int(row["n_failed"])
    if n == failed:
        return f"None of the {n} specifications could be fitted."
    return (f"Across {text.plural(n, 'specification')} of the multiverse"
            + (f" ({failed} failed to fit)" if failed else "")
            + ", the effect of similarity on expected performance (residual SD units) had median "
            f"{text.num(row['median_standardised'])} (range {text.num(row['min_standardised'])} "
            f"to {text.num(row['max_standardised'])}); it was positive in "
            f"{text.share(row['share_positive'])} of them and positive with p < .05 in "
            f"{text.share(row['share_positive_significant'])}.")


def multiverse_section(inp) -> list[dict]:
    """Multiverse: specification curve of the key estimate and its summary by choice."""
    blocks = [figure(inp, "specification_curve")]
    summary = inp.table("multiverse_summary")
    if summary is None or summary.empty:
        return [*blocks, missing("multiverse summary.csv")]
    return [para(multiverse_sentence(summary)), *blocks,
            table(summary, "Specification curve by analytic choice", 3)]


def waves_section(inp) -> list[dict] | None:
    """Comparison of waves (only when there are at least two)."""
    responses = inp.table("responses")
    if responses is None or responses["wave"].nunique() < 2:
        return None
    per_wave = responses.groupby("wave").size()
    blocks = [para("Participants per wave: " + ", ".join(f"{w}: {n}" for w, n in per_wave.items())
                   + "."), figure(inp, "waves")]
    summary = inp.table("rating_summary")
    if summary is not None:
        by_wave = summary[summary["wave"].astype(str) != POOLED]
        wide = by_wave.pivot_table(index=["case_study", "source", "dimension"], columns="wave",
                                   values="mean", sort=False).reset_index()
        blocks.append(table(relabel(wide.rename_axis(columns=None)), "Mean rating per wave"))
    shift, choice = inp.table("waves_ratings"), inp.table("waves_choices")
    if shift is not None and not shift.empty:
        blocks += [para(rating_shift_sentence(shift)),
                   table(relabel(shift), "Ratings of each later wave vs the first wave")]
    if choice is not None and not choice.empty:
        blocks += [bullets(choice_shift_sentences(choice)),
                   table(relabel(choice), "Chosen source by wave")]
    return blocks


def rating_shift_sentence(shift: pd.DataFrame) -> str:
    """How many rating items differ between waves after Holm correction, and the largest shift."""
    tested = shift.dropna(subset=["p"])
    n_diff = int((tested["p_holm"] < 0.05).sum())
    top = tested.loc[tested["rank_biserial"].abs().idxmax()] if len(tested) else None
    out = (f"{n_diff} of {len(tested)} rating items differed between waves after Holm "
           "correction (Mann-Whitney U, alpha = .05).")
    if top is not None:
        out += (f" Largest shift: {label(top['case_study'])}, {label(top['source'])}, "
                f"{label(top['dimension'])} in {top['wave']} vs {top['reference_wave']}: "
                f"rank-biserial r = {text.num(top['rank_biserial'])}, {text.pval(top['p'])}"
                f"{holm(top)}.")
    return out


def choice_shift_sentences(choice: pd.DataFrame) -> list[str]:
    """Chi-square test of the chosen source by wave, per case study."""
    return [f"{label(r['case_study'])}: chosen source by wave, χ²({int(r['dof'])}) = "
            f"{text.num(r['chi2'])}, permutation {text.pval(r['p_permutation'])}{holm(r)}, "
            f"Cramér's V = {text.num(r['cramers_v'])} (n = {int(r['n'])})."
            for _, r in choice.iterrows()]


SECTIONS = [
    ("data", "Data and exclusions", data_section),
    ("sample", "Sample", sample_section),
    ("ratings", "Ratings", ratings_section),
    ("choices", "Source choices", choices_section),
    ("models", "Models", models_section),
    ("coding", "Coding of free-text answers", coding_section),
    ("factors", "Framework factors", factors_section),
    ("outcome", "Intuition vs outcome", outcome_section),
    ("multiverse", "Multiverse", multiverse_section),
    ("waves", "Waves", waves_section),
    ("methods", "Methods and provenance", provenance_blocks),
]


def build_all(inp) -> list[dict]:
    """All sections as ``{"id", "title", "blocks"}`` dicts, in report order."""
    out = []
    for sid, title, build in SECTIONS:
        blocks = build(inp)
        if blocks is not None:
            out.append({"id": sid, "title": title, "blocks": blocks})
    return out
