"""Human coder sheets: read CSVs (or REFI-QDA projects coded in a QDA tool) and map their rows
to ``text_id``.

Columns: wave, response_id, field, case_study, coder, code, value (0/1) [, start, end], or
``text_id`` instead of wave/response_id/field/case_study. A ``.qdpx`` gives one sheet per human
user (see :func:`qdpx_sheet`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from tlsurvey.coding.qdpx import AUTO_USER, read_qdpx, source_name
from tlsurvey.errors import InputError
from tlsurvey.ingest.deidentify import text_id
from tlsurvey.io import records

log = logging.getLogger(__name__)
KEY = ["wave", "response_id", "field", "case_study"]
COLUMNS = ["text_id", "coder", "code", "value", "start", "end"]


def _map_ids(sheet: pd.DataFrame, pid: Callable[[str, str], str]) -> pd.Series:
    pid = functools.cache(pid)  # a response has a row per code and field
    return pd.Series([text_id(pid(str(w), str(r)), f, c) for w, r, f, c in records(sheet, KEY)],
                     index=sheet.index, dtype=object)


def qdpx_sheet(path, codes, known=None) -> pd.DataFrame:
    """Human codes of a ``.qdpx`` a QDA tool exported, as a coder sheet (``COLUMNS``).

    Every user except the automatic origins (``tlsurvey:*``) is a coder; every selection they
    coded a row with value 1 and its span (none for a whole-answer selection). A coder's units
    are the answers they coded plus those in their Set ``reviewed by <coder>``; on them every
    code they did not give is a row with value 0.

    Sources whose description lost its ``text_id`` line are matched by name to the ``known``
    text ids (document names are :func:`~tlsurvey.coding.qdpx.source_name` of the id).

    Raises
    ------
    InputError
        A selection coded with a code not in ``codes`` (named, with its coder and answer).
    """
    project = read_qdpx(path)
    by_name = {source_name(t): t for t in (known if known is not None else ())}
    for table in (project["sources"], project["codings"]):
        table["text_id"] = table["text_id"].map(lambda t: by_name.get(t, t))
    project["reviewed"] = {c: {by_name.get(t, t) for t in ids}
                           for c, ids in project["reviewed"].items()}
    codings = project["codings"][~project["codings"]["user"].str.startswith(AUTO_USER)]
    for row in codings.itertuples():
        if row.code not in codes:
            raise InputError(path, f"unknown code {row.code!r} (coded by {row.user} in "
                                   f"{row.text_id}); add it to the codebook or recode")
    length = dict(zip(project["sources"]["text_id"], project["sources"]["text"].str.len(),
                      strict=True))
    whole = (codings["start"] == 0) & (codings["end"] == codings["text_id"].map(length))
    positive = codings.rename(columns={"user": "coder"}).assign(value=1).astype(
        {"start": float, "end": float})
    positive.loc[whole, ["start", "end"]] = float("nan")  # whole answer: no span, as in a CSV
    units = {c: set(part["text_id"]) for c, part in positive.groupby("coder")}
    for coder, ids in project["reviewed"].items():
        units.setdefault(coder, set()).update(ids)
    given = set(zip(positive["coder"], positive["text_id"], positive["code"], strict=True))
    zeros = [{"text_id": t, "coder": c, "code": code, "value": 0} for c in sorted(units)
             for t in sorted(units[c]) for code in codes if (c, t, code) not in given]
    sheet = pd.concat([positive, pd.DataFrame(zeros, columns=["text_id", "coder", "code",
                                                              "value"])], ignore_index=True)
    return sheet[COLUMNS].sort_values(["text_id", "coder", "code", "start"], ignore_index=True)


def read_sheet(path, codes, pid: Callable[[str, str], str] | None = None,
               known=None) -> pd.DataFrame:
    """Read one coder sheet (CSV or ``.qdpx``); ``pid(wave, response_id)`` gives the
    participant id, ``known`` the text ids a ``.qdpx`` document name may stand for."""
    path = Path(path)
    if path.suffix.lower() == ".qdpx":
        if not path.is_file():
            raise InputError(path, "file not found")
        return qdpx_sheet(path, codes, known)
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
        sheet = read_sheet(path, codes, pid, known=texts["text_id"])
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


def cli(argv=None) -> int:
    """``tlsurvey import-coding PROJECT.qdpx --out SHEET.csv [--codebook FILE]``."""
    import argparse

    from tlsurvey.coding.codebook import load_codebook
    from tlsurvey.io import write_table

    p = argparse.ArgumentParser(prog="tlsurvey import-coding",
                                description="Read human codes back from a .qdpx a QDA tool "
                                            "exported, as a coder sheet (CSV).")
    p.add_argument("project", help=".qdpx exported by QualCoder, NVivo, ATLAS.ti or MAXQDA")
    p.add_argument("--out", required=True, help="coder sheet to write (.csv)")
    p.add_argument("--codebook", default="config/codebook.yaml")
    args = p.parse_args(argv)
    sheet = read_sheet(args.project, load_codebook(args.codebook))
    write_table(sheet, args.out)
    print(f"{args.out}: {sheet['coder'].nunique()} coders, {sheet['text_id'].nunique()} answers, "
          f"{int(sheet['value'].sum())} codes")
    return 0
