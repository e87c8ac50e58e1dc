"""What the figures and the report share: labels, codebook families and small tables.

Imports no plotting library, so that the report step (which embeds the figures and quotes these
tables) starts without matplotlib and seaborn.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

DPI = 300  # of the PNG figures (the report embeds them)


def readable(value) -> str:
    """An id made readable when nothing gives its label: ``ml_years`` -> ``Ml years``."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def labeller(study=None):
    """``study.label`` with ids it does not know made readable (identity of known labels)."""
    def label(value) -> str:
        shown = study.label(value) if study is not None else str(value)
        return readable(shown) if shown == str(value) else shown
    return label


def similarity_label(shown: str) -> str:
    """A similarity dimension's label as a quantity: ``Visual`` -> ``Visual similarity``; a
    label that already says so (``Visual similarity``) is kept."""
    return shown if "similar" in shown.lower() else f"{shown} similarity"


def families(codebook: Mapping | None) -> tuple[dict[str, str], dict[str, str]]:
    """(code -> family id, family id -> family label) from the codebook's groups; a code with no
    group is its own family."""
    book = (codebook or {}).get("codes", {})
    labels = dict((codebook or {}).get("groups", {}))
    of = {c: spec.get("group") or c for c, spec in book.items()}
    for family in of.values():
        labels.setdefault(family, readable(family))
    return of, labels


def transition_table(choices: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """Participants by source chosen for case study ``first`` (rows) and ``second`` (columns),
    over participants who answered both."""
    wide = (choices.dropna(subset=["source"]).astype({"source": str})
            .pivot_table(index=["wave", "participant"], columns="case_study", values="source",
                         aggfunc="first"))
    if first not in wide or second not in wide:
        return pd.DataFrame()
    both = wide[[first, second]].dropna()
    return pd.crosstab(both[first], both[second])


def benchmark_note(outcomes: pd.DataFrame, case: str, sources=None) -> str:
    """Whether the benchmark's differences between ``sources`` (all when None) in ``case`` are
    significant: needs ``ci_low``/``ci_high`` columns; overlapping intervals are read as not
    significant."""
    part = outcomes[outcomes["case_study"] == case]
    if sources is not None:
        part = part[part["source"].isin(list(sources))]
    if not {"ci_low", "ci_high"} <= set(part.columns) or part[["ci_low", "ci_high"]].isna().any(
            axis=None):
        return "benchmark CIs not given: significance of its differences unknown"
    lows, highs = part["ci_low"].to_numpy(float), part["ci_high"].to_numpy(float)
    overlap = all(lows[i] <= highs[j] and lows[j] <= highs[i]
                  for i in range(len(part)) for j in range(i + 1, len(part)))
    return ("benchmark 95% CIs all overlap: differences not significant" if overlap
            else "some benchmark 95% CIs do not overlap")
