"""Number formatting and results sentences written from model and summary tables."""

from __future__ import annotations

import math

import pandas as pd

from tlsurvey.latex import apa_p


def missing(x) -> bool:
    """True for None, NaN and pandas NA."""
    return x is None or (not isinstance(x, str) and bool(pd.isna(x)))


def num(x, digits: int = 2) -> str:
    """``x`` rounded to ``digits`` decimals (plain ``-``); a non-zero value that would round to
    zero keeps its sign and first significant digit (``-0.004``, not ``0.00``)."""
    if missing(x):
        return "NA"
    return _keep_sign(float(x), digits)


def _keep_sign(x: float, digits: int) -> str:
    """``x`` rounded to ``digits``; when that gives zero but ``x`` is not zero to one more
    decimal, its first significant digit (``-0.004``); never ``-0.00``."""
    text = f"{x:.{digits}f}"
    if float(text) == 0:
        return f"{x:.1g}" if abs(x) >= 0.5 * 10 ** -(digits + 1) else text.removeprefix("-")
    return text


def pval(p) -> str:
    """APA p value: ``p = .21``, ``p = .048``, ``p < .001`` (no leading zero)."""
    if missing(p):
        return "p = NA"
    value = apa_p(p)
    return f"p {value}" if value[0] in "<>" else f"p = {value}"


def ci(low, high, digits: int = 2, level: int = 95) -> str:
    """``95% CI [low, high]``."""
    return f"{level}% CI [{num(low, digits)}, {num(high, digits)}]"


def stat(name: str, value, low=None, high=None, p=None, digits: int = 2) -> str:
    """``name = value, 95% CI [low, high], p = .21`` (CI and p only when given)."""
    parts = [f"{name} = {num(value, digits)}"]
    if not (missing(low) or missing(high)):
        parts.append(ci(low, high, digits))
    if not missing(p):
        parts.append(pval(p))
    return ", ".join(parts)


def pct(part, whole) -> str:
    """``part`` as a whole-number percentage of ``whole`` (``NA`` when ``whole`` is 0)."""
    return "NA" if not whole else f"{100 * part / whole:.0f}%"


def share(value, low=None, high=None) -> str:
    """A proportion as ``35%`` or ``35%, 95% CI [20%, 52%]``."""
    out = "NA" if missing(value) else f"{100 * float(value):.0f}%"
    return out if missing(low) or missing(high) else f"{out}, {share_ci(low, high)}"


def share_ci(low, high) -> str:
    """A confidence interval of a proportion as ``95% CI [20%, 52%]`` (a bound below zero, as
    bootstrap bounds can be, is written as it is: ``[-0.4%, 29%]``)."""
    return f"95% CI [{percent(low)}, {percent(high)}]"


def percent(x) -> str:
    """A proportion as a whole-number percentage, keeping a sign that rounding would lose."""
    return _keep_sign(100 * float(x), 0) + "%"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 participant`` / ``3 participants``."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def first(row: pd.Series, *names, default=math.nan):
    """The first of ``names`` present in ``row`` (tables from other stages vary slightly)."""
    for name in names:
        if name in row.index:
            return row[name]
    return default


def other_excluded(row: pd.Series) -> str:
    """``" (2 participants who chose an option outside the listed sources excluded)"``: the
    ``n_other`` of a task-dependence row; empty when there is none."""
    n = row.get("n_other")
    if missing(n) or int(n) == 0:
        return ""
    return (f" ({plural(int(n), 'participant')} who chose an option outside the listed "
            "sources excluded)")
