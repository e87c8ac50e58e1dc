"""``tlsurvey check-instrument EXPORT --instrument FILE``: does the map fit the export?

Reports the export's format and size, the mapped and unmapped columns, and every problem
(missing column, unknown label, out-of-scale value) as one line naming file, row and column.
Exit status 1 when there is any problem.
"""

from __future__ import annotations

import argparse

from tlsurvey.ingest.mapping import Problems, instrument_columns, map_export, scales_known
from tlsurvey.ingest.readers import FORMATS, ROW_COLUMN, read_export


def check(export_path, instrument_path, fmt: str | None = None) -> tuple[list[str], list]:
    """Report lines and the list of InputErrors for an export read through an instrument."""
    from tlsurvey.ingest import load_instrument

    problems = Problems(collect=True)
    instrument = load_instrument(instrument_path, problems)
    if instrument is None or not scales_known(instrument):  # nothing to map the export with
        return [f"{instrument_path}: the instrument map must be fixed first"], problems.errors
    raw = read_export(export_path, fmt)
    mapped = map_export(raw, instrument, problems)
    used = set(mapped.columns.values()) | {ROW_COLUMN}
    identifiers = {raw.resolve(name) for name in instrument.get("identifiers", [])} - {None}
    unmapped = [c for c in raw.columns if c not in used and c not in identifiers]
    lines = [
        f"{export_path}: {raw.format}, {len(raw.data)} responses x {len(raw.columns)} columns",
        f"mapped: {len(mapped.columns)} of {len(instrument_columns(instrument))} "
        "instrument columns",
        f"identifiers dropped: {', '.join(sorted(identifiers)) or '-'}",
        f"unmapped export columns: {', '.join(unmapped) or '-'}",
    ]
    lines += [
        f"mapped column {name} -> {col}" for name, col in mapped.columns.items() if name != col
    ]
    return lines, problems.errors


def cli(argv: list[str]) -> int:
    """Check an export against an instrument map."""
    parser = argparse.ArgumentParser(prog="tlsurvey check-instrument", description=__doc__)
    parser.add_argument("export")
    parser.add_argument("--instrument", required=True)
    parser.add_argument("--format", choices=FORMATS)
    args = parser.parse_args(argv)
    lines, errors = check(args.export, args.instrument, args.format)
    print("\n".join(lines))
    for error in errors:
        print(f"error: {error}")
    print(f"{len(errors)} problem(s)")
    return 1 if errors else 0
