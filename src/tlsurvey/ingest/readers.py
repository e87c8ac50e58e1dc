"""Read survey exports into one structure, :class:`RawExport`, whatever the platform.

Formats (detected from the content, or given explicitly):

- ``qualtrics-csv``: modern 3 header rows (short name, question text, ImportId JSON) or legacy
  2 header rows (``V1``.. names, then names/question text);
- ``qualtrics-tsv``: the same, tab-separated UTF-16 LE with BOM;
- ``qualtrics-xlsx``: the same layout in the first sheet of a workbook;
- ``limesurvey``: LimeSurvey "R export", a data CSV whose header is the question text plus the
  ``*_R_syntax_file.R`` beside it giving short names, value labels and field types;
- ``limesurvey-csv``: a plain LimeSurvey CSV export (one header row: codes or question text);
- ``google-forms``: a Google Forms CSV (``Timestamp`` first, full question text as header);
- ``spss``: an SPSS ``.sav`` file (variable labels are question texts, value labels kept).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tlsurvey.errors import InputError
from tlsurvey.layout import syntax_file

FORMATS = (
    "qualtrics-csv",
    "qualtrics-tsv",
    "qualtrics-xlsx",
    "limesurvey",
    "limesurvey-csv",
    "google-forms",
    "spss",
)
ROW_COLUMN = "_row"  # synthetic column: 1-based data row, usable as response id
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
log = logging.getLogger("tlsurvey.ingest.readers")


@dataclass
class RawExport:
    """One survey export, every value a string (``""`` = empty).

    Attributes
    ----------
    path, format
        Source file and detected (or given) format.
    data
        One row per response, one column per export column, named by short name.
        A synthetic ``_row`` column holds the 1-based data row.
    file_rows
        For each response, the 1-based line (CSV/TSV) or sheet row (xlsx) or case number (sav)
        where it starts in the file, for error messages.
    questions
        Short name -> question text (header text).
    import_ids
        Qualtrics ImportId -> short name (empty for other platforms).
    labels
        Short name -> {code: label} for formats carrying value labels.
    types
        Short name -> platform field type, when the format says.
    repeated
        Short names the header repeats (columns told apart by ImportId only).
    """

    path: Path
    format: str
    data: pd.DataFrame
    file_rows: list[int]
    questions: dict[str, str] = field(default_factory=dict)
    import_ids: dict[str, str] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    repeated: set[str] = field(default_factory=set)

    @property
    def columns(self) -> list[str]:
        """Export columns (without the synthetic ``_row``)."""
        return [c for c in self.data.columns if c != ROW_COLUMN]

    def resolve(self, name: str) -> str | None:
        """Column addressed by ``name``: ImportId first, then short name, then question text."""
        if name in self.import_ids:
            return self.import_ids[name]
        if name in self.repeated:
            raise InputError(self.path, "several columns have this short name: address the "
                             "column by its ImportId", column=name)
        if name in self.data.columns:
            return name
        wanted = _norm(name)
        hits = [c for c, q in self.questions.items() if _norm(q) == wanted]
        if len(hits) > 1:
            raise InputError(
                self.path, f"question text matches several columns {hits}", column=name
            )
        return hits[0] if hits else None

    def labelled(self, column: str) -> pd.Series:
        """Values of ``column`` with value labels applied where the format has them."""
        values = self.data[column]
        mapping = self.labels.get(column)
        return values.map(lambda v: mapping.get(v, v)) if mapping else values


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


# ---------------------------------------------------------------------------- low-level parsing


def _decode(raw: bytes, path=None) -> tuple[str, str]:
    """Text and encoding name of a file's bytes (BOMs honoured and stripped).

    Raises
    ------
    InputError
        Bytes that are neither UTF-8/UTF-16 nor cp1252 (naming the line of the first bad byte).
    """
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16"), "utf-16"
        if raw.startswith(b"\xef\xbb\xbf"):
            return raw[3:].decode("utf-8"), "utf-8-sig"
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not valid {exc.encoding.upper()} after its byte-order mark: "
                         f"{exc.reason} at byte {exc.start}", row=line) from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, f"neither UTF-8 nor Windows-1252: byte 0x{raw[exc.start]:02x} at "
                         f"offset {exc.start} is undefined; re-export the file as UTF-8",
                         row=line) from None


def _parse_delimited(text: str, delimiter: str, path=None,
                     strict: bool = True) -> tuple[list[list[str]], list[int]]:
    """Records of a delimited text and the 1-based line each starts on; blank records dropped.

    Raises
    ------
    InputError
        Malformed quoting, such as a quoted field still open at the end of a truncated file.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    rows, lines, start = [], [], 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                rows.append(record)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        hint = " (a quoted field is never closed: truncated file?)" if "end of data" in str(
            exc) else ""
        raise InputError(path, f"malformed delimited text: {exc}{hint}", row=start) from None
    return rows, lines


def _cell(value) -> str:
    """A spreadsheet or SPSS value as the string a CSV export would carry."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        fmt = "%Y-%m-%d %H:%M:%S" if hasattr(value, "hour") else "%Y-%m-%d"
        return value.strftime(fmt)
    return str(value)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _check_widths(path, width, body, body_lines, header_line) -> list[list[str]]:
    """Rows cut to the header's ``width``; a shorter row (truncated file) or a longer one with
    data beyond the header (ragged row) is an InputError."""
    out = []
    for row, line in zip(body, body_lines, strict=True):
        if len(row) < width:
            raise InputError(path, f"row has {len(row)} fields but the header (line "
                             f"{header_line}) has {width}: truncated file or a missing "
                             "delimiter", row=line)
        extra = [i for i in range(width, len(row)) if row[i].strip()]
        if extra:
            raise InputError(path, f"row has {len(row)} fields but the header (line "
                             f"{header_line}) has {width}: data beyond the last column",
                             row=line, column=str(extra[0] + 1))
        out.append(row[:width])
    return out


def _duplicates(path, names, body, import_ids) -> list[int]:
    """Indices of columns to drop: a repeated header name whose values equal the first column of
    that name (logged). Repeated names told apart by distinct ImportIds are kept.

    Raises
    ------
    InputError
        A repeated header name with different content (ambiguous column).
    """
    first: dict[str, int] = {}
    drop = []
    for i, name in enumerate(names):
        if name not in first:
            first[name] = i
            continue
        j = first[name]
        ids = import_ids or []
        if len(ids) > i and ids[i] and ids[i] != (ids[j] if len(ids) > j else ""):
            continue
        if any(r[i] != r[j] for r in body):
            raise InputError(path, f"columns {j + 1} and {i + 1} share the header {name!r} but "
                             "differ in content: rename one", column=name)
        log.warning("%s: column %d repeats column %d (%r) with the same content; dropped",
                    path, i + 1, j + 1, name)
        drop.append(i)
    return drop


def _build(path, fmt, names, body, body_lines, questions=None, import_ids=None,
           header_line=1) -> RawExport:
    """Assemble a RawExport; trailing columns with empty header and no data are dropped.

    Raises
    ------
    InputError
        No data rows, a row of another width than the header, or a repeated header name with
        different content.
    """
    if not body:
        raise InputError(path, "export has a header but no responses")
    names = [n.strip() for n in names]
    body = _check_widths(path, len(names), body, body_lines, header_line)
    while names and not names[-1] and all(not r[len(names) - 1].strip() for r in body):
        names.pop()
        body = [r[: len(names)] for r in body]
    names = [n or f"column{i + 1}" for i, n in enumerate(names)]
    drop = set(_duplicates(path, names, body, import_ids))
    if drop:
        keep = [i for i in range(len(names)) if i not in drop]
        names, body = [names[i] for i in keep], [[r[i] for i in keep] for r in body]
        questions = [q for i, q in enumerate(questions or []) if i not in drop]
        import_ids = [x for i, x in enumerate(import_ids or []) if i not in drop]
    repeated = {n for n in names if names.count(n) > 1}
    names = _unique(names)
    data = pd.DataFrame(body, columns=names, dtype=object).fillna("")
    data[ROW_COLUMN] = [str(i + 1) for i in range(len(body))]
    questions = dict(zip(names, questions or [], strict=False))
    ids = {i: n for i, n in zip(import_ids or [], names, strict=False) if i}
    return RawExport(Path(path), fmt, data, list(body_lines), questions, ids, repeated=repeated)


# ------------------------------------------------------------------------------- Qualtrics


def _import_id(cell: str) -> str | None:
    cell = cell.strip()
    if not cell.startswith("{"):
        return None
    try:
        return json.loads(cell).get("ImportId")
    except (json.JSONDecodeError, AttributeError):
        return None


def _qualtrics(path, fmt, rows, lines) -> RawExport:
    """Qualtrics layout: 3 header rows with ImportIds, or 2 (legacy, or without ImportIds)."""
    if len(rows) < 2:
        raise InputError(path, "Qualtrics export needs at least 2 header rows")
    if len(rows) >= 3 and _import_id(rows[2][0]) is not None:
        ids = [_import_id(c) or "" for c in rows[2]]
        return _build(path, fmt, rows[0], rows[3:], lines[3:], rows[1], ids, lines[0])
    return _build(path, fmt, rows[0], rows[2:], lines[2:], rows[1], header_line=lines[0])


def _read_xlsx_rows(path) -> tuple[list[list[str]], list[int]]:
    """Non-blank rows of the first sheet (padded to one width) and their sheet row numbers."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(path, f"not a readable .xlsx workbook (truncated or damaged?): {exc}"
                         ) from None
    rows, lines = [], []
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in values]
            if any(c.strip() for c in cells):
                rows.append(cells)
                lines.append(number)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise InputError(path, f"not a readable .xlsx workbook (truncated or damaged?): {exc}",
                         row=(lines[-1] + 1) if lines else None) from None
    finally:
        book.close()
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows], lines


# ------------------------------------------------------------------------------ LimeSurvey

_R_TYPE = re.compile(r"^# LimeSurvey Field type: (\S+)")
_R_NAME = re.compile(r'^names\(data\)\[(\d+)\] <- "(.*)"\s*$')
_R_FACTOR = re.compile(
    r"^data\[, (\d+)\] <- factor\(data\[, \d+\], levels=c\((.*?)\),\s*labels=c\((.*)\)\)"
)
_R_ITEM = re.compile(r'"((?:[^"\\]|\\.)*)"|([^,\s]+)')


def _r_vector(text: str) -> list[str]:
    return [q.replace('\\"', '"') if q or not b else b for q, b in _R_ITEM.findall(text)]


def _parse_r_syntax(path) -> tuple[dict[int, str], dict[int, dict[str, str]], dict[int, str]]:
    """Short names, value labels and field types by 1-based column from an R syntax file."""
    names, labels, types, current = {}, {}, {}, None
    for line in _decode(Path(path).read_bytes(), path)[0].splitlines():
        if m := _R_TYPE.match(line):
            current = m.group(1)
        elif m := _R_FACTOR.match(line):
            levels, texts = _r_vector(m.group(2)), _r_vector(m.group(3))
            labels[int(m.group(1))] = dict(zip(levels, texts, strict=False))
        elif m := _R_NAME.match(line):
            names[int(m.group(1))] = m.group(2)
            if current:
                types[int(m.group(1))] = current
    return names, labels, types


def _limesurvey_r(path, rows, lines) -> RawExport:
    syntax = syntax_file(path)
    if syntax is None:
        raise InputError(
            path, "LimeSurvey R export needs its _R_syntax_file.R beside the data file"
        )
    header = rows[0]
    names, labels, types = _parse_r_syntax(syntax)
    short = [names.get(i + 1, text) for i, text in enumerate(header)]
    export = _build(path, "limesurvey", short, rows[1:], lines[1:], header, header_line=lines[0])
    cols = export.columns
    export.labels = {cols[i - 1]: lab for i, lab in labels.items() if i <= len(cols)}
    export.types = {cols[i - 1]: t for i, t in types.items() if i <= len(cols)}
    return export


# ------------------------------------------------------------------------------------ SPSS


def _read_spss(path) -> RawExport:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path))
    except Exception as exc:  # pyreadstat raises its own error types
        raise InputError(path, f"cannot read SPSS file: {exc}") from None
    body = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    names = list(frame.columns)
    questions = [meta.column_names_to_labels.get(n) or n for n in names]
    export = _build(path, "spss", names, body, range(1, len(body) + 1), questions)
    export.labels = {
        col: {_cell(k): str(v) for k, v in lab.items()}
        for col, lab in meta.variable_value_labels.items()
    }
    export.types = dict(meta.original_variable_types)
    return export


# ------------------------------------------------------------------------------- detection


def _looks_qualtrics(rows) -> bool:
    first = [c.strip() for c in rows[0]] if rows else []
    if len(rows) >= 3 and rows[2] and _import_id(rows[2][0]) is not None:
        return True
    return bool(first) and (
        first[0] == "V1" or {"ResponseId", "ResponseID", "StartDate"} & set(first)
    )


def _looks_limesurvey(rows) -> bool:
    first = {c.strip() for c in rows[0]} if rows else set()
    return (
        bool({"submitdate", "Date submitted"} & first)
        or bool({"id", "Response ID"} & first)
        and bool({"lastpage", "Last page", "startlanguage", "Start language"} & first)
    )


def _delimiter(path, text: str, fmt: str | None = None) -> str:
    """Tab for a Qualtrics TSV, a ``.tsv`` file or a first line with more tabs than commas."""
    if fmt in ("qualtrics-tsv", "qualtrics-csv"):
        return "\t" if fmt == "qualtrics-tsv" else ","
    first_line = text.split("\n", 1)[0]
    tabbed = Path(path).suffix.lower() == ".tsv" or first_line.count("\t") > first_line.count(",")
    return "\t" if tabbed else ","


def _check_content(path, fmt: str) -> None:
    """Refuse a file whose bytes are not of the kind ``fmt`` expects (a workbook named .csv, a
    CSV named .xlsx, an empty file)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head:
        raise InputError(path, "export is empty (0 bytes)")
    workbook = head.startswith((_ZIP_MAGIC, _OLE_MAGIC))
    if fmt == "qualtrics-xlsx" and not head.startswith(_ZIP_MAGIC):
        kind = "a legacy .xls workbook" if workbook else "text (a CSV or TSV file?)"
        raise InputError(path, f"not an .xlsx workbook: the file is {kind}; save it as .xlsx, or "
                         "give it its real suffix")
    if fmt not in ("qualtrics-xlsx", "spss") and workbook:
        raise InputError(path, f"format {fmt} expects text, but the file is a spreadsheet "
                         "workbook: give it the .xlsx suffix or use --format qualtrics-xlsx")


def detect_format(path) -> str:
    """Guess an export's format from its suffix and content."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".sav", ".zsav"):
        return "spss"
    if suffix in (".xlsx", ".xlsm"):
        return "qualtrics-xlsx"
    if syntax_file(path) is not None:
        return "limesurvey"
    _check_content(path, "qualtrics-csv")
    text, encoding = _decode(path.read_bytes(), path)
    tabbed = encoding == "utf-16" or _delimiter(path, text) == "\t"
    rows, _ = _parse_delimited(text[:200_000], "\t" if tabbed else ",", path, strict=False)
    if rows and rows[0] and rows[0][0].strip() == "Timestamp":
        return "google-forms"
    if _looks_qualtrics(rows):
        return "qualtrics-tsv" if tabbed else "qualtrics-csv"
    if _looks_limesurvey(rows):
        return "limesurvey-csv"
    raise InputError(path, f"cannot detect the export format; give one of {', '.join(FORMATS)}")


def read_export(path, fmt: str | None = None) -> RawExport:
    """Read a survey export; ``fmt`` overrides format detection.

    Raises
    ------
    InputError
        File missing, unknown format, or a file that does not fit the format.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "export file not found")
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise InputError(path, f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "spss":
        return _read_spss(path)
    _check_content(path, fmt)
    if fmt == "qualtrics-xlsx":
        rows, lines = _read_xlsx_rows(path)
    else:
        text, _ = _decode(path.read_bytes(), path)
        rows, lines = _parse_delimited(text, _delimiter(path, text, fmt), path)
    if not rows:
        raise InputError(path, "export is empty")
    if fmt.startswith("qualtrics"):
        return _qualtrics(path, fmt, rows, lines)
    if fmt == "limesurvey":
        return _limesurvey_r(path, rows, lines)
    return _build(path, fmt, rows[0], rows[1:], lines[1:], rows[0], header_line=lines[0])
