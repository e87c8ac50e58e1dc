"""Figures of the survey analysis: each function takes DataFrames and returns a Figure.

:data:`FIGURES` maps a figure name to a builder taking the named inputs of its Snakemake rule
(already read: tables as DataFrames, YAML as dicts, ``study`` as a
:class:`tlsurvey.study.Study`); :func:`make` reads, builds and saves one to the paths it is
given (a workflow rule's named outputs).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path

from tlsurvey.config import load_yaml
from tlsurvey.io import read_table, write_bytes
from tlsurvey.study import Study


class _Modules:
    """The figure modules, each imported when a builder first uses it (they import matplotlib
    and seaborn; the report imports :mod:`tlsurvey.figures.common` without them)."""

    def __getattr__(self, name: str):
        return importlib.import_module(f"tlsurvey.figures.{name}")


mod = _Modules()
FIGURES: dict[str, Callable] = {
    "likert": lambda t: mod.likert.likert(t["ratings"], t.get("study")),
    "demographics": lambda t: mod.sample.demographics(t["responses"], t.get("study")),
    "similarity_expected": lambda t: mod.relations.similarity_expected(
        t["ratings"], t.get("study"), t.get("rmcorr")),
    "coefficients": lambda t: mod.models.coefficients(t["coefficients"], t.get("study")),
    "alignment": lambda t: mod.relations.alignment(t["misalignment"], t.get("study")),
    "rho_distribution": lambda t: mod.relations.rho_distribution(
        t["participants"], t.get("study"), t.get("alignment_summary")),
    "choices": lambda t: mod.choices.choices(t["choices"], t.get("study")),
    "transitions": lambda t: mod.choices.transitions(t["choices"], t.get("study")),
    "code_frequency": lambda t: mod.coding.code_frequency(
        t["codes"], t["choices"], t.get("codebook"), t.get("study")),
    "code_families": lambda t: mod.coding.code_families(
        t["codes"], t["choices"], t.get("codebook"), t.get("study")),
    "code_cooccurrence": lambda t: mod.coding.code_cooccurrence(t["codes"], t.get("codebook")),
    "factors": lambda t: mod.factors.factors(t["factors"], t.get("study")),
    "topics": lambda t: mod.coding.topics(t["topic_info"], t.get("codebook")),
    "ambiguous_terms": lambda t: mod.coding.ambiguous_terms(t["terms"], t.get("codebook")),
    "intuition_outcome": lambda t: mod.relations.intuition_outcome(
        t["ratings"], t.get("outcomes"), t.get("study")),
    "waves": lambda t: mod.choices.waves(t["ratings"], t["choices"], t.get("study")),
    "specification_curve": lambda t: mod.multiverse.specification_curve(t["curve"]),
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
    from tlsurvey.figures import theme  # chooses matplotlib's backend before pyplot starts

    if not isinstance(outputs, Mapping):
        outputs = {fmt: Path(outputs).with_suffix(f".{fmt}") for fmt in ("png", "pdf")}
    tables = {key: load(path, key) for key, path in inputs.items()}
    fig = FIGURES[name](tables)
    try:
        return [write_bytes(theme.render(fig, fmt), path) for fmt, path in outputs.items()]
    finally:
        theme.plt.close(fig)
