"""REFI-QDA project export (``.qdpx``: a zip holding ``project.qde``, QDA-XML 1.0).

Texts become TextSources with their plain text; the codebook becomes Codes (grouped under
non-codable group codes); each lexicon or human evidence span a PlainTextSelection with a
Coding; topic codes and codes without spans a source-level Coding; participants Cases with
Variables. GUIDs are uuid5 of the ids, so the export is byte-identical across runs.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pandas as pd
from lxml import etree

from tlsurvey import RESPONSE_COLUMNS, __version__
from tlsurvey.coding.codebook import color
from tlsurvey.coding.codes import ORIGINS
from tlsurvey.io import write_bytes, xml_text

NS = "urn:QDA-XML:project:1.0"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://tlsurvey/refi-qda")
SKIP_VARIABLES = set(RESPONSE_COLUMNS) - {"wave"}  # wave stays: a case variable


def guid(kind: str, key: str) -> str:
    """Deterministic GUID of an object of ``kind`` identified by ``key``."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def _el(parent, tag: str, **attrs):
    return etree.SubElement(parent, f"{{{NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})


def _codebook(root, codebook: dict) -> None:
    codes = _el(_el(root, "CodeBook"), "Codes")
    groups = {}
    for code, spec in codebook.items():
        if spec["group"] not in groups:
            groups[spec["group"]] = _el(codes, "Code", guid=guid("group", spec["group"]),
                                        name=spec["group"], isCodable="false")
        el = _el(groups[spec["group"]], "Code", guid=guid("code", code), name=code,
                 isCodable="true", color=color(codebook, code))
        _el(el, "Description").text = xml_text(f"{spec['label']}: {spec['definition']}")


def _variables(responses: pd.DataFrame | None) -> list[str]:
    if responses is None:
        return []
    return [c for c in responses.columns if c not in SKIP_VARIABLES and not c.endswith("_code")]


def _cases(root, texts: pd.DataFrame, responses: pd.DataFrame | None) -> None:
    names = _variables(responses)
    if names:
        block = _el(root, "Variables")
        for name in names:
            _el(block, "Variable", guid=guid("variable", name), name=name, typeOfVariable="Text")
    values = responses.drop_duplicates("participant").set_index("participant") if names else None
    cases = _el(root, "Cases")
    for participant, part in texts.groupby("participant", sort=True):
        case = _el(cases, "Case", guid=guid("case", participant), name=participant)
        for name in names:
            value = values[name].get(participant) if values is not None else None
            if value is not None and not pd.isna(value):
                vv = _el(case, "VariableValue")
                _el(vv, "VariableRef", targetGUID=guid("variable", name))
                _el(vv, "TextValue").text = xml_text(value)
        for text_id in sorted(part["text_id"]):
            _el(case, "SourceRef", targetGUID=guid("source", text_id))


def _coding(parent, key: str, code: str, origin: str) -> None:
    coding = _el(parent, "Coding", guid=guid("coding", key), creatingUser=guid("user", origin))
    _el(coding, "CodeRef", targetGUID=guid("code", code))


def _sources(root, texts: pd.DataFrame, codes: pd.DataFrame) -> None:
    sources = _el(root, "Sources")
    by_text = {k: v for k, v in codes.groupby("text_id", sort=True)}
    for row in texts.sort_values("text_id").itertuples():
        source = _el(sources, "TextSource", guid=guid("source", row.text_id), name=row.text_id)
        _el(source, "PlainTextContent").text = xml_text(row.text)
        whole = []
        for c in by_text.get(row.text_id, pd.DataFrame()).itertuples():
            spans = json.loads(c.evidence) if c.origin != "topic" else []  # topics: whole text
            whole += [] if spans else [c]
            for s in spans:
                key = f"{row.text_id}:{c.code}:{c.origin}:{s['start']}:{s['end']}:{s['term_id']}"
                sel = _el(source, "PlainTextSelection", guid=guid("selection", key),
                          name=f"{c.code} ({c.origin}: {s['term_id']})",
                          startPosition=s["start"], endPosition=s["end"],
                          creatingUser=guid("user", c.origin))
                _coding(sel, key, c.code, c.origin)
        for c in whole:
            _coding(source, f"{row.text_id}:{c.code}:{c.origin}", c.code, c.origin)


def project_xml(texts: pd.DataFrame, codes: pd.DataFrame, codebook: dict,
                responses: pd.DataFrame | None = None) -> bytes:
    """The ``project.qde`` document (UTF-8 bytes)."""
    root = etree.Element(f"{{{NS}}}Project", nsmap={None: NS}, name="tlsurvey coding",
                         origin=f"tlsurvey {__version__}")
    users = _el(root, "Users")
    for origin in ORIGINS:
        _el(users, "User", guid=guid("user", origin), name=origin, id=origin)
    _codebook(root, codebook)
    _cases(root, texts, responses)
    _sources(root, texts, codes)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def write_qdpx(path, texts, codes, codebook, responses=None):
    """Write the ``.qdpx`` zip (deterministic timestamps) atomically."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("project.qde", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, project_xml(texts, codes, codebook, responses))
    return write_bytes(buffer.getvalue(), path)


def read_qdpx(path) -> dict:
    """Parse a ``.qdpx`` back: ``codes`` (names of codable codes) and ``codings`` (text_id, code,
    origin, start, end; whole-source codings have start/end = -1)."""
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("project.qde"))
    q = {"q": NS}
    code_names = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", namespaces=q)}
    users = {u.get("guid"): u.get("name") for u in root.iterfind(".//q:User", namespaces=q)}
    rows = []
    for source in root.iterfind(".//q:TextSource", namespaces=q):
        for coding in source.iterfind(".//q:Coding", namespaces=q):
            parent = coding.getparent()
            start, end = ((int(parent.get("startPosition")), int(parent.get("endPosition")))
                          if parent.tag.endswith("PlainTextSelection") else (-1, -1))
            rows.append({"text_id": source.get("name"),
                         "code": code_names[coding.find("q:CodeRef", q).get("targetGUID")],
                         "origin": users.get(coding.get("creatingUser")), "start": start,
                         "end": end})
    codable = sorted(c.get("name") for c in root.iterfind(".//q:Code", namespaces=q)
                     if c.get("isCodable") == "true")
    codings = pd.DataFrame(rows, columns=["text_id", "code", "origin", "start", "end"])
    return {"codes": codable, "codings": codings.sort_values(list(codings.columns),
                                                             ignore_index=True)}
