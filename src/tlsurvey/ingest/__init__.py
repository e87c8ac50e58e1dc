"""Ingest survey exports: read, map through the instrument, exclude, de-identify, combine waves.

Public API
----------
- :func:`ingest_wave` reads one wave's export into a :class:`WaveResult` (de-identified tables of
  the responses passing the per-response checks, plus a ``screening`` table of every response);
- :func:`combine` resolves duplicates within and across waves and returns the final tables,
  ``flow`` and ``excluded``;
- :func:`run` does both and writes ``results/ingest``-style outputs (:func:`write_outputs`);
- :func:`participant_id` is the salted participant hash.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tlsurvey import RESPONSE_COLUMNS
from tlsurvey.coding.language import detect_languages
from tlsurvey.config import load_config, load_yaml, schema_errors, validate
from tlsurvey.errors import InputError
from tlsurvey.ingest.deidentify import (
    REDACTIONS,
    get_salt,
    key_hash,
    participant_id,
    scrub,
    scrub_columns,
    text_id,
)
from tlsurvey.ingest.exclusions import CONDITIONS, conditions, duplicates, flow, reasons
from tlsurvey.ingest.exclusions import settings as exclusion_settings
from tlsurvey.ingest.mapping import Problems, check_instrument, map_export
from tlsurvey.ingest.readers import FORMATS, RawExport, detect_format, read_export
from tlsurvey.io import read_table, write_table
from tlsurvey.layout import INGEST_FILES, STUDY_FILE, TABLES, WAVE_FILES, named_paths, wave_inputs
from tlsurvey.study import Study

__all__ = [
    "TABLES",
    "WaveResult",
    "ingest_wave",
    "combine",
    "rescreen",
    "reapply",
    "read_waves",
    "run",
    "write_outputs",
    "participant_id",
    "read_export",
    "detect_format",
    "RawExport",
    "cli",
    "wave_inputs",
    "exclusion_settings",
    "load_instrument",
    "STUDY_FILE",
]

log = logging.getLogger("tlsurvey.ingest")

PRIVACY_DEFAULTS = {
    "salt_env": "TLSURVEY_SALT",
    "salt_file": ".tlsurvey_salt",
    "public_example_salt": False,
    "scrub_names": [],
}
_COLUMNS = {
    "responses": list(RESPONSE_COLUMNS),
    "ratings": ["participant", "wave", "case_study", "source", "dimension", "value", "label"],
    "choices": ["participant", "wave", "case_study", "source"],
    "factors": ["participant", "wave", "factor", "value"],
    "texts": ["text_id", "participant", "wave", "field", "case_study", "text", "n_redacted"],
}
_DTYPES = {
    "participant": "string",
    "wave": "string",
    "start": "string",
    "duration_s": "float64",
    "progress": "float64",
    "finished": "bool",
    "case_study": "string",
    "source": "string",
    "dimension": "string",
    "value": "Int64",
    "label": "string",
    "factor": "string",
    "text_id": "string",
    "field": "string",
    "text": "string",
    "n_redacted": "int64",
}


@dataclass
class WaveResult:
    """One wave after reading, mapping, per-response exclusions and de-identification.

    ``tables`` hold every response, with a ``response_row`` column (:func:`combine` keeps the
    analysed ones); ``screening`` has one row per response: wave, response_row, file, file_row,
    response_hash, start, salted duplicate-key hashes, the facts the exclusion rules read
    (:data:`~tlsurvey.ingest.exclusions.CONDITIONS`), reasons under the wave's rules (duplicates
    aside, see :func:`rescreen`), redaction counts. Nothing here contains an identifier.
    """

    wave: str
    tables: dict[str, pd.DataFrame]
    screening: pd.DataFrame
    study: Study

    def write(self, out) -> dict[str, Path]:
        """Write each table, ``screening`` and the wave's ``study`` to ``out``: {name: path}
        (the names of :data:`~tlsurvey.layout.WAVE_FILES`) or a directory for those files.
        Returns {name: path written}."""
        paths = named_paths(out, WAVE_FILES)
        frames = {**self.tables, "screening": self.screening}
        written = {name: write_table(frame, paths[name]) for name, frame in frames.items()}
        return {**written, "study": self.study.save(paths["study"])}

    @classmethod
    def read(cls, files, wave: str | None = None) -> WaveResult:
        """Read a WaveResult written by :meth:`write` (``files`` as its ``out``); ``wave`` is its
        label (default: the screening table's, else the directory's name)."""
        paths = named_paths(files, WAVE_FILES)
        keys = read_table(paths["screening"])
        tables = {name: read_table(paths[name]) for name in TABLES}
        if wave is None:
            wave = str(keys["wave"].iloc[0]) if len(keys) else paths["screening"].parent.name
        return cls(wave, tables, keys, Study.load(paths["study"]))


def read_waves(waves) -> list[WaveResult]:
    """The ingested waves, in order: {wave: {name: path}} (:func:`tlsurvey.layout.by_wave`) or
    a list of :meth:`WaveResult.write` directories."""
    if isinstance(waves, Mapping):
        return [WaveResult.read(files, wave) for wave, files in waves.items()]
    return [WaveResult.read(wave_dir) for wave_dir in waves]


def _settings(privacy, exclusions):
    return {**PRIVACY_DEFAULTS, **(privacy or {})}, exclusion_settings(exclusions)


def load_instrument(path, problems: Problems | None = None) -> dict | None:
    """Load and check an instrument map (schema, cross-references, study description).

    With ``problems`` collecting, every problem is added there (None is returned when the map
    breaks the schema); otherwise the first raises an InputError.
    """
    instrument = load_yaml(path)
    errors = schema_errors(instrument, "instrument", path)
    if errors and problems is None:
        validate(instrument, "instrument", path)  # raises the most relevant schema error
    for error in errors:
        problems.add(error)
    if errors:
        return None
    check_instrument(instrument, path, problems)
    return instrument


def ingest_wave(
    export_path,
    wave: str,
    instrument_path,
    privacy: dict | None = None,
    exclusions: dict | None = None,
    fmt: str | None = None,
) -> WaveResult:
    """Read, map, flag and de-identify one wave's export.

    Parameters
    ----------
    export_path : path of the export; fmt overrides format detection.
    wave : wave label (part of the participant hash).
    instrument_path : instrument map (YAML).
    privacy, exclusions : the ``privacy:`` and ``exclusions:`` config sections (defaults filled).

    Raises
    ------
    InputError
        Missing salt, unreadable export, missing instrument column, unknown label or
        out-of-scale value; one line naming file, row and column.
    """
    privacy, exclusions = _settings(privacy, exclusions)
    instrument = load_instrument(instrument_path)
    study = Study.from_instrument(instrument, instrument_path)
    salt = get_salt(privacy)
    raw = read_export(export_path, fmt)
    log.info(
        "%s: read %d responses x %d columns from %s (%s)",
        wave,
        len(raw.data),
        len(raw.columns),
        export_path,
        raw.format,
    )
    mapped = map_export(raw, instrument)
    del raw  # identifiers never leave this function
    log.info("%s: mapped %d ratings, %d choices, %d texts", wave, len(mapped.ratings),
             len(mapped.choices), len(mapped.texts))
    facts = conditions(mapped)
    why = reasons(facts, exclusions)
    meta = mapped.meta
    pid = [participant_id(wave, rid, salt) for rid in meta["response_id"]]
    by_row = dict(zip(meta["row"], pid, strict=True))

    texts = mapped.texts.copy()
    scrubbed = [scrub(text, privacy["scrub_names"]) for text in texts["text"]]
    found = pd.DataFrame([f for _, f in scrubbed], columns=list(REDACTIONS),
                         index=texts["row"]).astype("int64")
    free = [c for c in mapped.responses.columns if c != "row" and not c.endswith("_code")]
    mapped.responses, in_demographics = scrub_columns(mapped.responses, free,
                                                      privacy["scrub_names"])
    counts = pd.concat([found, in_demographics.set_axis(mapped.responses["row"])])
    counts = counts.groupby(level=0).sum().reindex(meta["row"], fill_value=0)
    texts["text"], texts["n_redacted"] = [t for t, _ in scrubbed], found.sum(axis=1).to_numpy()
    log.info("%s: scrubbed %d texts (%d redactions)", wave, len(texts), int(found.to_numpy().sum()))

    keys = pd.DataFrame(
        {
            "wave": wave,
            "response_row": meta["row"],
            "file": str(export_path),
            "file_row": meta["file_row"],
            "response_hash": pid,
            "start": meta["start"],
            "id_hash": [key_hash(v, salt) for v in meta["duplicate_key"]],
            "extref_hash": [key_hash(v, salt) for v in meta["external_reference"]],
            "email_hash": [key_hash(v, salt) for v in meta["email"]],
            **{column: facts[column].to_numpy() for column in CONDITIONS},
            "reasons": why,
        }
    )
    for kind in REDACTIONS:
        keys[f"n_{kind}"] = counts[kind].to_numpy()
    kept = sum(r == "" for r in why)
    log.info("%s: %d responses pass the per-response checks, %d excluded", wave, kept,
             len(meta) - kept)

    responses = meta.merge(mapped.responses, on="row")
    frames = {
        "responses": responses,
        "ratings": mapped.ratings,
        "choices": mapped.choices,
        "factors": mapped.factors,
        "texts": texts,
    }
    tables = {}
    for name, frame in frames.items():
        frame = frame.copy()
        frame.insert(0, "participant", frame["row"].map(by_row))
        frame.insert(1, "wave", wave)
        if name == "texts":
            frame.insert(0, "text_id", [text_id(*key) for key in zip(
                frame["participant"], frame["field"], frame["case_study"], strict=True)])
        extra = [c for c in frame.columns if c not in _COLUMNS[name] and c not in meta.columns]
        tables[name] = frame.rename(columns={"row": "response_row"})[
            [*_COLUMNS[name], *extra, "response_row"]
        ].reset_index(drop=True)
    # detected once per wave: combining waves (or another exclusion variant) reuses it
    log.info("%s: detecting the language of %d texts", wave, len(tables["texts"]))
    tables["texts"]["language"] = detect_languages(tables["texts"]["text"])
    return WaveResult(wave, tables, keys, study)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        dtype = _DTYPES.get(column)
        if dtype is None:
            dtype = "Int64" if column.endswith("_code") else "string"
        frame[column] = frame[column].astype(dtype)
    return frame


def combine(
    results: list[WaveResult], policy: str = "keep_first", cross_wave_identity: bool = False
) -> dict[str, pd.DataFrame]:
    """Resolve duplicates within and across waves (in the order given) and assemble the tables.

    See :func:`tlsurvey.ingest.exclusions.duplicates` for ``policy`` and ``cross_wave_identity``.

    Returns
    -------
    dict with the five tidy tables (analysed responses only, sorted by wave order, participant
    and instrument order), ``flow``, ``excluded`` and ``study`` (the waves' studies merged).
    """
    waves = [r.wave for r in results]
    if len(set(waves)) != len(waves):
        raise InputError("waves", f"wave labels must be unique: {waves}")
    keys = pd.concat(
        [r.screening.assign(wave_index=i) for i, r in enumerate(results)], ignore_index=True
    )
    keys["reasons"] = keys["reasons"].fillna("").astype(str)
    keys["eligible"] = keys["reasons"] == ""
    duplicate = duplicates(keys, policy, cross_wave_identity)
    keys.loc[duplicate, "reasons"] = [
        ";".join(filter(None, [r, "duplicate"])) for r in keys.loc[duplicate, "reasons"]
    ]
    analysed = set(
        zip(
            keys.loc[keys["reasons"] == "", "wave"],
            keys.loc[keys["reasons"] == "", "response_row"],
            strict=True,
        )
    )
    out = {}
    for name in TABLES:
        frame = pd.concat(
            [r.tables[name].assign(_w=i) for i, r in enumerate(results)], ignore_index=True
        )
        pairs = zip(frame["wave"], frame["response_row"], strict=True)
        keep = pd.Series([pair in analysed for pair in pairs], index=frame.index, dtype=bool)
        frame = frame.loc[keep].sort_values(["_w", "participant"], kind="stable")
        out[name] = _typed(frame.drop(columns=["_w", "response_row"]).reset_index(drop=True))
    excluded = keys[keys["reasons"] != ""].sort_values(["wave_index", "response_row"])
    out["excluded"] = excluded[["wave", "response_row", "response_hash", "reasons"]].reset_index(
        drop=True
    )
    out["flow"] = flow(keys, waves)
    out["study"] = Study.merge([r.study for r in results])
    total = out["flow"].query("wave == 'total'").set_index("step")["n"]
    log.info(
        "combined %d waves: %d raw, %d analysed, %d excluded (%d duplicates)",
        len(waves),
        total["raw"],
        total["analysed"],
        len(excluded),
        int(duplicate.sum()),
    )
    return out


def rescreen(result: WaveResult, exclusions: dict | None) -> WaveResult:
    """The wave with its per-response reasons recomputed under other exclusion rules (from the
    screening facts; the export is not read again)."""
    screening = result.screening.assign(reasons=reasons(result.screening, exclusions))
    return WaveResult(result.wave, result.tables, screening, result.study)


def reapply(waves, exclusions: dict | None, out) -> dict[str, pd.DataFrame]:
    """Combine ingested waves (see :func:`read_waves`, in wave order) under other exclusion
    rules and write them to ``out`` (see :func:`write_outputs`): the same tables :func:`run`
    writes from the exports with those rules."""
    exclusions = exclusion_settings(exclusions)
    results = [rescreen(result, exclusions) for result in read_waves(waves)]
    tables = combine(results, exclusions["duplicates"], exclusions["cross_wave_identity"])
    write_outputs(tables, out)
    return tables


def write_outputs(tables: dict, out) -> dict[str, Path]:
    """Write the tidy tables (parquet), ``flow`` and ``excluded`` (csv) and ``study`` (json) to
    ``out``: {name: path} (the names of :data:`~tlsurvey.layout.INGEST_FILES`) or a directory
    for those files. Returns {name: path written}."""
    paths = named_paths(out, INGEST_FILES)
    written = {name: write_table(tables[name], paths[name]) for name in INGEST_FILES
               if name != "study"}
    return {**written, "study": tables["study"].save(paths["study"])}


def run(
    waves: list[dict],
    instrument_path,
    privacy: dict | None = None,
    exclusions: dict | None = None,
    out="results/ingest",
) -> dict[str, pd.DataFrame]:
    """Ingest every wave ({label, file, format?, instrument?}), combine and write ``out`` (see
    :func:`write_outputs`)."""
    _, exclusions = _settings(privacy, exclusions)
    results = [
        ingest_wave(
            w["file"],
            w["label"],
            w.get("instrument") or instrument_path,
            privacy,
            exclusions,
            w.get("format"),
        )
        for w in waves
    ]
    tables = combine(results, exclusions["duplicates"], exclusions["cross_wave_identity"])
    write_outputs(tables, out)
    return tables


def cli(argv: list[str]) -> int:
    """``tlsurvey ingest EXPORT... --instrument FILE --out DIR``."""
    parser = argparse.ArgumentParser(prog="tlsurvey ingest", description=cli.__doc__)
    parser.add_argument("exports", nargs="+", metavar="EXPORT")
    parser.add_argument("--instrument", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--wave", action="append", help="wave label per export (default: stem)")
    parser.add_argument("--format", choices=FORMATS)
    parser.add_argument(
        "--config",
        help="config.yaml for privacy/exclusions (default: config/config.yaml when it exists)",
    )
    args = parser.parse_args(argv)
    labels = args.wave or [Path(p).stem for p in args.exports]
    if len(labels) != len(args.exports):
        parser.error("give one --wave per export")
    config_path = args.config or (
        "config/config.yaml" if Path("config/config.yaml").is_file() else None
    )
    config = load_config(config_path) if config_path else {}
    waves = [
        {"label": label, "file": path, "format": args.format}
        for label, path in zip(labels, args.exports, strict=True)
    ]
    from tlsurvey.logs import setup

    setup()
    tables = run(waves, args.instrument, config.get("privacy"), config.get("exclusions"), args.out)
    print(tables["flow"].query("wave == 'total'").to_string(index=False))
    return 0
