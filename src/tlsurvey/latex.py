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


def number(value, digits: int = 2, integer: bool = False) -> str:
    """A table number: ``integer`` columns (or whole floats of them) without decimals."""
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
    return text.replace("-", "$-$") if not text.startswith("-0." + "0" * digits) else \
        "0." + "0" * digits


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


def analysis_label(analysis, label: Callable[[str], str]) -> str:
    """``mcnemar:a|b`` -> ``McNemar: A vs B``; ``share_changed`` -> ``Share changed``."""
    test, _, pair = str(analysis).partition(":")
    names = {"mcnemar": "McNemar", "bowker": "Bowker"}
    if not pair:
        return names.get(test, readable(test))
    return f"{names.get(test, readable(test))}: " + " vs ".join(label(s) for s in pair.split("|"))


# table name -> [(column, header, kind)]; kind: "id", "text", "num", "int", "p", "ci"
Column = tuple[str, str, str]
COEFFICIENT_COLUMNS: list[Column] = [
    ("term", "Term", "term"), ("estimate", "$b$", "num"), ("ci", "95\\% CI", "ci"),
    ("se", "SE", "num"), ("statistic", "Statistic", "num"), ("df", "df", "int"),
    ("p", "$p$", "p"), ("p_holm", "$p_{\\mathrm{Holm}}$", "p")]
LAYOUTS: dict[str, list[Column]] = {
    "coefficients": COEFFICIENT_COLUMNS,
    "random_effects": [("model", "Model", "text"), ("group", "Group", "id"),
                       ("term", "Term", "term"), ("variance", "Variance", "num"),
                       ("sd", "SD", "num")],
    "fit_stats": [("model", "Model", "text"), ("nobs", "$n$", "int"), ("loglik", "logLik", "num"),
                  ("aic", "AIC", "num"), ("r2_marginal", "$R^2_m$", "num"),
                  ("r2_conditional", "$R^2_c$", "num"), ("icc", "ICC", "num")],
    "alignment_rmcorr": [("scope", "Scope", "id"), ("dimension", "Similarity", "id"),
                         ("r", "$r_{rm}$", "num"), ("ci", "95\\% CI", "ci"), ("df", "df", "int"),
                         ("p", "$p$", "p"), ("p_holm", "$p_{\\mathrm{Holm}}$", "p")],
    "alignment_summary": [("measure", "Measure", "text"), ("scope", "Scope", "id"),
                          ("dimension", "Similarity", "id"), ("n", "$n$", "int"),
                          ("estimate", "Estimate", "num"), ("ci", "95\\% CI", "ci")],
    "task_dependence": [("analysis", "Test", "text"), ("n", "$n$", "int"),
                        ("n_changed", "Changed", "int"), ("statistic", "Statistic", "num"),
                        ("dof", "df", "int"), ("p", "$p$", "p"), ("p_exact", "$p$ exact", "p"),
                        ("estimate", "Share", "num"), ("ci", "95\\% CI", "ci")],
    "intuition_outcome_summary": [("scope", "Scope", "id"), ("n", "$n$", "int"),
                                  ("mean_tau", "Mean $\\tau_b$", "num"), ("ci", "95\\% CI", "ci"),
                                  ("share_positive", "Share $\\tau_b > 0$", "num"),
                                  ("p_exact", "$p$", "p"), ("p_holm", "$p_{\\mathrm{Holm}}$", "p")],
    "waves_ratings": [("wave", "Wave", "text"), ("case_study", "Case study", "id"),
                      ("source", "Source", "id"), ("dimension", "Dimension", "id"),
                      ("rank_biserial", "$r_{rb}$", "num"), ("p", "$p$", "p"),
                      ("p_holm", "$p_{\\mathrm{Holm}}$", "p")],
    "waves_choices": [("case_study", "Case study", "id"), ("n", "$n$", "int"),
                      ("chi2", "$\\chi^2$", "num"), ("dof", "df", "int"),
                      ("p_permutation", "$p$ (perm.)", "p"),
                      ("p_holm", "$p_{\\mathrm{Holm}}$", "p"),
                      ("cramers_v", "Cram\\'er's $V$", "num")],
}
# tables split into one float per value of this column (a narrow table per model family)
SPLIT_BY = {"coefficients": "family", "random_effects": "family"}
FAMILY_NAMES = {"ordinal": "cumulative link mixed models", "gaussian": "linear mixed models"}


def columns_of(name: str, df: pd.DataFrame) -> list[Column]:
    """The layout of table ``name`` restricted to columns present (all columns when unknown)."""
    layout = LAYOUTS.get(name)
    if layout is None:
        return [(c, escape(c), "text") for c in df.columns]
    present = set(df.columns) | ({"ci"} if {"ci_low", "ci_high"} <= set(df.columns) else set())
    return [c for c in layout if c[0] in present and (c[0] == "ci" or df[c[0]].notna().any())]


def cell(row: pd.Series, column: str, kind: str, label: Callable[[str], str],
         digits: int) -> str:
    """LaTeX text of one cell of ``row``."""
    if kind == "ci":
        low, high = row.get("ci_low"), row.get("ci_high")
        if _missing(low) or _missing(high):
            return ""
        return f"[{number(low, digits)}, {number(high, digits)}]"
    value = row.get(column)
    if _missing(value):
        return ""
    if kind == "p":
        return apa_p(value)
    if kind in {"int", "num"}:
        return number(value, digits, integer=kind == "int" or column in INTEGER_COLUMNS)
    if kind == "term":
        return escape(term_label(value, label))
    if column == "analysis":
        return escape(analysis_label(value, label))
    return escape(label(value) if kind == "id" else value)


def tabular(df: pd.DataFrame, columns: list[Column], label: Callable[[str], str],
            digits: int = 2, groups: str | None = None) -> list[str]:
    """Lines of a booktabs ``tabular``; rows are grouped under a spanning header per value of
    the column ``groups`` (e.g. one block per model)."""
    align = "".join("l" if kind in {"id", "text", "term"} else "r" for _, _, kind in columns)
    lines = [rf"\begin{{tabular}}{{{align}}}", r"\toprule",
             " & ".join(header for _, header, _ in columns) + r" \\", r"\midrule"]
    blocks = [(None, df)] if groups is None else list(df.groupby(groups, sort=False))
    for k, (key, part) in enumerate(blocks):
        if key is not None:
            if k:
                lines.append(r"\addlinespace")
            head = escape(readable(key))
            lines.append(rf"\multicolumn{{{len(columns)}}}{{l}}{{\textit{{{head}}}}} \\")
        for _, row in part.iterrows():
            lines.append(" & ".join(cell(row, c, kind, label, digits) for c, _, kind in columns)
                         + r" \\")
    return lines + [r"\bottomrule", r"\end{tabular}"]


def float_env(body: list[str], caption: str, tag: str, notes: str | None = None) -> list[str]:
    """``body`` in a ``table`` float with caption, label and an optional note below."""
    out = [r"\begin{table}[htbp]", r"\centering", r"\small",
           rf"\caption{{{escape(caption)}}}", rf"\label{{{tag}}}", *body]
    if notes:
        out.append(rf"\par\smallskip\parbox{{\linewidth}}{{\footnotesize\textit{{Note.}} "
                   rf"{escape(notes)}}}")
    return out + [r"\end{table}"]


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
        The table as written to CSV.
    caption
        Caption (default: the name made readable).
    label
        Display label of an id (e.g. ``Study.label``); identity when not given.

    Returns
    -------
    str
        One or more ``table`` floats, ``\\label{tab:<name>[-<family>]}``.
    """
    label = label or readable
    caption = caption or name.replace("_", " ").capitalize()
    if df.empty:
        return f"% {escape(caption)}: no rows\n"
    data = df
    if name == "coefficients" and "kind" in df.columns:
        data = df[df["kind"].astype(str) != "threshold"]
    split = SPLIT_BY.get(name)
    parts = list(data.groupby(split, sort=False)) if split in data.columns else [(None, data)]
    out = []
    for key, part in parts:
        columns = columns_of(name, part)
        grouped = "model" if "model" in part.columns and name in SPLIT_BY else None
        if grouped:
            columns = [c for c in columns if c[0] != "model"]
        stat = part["test"].dropna().astype(str).unique() if "test" in part.columns else []
        if len(stat) == 1:
            columns = [(c, escape(stat[0]) if c == "statistic" else h, k) for c, h, k in columns]
        body = tabular(part, columns, label, digits, groups=grouped)
        title = caption if key is None else f"{caption}: {FAMILY_NAMES.get(key, key)}"
        tag = f"tab:{name}" + ("" if key is None else f"-{key}")
        notes = ("Thresholds are omitted." if name == "coefficients" and len(data) < len(df)
                 else None)
        out += float_env(body, title, tag, notes) + [""]
    return "\n".join(out)
