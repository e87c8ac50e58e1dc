"""De-identification: salted participant ids, hashed duplicate keys, free-text scrubbing."""

from __future__ import annotations

import hashlib
import ipaddress
import re

import numpy as np
import pandas as pd

from tlsurvey.io import strip_control

# re-exported: they live in tlsurvey.layout, which the Snakefile imports without pandas
from tlsurvey.layout import PUBLIC_EXAMPLE_SALT, get_salt, salt_fingerprint  # noqa: F401

# Kinds replaced in free text, in this order; "control" counts control characters removed.
REDACTIONS = ("email", "url", "ip", "phone", "name", "control")
_TLDS = ("com|org|net|edu|gov|mil|int|io|ai|dev|app|info|biz|me|co|uk|us|eu|de|nl|dk|fr|es|it|"
         "se|no|fi|be|ch|at|pl|pt|ie|ca|au|nz|jp|cn|in|br|ru|kr|sg|za|ly|gl|gg|to|tv|xyz|site|"
         "online|tech|science|page|link|cloud|so|sh")
_PATTERNS = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # with a scheme or www., or a bare domain followed by a path or ending in a common TLD
    "url": re.compile(
        r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]"
        r"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
        rf"(?:[a-z]{{2,24}}/[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]|(?:{_TLDS})\b(?![.-]\w))",
        re.IGNORECASE),
    "ip": re.compile(
        r"(?<![\w.:])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.]*\d)"
        r"|(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]{1,4})?"
        r"(?![\w:]|\.\d)",
        re.IGNORECASE),
    "phone": re.compile(r"(?<![\w.,])(?:\+|00)?\d(?:[ ().-]{0,2}\d){8,14}(?![\w])"),
}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def identifier_value(value: str) -> str | None:
    """``"an IP address"`` or ``"an e-mail address"`` when the whole value is one, else None."""
    value = str(value).strip()
    if _is_ip(value):
        return "an IP address"
    if _PATTERNS["email"].fullmatch(value):
        return "an e-mail address"
    return None


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


def _replace(kind: str, pattern: re.Pattern, text: str) -> tuple[str, int]:
    count = 0

    def sub(match):
        nonlocal count
        found = match.group(0)
        if kind == "ip" and not (_is_ip(found) and any(c.isalnum() for c in found)):
            return found  # a time such as 10:00:00, or a bare "::"
        count += 1
        return f"[{kind.upper()}]"

    return pattern.sub(sub, text), count


def scrub(text: str, names=()) -> tuple[str, dict[str, int]]:
    """Remove control characters, then replace e-mails, URLs (with or without scheme), IPv4 and
    IPv6 addresses, phone numbers and the given names by ``[EMAIL]``, ``[URL]``, ``[IP]``,
    ``[PHONE]``, ``[NAME]``; return the text and the count of each kind (``REDACTIONS``)."""
    text, n_control = strip_control(text)
    counts = {}
    for kind, pattern in _PATTERNS.items():
        text, counts[kind] = _replace(kind, pattern, text)
    counts["name"] = 0
    for name in sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True):
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
        text, n = pattern.subn("[NAME]", text)
        counts["name"] += n
    counts["control"] = n_control
    return text, counts


def scrub_columns(frame: pd.DataFrame, columns, names=()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``frame`` with :func:`scrub` applied to the text values of ``columns`` (free-text
    demographics, "Other" answers), and the redaction counts per row (``REDACTIONS`` columns)."""
    frame = frame.copy()
    kinds = list(REDACTIONS)
    counts = np.zeros((len(frame), len(kinds)), dtype="int64")
    for column in columns:
        values = []
        for i, value in enumerate(frame[column]):
            if isinstance(value, str):
                value, found = scrub(value, names)
                counts[i] += [found[kind] for kind in kinds]
            values.append(value)
        frame[column] = pd.array(values, dtype=frame[column].dtype)
    return frame, pd.DataFrame(counts, index=frame.index, columns=kinds)
