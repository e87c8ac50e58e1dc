"""De-identification: salted participant ids, hashed duplicate keys, free-text scrubbing."""

from __future__ import annotations

import hashlib
import re

# re-exported: they live in tlsurvey.layout, which the Snakefile imports without pandas
from tlsurvey.layout import PUBLIC_EXAMPLE_SALT, get_salt, salt_fingerprint  # noqa: F401

REDACTIONS = ("email", "url", "phone", "name")
_PATTERNS = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "url": re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]", re.IGNORECASE),
    "phone": re.compile(r"(?<![\w.,])(?:\+|00)?\d(?:[ ().-]{0,2}\d){8,14}(?![\w])"),
}


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
