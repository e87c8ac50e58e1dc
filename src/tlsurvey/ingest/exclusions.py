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


# Per-response facts the rules read (``screening`` columns), so that any variant of the rules
# can be applied to an ingested wave without reading its export again (see :func:`reasons`).
CONDITIONS = ("status_preview", "status_test", "status_spam", "finished", "progress",
              "answered", "duration_s", "attention_failed", "straightlined")


def conditions(mapped: Mapped) -> pd.DataFrame:
    """Per response (``mapped.meta`` order): the facts every exclusion rule reads.

    Columns :data:`CONDITIONS`: Status implies preview / test / spam, finished, progress and
    duration (NaN when absent), at least one answer, a failed (or, when finished, missing)
    attention check, identical answers on every rating item (two or more, none missing).
    """
    meta = mapped.meta
    status = [set(status_reasons(s)) for s in meta["status"]]
    finished = meta["finished"].astype(bool).to_numpy()
    attention = mapped.attention.to_numpy()
    lines = pd.Series(False, index=meta["row"])
    if len(mapped.ratings):
        values = mapped.ratings.groupby("row")["value"]
        size = values.size()
        flat = (size >= 2) & (values.count() == size) & (values.nunique() == 1)
        lines = meta["row"].map(flat).fillna(False).astype(bool)
    return pd.DataFrame({
        **{f"status_{r}": [r in s for s in status] for r in ("preview", "test", "spam")},
        "finished": finished,
        "progress": meta["progress"].to_numpy(dtype=float),
        "answered": answered(mapped),
        "duration_s": meta["duration_s"].to_numpy(dtype=float),
        "attention_failed": (attention == "fail") | ((attention == "missing") & finished),
        "straightlined": np.asarray(lines, dtype=bool),
    })


def reasons(facts: pd.DataFrame, cfg: dict | None) -> list[str]:
    """Per response of one wave: its exclusion reasons under the rules ``cfg`` (all but
    ``duplicate``, in :data:`REASONS` order, ``;``-joined, "" when it passes).

    ``facts`` has the :data:`CONDITIONS` columns (:func:`conditions`). Speeders are judged
    against the median duration of the responses no earlier rule excludes.
    """
    cfg = settings(cfg)
    n = len(facts)
    marks = {}
    if cfg["previews"]:
        marks.update({r: facts[f"status_{r}"].to_numpy(dtype=bool)
                      for r in ("preview", "test", "spam")})
    if cfg["require_finished"]:
        marks["unfinished"] = ~facts["finished"].to_numpy(dtype=bool)
    progress = facts["progress"].to_numpy(dtype=float)
    if cfg["min_progress"]:
        marks["low_progress"] = ~np.isnan(progress) & (progress < cfg["min_progress"])
    if cfg["blank"]:
        marks["blank"] = ~facts["answered"].to_numpy(dtype=bool)
    if cfg["speeder_fraction"]:
        duration = facts["duration_s"].to_numpy(dtype=float)
        valid = ~np.logical_or.reduce([*marks.values(), np.zeros(n, bool)]) & ~np.isnan(duration)
        if valid.any():
            limit = cfg["speeder_fraction"] * float(np.median(duration[valid]))
            marks["speeder"] = ~np.isnan(duration) & (duration < limit)
    if cfg["attention_checks"]:
        marks["attention_check"] = facts["attention_failed"].to_numpy(dtype=bool)
    if cfg["straightlining"]:
        marks["straightlining"] = facts["straightlined"].to_numpy(dtype=bool)
    ordered = [(r, marks[r]) for r in REASONS if r in marks]
    return [";".join(r for r, mark in ordered if mark[i]) for i in range(n)]


def flag(mapped: Mapped, cfg: dict) -> list[list[str]]:
    """All reasons (except ``duplicate``) excluding each response, in :data:`REASONS` order."""
    return [r.split(";") if r else [] for r in reasons(conditions(mapped), cfg)]


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
