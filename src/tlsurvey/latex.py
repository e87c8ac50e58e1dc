"""Paper-ready booktabs LaTeX tables: display names, APA p values, integer df, narrow layouts.

:func:`paper_tables` turns a result table (the CSV columns are left as they are) into one or
more narrow ``table`` floats; :data:`LAYOUTS` names the columns each table shows and their
headers. The models stage writes its ``.tex`` files with it and the report rule writes them
again with the study's display labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "|": r"\textbar{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
# columns whose values are study ids (display labels are looked up)
ID_COLUMNS = ("case_study", "source", "dimension", "scope", "factor", "reference_wave", "group")
P_COLUMNS = ("p", "p_exact", "p_holm", "p_permutation", "p_value", "pval")
INTEGER_COLUMNS = ("n", "n_changed", "nobs", "df", "dof", "n_units", "k")


def escape(text) -> str:
    """``text`` with LaTeX special characters escaped."""
    return "".join(ESCAPES.get(ch, ch) for ch in str(text))


def apa_p(p) -> str:
    """APA p value without the ``p``: ``< .001``, ``.021``, ``.46``, ``> .99``."""
    if _missing(p):
        return ""
    p = float(p)
    if p < 0.001:
        return "< .001"
    text = f"{p:.{3 if p < 0.1 else 2}f}"
    return "> .99" if text.startswith("1") else text[1:]


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def number(value, digits: int = 2, integer: bool = False, tex: bool = True) -> str:
    """A table number: ``integer`` columns (or whole floats of them) without decimals; a value
    that rounds to zero keeps its sign and first significant digit (``-0.004``); ``tex`` writes
    the minus sign as ``$-$``."""
    if _missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    value = float(value)
    if not math.isfinite(value):
        return ""
    if integer and value == round(value):
        return str(int(round(value)))
    text = f"{value:.{digits}f}"
    if value and float(text) == 0:
        text = f"{value:.1g}"
    return text.replace("-", "$-$") if tex else text


def term_label(term, label: Callable[[str], str], factors=("case_study", "source")) -> str:
    """Display name of a model term: ``case_studyxray`` / ``case_study[T.xray]`` -> the level's
    label (``Case study: CS-xray``), ``(Intercept)`` kept, thresholds ``1|2`` as ``1 | 2``."""
    term = str(term)
    for factor in factors:
        if term.startswith(factor) and term != factor:
            level = term[len(factor):].removeprefix("[T.").removesuffix("]")
            return f"{label(factor)}: {label(level)}"
    if "|" in term:
        return " | ".join(part.strip() for part in term.split("|"))
    return label(term)


def readable(value) -> str:
    """An id made readable when no study labels are given: ``case_study`` -> ``Case study``."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


FAMILY_SHORT = {"ordinal": "ordinal (CLMM)", "gaussian": "linear (LMM)"}
FAMILY_WORDS = {"ordinal", "linear", "gaussian", "clmm", "lmm"}
VARIANT_NAMES = {"crossed": "crossed random intercepts", "similarity": "similarity"}


def model_label(model, family, label: Callable[[str], str] | None = None) -> str:
    """Display name of a model: ``expected_similarity_crossed`` (ordinal) -> ``Expected
    performance ~ similarity, ordinal (CLMM), crossed random intercepts``.

    The longest leading part of the name that ``label`` knows (the outcome id) is shown by its
    label; the family by :data:`FAMILY_SHORT`; family words are dropped from the rest.
    """
    label = label or readable
    tokens = str(model).split("_")
    head, rest = None, tokens
    for k in range(len(tokens), 0, -1):
        key = "_".join(tokens[:k])
        if label(key) != readable(key):
            head, rest = label(key), tokens[k:]
            break
    rest = [t for t in rest if t.lower() not in FAMILY_WORDS]
    fam = FAMILY_SHORT.get(str(family), readable(family)) if not _missing(family) else ""
    if head is None:
        return ", ".join(x for x in (readable("_".join(rest)) if rest else "", fam) if x)
    predictors = [VARIANT_NAMES.get(t, label(t)) for t in rest[:1]]
    extra = [VARIANT_NAMES.get(t, t) for t in rest[1:]]
    name = head + (f" ~ {predictors[0]}" if predictors else "")
    return ", ".join(x for x in (name, fam, " ".join(extra)) if x)


def analysis_label(analysis, label: Callable[[str], str]) -> str:
    """``mcnemar:a|b`` -> ``McNemar: A vs B``; ``share_changed`` -> ``Share changed``."""
    test, _, pair = str(analysis).partition(":")
    names = {"mcnemar": "McNemar", "bowker": "Bowker"}
    if not pair:
        return names.get(test, readable(test))
    return f"{names.get(test, readable(test))}: " + " vs ".join(label(s) for s in pair.split("|"))


# table name -> [(column, header, kind)]; kind: "id", "text", "term", "num", "int", "p", "ci"
Column = tuple[str, str, str]
LAYOUTS: dict[str, list[Column]] = {
    "coefficients": [("model", "Model", "text"), ("term", "Term", "term"),
                     ("estimate", "b", "num"), ("ci", "95% CI", "ci"), ("se", "SE", "num"),
                     ("statistic", "Statistic", "num"), ("df", "df", "int"), ("p", "p", "p"),
                     ("p_holm", "p (Holm)", "p")],
    "random_effects": [("model", "Model", "text"), ("group", "Group", "id"),
                       ("term", "Term", "term"), ("variance", "Variance", "num"),
                       ("sd", "SD", "num")],
    "fit_stats": [("model", "Model", "text"), ("nobs", "n", "int"), ("loglik", "logLik", "num"),
                  ("aic", "AIC", "num"), ("r2_marginal", "R2 m", "num"),
                  ("r2_conditional", "R2 c", "num"), ("icc", "ICC", "num")],
    "alignment_rmcorr": [("scope", "Scope", "id"), ("dimension", "Similarity", "id"),
                         ("r", "r_rm", "num"), ("ci", "95% CI", "ci"), ("df", "df", "int"),
                         ("p", "p", "p"), ("p_holm", "p (Holm)", "p")],
    "alignment_summary": [("measure", "Measure", "text"), ("scope", "Scope", "id"),
                          ("dimension", "Similarity", "id"), ("n", "n", "int"),
                          ("estimate", "Estimate", "num"), ("ci", "95% CI", "ci")],
    "task_dependence": [("analysis", "Test", "text"), ("n", "n", "int"),
                        ("n_changed", "Changed", "int"), ("statistic", "Statistic", "num"),
                        ("dof", "df", "int"), ("p", "p", "p"), ("p_exact", "p exact", "p"),
                        ("estimate", "Estimate", "num"), ("ci", "95% CI", "ci")],
    "intuition_outcome_summary": [("scope", "Scope", "id"), ("n", "n", "int"),
                                  ("mean_tau", "Mean tau_b", "num"), ("ci", "95% CI", "ci"),
                                  ("share_positive", "Share tau_b > 0", "num"),
                                  ("p_exact", "p", "p"), ("p_holm", "p (Holm)", "p")],
    "waves_ratings": [("wave", "Wave", "text"), ("case_study", "Case study", "id"),
                      ("source", "Source", "id"), ("dimension", "Dimension", "id"),
                      ("rank_biserial", "r_rb", "num"), ("p", "p", "p"),
                      ("p_holm", "p (Holm)", "p")],
    "waves_choices": [("case_study", "Case study", "id"), ("n", "n", "int"),
                      ("chi2", "chi2", "num"), ("dof", "df", "int"),
                      ("p_permutation", "p (perm.)", "p"), ("p_holm", "p (Holm)", "p"),
                      ("cramers_v", "Cramér's V", "num")],
}
TEX_HEADERS = {
    "b": "$b$", "p": "$p$", "n": "$n$", "p (Holm)": r"$p_{\mathrm{Holm}}$",
    "p exact": "$p$ exact", "p (perm.)": "$p$ (perm.)", "r_rm": "$r_{rm}$", "r_rb": "$r_{rb}$",
    "R2 m": "$R^2_m$", "R2 c": "$R^2_c$", "Mean tau_b": r"Mean $\tau_b$",
    "Share tau_b > 0": r"Share $\tau_b > 0$", "chi2": r"$\chi^2$", "Cramér's V": r"Cram\'er's $V$",
}
# tables split into one float per value of this column (a narrow table per model family),
# rows grouped by model within it
SPLIT_BY = {"coefficients": "family", "random_effects": "family"}
FAMILY_NAMES = {"ordinal": "cumulative link mixed models", "gaussian": "linear mixed models"}


def columns_of(name: str, df: pd.DataFrame) -> list[Column]:
    """The layout of table ``name`` restricted to columns present and not empty (all columns
    when the name has no layout)."""
    layout = LAYOUTS.get(name)
    if layout is None:
        return [(c, readable(c), "text") for c in df.columns]
    present = set(df.columns) | ({"ci"} if {"ci_low", "ci_high"} <= set(df.columns) else set())
    return [c for c in layout if c[0] in present and (c[0] == "ci" or df[c[0]].notna().any())]


def cell(row: pd.Series, column: str, kind: str, label: Callable[[str], str],
         digits: int = 2, tex: bool = True) -> str:
    """Text of one cell of ``row`` (LaTeX-escaped when ``tex``)."""
    if kind == "ci":
        low, high = row.get("ci_low"), row.get("ci_high")
        if _missing(low) or _missing(high):
            return ""
        return f"[{number(low, digits, tex=tex)}, {number(high, digits, tex=tex)}]"
    value = row.get(column)
    if _missing(value):
        return ""
    if kind == "p":
        return apa_p(value)
    if kind in {"int", "num"}:
        return number(value, digits, integer=kind == "int" or column in INTEGER_COLUMNS, tex=tex)
    if kind == "term":
        shown = term_label(value, label)
    elif column == "analysis":
        shown = analysis_label(value, label)
    elif column == "model":
        shown = model_label(value, row.get("family"), label)
    else:
        shown = label(value) if kind == "id" else str(value)
    return escape(shown) if tex else shown


def display_tables(name: str, df: pd.DataFrame, label: Callable[[str], str] | None = None,
                   digits: int = 2, tex: bool = False) -> list[tuple[str | None, list[Column],
                                                                     pd.DataFrame]]:
    """The narrow tables of result table ``name``: ``(part, columns, rows)`` per model family
    (``part`` None when not split), ``rows`` holding the formatted cell texts with a ``model``
    column when the layout has one; thresholds of ordinal models are left out."""
    label = label or readable
    data = df
    if name == "coefficients" and "kind" in df.columns:
        data = df[df["kind"].astype(str) != "threshold"]
    split = SPLIT_BY.get(name)
    parts = list(data.groupby(split, sort=False)) if split in data.columns else [(None, data)]
    out = []
    for key, part in parts:
        columns = columns_of(name, part)
        tests = part["test"].dropna().astype(str).unique() if "test" in part.columns else []
        if len(tests) == 1:
            columns = [(c, tests[0] if c == "statistic" else h, k) for c, h, k in columns]
        rows = pd.DataFrame({c: [cell(r, c, k, label, digits, tex) for _, r in part.iterrows()]
                             for c, _, k in columns}, index=part.index)
        out.append((key, columns, rows))
    return out


def tabular(columns: list[Column], rows: pd.DataFrame, group: str | None = None) -> list[str]:
    """Lines of a booktabs ``tabular`` of formatted ``rows``; with ``group``, rows are set under
    a spanning italic header per value of that column (e.g. one block per model)."""
    shown = [c for c in columns if c[0] != group]
    align = "".join("l" if kind in {"id", "text", "term"} else "r" for _, _, kind in shown)
    heads = [TEX_HEADERS.get(h, escape(h)) for _, h, _ in shown]
    lines = [rf"\begin{{tabular}}{{{align}}}", r"\toprule", " & ".join(heads) + r" \\",
             r"\midrule"]
    blocks = [(None, rows)] if group is None else list(rows.groupby(group, sort=False))
    for k, (key, part) in enumerate(blocks):
        if key is not None:
            if k:
                lines.append(r"\addlinespace")
            lines.append(rf"\multicolumn{{{len(shown)}}}{{l}}{{\textit{{{key}}}}} \\")
        for _, row in part.iterrows():
            lines.append(" & ".join(row[c] for c, _, _ in shown) + r" \\")
    return lines + [r"\bottomrule", r"\end{tabular}"]


def float_env(body: list[str], caption: str, tag: str, notes: str | None = None) -> list[str]:
    """``body`` in a ``table`` float with caption, label and an optional note below."""
    out = [r"\begin{table}[htbp]", r"\centering", r"\small",
           rf"\caption{{{escape(caption)}}}", rf"\label{{{tag}}}", *body]
    if notes:
        out.append(rf"\par\smallskip\parbox{{\linewidth}}{{\footnotesize\textit{{Note.}} "
                   rf"{escape(notes)}}}")
    return out + [r"\end{table}"]


def part_caption(caption: str, key) -> str:
    """Caption of one part of a split table (``caption: linear mixed models``)."""
    return caption if key is None else f"{caption}: {FAMILY_NAMES.get(key, key)}"


def paper_tables(name: str, df: pd.DataFrame, caption: str | None = None,
                 label: Callable[[str], str] | None = None, digits: int = 2) -> str:
    """Booktabs LaTeX of result table ``name`` (e.g. ``coefficients``): the columns of
    :data:`LAYOUTS` with display headers, ids as display labels, p in APA style, integer df;
    coefficients and random effects as one float per model family, grouped by model.

    Parameters
    ----------
    name
        Table name (CSV stem); unknown names show every column.
    df
        The table as written to CSV (its columns are not changed).
    caption
        Caption (default: the name made readable).
    label
        Display label of an id (e.g. ``Study.label``); ids made readable when not given.

    Returns
    -------
    str
        One or more ``table`` floats, labelled ``tab:<name>[-<family>]``.
    """
    caption = caption or readable(name)
    if df.empty:
        return f"% {escape(caption)}: no rows\n"
    thresholds = name == "coefficients" and "kind" in df.columns and (
        df["kind"].astype(str) == "threshold").any()
    out = []
    for key, columns, rows in display_tables(name, df, label, digits, tex=True):
        group = "model" if name in SPLIT_BY and "model" in rows.columns else None
        tag = f"tab:{name}" + ("" if key is None else f"-{key}")
        out += float_env(tabular(columns, rows, group), part_caption(caption, key), tag,
                         "Thresholds are omitted." if thresholds else None) + [""]
    return "\n".join(out)
