"""The codebook: code ids, labels, groups, definitions, colours and topic seed words."""

from __future__ import annotations

from tlsurvey.config import load_yaml

DEFAULT_COLOR = "#999999"


def load_codebook(path) -> dict:
    """Read and validate ``codebook.yaml``; returns ``{code_id: spec}`` in file order."""
    return load_yaml(path, "codebook")["codes"]


def seed_topic_list(codebook: dict) -> list[list[str]]:
    """Seed words per code, in codebook order (BERTopic's ``seed_topic_list``)."""
    return [list(spec["seed_words"]) for spec in codebook.values()]


def color(codebook: dict, code: str) -> str:
    """Display colour of ``code`` (grey when unknown or unset)."""
    return codebook.get(code, {}).get("color", DEFAULT_COLOR)
