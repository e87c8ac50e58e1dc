"""De-identification: salted participant ids, hashed duplicate keys, free-text scrubbing."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from tlsurvey.errors import InputError

# Public salt for the simulated example only (privacy.public_example_salt: true).
PUBLIC_EXAMPLE_SALT = "tlsurvey-public-example-salt-v1"

REDACTIONS = ("email", "url", "phone", "name")
_PATTERNS = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "url": re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]", re.IGNORECASE),
    "phone": re.compile(r"(?<![\w.,])(?:\+|00)?\d(?:[ ().-]{0,2}\d){8,14}(?![\w])"),
}


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


def participant_id(wave: str, response_id: str, salt: str) -> str:
    """``P`` + first 10 hex digits of sha256(salt + wave + response_id)."""
    return "P" + hashlib.sha256(f"{salt}{wave}{response_id}".encode()).hexdigest()[:10]


def text_id(participant: str, field: str, case_study) -> str:
    """Id of a free-text answer: ``<participant>:<field>[:<case_study>]``."""
    case = f":{case_study}" if isinstance(case_study, str) and case_study else ""
    return f"{participant}:{field}{case}"


def key_hash(value: str, salt: str) -> str:
    """Salted hash of an identifier (e-mail, external reference, response id) for duplicate
    detection across waves; ``""`` for an empty value."""
    value = str(value).strip().casefold()
    if not value:
        return ""
    return "K" + hashlib.sha256(f"{salt}\x1f{value}".encode()).hexdigest()[:16]


def scrub(text: str, names=()) -> tuple[str, dict[str, int]]:
    """Replace e-mails, URLs, phone numbers and the given names by ``[EMAIL]``, ``[URL]``,
    ``[PHONE]``, ``[NAME]``; return the text and the count of each kind replaced."""
    counts = {}
    for kind, pattern in _PATTERNS.items():
        text, counts[kind] = pattern.subn(f"[{kind.upper()}]", text)
    counts["name"] = 0
    for name in sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True):
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
        text, n = pattern.subn("[NAME]", text)
        counts["name"] += n
    return text, counts
