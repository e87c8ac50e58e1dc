"""Report sections: each builds a list of blocks (paragraphs, tables, figures) from the inputs."""

from __future__ import annotations

import re

import pandas as pd
from markupsafe import Markup

from tlsurvey import descriptives, latex
from tlsurvey.figures.common import families, labeller, similarity_label
from tlsurvey.report import coded, findings, text
from tlsurvey.report.flow import flow_svg, steps

POOLED = descriptives.POOLED
_STUDY = [None]  # the study of the report being built (set by build_all)


def use_study(study) -> None:
    """Take display labels, order and scales from ``study`` (None: ids made readable)."""
    _STUDY[0] = study


def study():
    """The study of the report being built (or None)."""
    return _STUDY[0]


def outcome_name(capital: bool = False) -> str:
    """The outcome dimension's label for running text (e.g. "expected performance")."""
    return findings.outcome_name(study(), capital)


def label(value) -> str:
    """Display label of an id of the study (the id made readable when it has none)."""
    return labeller(_STUDY[0])(value)


def scale_range(dimension: str | None = None, scale: str | None = None) -> str:
    """``"1-7"``: the codes of a dimension's (or a named) scale; empty when unknown."""
    st = study()
    found = None
    if st is not None:
        found = st.dimension_scale(dimension) if dimension else st.scales.get(scale)
    return f"{found.low}-{found.high}" if found is not None else ""


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
        return latex.apa_p(value)
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


def table(df: pd.DataFrame | None, caption: str, digits: int = 2, max_rows: int = 200,
          tid: str | None = None) -> dict:
    """Table block from ``df`` (at most ``max_rows`` rows; cells escaped by the template);
    ``tid`` gives it the HTML id ``tab-<tid>`` (the key findings link to it)."""
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
    return {"kind": "table", "caption": caption + suffix, "rows": rows,
            "columns": [str(c).replace("_", " ") for c in df.columns],
            "id": f"tab-{tid}" if tid else None}


def result_tables(inp, name: str, caption: str) -> list[dict]:
    """Narrow tables of model result ``name`` (the layout of :mod:`tlsurvey.latex`: display
    names, APA p, integer df; one table per model family), id ``tab-<name>[-<family>]``."""
    df = inp.table(name)
    if df is None:
        return [missing(f"{name}.csv")]
    if df.empty:
        return [note(f"{caption}: no data.")]
    blocks = []
    for key, columns, rows in latex.display_tables(name, df, label):
        blocks.append({"kind": "table", "caption": latex.part_caption(caption, key),
                       "columns": [h for _, h, _ in columns],
                       "rows": rows[[c for c, _, _ in columns]].to_numpy().tolist(),
                       "id": f"tab-{name}" + (f"-{key}" if key else "")})
    return blocks


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


def relabel(df: pd.DataFrame,
            columns=("case_study", "source", "dimension", "factor", "variable", "scope")):
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
            table(relabel(demo), "Demographics (all waves)", digits=1)]


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
    st = study()
    dims = [d for d in (st.dimension_ids if st else ()) if d in wide.columns]
    wide = wide.reindex(columns=dims + [d for d in wide.columns if d not in dims])
    order = [(c, s) for c in (st.case_study_ids if st else ()) for s in (st.source_ids if st
                                                                          else ())
             if (c, s) in wide.index]
    wide = wide.reindex(order + [i for i in wide.index if i not in order])
    ranges = {d: scale_range(d) for d in wide.columns}
    wide = relabel(wide.reset_index()).rename(
        columns=lambda c: f"{label(c)} ({ranges[c]})" if ranges.get(c) else label(c))
    blocks.append(table(wide, "Ratings, mean (SD) on each dimension's scale, all waves",
                        tid="ratings"))
    return blocks


def provenance_blocks(inp) -> list[dict]:
    """Methods paragraphs: the pipeline, the topic method used, the automatic coders' accuracy
    on the hand-coded validation set (the provenance tables are rendered by the template)."""
    blocks = [para(
        "Exports were read with the instrument map, de-identified, screened with the configured "
        "exclusion rules and reshaped into tidy tables; descriptive tables, free-text coding "
        "(lexicon, sentence-embedding coder, topic model and human coders), mixed models and "
        "figures were produced by the Snakemake workflow. The versions, configuration and input "
        "hashes below identify this run."
    )]
    provenance_json = inp.json("coding_provenance") or {}
    if provenance_json.get("topic_method"):
        reason = provenance_json.get("topic_method_reason")
        blocks.append(para(f"Topic method: {provenance_json['topic_method']}"
                           + (f" ({reason})." if reason else ".")))
    validation = inp.table("validation")
    sentence = validation_sentence(validation) if validation is not None else None
    blocks.append(para(sentence or "The hand-coded validation set was not scored in this run."))
    return blocks


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
                   f"source for the two case studies{text.other_excluded(r)}.")
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
    blocks.append(figure(inp, "transitions"))
    dep = inp.table("task_dependence")
    if dep is not None:
        blocks += [bullets(task_sentences(dep)),
                   *result_tables(inp, "task_dependence", "Task dependence of the chosen source")]
    return blocks


def coefficient_sentences(coefs: pd.DataFrame) -> list[str]:
    """Per model, every fixed effect (no intercept or thresholds) with CI and p."""
    fixed = coefs[(coefs.get("kind", "fixed") == "fixed") & (coefs["term"] != "(Intercept)")]
    out = []
    for model, part in fixed.groupby("model", sort=False):
        terms = "; ".join(
            f"{latex.term_label(r['term'], label)}: "
            + text.stat("b", r["estimate"], r["ci_low"], r["ci_high"], r["p"])
            for _, r in part.iterrows())
        family = part["family"].iloc[0] if "family" in part.columns else None
        out.append(f"{latex.model_label(model, family, label)}: {terms}.")
    return out


def rmcorr_sentences(rm: pd.DataFrame) -> list[str]:
    """One sentence per row of the repeated-measures correlation table."""
    out = []
    for _, row in rm.iterrows():
        scope = text.first(row, "scope", "case_study", default="pooled")
        dim = text.first(row, "dimension", default="similarity")
        value = text.stat("r_rm", row["r"], row["ci_low"], row["ci_high"], row["p"])
        out.append(f"{scope_label(scope)}, {similarity_label(label(dim))} vs {outcome_name()}: "
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
    blocks = [h3(f"Mixed models of {outcome_name()}"), figure(inp, "coefficients")]
    coefs, fit = inp.table("coefficients"), inp.table("fit_stats")
    if coefs is None:
        blocks.append(missing("coefficients.csv"))
    else:
        blocks += [bullets(coefficient_sentences(coefs)),
                   *result_tables(inp, "coefficients", "Model coefficients (95% Wald CI)")]
    if fit is not None:
        failed = fit[fit["error"].fillna("").astype(str) != ""] if "error" in fit else fit.iloc[:0]
        blocks += [note(f"Model {r['model']} failed: {r['error']}") for _, r in failed.iterrows()]
        singular = fit[fit["singular"].fillna(False).astype(bool)] if "singular" in fit else []
        blocks += [note(f"Model {r['model']}: singular fit (a random-effect variance is "
                        "estimated at zero, or a correlation at +-1); consider dropping that "
                        "random term.") for _, r in singular.iterrows()]
        blocks += result_tables(inp, "fit_stats", "Model fit statistics")
    blocks += [h3(f"Are similarity and {outcome_name()} aligned?"),
               figure(inp, "similarity_expected")]
    rm = inp.table("alignment_rmcorr")
    if rm is not None:
        blocks += [bullets(rmcorr_sentences(rm)),
                   *result_tables(inp, "alignment_rmcorr", "Repeated-measures correlations")]
    blocks += [figure(inp, "alignment"), figure(inp, "rho_distribution")]
    summary = inp.table("alignment_summary")
    if summary is not None:
        blocks += [bullets(misalignment_sentences(summary)),
                   *result_tables(inp, "alignment_summary",
                                  "Alignment of similarity and expectation (bootstrap 95% CI)")]
    return blocks


def codebook_table(codebook: dict | None) -> dict:
    """Table block of the codebook (family, code, label, definition), in family order."""
    of, names = families(codebook)
    codes = (codebook or {}).get("codes", {})
    order = sorted(codes, key=lambda c: list(names).index(of[c]) if of[c] in names else 99)
    rows = pd.DataFrame([{"family": names.get(of[c], of[c]), "code": c,
                          "label": codes[c].get("label", ""),
                          "definition": codes[c].get("definition", "")} for c in order])
    return table(rows, "Codebook, by family", tid="codebook")


def coded_share_blocks(inp) -> list[dict]:
    """Participants per code and origin (each automatic origin, each coder, both coders), the
    coders' kappa, and the family shares of the case-study rationales."""
    codes, responses, book = inp.table("codes"), inp.table("responses"), inp.yaml("codebook")
    if codes is None or responses is None:
        return [missing("codes.parquet", "responses.parquet")]
    n = len(responses)
    shares = inp.derived(("share_table",), lambda: coded.share_table(
        codes, n, book, inp.table("reliability")))
    blocks = [para(
        f"Each column counts the {n} analysed participants with the code in any of their "
        "answers, by one origin: never a union over origins or coders. \"Both coders\" is the "
        "consensus count (both human coders gave the code to the same answer); kappa is the "
        "coders' agreement on the code over the texts both coded."),
        table(shares, "Participants with each code, per origin (n, % of participants)",
              tid="coded-shares")]
    choices = inp.table("choices")
    if choices is not None:
        fam = findings.family_rationales(inp)
        if not fam.empty:
            fam = fam.assign(case_study=fam["case_study"].map(label), rationales=[
                f"{k} of {m}" for k, m in zip(fam["k"], fam["n"], strict=True)])
            blocks.append(table(fam[["case_study", "label", "rationales", "share", "ci_low",
                                     "ci_high"]].rename(columns={"label": "family"}),
                                "Code families of the case-study rationales (lexicon codes; "
                                "Wilson 95% CI)", tid="family-shares"))
    return blocks


def quote_blocks(inp) -> list[dict]:
    """Exemplar quotes per code family (lexicon evidence in the scrubbed answers)."""
    codes, texts = inp.table("codes"), inp.table("texts")
    if codes is None or texts is None:
        return [missing("codes.parquet", "texts.parquet")]
    found = inp.derived(("quotes",), lambda: coded.quotes(codes, texts, inp.yaml("codebook")))
    return [h3("Example quotes per family"),
            table(found, "Short quotes carrying a code of each family (lexicon evidence; "
                  "answers de-identified at ingest; every coded answer is in the audit page)",
                  tid="quotes")]


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


def _micro(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["code"].astype(str) == "(micro)"]


def auto_sentence(auto: pd.DataFrame) -> str | None:
    """Each automatic origin's codes against each human coder, micro-averaged over codes."""
    micro = _micro(auto)
    if micro.empty:
        return None
    origin = micro["origin"] if "origin" in micro else pd.Series("lexicon", index=micro.index)
    parts = [f"{o} vs coder {r['coder']}: precision {text.num(r['precision'])}, recall "
             f"{text.num(r['recall'])}, F1 {text.num(r['f1'])}"
             for o, (_, r) in zip(origin, micro.iterrows(), strict=True)]
    return "Automatic codes against human coders, micro-averaged over codes: " + \
        "; ".join(parts) + "."


def validation_sentence(validation: pd.DataFrame) -> str | None:
    """Micro-averaged F1 of each automatic origin against the adjudicated (gold) codes of the
    hand-coded validation set, on all its answers and on the half no rule was tuned on."""
    micro = _micro(validation)
    gold = micro[micro["coder"].astype(str) == "gold"]
    if gold.empty:
        return None
    parts = [f"{r['origin']} on {r['subset'].replace('_', '-')} answers: precision "
             f"{text.num(r['precision'])}, recall {text.num(r['recall'])}, F1 {text.num(r['f1'])}"
             for _, r in gold.iterrows()]
    return ("On the project's hand-coded validation set (realistic answers coded by two passes "
            "and adjudicated; tests/data/validation), micro-averaged over codes: "
            + "; ".join(parts) + ".")


def coding_section(inp) -> list[dict]:
    """Codebook, code frequencies, reliability, topics, ambiguous terms, audit link."""
    blocks = [codebook_table(inp.yaml("codebook")), figure(inp, "code_families"),
              *coded_share_blocks(inp), figure(inp, "code_frequency"),
              figure(inp, "code_cooccurrence"), *quote_blocks(inp)]
    provenance_json = inp.json("coding_provenance")
    if provenance_json and provenance_json.get("topic_method"):
        blocks.append(para(f"Topic method: {provenance_json['topic_method']}."))
    rel, auto = inp.table("reliability"), inp.table("auto_vs_human")
    blocks.append(h3("Reliability"))
    if rel is None and auto is None:
        blocks.append(missing("reliability.csv", "auto_vs_human.csv"))
    if rel is not None:
        blocks += [para(reliability_sentence(rel) or ""),
                   table(rel, "Inter-coder reliability", 3, tid="reliability")]
    if auto is not None:
        blocks += [para(auto_sentence(auto) or ""),
                   table(auto, "Automatic coders vs human coders", 3)]
    validation = inp.table("validation")
    if validation is not None:
        blocks.append(table(_micro(validation), "Automatic coders on the validation set "
                            "(micro-averaged; see Methods)", 3))
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
        blocks.append(table(terms[cols], "Ambiguous terms: senses with an example quote",
                            tid="ambiguous_terms"))
    href = inp.href("audit")
    if href:
        blocks.append({"kind": "link", "href": href,
                       "text": "Coding audit: every code with its evidence (audit.html)"})
    return blocks


def factors_section(inp) -> list[dict]:
    """Importance of the framework factors (a note when the study asks none)."""
    summary = pooled(inp.table("factor_summary"))
    blocks = [figure(inp, "factors")]
    if summary is not None and summary.empty:
        blocks.append(note("The study asks no framework-factor questions."))
    elif summary is not None:
        top = summary.sort_values("mean", ascending=False).iloc[0]
        low = summary.sort_values("mean").iloc[0]
        blocks += [para(
            f"Rated most important: {label(top['factor'])} (M = {text.num(top['mean'])}, "
            f"{text.ci(top['ci_low'], top['ci_high'])}); least important: "
            f"{label(low['factor'])} (M = {text.num(low['mean'])}, "
            f"{text.ci(low['ci_low'], low['ci_high'])})."),
            table(relabel(summary), "Importance of the framework factors ("
                  + (scale_range(scale=study().factor_scale) if study() else "") + ", all waves)",
                  tid="factors")]
    return blocks


def outcome_units(row: pd.Series, per: pd.DataFrame | None) -> str:
    """What ``n`` counts in a scope of the outcome summary: participants for one case study,
    participant x case-study pairs (and how many participants) when pooled."""
    n = int(row["n"])
    if str(row["scope"]) != "pooled":
        return text.plural(n, "participant")
    units = f"{n} participant x case-study pairs"
    if per is not None and "participant" in per.columns:
        units += f" ({text.plural(per['participant'].nunique(), 'participant')})"
    return units


def outcome_sentences(summary: pd.DataFrame, per: pd.DataFrame | None = None) -> list[str]:
    """Mean Kendall tau between expected performance and benchmark outcome, per scope."""
    return [f"{scope_label(r['scope'])}: Kendall tau-b between a participant's expected "
            f"performance and the benchmark score of the sources: "
            + text.stat("mean tau", r["mean_tau"], r["ci_low"], r["ci_high"])
            + f", {r.get('p_method') or 'permutation'} {text.pval(r['p_exact'])}{holm(r)}; "
            "positive for "
            f"{text.share(r['share_positive'])} of {outcome_units(r, per)}."
            for _, r in summary.iterrows()]


def outcome_section(inp) -> list[dict]:
    """Expected performance against the benchmark outcome."""
    blocks = [figure(inp, "intuition_outcome")]
    summary = inp.table("intuition_outcome_summary")
    if summary is not None:
        blocks += [bullets(outcome_sentences(summary, inp.table("intuition_outcome"))),
                   *result_tables(inp, "intuition_outcome_summary",
                                  f"{outcome_name(True)} vs benchmark outcome (Kendall tau-b)")]
    if inp.table("outcomes") is not None:
        blocks.append(table(relabel(inp.table("outcomes")), "Benchmark outcomes", 4))
    return blocks


def multiverse_sentence(summary: pd.DataFrame) -> str:
    """How the key estimate varies across the specifications of the multiverse."""
    row = summary[summary["choice"] == "all"].iloc[0]
    n, failed = int(row["n_specs"]), int(row["n_failed"])
    if n == failed:
        return f"None of the {n} specifications could be fitted."
    return (f"Across {text.plural(n, 'specification')} of the multiverse"
            + (f" ({failed} failed to fit)" if failed else "")
            + f", the effect of similarity on {outcome_name()} (residual SD units) had median "
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
                   *result_tables(inp, "waves_ratings",
                                  "Ratings of each later wave vs the first wave")]
    if choice is not None and not choice.empty:
        blocks += [bullets(choice_shift_sentences(choice)),
                   *result_tables(inp, "waves_choices", "Chosen source by wave")]
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


def findings_section(inp) -> list[dict]:
    """Key findings: one sentence per question of the study, linked to its figure and table."""
    return [{"kind": "findings", "items": findings.key_findings(inp, label)}]


SECTIONS = [
    ("findings", "Key findings", findings_section),
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


def short_title(caption: str, limit: int = 80) -> str:
    """The lead of a caption: its text before the first colon, semicolon, bracket or full stop
    (cut at a word boundary to at most ``limit`` characters)."""
    lead = re.split(r"[:;(]|\.\s", caption or "", maxsplit=1)[0].strip().rstrip(",.")
    if len(lead) > limit:
        lead = lead[:limit].rsplit(" ", 1)[0] + " …"
    return lead


def number(out: list[dict]) -> None:
    """Number the figures and tables in report order (``number``, and the ``caption`` of a
    figure prefixed by it), and name the figure and table each key finding links to
    (``figure_link``, ``table_link``: the link text; None when the target is not in the
    report)."""
    names, counts = {}, {"figure": 0, "table": 0}
    for section in out:
        for block in section["blocks"]:
            kind = block["kind"]
            if kind not in counts:
                continue
            counts[kind] += 1
            block["number"] = counts[kind]
            key = f"fig-{block['name']}" if kind == "figure" else block.get("id")
            lead = short_title(block["caption"]) or latex.readable(block.get("name", ""))
            if key and key not in names:
                names[key] = f"{'Figure' if kind == 'figure' else 'Table'} {counts[kind]}: {lead}"
    for section in out:
        for block in section["blocks"]:
            for item in block.get("items", []) if block["kind"] == "findings" else []:
                item["figure_link"] = names.get(f"fig-{item['figure']}")
                item["table_link"] = names.get(item["table"])


def build_all(inp) -> list[dict]:
    """All sections as ``{"id", "title", "blocks"}`` dicts, in report order, with figures and
    tables numbered (:func:`number`)."""
    use_study(inp.study)
    out = []
    for sid, title, build in SECTIONS:
        blocks = build(inp)
        if blocks is not None:
            out.append({"id": sid, "title": title, "blocks": blocks})
    number(out)
    return out
