"""Export writers: the same simulated responses in seven survey-platform formats.

All writers take the wide ``responses`` table of :func:`tlsurvey.simulate.survey.simulate_wave`
(labels as strings, None for empty) and differ only in layout:

| format | file(s) | headers | values |
| --- | --- | --- | --- |
| qualtrics-csv | ``W.csv`` (UTF-8 BOM) | short name, question text, ImportId JSON | labels |
| qualtrics-tsv | ``W.tsv`` (UTF-16 LE BOM, tabs) | as CSV | labels |
| qualtrics-xlsx | ``W.xlsx`` | as CSV | labels |
| spss | ``W.sav`` (Qualtrics SPSS) | short names, question-text labels | codes, value labels |
| limesurvey | ``W_R_data_file.csv`` + ``W_R_syntax_file.R`` | full text; names in R | codes |
| limesurvey-csv | ``W.csv`` | question codes (``q[sub]``) | full answers |
| google-forms | ``W.csv`` | Timestamp, Email Address, question text | labels |

LimeSurvey and Google Forms only ever export submitted responses: the preview and unfinished
rows are absent there (they are excluded in every format anyway).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import datetime

import numpy as np
import pandas as pd
import pyreadstat

from tlsurvey.io import atomic_path, write_bytes, write_text
from tlsurvey.simulate.instrument import (
    COLUMNS,
    GOOGLE_EMAIL,
    GOOGLE_TIMESTAMP,
    LIMESURVEY_META,
    LIMESURVEY_TIME,
    LS_SOURCE,
    META_KEYS,
    QUALTRICS_META,
    SOURCES,
    SPSS_NAMES,
    address,
)

DATE_KEYS = {"start", "end", "recorded"}


def _missing(v) -> bool:
    """True for None and NaN-like values (empty cells)."""
    return v is None or (not isinstance(v, str) and pd.isna(v))


def as_text(v) -> str:
    """Qualtrics-style cell text: dates ``YYYY-MM-DD HH:MM:SS``, booleans True/False."""
    if _missing(v):
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        return f"{v:.4f}"
    return str(v)


def code(col, label):
    """Numeric position (1-based) of ``label`` among ``col``'s answer labels (None if empty)."""
    return None if _missing(label) else col.labels.index(label) + 1


def submitted(responses: pd.DataFrame) -> pd.DataFrame:
    """Rows a platform without previews or partial responses would export."""
    keep = (responses["status"] != "Survey Preview") & responses["finished"].astype(bool)
    return responses[keep].reset_index(drop=True)


def _delimited(rows, path, *, delimiter=",", encoding="utf-8-sig", terminator="\n",
               quoting=csv.QUOTE_MINIMAL):
    """Write ``rows`` as delimited text; ``encoding="utf-16"`` means UTF-16 LE with BOM."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=terminator, quoting=quoting)
    writer.writerows(rows)
    data = buf.getvalue()
    raw = b"\xff\xfe" + data.encode("utf-16-le") if encoding == "utf-16" else data.encode(encoding)
    return write_bytes(raw, path)


def qualtrics_rows(responses: pd.DataFrame) -> list[list[str]]:
    """Three header rows (short names, question text, ImportId JSON) and the data rows."""
    dated = {"startDate", "endDate", "recordedDate"}
    ids = [json.dumps({"ImportId": i, **({"timeZone": "Z"} if i in dated else {})},
                      separators=(",", ":")) for _, _, i, _ in QUALTRICS_META]
    head = [[m[0] for m in QUALTRICS_META] + [c.short for c in COLUMNS],
            [m[1] for m in QUALTRICS_META] + [c.text("qualtrics") for c in COLUMNS],
            ids + [json.dumps({"ImportId": c.qid}, separators=(",", ":")) for c in COLUMNS]]
    keys = META_KEYS + [c.key for c in COLUMNS]
    body = [[as_text(v) for v in rec] for rec in responses[keys].itertuples(index=False)]
    return head + body


def write_qualtrics_csv(responses, out, wave):
    """Qualtrics CSV: UTF-8 with BOM, comma-separated, three header rows."""
    return [_delimited(qualtrics_rows(responses), out / f"{wave}.csv")]


def write_qualtrics_tsv(responses, out, wave):
    """Qualtrics TSV: UTF-16 LE with BOM, tab-separated, CRLF rows."""
    return [_delimited(qualtrics_rows(responses), out / f"{wave}.tsv", delimiter="\t",
                       encoding="utf-16", terminator="\r\n")]


def write_qualtrics_xlsx(responses, out, wave):
    """Qualtrics Excel export: one sheet, three header rows, all cells as text."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet0"
    for row in qualtrics_rows(responses):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return [write_bytes(_fixed_zip(buf.getvalue()), out / f"{wave}.xlsx")]


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite an xlsx archive with fixed timestamps (byte-identical across runs)."""
    src, buf = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    stamp = rb"\g<1>2025-01-01T00:00:00Z\g<2>"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms)",
                                 stamp, content)
            dst.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), content,
                         zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def write_spss(responses, out, wave):
    """Qualtrics-style SPSS .sav: numeric codes with value labels, question text as labels."""
    df, labels, values = pd.DataFrame(), {}, {}
    for short, text, _, key in QUALTRICS_META:
        name = SPSS_NAMES.get(short, short)
        col = responses[key]
        if key in DATE_KEYS:
            df[name] = pd.to_datetime(col)
        elif key in {"progress", "duration", "latitude", "longitude"}:
            df[name] = pd.to_numeric(col).astype(float)
        elif key == "finished":
            df[name] = col.astype(bool).astype(float)
            values[name] = {1.0: "True", 0.0: "False"}
        elif key == "status":
            df[name] = (col == "Survey Preview").astype(float)
            values[name] = {0.0: "IP Address", 1.0: "Survey Preview"}
        else:
            df[name] = [as_text(v) for v in col]
        labels[name] = text
    for c in COLUMNS:
        if c.labels:
            df[c.short] = [np.nan if _missing(v) else float(code(c, v)) for v in responses[c.key]]
            values[c.short] = {float(i): lab for i, lab in enumerate(c.labels, start=1)}
        else:
            df[c.short] = [as_text(v) for v in responses[c.key]]
        labels[c.short] = c.text("qualtrics")
    path = out / f"{wave}.sav"
    with atomic_path(path) as tmp:
        pyreadstat.write_sav(df, str(tmp), column_labels=labels, variable_value_labels=values)
        raw = bytearray(tmp.read_bytes())
        raw[92:109] = b"01 Jan 2500:00:00"  # fixed creation date + time (header bytes 92-108)
        tmp.write_bytes(bytes(raw))
    return [path]


def _ls_value(col, label):
    """LimeSurvey answer code: scale position, ``A<n>`` for roles, source code for choices."""
    if _missing(label) or not col.labels:
        return label
    if col.section == "choices":
        return LS_SOURCE[SOURCES[code(col, label) - 1]]
    return f"A{code(col, label)}" if col.scale is None else code(col, label)


def _ls_meta(responses: pd.DataFrame) -> list[dict]:
    """Values of LimeSurvey's own metadata columns, one dict per response."""
    recs = []
    for i, rec in enumerate(responses.to_dict("records"), start=1):
        seed = int(hashlib.sha256(rec["response_id"].encode()).hexdigest()[:8], 16) % 10**9
        recs.append({**rec, "ls_id": i, "ls_lastpage": 6, "ls_language": "en",
                     "ls_seed": str(seed)})
    return recs


def _r_string(s: str) -> str:
    """An R string literal (backslash, double and single quotes escaped, as LimeSurvey does)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'") + '"'


def _ls_rows(responses, headings, answer) -> list[list[str]]:
    """LimeSurvey rows: metadata, answers (via ``answer(col, label)``), total time last."""
    rows = [headings]
    for rec in _ls_meta(submitted(responses)):
        rows.append([as_text(rec[m[3]]) for m in LIMESURVEY_META]
                    + [as_text(answer(c, rec[c.key])) for c in COLUMNS]
                    + [as_text(rec["duration"])])
    return rows


def write_limesurvey(responses, out, wave):
    """LimeSurvey R export: data CSV (full-text headings, answer codes) + R syntax file."""
    heads = ([m[1] for m in LIMESURVEY_META] + [c.text("limesurvey") for c in COLUMNS]
             + [LIMESURVEY_TIME[1]])
    rows = _ls_rows(responses, heads, _ls_value)
    data_name = f"{wave}_R_data_file.csv"
    lines = [f'data <- read.csv("{data_name}", quote = "\'\\"", na.strings=c("", "\\"\\""), '
             'stringsAsFactors=FALSE, fileEncoding="UTF-8-BOM")', "", ""]
    specs = [(m[0], m[2], m[0], None) for m in LIMESURVEY_META]
    for c in COLUMNS:
        label = f"[{c.sub}] {c.question}" if c.sub else c.question
        levels = None
        if c.labels:
            codes = [_ls_value(c, lab) for lab in c.labels]
            levels = (",".join(str(x) if c.scale else f'"{x}"' for x in codes),
                      ", ".join(_r_string(lab) for lab in c.labels))
        specs.append((address(c, "limesurvey"), "F" if c.scale else "A", label, levels))
    specs.append((LIMESURVEY_TIME[0], LIMESURVEY_TIME[2], LIMESURVEY_TIME[1], None))
    for i, (name, kind, label, levels) in enumerate(specs, start=1):
        conv = "as.numeric" if kind == "F" else "as.character"
        lines += [f"# LimeSurvey Field type: {kind}", f"data[, {i}] <- {conv}(data[, {i}])",
                  f"attributes(data)$variable.labels[{i}] <- {_r_string(label)}"]
        if levels:
            lines.append(f"data[, {i}] <- factor(data[, {i}], levels=c({levels[0]}),"
                         f"labels=c({levels[1]}))")
        lines.append(f'names(data)[{i}] <- "{name}"')
    return [_delimited(rows, out / data_name, quoting=csv.QUOTE_ALL),
            write_text("\n".join(lines) + "\n", out / f"{wave}_R_syntax_file.R")]


def write_limesurvey_csv(responses, out, wave):
    """LimeSurvey CSV export with question-code headings (``q[sub]``) and full answers."""
    heads = ([m[0] for m in LIMESURVEY_META] + [address(c, "limesurvey-csv") for c in COLUMNS]
             + [LIMESURVEY_TIME[0]])
    rows = _ls_rows(responses, heads, lambda c, v: v)
    return [_delimited(rows, out / f"{wave}.csv", quoting=csv.QUOTE_ALL)]


def _google_stamp(rec: dict) -> str:
    """Google Forms' Timestamp of a response (it doubles as the response id)."""
    return rec["end"].strftime("%Y/%m/%d %I:%M:%S %p") + " GMT+1"


def write_google_forms(responses, out, wave):
    """Google Forms response CSV: Timestamp, Email Address, question text headers, labels."""
    rows = [[GOOGLE_TIMESTAMP, GOOGLE_EMAIL] + [c.text("google") for c in COLUMNS]]
    for rec in submitted(responses).to_dict("records"):
        rows.append([_google_stamp(rec), as_text(rec["email"])]
                    + [as_text(rec[c.key]) for c in COLUMNS])
    return [_delimited(rows, out / f"{wave}.csv", encoding="utf-8")]


def export_ids(responses: pd.DataFrame, fmt: str) -> dict[str, str]:
    """Simulated response id -> the response id an export in ``fmt`` carries (responses the
    platform does not export are left out): LimeSurvey numbers responses, Google Forms has
    only its Timestamp, Qualtrics and SPSS keep the ResponseId."""
    if fmt.startswith("limesurvey"):
        return {rec["response_id"]: str(rec["ls_id"]) for rec in _ls_meta(submitted(responses))}
    if fmt == "google-forms":
        return {rec["response_id"]: _google_stamp(rec)
                for rec in submitted(responses).to_dict("records")}
    return {rid: rid for rid in responses["response_id"]}


WRITERS = {
    "qualtrics-csv": write_qualtrics_csv,
    "qualtrics-tsv": write_qualtrics_tsv,
    "qualtrics-xlsx": write_qualtrics_xlsx,
    "limesurvey": write_limesurvey,
    "limesurvey-csv": write_limesurvey_csv,
    "google-forms": write_google_forms,
    "spss": write_spss,
}
