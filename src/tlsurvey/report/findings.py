"""Key findings: one sentence per question of the study, computed from the result tables, with
its number, CI and test, the figure and table behind it, and a plain statement when the data
do not support it (or when the input is missing).

Each finding is a dict: ``id``, ``title``, ``text``, ``supported`` (True, False or None when
there is nothing to test), ``figure`` (figure name) and ``table`` (HTML id of the table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlsurvey.report import coded, text

if TYPE_CHECKING:
    import pandas as pd

ALPHA = 0.05
ETHICS_FAMILY = "ethics"  # codebook group id of the ethics and fairness codes
RARE = 0.25  # share of participants below which a family counts as rarely raised
MIN_ORIGIN_KAPPA = 0.4  # an automatic origin below this agreement with the coders gives no rate


def outcome_name(study, capital: bool = False) -> str:
    """The outcome dimension's label for running text (e.g. "expected performance")."""
    name = study.label(study.outcome) if study is not None and study.outcome else "outcome rating"
    return name[:1].upper() + name[1:] if capital else name[:1].lower() + name[1:]


def finding(fid, title, sentence, supported=None, figure=None, table=None) -> dict:
    return {"id": fid, "title": title, "text": sentence, "supported": supported,
            "figure": figure, "table": table}


def unavailable(fid, title, what) -> dict:
    return finding(fid, title, f"Not available in this run: {what}.")


def task_dependence(inp, label) -> dict:
    """Share changing source between case studies, Bowker's test, the largest transition."""
    title = "Task dependence"
    study = inp.study
    if study is not None and len(study.case_studies) < 2:
        return finding("task", title, "Task dependence cannot be tested: the study has "
                       f"{text.plural(len(study.case_studies), 'case study', 'case studies')}.")
    dep = inp.table("task_dependence")
    if dep is None or "share_changed" not in set(dep["analysis"]):
        return unavailable("task", title, "task_dependence.csv")
    rows = dep.set_index("analysis")
    changed = rows.loc["share_changed"]
    sentence = (f"{int(changed['n_changed'])} of {int(changed['n'])} participants "
                f"({text.share(changed['estimate'], changed['ci_low'], changed['ci_high'])}) "
                f"chose a different source for the two case studies{text.other_excluded(changed)}")
    supported = None
    if "bowker" in rows.index:
        b = rows.loc["bowker"]
        p = b["p_exact"] if not text.missing(b.get("p_exact")) else b["p"]
        supported = bool(p < ALPHA)
        dof = "NA" if text.missing(b["dof"]) else int(b["dof"])
        sentence += (f"; Bowker's test of symmetry χ²({dof}) = {text.num(b['statistic'])}, "
                     f"exact {text.pval(p)}")
    from tlsurvey.figures.common import transition_table

    choices = inp.table("choices")
    cases = list(study.case_study_ids) if study is not None else []
    if choices is not None and len(cases) >= 2:
        table = transition_table(choices, cases[0], cases[1])
        moves = table.stack()
        listed = set(study.source_ids)  # as the tests: choices outside the listed sources left out
        moves = moves[[a != b and a in listed and b in listed for a, b in moves.index]]
        if len(moves) and moves.max() > 0:
            (a, b), m = moves.idxmax(), int(moves.max())
            sentence += (f"; the most common change was {label(a)} ({label(cases[0])}) to "
                         f"{label(b)} ({label(cases[1])}), {text.plural(m, 'participant')}")
    if supported is False:
        sentence = ("The data do not show that the choice depends on the case study: "
                    + sentence[0].lower() + sentence[1:])
    return finding("task", title, sentence + ".", supported, "transitions",
                   "tab-task_dependence")


def family_rationales(inp) -> pd.DataFrame:
    """:func:`tlsurvey.report.coded.family_rationales` of the inputs (codes, choices,
    codebook), computed once per report cache."""
    return inp.derived(("family_rationales",), lambda: coded.family_rationales(
        inp.table("codes"), inp.table("choices"), inp.yaml("codebook")))


def rationale_families(inp, label) -> dict:
    """The most cited code family per case study (lexicon codes), with n and CI."""
    title = "What rationales cite"
    codes, choices = inp.table("codes"), inp.table("choices")
    if codes is None or choices is None:
        return unavailable("families", title, "codes.parquet")
    shares = family_rationales(inp)
    if shares.empty:
        return finding("families", title, "No case-study rationale received a lexicon code.")
    parts = []
    for case, part in shares.groupby("case_study", sort=False):
        top = part.sort_values(["share", "family"], ascending=[False, True]).head(2)
        parts.append(f"{label(case)}: " + ", then ".join(
            f"{r.label.lower()} ({r.k} of {r.n}, {text.share(r.share, r.ci_low, r.ci_high)})"
            for r in top.itertuples()))
    order = {c: k for k, c in enumerate(inp.study.case_study_ids)} if inp.study else {}
    parts.sort(key=lambda p: next((order[c] for c in order if p.startswith(label(c) + ":")), 99))
    return finding("families", title, "Case-study rationales most often cited (lexicon codes, "
                   "share of participant x case-study rationales) " + "; ".join(parts) + ".",
                   None, "code_families", "tab-family-shares")


def alignment(inp, label) -> dict:
    """Repeated-measures correlations (pooled) and the share misaligned (pooled)."""
    title = f"Similarity vs {outcome_name(inp.study)}"
    rm, summary = inp.table("alignment_rmcorr"), inp.table("alignment_summary")
    if rm is None or summary is None:
        return unavailable("alignment", title, "alignment_rmcorr.csv, alignment_summary.csv")
    pooled = rm[rm["scope"].astype(str) == "pooled"].dropna(subset=["r"])
    mis = summary[(summary["measure"] == "share_misaligned")
                  & (summary["scope"].astype(str) == "pooled")]
    if pooled.empty:
        return finding("alignment", title, "No repeated-measures correlation could be computed.")
    lo, hi = pooled.loc[pooled["r"].idxmin()], pooled.loc[pooled["r"].idxmax()]
    p_col = "p_holm" if "p_holm" in pooled.columns else "p"
    significant = bool((pooled[p_col] < ALPHA).all())
    spread = (f"r_rm = {text.num(lo['r'])}, {text.ci(lo['ci_low'], lo['ci_high'])} "
              f"({label(lo['dimension'])}) to r_rm = {text.num(hi['r'])}, "
              f"{text.ci(hi['ci_low'], hi['ci_high'])} ({label(hi['dimension'])})")
    worst = text.pval(pooled[p_col].max()).replace("p = ", "p ≤ ").replace("p < ", "p < ")
    test = f"repeated-measures correlation, Holm-adjusted, all {worst}" if p_col == "p_holm" \
        else f"repeated-measures correlation, all {worst}"
    if significant:
        sentence = (f"Similarity ratings and {outcome_name(inp.study)} rose together (pooled "
                    f"over case studies: {spread}; {test})")
    else:
        sentence = (f"The data do not show that every similarity dimension tracks "
                    f"{outcome_name(inp.study)} (pooled over case studies: {spread}; {test})")
    if len(mis):
        m = mis.iloc[0]
        sentence += (f", yet for {text.share(m['estimate'])} of {int(m['n'])} participants "
                     f"({text.share_ci(m['ci_low'], m['ci_high'])}, bootstrap) the source rated "
                     "most similar was not the one expected to perform best")
    return finding("alignment", title, sentence + ".", significant, "alignment",
                   "tab-alignment_rmcorr")


def _origin_kappa(auto: pd.DataFrame | None, members: list[str]) -> dict[str, float]:
    """Mean Cohen's kappa of each automatic origin with the human coders over ``members``."""
    if auto is None or auto.empty:
        return {}
    rows = auto[auto["code"].isin(members)]
    return {str(o): float(k) for o, k in rows.groupby("origin", sort=False)["kappa"].mean().items()}


def ethics(inp, label) -> dict:
    """Participants whose answers carry an ethics and fairness code, per origin and coder, with
    the coders' consensus and agreement (never a union over coders)."""
    title = "Ethics and fairness"
    codes, responses = inp.table("codes"), inp.table("responses")
    book = inp.yaml("codebook") or {}
    members = [c for c, spec in book.get("codes", {}).items()
               if spec.get("group") == ETHICS_FAMILY]
    if codes is None or responses is None or not members:
        return unavailable("ethics", title, "codes.parquet and an ethics group in the codebook")
    n = len(responses)
    shares = inp.derived(("ethics_shares",), lambda: coded.coded_shares(
        codes[codes["code"].isin(members)], n, book, by="family"))
    if shares.empty:
        return finding("ethics", title, f"No answer of the {n} participants received an ethics "
                       "or fairness code, by any origin.", True, "code_families",
                       "tab-coded-shares")
    per = shares.set_index("rater")["n"]
    raters = inp.derived(("raters",), lambda: coded.raters(codes))
    found = {r: int(per.get(r, 0)) for r in raters}
    agreement = _origin_kappa(inp.table("auto_vs_human"), members)
    # an automatic origin that disagrees with the human coders on these codes gives no rate
    poor = {o for o, k in agreement.items() if not k >= MIN_ORIGIN_KAPPA}
    parts = [f"{rater} {k} ({text.pct(k, n)}"
             + (f"; kappa with the coders {text.num(agreement[rater])}" if rater in agreement
                else "") + (", not counted" if rater in poor else "") + ")"
             for rater, k in found.items()]
    rel = inp.table("reliability")
    kappa = ""
    if rel is not None and not rel.empty:
        rows = rel[rel["code"].isin(members)]
        if len(rows):
            r = rows.iloc[0]
            kappa = (f"; coder agreement on it: Cohen's kappa = {text.num(r['kappa'])} over "
                     f"{int(r['n_units'])} texts coded by both")
            if r["kappa"] < 0.6:
                kappa += ", too low for the coders' rates to be taken as a rate"
    top = max((k for r, k in found.items() if r not in poor), default=0)
    rare = top / n < RARE if n else None
    lead = ("Ethics and fairness were rarely raised" if rare else
            "The data do not show that ethics and fairness were rarely raised (an origin coded "
            f"them in at least {RARE:.0%} of participants)")
    counted = (f"by any origin or coder agreeing with the coders (kappa >= {MIN_ORIGIN_KAPPA})"
               if poor else "by any single origin")
    sentence = (f"{lead}: of {n} participants, " + "; ".join(parts)
                + f" (at most {text.pct(top, n)} {counted})" + kappa)
    return finding("ethics", title, sentence + ".", rare, "code_families", "tab-coded-shares")


def terminology(inp, label) -> dict:
    """The most contested ambiguous term."""
    title = "Ambiguous terminology"
    terms = inp.table("ambiguous_terms")
    if terms is None:
        return unavailable("terms", title, "ambiguous_terms.csv")
    if terms.empty:
        return finding("terms", title, "No ambiguous term was used in more than one sense.",
                       False, "ambiguous_terms", "tab-ambiguous_terms")
    by_term = terms.drop_duplicates("term_id")
    top = by_term.sort_values(["disagreement", "term_id"], ascending=[False, True]).iloc[0]
    several = int((by_term["n_senses"] > 1).sum())
    return finding(
        "terms", title,
        f'"{top["term_id"]}" was the most contested term: {int(top["n_participants_term"])} '
        f"participants used it in {text.plural(int(top['n_senses']), 'sense')} (Gini-Simpson "
        f"disagreement D = {text.num(top['disagreement'])}); {several} of "
        f"{text.plural(len(by_term), 'ambiguous term')} carried more than one sense.",
        several > 0, "ambiguous_terms", "tab-ambiguous_terms")


def framework_factors(inp, label) -> dict:
    """Most and least important framework factor (mean, t CI) and whether the CIs overlap."""
    title = "Framework factors"
    study = inp.study
    if study is not None and not study.factors:
        return finding("factors", title, "The study asks no framework-factor questions, so "
                       "there is no finding on them.")
    summary = inp.table("factor_summary")
    if summary is not None and "wave" in summary.columns:
        summary = summary[summary["wave"].astype(str) == "all"]
    if summary is None or summary.empty:
        return unavailable("factors", title, "factors.csv")
    ranked = summary.sort_values("mean", ascending=False)
    top, low = ranked.iloc[0], ranked.iloc[-1]
    apart = bool(top["ci_low"] > low["ci_high"])
    sentence = (f"Rated most important: {label(top['factor'])} (M = {text.num(top['mean'])}, "
                f"{text.ci(top['ci_low'], top['ci_high'])}); least important: "
                f"{label(low['factor'])} (M = {text.num(low['mean'])}, "
                f"{text.ci(low['ci_low'], low['ci_high'])}); the intervals "
                + ("do not overlap." if apart else "overlap, so the ranking is not supported."))
    return finding("factors", title, sentence, apart, "factors", "tab-factors")


def intuition_outcome(inp, label) -> dict:
    """Pooled mean Kendall tau between expected performance and the benchmark."""
    title = "Intuition vs benchmark outcome"
    summary = inp.table("intuition_outcome_summary")
    if summary is None or summary.empty:
        return unavailable("outcome", title, "intuition_outcome_summary.csv (outcomes file)")
    rows = summary.set_index(summary["scope"].astype(str))
    row = rows.loc["pooled"] if "pooled" in rows.index else rows.iloc[0]
    per = inp.table("intuition_outcome")
    units = f"{int(row['n'])} participant x case-study pairs"
    if per is not None and "participant" in per.columns:
        units += f" from {text.plural(per['participant'].nunique(), 'participant')}"
    p = row["p_holm"] if not text.missing(row.get("p_holm")) else row["p_exact"]
    supported = bool(p < ALPHA and row["ci_low"] > 0)
    value = (text.stat("mean Kendall tau-b", row["mean_tau"], row["ci_low"], row["ci_high"])
             + f", one-sided {text.pval(p)}, positive in {text.share(row['share_positive'])} of "
             + units)
    from tlsurvey.figures.common import benchmark_note

    outcomes = inp.table("outcomes")
    notes = []
    if outcomes is not None:
        cases = summary.loc[summary["scope"].astype(str) != "pooled", "scope"].astype(str)
        notes = sorted({benchmark_note(outcomes, c) for c in cases})
    caveat = f" ({'; '.join(notes)})" if notes else ""
    if supported:
        sentence = (f"{outcome_name(inp.study, True)} ranked the sources as the benchmark did "
                    f"({value})")
    else:
        sentence = (f"The data do not show that {outcome_name(inp.study)} ranks the sources as the "
                    f"benchmark does ({value})")
    return finding("outcome", title, sentence + caveat + ".", supported, "intuition_outcome",
                   "tab-intuition_outcome_summary")


FINDINGS = [task_dependence, rationale_families, alignment, ethics, terminology,
            framework_factors, intuition_outcome]


def key_findings(inp, label) -> list[dict]:
    """Every finding of :data:`FINDINGS`, in order."""
    return [build(inp, label) for build in FINDINGS]
