"""Small data helpers shared by the figure modules."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tlsurvey.descriptives import mean_ci


def present(values, order: Sequence[str]) -> list[str]:
    """Canonical ``order`` restricted to the ``values`` present, then any extras sorted."""
    seen = set(pd.Series(pd.Series(values).dropna().unique()).astype(str))  # each value once
    return [v for v in order if v in seen] + sorted(seen - set(order))


def scale_labels(scale: dict) -> list[str]:
    """Labels of an instrument scale (label -> code) in code order."""
    return sorted(scale, key=scale.get)


def pick(df: pd.DataFrame, *names: str, required: bool = True) -> str | None:
    """The first of ``names`` that is a column of ``df`` (tables of other stages vary)."""
    for name in names:
        if name in df.columns:
            return name
    if required:
        raise KeyError(f"none of the columns {names} in table with columns {list(df.columns)}")
    return None



def t_interval(values) -> tuple[float, float]:
    """95% t confidence interval of the mean of ``values`` (a seaborn ``errorbar`` callable)."""
    ci = mean_ci(pd.Series(values, dtype=float))
    return float(ci["ci_low"]), float(ci["ci_high"])
