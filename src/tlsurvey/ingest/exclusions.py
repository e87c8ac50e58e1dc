"""Exclusion rules (config ``exclusions:``), duplicate resolution and the participant flow.

Every response gets all the reasons that apply to it (``excluded.csv``). The flow table
attributes each excluded response to its *first* reason in :data:`REASONS` order, so that per
wave and in total ``raw = sum(excluded:<reason>) + analysed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tlsurvey.errors import InputError
from tlsurvey.ingest.deidentify import REDACTIONS
from tlsurvey.ingest.mapping import Mapped

REASONS = (
    "preview",
    "test",
    "spam",
    "unfinished",
    "low_progress",
    "blank",
    "speeder",
    "attention_check",
    "straightlining",
    "duplicate",
)
DEFAULTS = {
    "previews": True,
    "require_finished": True,
    "min_progress": 100,
    "blank": True,
    "speeder_fraction": 0.3,
    "attention_checks": True,
    "straightlining": True,
    "duplicates": "keep_first",
    "cross_wave_identity": False,
}
POLICIES = ("keep_first", "keep_last", "error")
DUPLICATE_KEYS = {
    "id_hash": "same response id",
    "extref_hash": "same external reference",
    "email_hash": "same e-mail",
}
# Qualtrics Status codes: 0 IP Address, 1 Survey Preview, 2 Survey Test, 4 Imported,
# 8 Spam, 9 Preview Spam, 12 Imported Spam, 16 Offline, 17 Offline Survey Preview.
_STATUS_CODES = {
    "1": ("preview",),
    "2": ("test",),
    "8": ("spam",),
    "9": ("preview", "spam"),
    "12": ("spam",),
    "17": ("preview",),
}


def status_reasons(status: str) -> tuple[str, ...]:
    """Exclusion reasons implied by a Status value (numeric code or label)."""
    status = str(status).strip()
    if status in _STATUS_CODES:
        return _STATUS_CODES[status]
    text = status.casefold()
    return tuple(r for r in ("preview", "test", "spam") if r in text)


def settings(cfg: dict | None) -> dict:
    """The ``exclusions:`` config section with the defaults filled in."""
    return {**DEFAULTS, **(cfg or {})}


def answered(mapped: Mapped) -> np.ndarray:
    """Per response: True when at least one question (demographic, rating, choice, factor or
    text; attention checks aside) has an answer."""
    found = set(mapped.texts["row"])
    for table, column in ((mapped.ratings, "value"), (mapped.choices, "source"),
                          (mapped.factors, "value")):
        found |= set(table.loc[table[column].notna(), "row"])
    demographics = mapped.responses.drop(columns="row")
    found |= set(mapped.responses.loc[demographics.notna().any(axis=1), "row"])
    return mapped.meta["row"].isin(found).to_numpy()


def flag(mapped: Mapped, cfg: dict) -> list[list[str]]:
    """All reasons (except ``duplicate``) excluding each response, in :data:`REASONS` order."""
    cfg = settings(cfg)
    meta = mapped.meta
    n = len(meta)
    reasons = [set() for _ in range(n)]

    def mark(mask, reason):
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            reasons[i].add(reason)

    if cfg["previews"]:
        for i, status in enumerate(meta["status"]):
            reasons[i].update(status_reasons(status))
    if cfg["require_finished"]:
        mark(~meta["finished"].astype(bool).to_numpy(), "unfinished")
    progress = meta["progress"].to_numpy(dtype=float)
    if cfg["min_progress"]:
        mark(~np.isnan(progress) & (progress < cfg["min_progress"]), "low_progress")
    if cfg["blank"]:
        mark(~answered(mapped), "blank")
    if cfg["speeder_fraction"]:
        duration = meta["duration_s"].to_numpy(dtype=float)
        valid = np.array([not r for r in reasons]) & ~np.isnan(duration)
        if valid.any():
            limit = cfg["speeder_fraction"] * float(np.median(duration[valid]))
            mark(~np.isnan(duration) & (duration < limit), "speeder")
    if cfg["attention_checks"]:
        attention = mapped.attention.to_numpy()
        finished = meta["finished"].astype(bool).to_numpy()
        mark((attention == "fail") | ((attention == "missing") & finished), "attention_check")
    if cfg["straightlining"] and len(mapped.ratings):
        values = mapped.ratings.groupby("row")["value"]
        lines = values.agg(lambda s: len(s) >= 2 and s.notna().all() and s.nunique() == 1)
        mark(meta["row"].map(lines).fillna(False).to_numpy(), "straightlining")
    return [[r for r in REASONS if r in found] for found in reasons]


def duplicates(keys: pd.DataFrame, policy: str, cross_wave_identity: bool = False) -> pd.Series:
    """Flag duplicate responses: rows sharing a response id, external reference or e-mail hash
    (transitively) form a group; one member is kept, the rest are duplicates.

    Within a wave all three keys link responses. Across waves only the response id does (the
    same record exported twice): the same person answering a later wave is a returning
    participant, not a duplicate, unless ``cross_wave_identity`` is true.

    ``keys`` holds ``wave_index``, ``start``, ``response_row``, the hash columns of
    :data:`DUPLICATE_KEYS`, ``eligible`` (no other reason) and ``file``/``file_row`` for errors.
    The kept member is the first (``keep_first``) or last (``keep_last``) eligible response by
    wave, start time and row (or by the same order among all members when none is eligible);
    ``error`` raises on a group with two eligible responses.
    """
    if policy not in POLICIES:
        raise ValueError(f"duplicates policy must be one of {POLICIES}, not {policy!r}")
    order = (
        keys.assign(_nostart=keys["start"].fillna("") == "")
        .sort_values(["wave_index", "_nostart", "start", "response_row"], kind="stable")
        .index.tolist()
    )
    parent = {i: i for i in keys.index}

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for column in DUPLICATE_KEYS:
        across = cross_wave_identity or column == "id_hash"
        first_seen = {}
        for i, value, wave in zip(keys.index, keys[column].fillna(""), keys["wave"], strict=True):
            if value:
                scope = value if across else (wave, value)
                parent[root(i)] = root(first_seen.setdefault(scope, i))
    groups: dict[int, list[int]] = {}
    for i in order:
        groups.setdefault(root(i), []).append(i)
    flagged = pd.Series(False, index=keys.index)
    for members in groups.values():
        if len(members) < 2:
            continue
        eligible = [i for i in members if keys.at[i, "eligible"]] or members
        if policy == "error" and len(eligible) > 1:
            later = keys.loc[eligible[1]]
            raise InputError(
                later["file"],
                f"duplicate response ({_shared(keys, eligible)}) of "
                f"{keys.at[eligible[0], 'wave']} row {keys.at[eligible[0], 'response_row']}",
                row=int(later["file_row"]),
            )
        keep = eligible[0] if policy != "keep_last" else eligible[-1]
        flagged[[i for i in members if i != keep]] = True
    return flagged


def _shared(keys, rows) -> str:
    a, b = keys.loc[rows[0]], keys.loc[rows[1]]
    hits = [label for col, label in DUPLICATE_KEYS.items() if a[col] and a[col] == b[col]]
    return ", ".join(hits) or "linked through another response"


def flow(keys: pd.DataFrame, waves: list[str]) -> pd.DataFrame:
    """Participant flow per wave and ``total``: raw, excluded:<first reason>, analysed, and the
    number of redactions per kind in analysed texts (``redacted:<kind>``)."""
    rows = []
    for wave in [*waves, "total"]:
        part = keys if wave == "total" else keys[keys["wave"] == wave]
        first = part["reasons"].map(lambda r: r.split(";")[0] if r else "")
        analysed = part[part["reasons"] == ""]
        rows.append((wave, "raw", len(part)))
        rows += [(wave, f"excluded:{reason}", int((first == reason).sum())) for reason in REASONS]
        rows.append((wave, "analysed", len(analysed)))
        rows += [
            (wave, f"redacted:{kind}", int(analysed[f"n_{kind}"].sum())) for kind in REDACTIONS
        ]
    return pd.DataFrame(rows, columns=["wave", "step", "n"])
