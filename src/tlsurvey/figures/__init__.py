"""Figures of the survey analysis: each function takes DataFrames and returns a Figure.

:data:`FIGURES` maps a figure name to a builder taking the named inputs of its Snakemake rule
(already read: tables as DataFrames, YAML as dicts, ``study`` as a
:class:`tlsurvey.study.Study`); :func:`make` reads, builds and saves one to the paths it is
given (a workflow rule's named outputs).
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
from tlsurvey.io import read_table, write_bytes
from tlsurvey.study import Study

FIGURES: dict[str, Callable] = {
    "likert": lambda t: likert.likert(t["ratings"], t.get("study")),
    "demographics": lambda t: sample.demographics(t["responses"], t.get("study")),
    "similarity_expected": lambda t: relations.similarity_expected(
        t["ratings"], t.get("study"), t.get("rmcorr")),
    "coefficients": lambda t: models.coefficients(t["coefficients"], t.get("study")),
    "alignment": lambda t: relations.alignment(t["misalignment"], t.get("study")),
    "rho_distribution": lambda t: relations.rho_distribution(
        t["participants"], t.get("study"), t.get("alignment_summary")),
    "choices": lambda t: choices.choices(t["choices"], t.get("study")),
    "transitions": lambda t: choices.transitions(t["choices"], t.get("study")),
    "code_frequency": lambda t: coding.code_frequency(
        t["codes"], t["choices"], t.get("codebook"), t.get("study")),
    "code_families": lambda t: coding.code_families(
        t["codes"], t["choices"], t.get("codebook"), t.get("study")),
    "code_cooccurrence": lambda t: coding.code_cooccurrence(t["codes"], t.get("codebook")),
    "factors": lambda t: factors.factors(t["factors"], t.get("study")),
    "topics": lambda t: coding.topics(t["topic_info"], t.get("codebook")),
    "ambiguous_terms": lambda t: coding.ambiguous_terms(t["terms"], t.get("codebook")),
    "intuition_outcome": lambda t: relations.intuition_outcome(
        t["ratings"], t.get("outcomes"), t.get("study")),
    "waves": lambda t: choices.waves(t["ratings"], t["choices"], t.get("study")),
    "specification_curve": lambda t: multiverse.specification_curve(t["curve"]),
}


def load(path, name: str = ""):
    """Read a table (.parquet/.csv), a YAML file as a dict, or the study: ``study.json``, or an
    instrument map (input ``study``) from which the study is derived."""
    path = Path(path)
    if name == "study":
        if path.suffix == ".json":
            return Study.load(path)
        return Study.from_instrument(load_yaml(path), path)
    if path.suffix in {".yaml", ".yml"}:
        return load_yaml(path)
    return read_table(path)


def make(name: str, inputs: Mapping[str, str | Path], outputs) -> list[Path]:
    """Build figure ``name`` from the files ``inputs`` and write it, deterministically, to
    ``outputs``: {format: path} (formats ``png``, 300 dpi, and ``pdf``; a workflow rule's named
    outputs), or a path stem for ``<stem>.png`` and ``<stem>.pdf``."""
    from matplotlib import pyplot  # after theme, which chooses the backend

    if not isinstance(outputs, Mapping):
        outputs = {fmt: Path(outputs).with_suffix(f".{fmt}") for fmt in ("png", "pdf")}
    tables = {key: load(path, key) for key, path in inputs.items()}
    fig = FIGURES[name](tables)
    try:
        return [write_bytes(theme.render(fig, fmt), path) for fmt, path in outputs.items()]
    finally:
        pyplot.close(fig)
