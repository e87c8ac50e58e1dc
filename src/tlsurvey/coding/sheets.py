"""Human coder sheets: read CSVs and map their rows to ``text_id``.

Columns: wave, response_id, field, case_study, coder, code, value (0/1) [, start, end], or
``text_id`` instead of wave/response_id/field/case_study.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from tlsurvey.errors import InputError
from tlsurvey.ingest.deidentify import text_id

log = logging.getLogger(__name__)
KEY = ["wave", "response_id", "field", "case_study"]
COLUMNS = ["text_id", "coder", "code", "value", "start", "end"]


def _map_ids(sheet: pd.DataFrame, pid: Callable[[str, str], str]) -> pd.Series:
    return pd.Series([text_id(pid(str(w), str(r)), f, c) for w, r, f, c
                      in sheet[KEY].itertuples(index=False)], index=sheet.index, dtype=object)


def read_sheet(path, codes, pid: Callable[[str, str], str] | None = None) -> pd.DataFrame:
    """Read one coder sheet; ``pid(wave, response_id)`` gives the participant id."""
    path = Path(path)
    try:
        sheet = pd.read_csv(path, dtype={"response_id": str, "wave": str, "case_study": str})
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "coder sheet is empty (no header row)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a readable CSV coder sheet: {exc}") from None
    if sheet.empty:
        log.warning("%s: coder sheet has a header but no rows", path)
    needed = ["coder", "code", "value"] + (["text_id"] if "text_id" in sheet else KEY)
    missing = [c for c in needed if c not in sheet]
    if missing:
        raise InputError(path, f"missing column(s): {', '.join(missing)}")
    for i, (code, value) in enumerate(zip(sheet["code"], sheet["value"], strict=True)):
        if code not in codes:
            raise InputError(path, f"unknown code {code!r}", row=i + 2, column="code")
        if value not in (0, 1):
            raise InputError(path, f"value must be 0 or 1, not {value!r}", row=i + 2,
                             column="value")
    if "text_id" not in sheet:
        if pid is None:
            raise InputError(path, "sheet has no text_id column and no participant salt was given")
        sheet["text_id"] = _map_ids(sheet, pid)
    for col in ("start", "end"):
        sheet[col] = pd.to_numeric(sheet[col], errors="coerce") if col in sheet else float("nan")
    sheet["coder"] = sheet["coder"].astype(str)
    return sheet[COLUMNS]


def read_sheets(paths, codes, texts: pd.DataFrame, pid=None) -> pd.DataFrame:
    """All coder sheets, keeping rows whose text is in ``texts`` (the others, for excluded
    responses or empty answers, are counted in the log).

    Raises
    ------
    InputError
        A sheet none of whose rows names a text in ``texts``: its response ids, wave labels or
        fields do not match the exports (or its wave is no longer in the config).
    """
    frames = []
    known_ids = set(texts["text_id"])
    for path in paths:
        sheet = read_sheet(path, codes, pid)
        known = sheet["text_id"].isin(known_ids)
        if len(sheet) and not known.any():
            raise InputError(path, "no row names a text of the analysed responses: check that "
                             "wave, response_id, field and case_study match the exports")
        if (~known).any():
            log.info("%s: %d of %d rows name texts not in the texts table (excluded responses "
                     "or empty answers) and are ignored", path, int((~known).sum()), len(sheet))
        frames.append(sheet[known])
    sheets = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    sheets = sheets.astype({"value": int})
    return sheets.sort_values(["text_id", "code", "coder"], ignore_index=True)
