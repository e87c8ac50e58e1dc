"""Deterministic, atomic table and file writers: a failed step leaves no partial output.

Every file the project writes goes through :func:`atomic_path` (each file appears whole or not at
all); inside :func:`all_or_nothing` the files of a whole step are kept only if the step succeeds.
Text cells of CSV/TSV tables are neutralised against formula injection (:func:`safe_cell`); text
bound for XML or HTML is cleared of control characters (:func:`strip_control`).
"""

from __future__ import annotations

import glob
import os
import re
import signal
import tempfile
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported by the table functions only (fast CLI start-up)
    import pandas as pd

_UMASK = os.umask(0)
os.umask(_UMASK)
_JOURNAL: ContextVar[list | None] = ContextVar("tlsurvey_io_journal", default=None)

# OWASP CSV injection: a cell starting with one of these is a formula in spreadsheet programs
# (full-width forms included: some spreadsheets fold them to ASCII).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# C0/C1 control characters and the code points XML 1.0 forbids; tab, newline and CR are kept.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def strip_control(text: str) -> tuple[str, int]:
    """``text`` without control characters (tab, newline, CR kept) and how many were removed."""
    return _CONTROL.subn("", text)


def xml_text(text) -> str:
    """``str(text)`` made safe for an XML or HTML text node or attribute (control chars removed)."""
    return strip_control(str(text))[0]


def safe_cell(value):
    """A text cell made safe for spreadsheets: line breaks as ``\\n`` (a lone CR would end the
    CSV row unquoted), then prefixed with ``'`` when it starts (after optional spaces) with
    ``= + - @``, tab, CR, LF or NUL, unless it is a plain number such as ``-3`` or ``+1.5e3``.
    Anything that is not a string is returned unchanged."""
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + value if _needs_quote(value) else value


def _needs_quote(value: str) -> bool:
    """Whether :func:`safe_cell` prefixes ``value`` (also when it already starts with ``'`` and
    a formula, so that :func:`restore_cell` undoes exactly one prefix)."""
    if value.startswith("'"):
        return _needs_quote(value[1:])
    return value.lstrip(" ").startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(
        value.strip())


def restore_cell(value):
    """The value :func:`safe_cell` was given (up to line breaks), for reading our own CSVs."""
    if isinstance(value, str) and value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value


def spreadsheet_safe(df: pd.DataFrame, cell=safe_cell) -> pd.DataFrame:
    """``df`` with ``cell`` (:func:`safe_cell`) applied to its text columns (numeric columns
    untouched)."""
    import pandas as pd

    text = [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])]
    if not text:
        return df
    out = df.copy()
    for column in text:
        out[column] = out[column].map(cell, na_action="ignore").astype(df[column].dtype)
    return out


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


@contextmanager
def all_or_nothing():
    """Keep the files written in the block (through this module) only if the block succeeds.

    On an exception (SIGTERM included: it is turned into ``SystemExit`` while the block runs)
    every file written in the block is removed again, and a file it replaced is restored.
    Nested blocks belong to the outermost one.
    """
    if _JOURNAL.get() is not None:
        yield
        return
    journal: list[tuple[Path, Path | None]] = []
    token = _JOURNAL.set(journal)
    try:
        previous = signal.signal(signal.SIGTERM, _raise_exit)
    except ValueError:  # not the main thread
        previous = None
    try:
        yield
    except BaseException:
        for path, backup in reversed(journal):
            if backup is not None:
                os.replace(backup, path)
            else:
                path.unlink(missing_ok=True)
        raise
    else:
        for _, backup in journal:
            if backup is not None:
                backup.unlink(missing_ok=True)
    finally:
        _JOURNAL.reset(token)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _journal(path: Path) -> None:
    """Record ``path`` in the active :func:`all_or_nothing` block, keeping a file it replaces."""
    journal = _JOURNAL.get()
    if journal is None or any(p == path for p, _ in journal):
        return
    backup = None
    if path.exists():
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".bak", dir=path.parent)
        os.close(fd)
        backup = Path(name)
        os.replace(path, backup)
    journal.append((path, backup))


def _sweep(path: Path) -> None:
    """Remove temporary and backup files of ``path`` left by a killed process (SIGKILL), except
    the backup the active :func:`all_or_nothing` block still needs."""
    keep = {backup.absolute() for p, backup in (_JOURNAL.get() or []) if p == path and backup}
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*"):
        if stale.absolute() not in keep:  # mkstemp names backups absolutely, glob relatively
            stale.unlink(missing_ok=True)


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file normal permissions
        _journal(path)
        os.replace(tmp, path)
        _sweep(path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_table(df: pd.DataFrame, path) -> Path:
    """Write ``df`` as .parquet (raw values) or .csv/.tsv (text cells neutralised against formula
    injection), by suffix, without index, byte-identical across runs."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.reset_index(drop=True).to_parquet(tmp, index=False, engine="pyarrow")
        elif path.suffix in (".csv", ".tsv"):
            spreadsheet_safe(df).to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g",
                                        sep="\t" if path.suffix == ".tsv" else ",")
        else:
            raise ValueError(f"unsupported table format: {path}")
    return path


def read_table(path) -> pd.DataFrame:
    """Read a table written by :func:`write_table` (CSV/TSV text cells as they were given)."""
    import pandas as pd

    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    table = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")
    return spreadsheet_safe(table, restore_cell)


def records(df: pd.DataFrame, fields=None):
    """Rows of ``df`` (its columns ``fields``, default all) as namedtuples: the values
    ``itertuples`` gives (numpy scalars as Python scalars), without the index and many times
    faster on Arrow-backed columns (each column becomes a list at once)."""
    from collections import namedtuple
    from itertools import repeat

    fields = list(df.columns if fields is None else fields)
    row = namedtuple("Row", fields, rename=True)
    if not fields:
        return repeat(row(), len(df))
    return map(row._make, zip(*(df[f].tolist() for f in fields), strict=True))


def write_text(text: str, path) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(data: bytes, path) -> Path:
    """Write bytes atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
