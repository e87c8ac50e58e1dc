"""The specification curve (Simonsohn, Simmons and Nelson 2020): every specification's key
estimate ranked, which choices it made, and how the estimate depends on each choice."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tlsurvey.multiverse.specs import CHOICES

CHOICE_COLUMNS = ("exclusions", *CHOICES, "waves")
ALPHA = 0.05
SUMMARY_COLUMNS = (
    "choice", "option", "n_specs", "n_failed", "median_standardised", "min_standardised",
    "max_standardised", "share_positive", "share_positive_significant",
    "share_negative_significant",
)


def curve(results: pd.DataFrame) -> pd.DataFrame:
    """Specifications ranked by standardised estimate (failed fits last, ties by id), with
    ``rank`` (1 = smallest) and ``significant`` (95% CI excludes zero)."""
    table = results.copy()
    table["failed"] = table["standardised"].isna()
    table = table.sort_values(["failed", "standardised", "spec"], kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["significant"] = (table["p"] < ALPHA).astype(bool) & ~table["failed"]
    return table.drop(columns="failed").reset_index(drop=True)


def _describe(part: pd.DataFrame) -> dict:
    ok = part.dropna(subset=["standardised"])
    est, significant = ok["standardised"], ok["p"] < ALPHA
    described = {"n_specs": len(part), "n_failed": len(part) - len(ok)}
    if ok.empty:
        return described
    return {
        **described,
        "median_standardised": float(est.median()),
        "min_standardised": float(est.min()),
        "max_standardised": float(est.max()),
        "share_positive": float((est > 0).mean()),
        "share_positive_significant": float(((est > 0) & significant).mean()),
        "share_negative_significant": float(((est < 0) & significant).mean()),
    }


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """The curve overall (``choice == "all"``) and by each option of each choice that varies."""
    rows = [{"choice": "all", "option": "all", **_describe(table)}]
    for choice in CHOICE_COLUMNS:
        options = list(dict.fromkeys(table[choice].astype(str)))
        if len(options) < 2:
            continue
        for option in options:
            rows.append({"choice": choice, "option": option,
                         **_describe(table[table[choice].astype(str) == option])})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
