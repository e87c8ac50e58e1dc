"""Figures of the survey analysis: each function takes DataFrames and returns a Figure.

:data:`FIGURES` maps a figure name to a builder taking the named inputs of its Snakemake rule
(already read: tables as DataFrames, YAML as dicts); :func:`make` reads, builds and saves one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from tlsurvey.config import load_yaml
from tlsurvey.figures import (
    choices,
    coding,
    factors,
    likert,
    models,
    multiverse,
    relations,
    sample,
    theme,
)
from tlsurvey.io import read_table

FIGURES: dict[str, Callable] = {
    "likert": lambda t: likert.likert(
        t["ratings"], likert.scales_from_instrument(t.get("instrument") or {})),
    "demographics": lambda t: sample.demographics(t["responses"], t.get("instrument")),
    "similarity_expected": lambda t: relations.similarity_expected(t["ratings"], t.get("rmcorr")),
    "coefficients": lambda t: models.coefficients(t["coefficients"]),
    "alignment": lambda t: relations.alignment(t["misalignment"]),
    "choices": lambda t: choices.choices(t["choices"]),
    "code_frequency": lambda t: coding.code_frequency(t["codes"], t["choices"], t.get("codebook")),
    "code_cooccurrence": lambda t: coding.code_cooccurrence(t["codes"], t.get("codebook")),
    "factors": lambda t: factors.factors(t["factors"]),
    "topics": lambda t: coding.topics(t["topic_info"], t.get("codebook")),
    "ambiguous_terms": lambda t: coding.ambiguous_terms(t["terms"], t.get("codebook")),
    "intuition_outcome": lambda t: relations.intuition_outcome(t["ratings"], t["outcomes"]),
    "waves": lambda t: choices.waves(t["ratings"], t["choices"]),
    "specification_curve": lambda t: multiverse.specification_curve(t["curve"]),
}


def load(path):
    """Read a table (.parquet/.csv) as a DataFrame or a YAML file as a dict."""
    path = Path(path)
    if path.suffix in {".yaml", ".yml"}:
        return load_yaml(path)
    return read_table(path)


def make(name: str, inputs: Mapping[str, str | Path], stem) -> list[Path]:
    """Build figure ``name`` from the files ``inputs`` and write ``<stem>.png`` and ``.pdf``."""
    tables = {key: load(path) for key, path in inputs.items()}
    return theme.save(FIGURES[name](tables), stem)
