"""Map a :class:`~tlsurvey.ingest.readers.RawExport` through an instrument map to tidy tables.

Tables here are keyed by ``row`` (1-based data row); :mod:`tlsurvey.ingest` swaps that for the
salted participant id after exclusions. A value may arrive as its label or its numeric code (or,
for LimeSurvey/SPSS, as a code carrying a value label); all map to the scale code.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tlsurvey.errors import InputError
from tlsurvey.ingest.deidentify import identifier_value
from tlsurvey.ingest.readers import RawExport, _norm
from tlsurvey.study import Study

MULTIPLE_SEPARATOR = "; "  # between the chosen options of a multi-select answer
_FALSE = {"0", "false", "f", "no", "n", ""}
_TRUE = {"1", "true", "t", "yes", "y"}
RANGES = {"progress": (0.0, 100.0), "duration": (0.0, np.inf)}  # metadata value ranges
log = logging.getLogger("tlsurvey.ingest.mapping")
# Export columns that identify a person: by header (short name or question text, camelCase split)
# or by content. Such a column must be declared under ``identifiers`` or mapped.
_IDENTIFIER_HEADER = re.compile(
    r"\b(?:ip ?addr(?:ess)?|ip|e-?mail(?: address)?|latitude|longitude|lat|lon|lng|"
    r"geo ?location|(?:first|last|full|given|family|sur|your|recipient) ?name|surname|"
    r"phone(?: number)?|street address|postcode|zip code)\b")


class Problems:
    """Collects InputErrors (for ``check-instrument``) or raises the first one."""

    def __init__(self, collect: bool = False):
        self.collect, self.errors = collect, []

    def add(self, error: InputError) -> None:
        if not self.collect:
            raise error
        self.errors.append(error)


@dataclass
class Mapped:
    """Tidy tables of one export, keyed by ``row`` (1-based data row), all responses."""

    meta: pd.DataFrame
    responses: pd.DataFrame
    ratings: pd.DataFrame
    choices: pd.DataFrame
    factors: pd.DataFrame
    texts: pd.DataFrame
    attention: pd.Series  # pass | fail | missing
    columns: dict[str, str] = field(default_factory=dict)  # instrument column -> export column


def _number(text: str) -> float | None:
    try:
        value = (
            float(text.replace(",", "."))
            if text.count(",") == 1 and "." not in text
            else float(text)
        )
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def parse_bool(text: str) -> bool:
    """Finished flag: 1/true/yes -> True, 0/false/no/empty -> False, any other text (such as a
    LimeSurvey submit date) -> True."""
    value = str(text).strip().casefold()
    return value not in _FALSE


def finished_flag(text: str) -> bool:
    """A ``finished`` value: 1/true/yes -> True, 0/false/no/empty -> False, a date or time (a
    submit date) -> True.

    Raises
    ------
    ValueError
        Any other text (such as "maybe").
    """
    value = str(text).strip().casefold()
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    if _iso(value) != value or re.fullmatch(r"\d{4}-\d\d-\d\dt\d\d:\d\d:\d\d", value):
        return True
    raise ValueError(f"finished flag {text!r} is not a boolean (1/0, true/false, yes/no)")


def _header_words(text: str) -> str:
    """A header as lower-case words: camelCase, snake_case and punctuation split."""
    return " ".join(re.sub(r"([a-z])([A-Z])", r"\1 \2", str(text)).replace("_", " ")
                    .replace("-", " ").casefold().split())


def identifier_kind(raw: RawExport, column: str) -> str | None:
    """Why ``column`` of ``raw`` looks like a personal identifier (None when it does not)."""
    for header in (column, raw.questions.get(column, "")):
        words = _header_words(header)
        if _IDENTIFIER_HEADER.search(words) or _IDENTIFIER_HEADER.search(words.replace(" ", "")):
            return f"header {header!r}"
    for value in raw.data[column]:
        kind = identifier_value(value)
        if kind is not None:
            return f"a value that is {kind}"
    return None


def check_identifiers(raw: RawExport, instrument: dict, columns: dict[str, str],
                      problems: Problems) -> set[str]:
    """Export columns that are identifiers: the declared ones (by ImportId, short name or
    question text) and undeclared ones that look like one.

    Raises (or collects)
    --------------------
    InputError
        An answer item resolving to a declared identifier, or an export column that looks like
        an identifier (IP, e-mail, coordinate or name) but is neither mapped nor declared.
    """
    declared = {}
    for name in instrument.get("identifiers", []):
        column = raw.resolve(name)
        if column is not None:
            declared[column] = name
    metadata = set(instrument.get("metadata", {}).values())
    for name, column in columns.items():
        if column in declared and name not in metadata:
            problems.add(InputError(raw.path, f"mapped column is the identifier "
                                    f"{declared[column]!r} ({column}) and would be kept",
                                    column=name))
    used = set(columns.values())
    for column in raw.columns:
        if column in used or column in declared:
            continue
        kind = identifier_kind(raw, column)
        if kind is not None:
            problems.add(InputError(raw.path, f"column looks like a personal identifier "
                                    f"({kind}) but is neither mapped nor listed under "
                                    "identifiers: declare it", column=column))
    return set(declared)


def parse_multiple(value: str, options: list[str], value_labels: dict | None = None):
    """The options chosen in a multi-select answer, joined by ``"; "`` in the order of
    ``options`` (None when empty).

    Platforms join the chosen options with commas (Google Forms ``"CT, MRI"``; Qualtrics
    ``"CT,MRI"`` or, with numeric values, ``"1,3"``). Options are matched longest first, so an
    option may itself contain a comma; a 1-based number stands for that option.

    Raises
    ------
    ValueError
        A part that is no option (for example an "Other" answer not listed in ``options``).
    """
    chosen, rest = set(), value.strip()
    longest_first = sorted(options, key=len, reverse=True)
    while rest:
        option = next((o for o in longest_first if _norm(rest[:len(o)]) == _norm(o)
                       and rest[len(o):len(o) + 1] in ("", ",", ";")), None)
        size = len(option) if option else len(rest.split(",")[0])
        if option is None:
            token = rest[:size].strip()
            token = (value_labels or {}).get(token, token)
            if token.isdigit() and 1 <= int(token) <= len(options):
                option = options[int(token) - 1]
            elif token in options:
                option = token
            else:
                raise ValueError(f"unknown option {token!r}; options are {', '.join(options)}")
        chosen.add(option)
        rest = rest[size:].lstrip(",; ")
    return MULTIPLE_SEPARATOR.join(o for o in options if o in chosen) or None


def multiple_choice_options(instrument: dict) -> dict[str, list[str]]:
    """Multi-select demographic variables (``multiple: true``) of an instrument map, with
    their options in display order."""
    return {item["variable"]: list(item["options"])
            for item in instrument.get("demographics", []) if item.get("multiple")}


def instrument_columns(instrument: dict) -> list[tuple[str, str]]:
    """(section, column) for every export column the instrument uses, identifiers excluded."""
    pairs = [("metadata", c) for c in instrument.get("metadata", {}).values()]
    for section in ("demographics", "ratings", "choices", "texts", "factors", "attention_checks"):
        pairs += [(section, item["column"]) for item in instrument.get(section, [])]
    return pairs


def scales_known(instrument: dict) -> bool:
    """True when every item's scale is defined (mapping needs them)."""
    scales = instrument.get("scales", {})
    return all(item["scale"] in scales for section in ("demographics", "ratings", "factors")
               for item in instrument.get(section, []) if "scale" in item)


def check_instrument(instrument: dict, path, problems: Problems | None = None) -> None:
    """Consistency checks the JSON schema cannot express (scale names, unique rating cells,
    the study description); ``problems`` collects them all, else the first is raised."""
    problems = problems or Problems()
    scales = instrument.get("scales", {})
    for section in ("demographics", "ratings", "factors"):
        for item in instrument.get(section, []):
            if "scale" in item and item["scale"] not in scales:
                problems.add(InputError(
                    path, f"{section}: unknown scale {item['scale']!r}", column=item["column"]))
    for item in instrument.get("demographics", []):
        if bool(item.get("multiple")) != ("options" in item) or (item.get("multiple")
                                                                   and "scale" in item):
            problems.add(InputError(path, "demographics: a multi-select item needs `multiple: "
                                    "true` and `options`, and no scale", column=item["column"]))
    identifiers = set(instrument.get("identifiers", []))
    for section, column in instrument_columns(instrument):
        if section != "metadata" and column in identifiers:
            problems.add(InputError(path, f"{section}: identifier column would be kept",
                                    column=column))
    seen = set()
    for item in instrument["ratings"]:
        cell = (item["case_study"], item["source"], item["dimension"])
        if cell in seen:
            problems.add(InputError(path, f"ratings: {cell} mapped twice", column=item["column"]))
        seen.add(cell)
    if scales_known(instrument):
        sink = [] if problems.collect else None
        Study.from_instrument(instrument, path, sink)
        for error in sink or []:
            problems.add(error)


def resolve_columns(raw: RawExport, instrument: dict, problems: Problems) -> dict[str, str]:
    """Instrument column -> export column; a missing column is an InputError."""
    found = {}
    for section, name in instrument_columns(instrument):
        column = raw.resolve(name)
        if column is None:
            problems.add(
                InputError(raw.path, f"{section} column not found in the export", column=name)
            )
        else:
            found[name] = column
    return found


def _lookup(value: str, value_labels: dict | None, table: dict):
    """``table`` entry for the value itself or for its value label (normalised), else None."""
    for candidate in (value, (value_labels or {}).get(value)):
        if candidate is not None and _norm(candidate) in table:
            return table[_norm(candidate)]
    return None


class _Scale:
    """Label/code look-up for one scale."""

    def __init__(self, name: str, labels: dict[str, int]):
        self.name = name
        self.codes = {_norm(k): int(v) for k, v in labels.items()}
        self.labels = {}
        for label, code in labels.items():
            self.labels.setdefault(int(code), label)
        self.range = f"{min(self.labels)}-{max(self.labels)}"

    def code(self, value: str, value_labels: dict | None) -> int | None:
        value = value.strip()
        if not value:
            return None
        found = _lookup(value, value_labels, self.codes)
        if found is not None:
            return found
        number = _number(value)
        if number is None:
            raise ValueError(f"unknown label {value!r} for scale {self.name}")
        if not number.is_integer() or int(number) not in self.labels:
            raise ValueError(f"value {value} outside scale {self.name} ({self.range})")
        return int(number)

    def label_array(self, codes: list[int | None]) -> pd.api.extensions.ExtensionArray:
        """Canonical labels of ``codes`` (NA for None) as a string array."""
        return pd.array([None if c is None else self.labels.get(c) for c in codes], "string")


class _Mapper:
    def __init__(self, raw: RawExport, instrument: dict, problems: Problems):
        self.raw, self.problems = raw, problems
        self.columns = resolve_columns(raw, instrument, problems)
        self.scales = {n: _Scale(n, s) for n, s in instrument.get("scales", {}).items()}

    def values(self, name: str) -> list[str] | None:
        column = self.columns.get(name)
        return None if column is None else self.raw.data[column].tolist()

    def each(self, name: str, convert):
        """Apply ``convert(value, value_labels)`` down a column; errors name file, row, column."""
        values = self.values(name)
        if values is None:
            return [None] * len(self.raw.data)
        labels = self.raw.labels.get(self.columns[name])
        out = []
        for value, file_row in zip(values, self.raw.file_rows, strict=True):
            try:
                out.append(convert(value, labels))
            except ValueError as exc:
                self.problems.add(InputError(self.raw.path, str(exc), row=file_row, column=name))
                out.append(None)
        return out


def _answers_digest(m: _Mapper, instrument: dict) -> list[str]:
    """Per response: a digest of every answer the instrument maps (metadata aside)."""
    columns = [m.columns[c] for s, c in instrument_columns(instrument)
               if s != "metadata" and c in m.columns]
    cells = m.raw.data[list(dict.fromkeys(columns))].astype(str).agg("\x1f".join, axis=1)
    return [hashlib.sha256(c.encode()).hexdigest()[:16] for c in cells]


def _meta(m: _Mapper, instrument: dict) -> pd.DataFrame:
    metadata = instrument["metadata"]
    n = len(m.raw.data)
    rows = np.arange(1, n + 1)
    meta = pd.DataFrame({"row": rows, "file_row": m.raw.file_rows})

    def text(value, _labels):
        return value.strip()

    def number(value, _labels):
        value = value.strip()
        if not value:
            return np.nan
        parsed = _number(value)
        if parsed is None:
            raise ValueError(f"not a number: {value!r}")
        return parsed

    for key in ("response_id", "status", "external_reference", "email"):
        values = m.each(metadata[key], text) if key in metadata else []
        meta[key] = [v or "" for v in values] if values else ""
    meta["start"] = m.each(metadata["start"], _start) if "start" in metadata else ""
    for key, col in (("duration", "duration_s"), ("progress", "progress")):
        meta[col] = pd.array(
            m.each(metadata[key], _in_range(number, key)) if key in metadata else [np.nan] * n,
            "float64",
        )
    meta["finished"] = True  # no finished flag: a LimeSurvey-style end (submit) date, or all
    if "finished" in metadata and m.values(metadata["finished"]) is not None:
        meta["finished"] = [bool(v) for v in m.each(metadata["finished"],
                                                    lambda v, _labels: finished_flag(v))]
    elif "end" in metadata and m.values(metadata["end"]) is not None:
        meta["finished"] = [bool(v.strip()) for v in m.values(metadata["end"])]
    meta["duplicate_key"] = meta["response_id"]
    if metadata.get("start") == metadata["response_id"]:
        # No real id (Google Forms: Timestamp): a stable id of timestamp plus row; two rows are
        # the same submission only when the timestamp and every answer agree.
        digest = _answers_digest(m, instrument)
        meta["duplicate_key"] = [f"{rid}#{d}" if rid else "" for rid, d
                                 in zip(meta["response_id"], digest, strict=True)]
        meta["response_id"] = [f"{rid}#{r}" if rid else "" for rid, r
                               in zip(meta["response_id"], rows, strict=True)]
    if metadata["response_id"] in m.columns:
        for file_row, rid in zip(m.raw.file_rows, meta["response_id"], strict=True):
            if not rid:
                m.problems.add(
                    InputError(
                        m.raw.path,
                        "empty response id",
                        row=file_row,
                        column=metadata["response_id"],
                    )
                )
    return meta


def _in_range(convert, key: str):
    """``convert`` followed by a check against ``RANGES[key]``."""
    low, high = RANGES[key]

    def checked(value, labels):
        number = convert(value, labels)
        if not np.isnan(number) and not low <= number <= high:
            raise ValueError(f"{key} {value.strip()} outside {low:g}-{high:g}")
        return number

    return checked


def _start(value, _labels) -> str:
    """A start time as ``YYYY-MM-DDTHH:MM:SS`` (``""`` when empty).

    Raises
    ------
    ValueError
        Text that is no date or time (it would be written as it stands).
    """
    value = value.strip()
    iso = _iso(value)
    if value and iso == value and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value):
        raise ValueError(f"start {value!r} is not a date and time")
    return iso


def _iso(value) -> str:
    """A start time as ``YYYY-MM-DDTHH:MM:SS`` when it parses, else unchanged."""
    if not value:
        return ""
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S")
    except (ValueError, TypeError):
        return value


def check_value_labels(m: _Mapper, name: str, scale: _Scale) -> None:
    """The export's value labels of a scaled column (SPSS, LimeSurvey) must be labels of the
    instrument's scale, each on the code that label has in the scale (else an InputError), and a
    code with no value label is an InputError when the labels cover the whole scale (a partly
    labelled scale, such as end points only, is accepted with a warning)."""
    column = m.columns.get(name)
    labels = m.raw.labels.get(column) if column else None
    if not labels:
        return
    for code, label in labels.items():
        known = scale.codes.get(_norm(label))
        number = _number(code)
        if known is None:
            m.problems.add(InputError(m.raw.path, f"value label {label!r} (code {code}) is not a "
                                      f"label of scale {scale.name}", column=name))
        elif number is not None and number != known:
            m.problems.add(InputError(m.raw.path, f"value label {label!r} is on code {code} but "
                                      f"scale {scale.name} gives it {known}", column=name))
    complete = {_norm(v) for v in labels.values()} >= set(scale.codes)
    unlabelled = 0
    for value, file_row in zip(m.values(name), m.raw.file_rows, strict=True):
        value = value.strip()
        if value and value not in labels and _norm(value) not in scale.codes:
            if complete:
                m.problems.add(InputError(m.raw.path, f"code {value} has no value label "
                                          f"(labelled codes: {', '.join(labels)})",
                                          row=file_row, column=name))
            unlabelled += 1
    if unlabelled and not complete:
        log.warning("%s: column %s: %d values carry no value label (the file labels only part "
                    "of scale %s); read as scale codes", m.raw.path, name, unlabelled, scale.name)


def _scaled(m: _Mapper, name: str, scale: str) -> list[int | None]:
    check_value_labels(m, name, m.scales[scale])
    return m.each(name, m.scales[scale].code)


def _demographics(m: _Mapper, items: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame({"row": np.arange(1, len(m.raw.data) + 1)})
    for item in items:
        var = item["variable"]
        if "scale" in item:
            codes = _scaled(m, item["column"], item["scale"])
            out[var] = m.scales[item["scale"]].label_array(codes)
            out[f"{var}_code"] = pd.array(codes, "Int64")
        elif item.get("multiple"):
            options = item["options"]
            values = m.each(item["column"], lambda v, lab, o=options: parse_multiple(v, o, lab))
            out[var] = pd.array(values, "string")
        else:
            values = m.each(item["column"], lambda v, lab: (lab or {}).get(v.strip(), v.strip()))
            out[var] = pd.array([v or None for v in values], "string")
    return out


def _long(m: _Mapper, items: list[dict], keys: tuple[str, ...], convert, values: tuple[str, ...]):
    """One row per response x instrument item, in instrument order within each response;
    ``convert(item)`` returns the ``values`` columns."""
    n = len(m.raw.data)
    parts = []
    for order, item in enumerate(items):
        part = pd.DataFrame({"row": np.arange(1, n + 1), "_order": order})
        for key in keys:
            part[key] = item.get(key)
        for col, values in convert(item).items():
            part[col] = values
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["row", *keys, *values])
    table = pd.concat(parts, ignore_index=True).sort_values(["row", "_order"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def _choice(labels: dict[str, str], other: str | None = None):
    """Value -> choice id by label, id or position; with ``other`` (an ``other_text`` item) any
    other text is that choice instead of an error."""
    names = list(labels)
    lookup = {_norm(k): v for k, v in labels.items()} | {_norm(v): v for v in labels.values()}

    def convert(value, value_labels):
        value = value.strip()
        if not value:
            return None
        found = _lookup(value, value_labels, lookup)
        if found is not None:
            return found
        number = _number(value)
        if number is not None and number.is_integer() and 1 <= number <= len(names):
            return labels[names[int(number) - 1]]
        if other is not None:
            return other
        raise ValueError(f"unknown choice {value!r} (expected one of {names}; a choice item "
                         "whose cells may hold typed text needs other_text)")

    return convert


def _other_texts(m: _Mapper, items: list[dict]) -> list[pd.DataFrame]:
    """Free-text rows (row, field, case_study, text) typed into the choice cells of
    ``other_text`` items: every value that is no listed label, id or position."""
    parts = []
    for item in items:
        if "other_text" not in item:
            continue
        listed = _choice(item["labels"])

        def typed(value, value_labels, listed=listed):
            try:
                listed(value, value_labels)
            except ValueError:
                return value.strip()
            return ""

        text = m.each(item["column"], typed)
        parts.append(pd.DataFrame({"row": np.arange(1, len(text) + 1),
                                   "field": item["other_text"]["field"],
                                   "case_study": item["case_study"], "text": text}))
    return parts


def _attention(m: _Mapper, checks: list[dict]) -> pd.Series:
    """Per response ``"fail"`` (an attention check answered wrongly), else ``"missing"`` (one
    left empty), else ``"pass"``. The expected answer may arrive as label or code."""
    failed = np.zeros(len(m.raw.data), dtype=bool)
    missing = np.zeros(len(m.raw.data), dtype=bool)
    for check in checks:
        expected = _norm(str(check["expected"]))
        codes = {s.codes[expected] for s in m.scales.values() if expected in s.codes}
        if isinstance(check["expected"], int):
            codes.add(check["expected"])

        def verdict(value, value_labels, expected=expected, codes=codes):
            value = value.strip()
            if not value:
                return "missing"
            texts = {_norm(value), _norm((value_labels or {}).get(value, value))}
            number = _number(value)
            as_codes = {s.codes[t] for s in m.scales.values() for t in texts if t in s.codes}
            if expected in texts or (number is not None and number in codes):
                return "pass"
            return "pass" if expected.isdigit() and int(expected) in as_codes else "fail"

        result = np.array(m.each(check["column"], verdict), dtype=object)
        failed |= result == "fail"
        missing |= result == "missing"
    verdicts = np.where(failed, "fail", np.where(missing, "missing", "pass"))
    return pd.Series(verdicts, index=np.arange(1, len(verdicts) + 1), name="attention")


def map_export(raw: RawExport, instrument: dict, problems: Problems | None = None) -> Mapped:
    """Map every response of ``raw`` through ``instrument``.

    Raises
    ------
    InputError
        Missing instrument column, unknown label or out-of-scale value (unless ``problems``
        collects them).
    """
    m = _Mapper(raw, instrument, problems or Problems())
    check_identifiers(raw, instrument, m.columns, m.problems)
    meta = _meta(m, instrument)

    def rating(item):
        codes = _scaled(m, item["column"], item["scale"])
        return {
            "value": pd.array(codes, "Int64"),
            "label": m.scales[item["scale"]].label_array(codes),
        }

    def factor(item):
        return {"value": pd.array(_scaled(m, item["column"], item["scale"]), "Int64")}

    def choice(item):
        convert = _choice(item["labels"], item.get("other_text", {}).get("choice"))
        return {"source": pd.array(m.each(item["column"], convert), "string")}

    def text(item):
        return {"text": m.each(item["column"], lambda v, _lab: v.strip())}

    texts = _long(m, instrument.get("texts", []), ("field", "case_study"), text, ("text",))
    typed = _other_texts(m, instrument.get("choices", []))
    if typed:  # answers typed into "Other:" choice cells, after each response's own texts
        texts = pd.concat([texts, *typed], ignore_index=True).sort_values("row", kind="stable")
    texts = texts[texts["text"].fillna("").astype(str) != ""].reset_index(drop=True)
    keys = {
        "ratings": ("case_study", "source", "dimension"),
        "choices": ("case_study",),
        "factors": ("factor",),
    }
    return Mapped(
        meta=meta,
        responses=_demographics(m, instrument.get("demographics", [])),
        ratings=_long(m, instrument["ratings"], keys["ratings"], rating, ("value", "label")),
        choices=_long(m, instrument.get("choices", []), keys["choices"], choice, ("source",)),
        factors=_long(m, instrument.get("factors", []), keys["factors"], factor, ("value",)),
        texts=texts,
        attention=_attention(m, instrument.get("attention_checks", [])),
        columns=m.columns,
    )
