"""Descriptive tables of the tidy survey data: Likert distributions, sample, choices, factors.

Every table has a ``wave`` column: one block per wave and one pooled block labelled ``all``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tlsurvey import RESPONSE_COLUMNS
from tlsurvey.ingest.mapping import MULTIPLE_SEPARATOR
from tlsurvey.io import read_table, write_table
from tlsurvey.layout import INGEST_FILES, named_paths
from tlsurvey.study import Study

POOLED = "all"
# The ingest tables read and the tables written ({name: file name}).
INPUTS = {name: INGEST_FILES[name] for name in ("ratings", "responses", "choices", "factors")}
OUTPUTS = {name: f"{name}.csv"
           for name in ("likert", "rating_summary", "demographics", "choices", "factors")}


def by_wave(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with a pooled copy appended whose ``wave`` is ``all``."""
    return pd.concat([df, df.assign(wave=POOLED)], ignore_index=True)


def share(counts: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Percentage of ``counts.n`` within each group of ``keys``."""
    return (100 * counts["n"] / counts.groupby(keys)["n"].transform("sum")).round(4)


def likert_counts(ratings: pd.DataFrame) -> pd.DataFrame:
    """Answers per wave x case study x source x dimension x value, with percentages.

    Skipped items are not counted here; see :func:`rating_summary` for ``n_missing``.
    """
    keys = ["wave", "case_study", "source", "dimension"]
    answered = by_wave(ratings.dropna(subset=["value"]))
    counts = answered.groupby([*keys, "value", "label"]).size().rename("n").reset_index()
    counts["pct"] = share(counts, keys)
    return counts.sort_values([*keys, "value"], ignore_index=True)


def rating_summary(ratings: pd.DataFrame) -> pd.DataFrame:
    """n, skipped, mean, SD and median per wave x case study x source x dimension."""
    keys = ["wave", "case_study", "source", "dimension"]
    grouped = by_wave(ratings).groupby(keys)["value"]
    table = pd.DataFrame(
        {
            "n": grouped.count(),
            "n_missing": (grouped.size() - grouped.count()).astype("int64"),
            "mean": grouped.mean(),
            "sd": grouped.std(),
            "median": grouped.median(),
        }
    )
    return table.reset_index().sort_values(keys, ignore_index=True)


def demographics(responses: pd.DataFrame, multiple=()) -> pd.DataFrame:
    """Counts and percentages of each level of each demographic variable, per wave.

    A variable named in ``multiple`` (multi-select; options joined by ``"; "``) counts every
    chosen option, so its percentages of participants may sum to more than 100.
    """
    variables = [
        c for c in responses.columns if c not in RESPONSE_COLUMNS and not c.endswith("_code")
    ]
    if not variables:  # the survey asked no demographic questions
        return pd.DataFrame(columns=["wave", "variable", "level", "n", "pct"])
    data = by_wave(responses)
    long = data.melt(id_vars=["wave"], value_vars=variables, var_name="variable")
    long["level"] = long["value"].astype("string").fillna("(skipped)")
    chosen = long["variable"].isin(list(multiple))
    long["level"] = long["level"].where(~chosen, long["level"].str.split(MULTIPLE_SEPARATOR))
    long = long.explode("level")
    counts = long.groupby(["wave", "variable", "level"]).size().rename("n").reset_index()
    counts["pct"] = (100 * counts["n"] / counts["wave"].map(data.groupby("wave").size())).round(4)
    # ordered variables (with a scale code) list their levels in scale order, others by name
    scale_order = {
        (variable, label): code
        for variable in variables
        if f"{variable}_code" in responses
        for label, code in zip(responses[variable], responses[f"{variable}_code"], strict=True)
        if not (pd.isna(label) or pd.isna(code))
    }
    scale_order |= {(variable, option): i for variable, options in dict(multiple).items()
                    for i, option in enumerate(options)}
    keys = zip(counts["variable"], counts["level"], strict=True)
    counts["_order"] = [scale_order.get(key, np.inf) for key in keys]
    counts = counts.sort_values(["wave", "variable", "_order", "level"], ignore_index=True)
    return counts.drop(columns="_order")


def choice_counts(choices: pd.DataFrame) -> pd.DataFrame:
    """Chosen source per wave x case study (skipped choices as ``(skipped)``)."""
    data = by_wave(choices).assign(source=lambda d: d["source"].astype("string"))
    data["source"] = data["source"].fillna("(skipped)")
    counts = data.groupby(["wave", "case_study", "source"]).size().rename("n").reset_index()
    counts["pct"] = share(counts, ["wave", "case_study"])
    return counts.sort_values(["wave", "case_study", "source"], ignore_index=True)


def mean_ci(values: pd.Series, confidence: float = 0.95) -> pd.Series:
    """Mean with a t-based confidence interval, SD and n of the non-missing ``values``."""
    from scipy.special import stdtrit  # the t quantile (scipy.stats.t.ppf), without scipy.stats

    v = values.dropna().astype(float).to_numpy()
    n = len(v)
    mean = v.mean() if n else np.nan
    sd = v.std(ddof=1) if n > 1 else np.nan
    half = stdtrit(n - 1, 0.5 + confidence / 2) * sd / np.sqrt(n) if n > 1 else np.nan
    return pd.Series(
        {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}
    )


FACTOR_COLUMNS = ["wave", "factor", "n", "mean", "sd", "ci_low", "ci_high"]


def factor_importance(factors: pd.DataFrame) -> pd.DataFrame:
    """Mean importance of each framework factor with a 95% CI, per wave (no rows when the
    survey asked no factor questions)."""
    if factors.empty:
        return pd.DataFrame(columns=FACTOR_COLUMNS)
    table = by_wave(factors).groupby(["wave", "factor"])["value"].apply(mean_ci).unstack()
    table["n"] = table["n"].astype(int)
    return table.reset_index().sort_values(["wave", "factor"], ignore_index=True)


def run(ingest, out, study=None) -> dict[str, Path]:
    """Compute every descriptive table from the ingest tables and write them.

    Parameters
    ----------
    ingest : mapping or path
        {name: path} of the tables :data:`INPUTS` (a rule's named inputs, ``study`` too when
        ``study`` is not given), or the ingest directory holding them.
    out : mapping or path
        {name: path} of the tables :data:`OUTPUTS`, or a directory for those files.
    study : Study or path, optional
        Names the multi-select variables (default: ingest's ``study``).

    Returns
    -------
    dict
        Table name -> path written.
    """
    inputs, paths = named_paths(ingest, INPUTS), named_paths(out, OUTPUTS)
    if not isinstance(study, Study):
        study = Study.load(study or named_paths(ingest, {"study": INGEST_FILES["study"]})["study"])
    ratings = read_table(inputs["ratings"])
    multiple = study.multiple_choice
    tables = {
        "likert": likert_counts(ratings),
        "rating_summary": rating_summary(ratings),
        "demographics": demographics(read_table(inputs["responses"]), multiple),
        "choices": choice_counts(read_table(inputs["choices"])),
        "factors": factor_importance(read_table(inputs["factors"])),
    }
    return {name: write_table(t, paths[name]) for name, t in tables.items()}
