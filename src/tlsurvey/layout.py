"""What the workflow needs while Snakemake parses it: table and file names, one wave's input
files and the salt fingerprint. Standard library only, so that ``snakemake -n`` imports no
pandas."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from tlsurvey.errors import InputError

TABLES = ("responses", "ratings", "choices", "factors", "texts")
STUDY_FILE = "study.json"  # the study description beside the tables
# Public salt for the simulated example only (privacy.public_example_salt: true).
PUBLIC_EXAMPLE_SALT = "tlsurvey-public-example-salt-v1"
# File names in a directory of one ingested wave and of the combined waves.
WAVE_FILES = {**{name: f"{name}.parquet" for name in (*TABLES, "screening")}, "study": STUDY_FILE}
INGEST_FILES = {**{name: f"{name}.parquet" for name in TABLES}, "flow": "flow.csv",
                "excluded": "excluded.csv", "study": STUDY_FILE}


def named_paths(paths, names: Mapping[str, str]) -> dict[str, Path]:
    """{name: path} of a step's files: ``paths`` maps each name of ``names`` to its path (a
    workflow rule's named inputs or outputs), or is a directory holding the file names
    ``names`` (the command line's ``--out DIR``)."""
    if isinstance(paths, Mapping):
        return {name: Path(paths[name]) for name in names}
    return {name: Path(paths) / file for name, file in names.items()}


def wave_key(wave: str, name: str) -> str:
    """Name of wave ``wave``'s file ``name`` among the inputs of a step reading every wave."""
    return f"{wave}/{name}"


def wave_files(waves, root) -> dict[str, str]:
    """Named inputs of a step reading every ingested wave: :func:`wave_key` -> file of
    :data:`WAVE_FILES` in ``root/<wave>/``."""
    return {wave_key(wave, name): f"{root}/{wave}/{file}"
            for wave in waves for name, file in WAVE_FILES.items()}


def by_wave(inputs, waves) -> dict[str, dict[str, str]]:
    """{wave: {name: path}} from named inputs built by :func:`wave_files` (a mapping)."""
    return {wave: {name: str(inputs[wave_key(wave, name)]) for name in WAVE_FILES}
            for wave in waves}


def syntax_file(path) -> Path | None:
    """The LimeSurvey ``*_R_syntax_file.R`` belonging to an R-export data file, if present."""
    path = Path(path)
    if "_R_data_file" in path.name:
        candidate = path.with_name(path.name.replace("_R_data_file", "_R_syntax_file")).with_suffix(
            ".R"
        )
        if candidate.exists():
            return candidate
    return None


def wave_inputs(wave: dict) -> dict[str, str]:
    """Input files of one wave's ingest (a config ``waves`` entry with ``instrument`` filled):
    the export, the instrument map and, for a LimeSurvey R export, its syntax file."""
    inputs = {"export": wave["file"], "instrument": wave["instrument"]}
    syntax = syntax_file(wave["file"])
    if syntax is not None:
        inputs["syntax"] = str(syntax)
    return inputs


def get_salt(privacy: dict) -> str:
    """The salt for participant ids: env var ``salt_env``, else ``salt_file``, else public salt.

    Raises
    ------
    InputError
        Neither source exists and ``public_example_salt`` is false.
    """
    env = privacy.get("salt_env", "TLSURVEY_SALT")
    if os.environ.get(env, "").strip():
        return os.environ[env].strip()
    salt_file = Path(privacy.get("salt_file", ".tlsurvey_salt"))
    from_file = salt_file.read_text(encoding="utf-8").strip() if salt_file.is_file() else ""
    if from_file:
        return from_file
    if privacy.get("public_example_salt", False):
        return PUBLIC_EXAMPLE_SALT
    raise InputError(
        salt_file,
        f"no salt for participant ids: set environment variable {env} or write a secret to this "
        "file (privacy.public_example_salt: true is for the simulated example only)",
    )


def salt_fingerprint(privacy: dict) -> str:
    """A short one-way digest of the salt (``"none"`` when there is none), so that the workflow
    reruns the steps that hash ids when the salt changes, without storing the salt."""
    try:
        salt = get_salt(privacy)
    except InputError:
        return "none"
    return hashlib.sha256(f"tlsurvey-salt-fingerprint\x1f{salt}".encode()).hexdigest()[:12]
