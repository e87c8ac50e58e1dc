"""Load YAML configuration files and validate them against the package's JSON schemas."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from tlsurvey.errors import InputError


@cache
def schema(name: str) -> dict:
    """Return the JSON schema ``src/tlsurvey/schemas/<name>.schema.json``."""
    text = resources.files("tlsurvey.schemas").joinpath(f"{name}.schema.json").read_text()
    return json.loads(text)


def _schema_error(error, name: str, path) -> InputError:
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return InputError(path, f"invalid {name} at {where}: {error.message}")


def schema_errors(data, name: str, path) -> list[InputError]:
    """Every violation of schema ``name`` by ``data``, one InputError each, in document order."""
    validator = jsonschema.Draft202012Validator(schema(name))
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [_schema_error(e, name, path) for e in errors]


def validate(data, name: str, path) -> dict:
    """Validate ``data`` against schema ``name``; raise a one-line InputError naming ``path``."""
    validator = jsonschema.Draft202012Validator(schema(name))
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise _schema_error(error, name, path)
    return data


def parse_yaml(text: str):
    """``yaml.safe_load`` with libyaml's loader when PyYAML has it (the same data, 4-10x less
    time); a malformed text is parsed again by the Python loader for its error messages."""
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return yaml.safe_load(text)


def load_yaml(path, name: str | None = None) -> dict:
    """Read a YAML file, validating it against schema ``name`` when given."""
    path = Path(path)
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark else None
        raise InputError(path, f"not valid YAML: {getattr(exc, 'problem', exc)}", row=row) from None
    return validate(data, name, path) if name else data


# The workflow's config schema (Snakemake validates config/config.yaml with it); the CLI commands
# validate the sections they read against the same schema.
CONFIG_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
PRIVATE = ("privacy",)  # config sections whose values are never printed (report, logs)


def load_config(path, sections=("privacy", "exclusions")) -> dict:
    """Read a workflow config file for a CLI command, validating ``sections`` (when present)
    against the workflow's config schema.

    Raises
    ------
    InputError
        Missing file, invalid YAML, not a mapping, or a section failing the schema (the
        schema's message, naming the offending key).
    """
    data = load_yaml(path) or {}
    if not isinstance(data, dict):
        raise InputError(path, "invalid config at (top level): not a mapping")
    if CONFIG_SCHEMA.is_file():
        properties = parse_yaml(CONFIG_SCHEMA.read_text(encoding="utf-8"))["properties"]
        for section in sections:
            if section in data:
                validator = jsonschema.Draft202012Validator(properties[section])
                error = jsonschema.exceptions.best_match(validator.iter_errors(data[section]))
                if error is not None:
                    where = "/".join([section, *(str(p) for p in error.absolute_path)])
                    raise InputError(path, f"invalid config at {where}: {error.message}")
    return data


def redact_private(config) -> dict:
    """``config`` with the values of its private sections (``PRIVATE``) replaced by a note, for
    printing the configuration in a report."""
    config = dict(config or {})
    for section in PRIVATE:
        if isinstance(config.get(section), dict):
            config[section] = {key: "(set; not shown)" for key in config[section]}
    return config


def file_sha256(path) -> str:
    """Hex sha256 of a file's bytes (for provenance records)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
