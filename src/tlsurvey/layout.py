"""What the workflow needs while Snakemake parses it: table names, one wave's input files and
the salt fingerprint. Standard library only, so that ``snakemake -n`` imports no pandas."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tlsurvey.errors import InputError

TABLES = ("responses", "ratings", "choices", "factors", "texts")
STUDY_FILE = "study.json"  # the study description beside the tables
# Public salt for the simulated example only (privacy.public_example_salt: true).
PUBLIC_EXAMPLE_SALT = "tlsurvey-public-example-salt-v1"


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
