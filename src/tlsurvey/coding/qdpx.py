"""REFI-QDA project export and import (``.qdpx``: a zip of ``project.qde`` and ``Sources/``).

Export: every answer is a TextSource whose text lies in ``Sources/<guid>.txt``
(``plainTextPath="internal://<guid>.txt"``); every human coder and every automatic origin
(``tlsurvey:lexicon``, ``tlsurvey:topic``, ...) is a User; every code given is a
PlainTextSelection with a Coding, both with creating user and date (whole-answer codes span the
answer); participants are Cases with their variables, and answers carry their case study and
chosen source; the codebook's groups are non-codable parent codes. Texts a coder reviewed without
coding anything are members of the Set ``reviewed by <coder>``.

Import (:func:`read_qdpx`): a project as a QDA tool exports it, with new GUIDs, users and
selections; sources are matched to answers by the ``text_id`` line of their description (kept by
QualCoder, NVivo, ATLAS.ti and MAXQDA as the document memo), else by name.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import zipfile
from pathlib import Path

import pandas as pd
from lxml import etree

from tlsurvey import RESPONSE_COLUMNS
from tlsurvey.coding.codes import ORIGINS
from tlsurvey.coding.refi import (
    ORIGIN,
    PROJECT_NS,
    code_tree,
    element,
    guid,
    timestamp,
    xml_datetime,
    zip_bytes,
)
from tlsurvey.errors import InputError
from tlsurvey.io import records, write_bytes, xml_text

AUTO_USER = "tlsurvey:"  # prefix of the users standing for automatic origins
REVIEWED = "reviewed by "  # prefix of the per-coder Sets of reviewed texts
TEXT_ID = "text_id: "  # line of a source's description naming its answer
SKIP_VARIABLES = set(RESPONSE_COLUMNS) - {"wave"}  # wave stays: a case variable
FILE_VARIABLES = ("field", "case_study", "chosen_source", "language")
WHOLE = "whole answer"
PROGRESS = 5000  # answers between progress lines
log = logging.getLogger(__name__)


def _el(parent, tag: str, text: str | None = None, **attrs):
    return element(parent, PROJECT_NS, tag, text, **attrs)


def _tag(tag: str) -> str:
    return f"{{{PROJECT_NS}}}{tag}"


# The elements made per answer or selection are built directly (no xml_text() of attributes
# that are GUIDs, numbers or dates).
SOURCE_REF, VALUE, VALUE_REF, TEXT_VALUE = map(_tag, ("SourceRef", "VariableValue",
                                                      "VariableRef", "TextValue"))
TEXT_SOURCE, DESCRIPTION, SELECTION, CODING, CODE_REF = map(
    _tag, ("TextSource", "Description", "PlainTextSelection", "Coding", "CodeRef"))


def source_name(text_id: str) -> str:
    """File-system safe document name of an answer (QDA tools name files after documents)."""
    return re.sub(r"[^\w.-]+", "_", text_id)


def _case_variables(responses, choices) -> tuple[list[str], pd.DataFrame]:
    """Names and per-participant values of the case variables: wave, demographics (labels,
    not codes) and the chosen source per case study."""
    frames = []
    if responses is not None:
        keep = [c for c in responses.columns
                if c not in SKIP_VARIABLES and not c.endswith("_code")]
        frames.append(responses.drop_duplicates("participant").set_index("participant")[keep])
    if choices is not None and len(choices):
        wide = choices.pivot_table(index="participant", columns="case_study", values="source",
                                   aggfunc="first")
        wide.columns = [f"chosen_source:{c}" for c in wide.columns]
        frames.append(wide)
    values = pd.concat(frames, axis=1) if frames else pd.DataFrame()
    return list(values.columns), values


def _file_values(texts: pd.DataFrame, choices) -> pd.DataFrame:
    """Per-answer variables: field, case study, the source chosen for it, language if known."""
    out = texts.set_index("text_id")
    if choices is not None and len(choices):
        chosen = choices.set_index(["participant", "case_study"])["source"]
        if chosen.index.is_unique:  # else .get gives all choices of a case study
            chosen = dict(zip(records(choices, ["participant", "case_study"]),
                              choices["source"].tolist(), strict=True))
        out = out.assign(chosen_source=[chosen.get((p, c)) for p, c
                                        in zip(out["participant"].tolist(),
                                               out["case_study"].tolist(), strict=True)])
    return out[[c for c in FILE_VARIABLES if c in out]]


def _value(parent, variable: str, value) -> None:
    """The value of a variable (``variable``: its GUID) of a case or source, if it has one."""
    if pd.api.types.is_list_like(value):  # multi-select answers
        value = "; ".join(map(str, value)) or None
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return
    vv = etree.SubElement(parent, VALUE)
    etree.SubElement(vv, VALUE_REF, targetGUID=variable)
    etree.SubElement(vv, TEXT_VALUE).text = xml_text(value)


def _selections(texts: pd.DataFrame, codes: pd.DataFrame, human: pd.DataFrame | None):
    """(text_id, user, code, start, end, label) of every coding, sorted and de-duplicated."""
    length = dict(zip(texts["text_id"], texts["text"].astype(str).str.len(), strict=True))
    rows = []
    auto = codes[(codes["origin"] != "human") & codes["text_id"].map(length).gt(0)]
    for c in records(auto, ["text_id", "origin", "code", "source", "evidence"]):
        spans = json.loads(c.evidence) if c.origin != "topic" else []  # topics: whole answer
        user = AUTO_USER + c.origin
        rows += [(c.text_id, user, c.code, s["start"], s["end"], f"{c.origin}: {s['term_id']}")
                 for s in spans]
        if not spans:
            rows.append((c.text_id, user, c.code, 0, length[c.text_id],
                         f"{c.origin}: {c.source}"))
    if human is not None:
        for h in records(human[human["value"] == 1], ["text_id", "coder", "code", "start", "end"]):
            span = (0, length[h.text_id]) if pd.isna(h.start) else (int(h.start), int(h.end))
            rows.append((h.text_id, str(h.coder), h.code, *span,
                         WHOLE if pd.isna(h.start) else h.coder))
    return sorted(set(rows), key=lambda r: (r[0], r[3], r[4], r[1], r[2], r[5]))


def _users(selections, human) -> list[str]:
    coders = sorted({r[1] for r in selections if not r[1].startswith(AUTO_USER)}
                    | (set(human["coder"].astype(str)) if human is not None else set()))
    auto = {r[1] for r in selections if r[1].startswith(AUTO_USER)}
    order = {AUTO_USER + o: i for i, o in enumerate(ORIGINS)}
    return coders + sorted(auto, key=lambda u: (order.get(u, len(order)), u))


def _sets(root, human: pd.DataFrame, coded: set, sources: dict) -> None:
    """One Set per coder of the answers they reviewed and left uncoded (their other units are
    the answers they coded)."""
    reviewed = human.groupby(human["coder"].astype(str))["text_id"].agg(lambda s: sorted(set(s)))
    sets = {c: [t for t in ids if (c, t) not in coded] for c, ids in reviewed.items()}
    sets = {c: ids for c, ids in sets.items() if ids}
    if not sets:
        return
    block = _el(root, "Sets")
    for coder, ids in sets.items():
        member = _el(block, "Set", guid=guid("set", coder), name=REVIEWED + coder)
        _el(member, "Description", f"answers {coder} reviewed and left uncoded")
        for text_id in ids:
            _el(member, "MemberSource", targetGUID=sources.get(text_id) or guid("source", text_id))


def _cases(root, texts: pd.DataFrame, names: list[str], values: pd.DataFrame,
           sources: dict) -> None:
    """One Case per participant with its variables and answers (``sources``: text_id -> GUID)."""
    answers = {}
    for participant, text_id in records(texts.dropna(subset=["participant"]),
                                        ["participant", "text_id"]):
        answers.setdefault(participant, []).append(text_id)
    columns = [(guid("variable", name), values[name].to_dict()) for name in names]
    cases = _el(root, "Cases")
    for participant in sorted(answers):
        case = _el(cases, "Case", guid=guid("case", participant), name=participant)
        for variable, column in columns:
            _value(case, variable, column.get(participant))
        for text_id in answers[participant]:
            etree.SubElement(case, SOURCE_REF, targetGUID=sources[text_id])


def _sources(root, texts, selections, files: pd.DataFrame, dates: dict, created: str,
             sources: dict) -> None:
    """One TextSource per answer (``texts`` and ``files`` row by row, ``sources``: text_id ->
    GUID) with its selections and variables."""
    by_text = {}
    for r in selections:
        by_text.setdefault(r[0], []).append(r)
    ref = functools.cache(guid)  # GUIDs of the users and codes, each made once
    variables = [guid("variable", name) for name in files.columns]
    block = _el(root, "Sources")
    for i, (row, values) in enumerate(zip(records(texts, ["text_id", "participant"]),
                                          records(files), strict=True), 1):
        if i % PROGRESS == 0 or i == len(texts):
            log.info("qdpx: %d/%d answers", i, len(texts))
        sid = sources[row.text_id]
        source = etree.SubElement(block, TEXT_SOURCE, {
            "guid": sid, "name": xml_text(source_name(row.text_id)),
            "plainTextPath": f"internal://{sid}.txt",
            "creationDateTime": dates.get(row.participant, created)})
        etree.SubElement(source, DESCRIPTION).text = xml_text(f"{TEXT_ID}{row.text_id}")
        for text_id, user, code, start, end, label in by_text.get(row.text_id, []):
            key = f"{text_id}:{user}:{code}:{start}:{end}:{label}"
            sel = etree.SubElement(source, SELECTION, {
                "guid": guid("selection", key), "name": xml_text(f"{code} ({label})"),
                "startPosition": str(start), "endPosition": str(end),
                "creatingUser": ref("user", user), "creationDateTime": created})
            coding = etree.SubElement(sel, CODING, {
                "guid": guid("coding", key), "creatingUser": ref("user", user),
                "creationDateTime": created})
            etree.SubElement(coding, CODE_REF, targetGUID=ref("code", code))
        for variable, value in zip(variables, values, strict=True):
            _value(source, variable, value)


def project_xml(texts: pd.DataFrame, codes: pd.DataFrame, codebook: dict, **kwargs) -> bytes:
    """The ``project.qde`` document (UTF-8 bytes); texts live in ``Sources/`` (see
    :func:`qdpx_bytes`, and :func:`_project` for the keyword arguments)."""
    return _serialise(_project(texts, codes, codebook, **kwargs))


def _serialise(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _project(texts: pd.DataFrame, codes: pd.DataFrame, codebook: dict, groups=None,
             responses=None, choices=None, human=None, study=None):
    """The ``project.qde`` document as an element tree.

    Answers are dated by their participant's start time (responses), everything else by
    :func:`~tlsurvey.coding.refi.timestamp` of all start times; ``human`` is the coder-sheet
    table (one user per coder), ``codes`` gives the automatic origins' codes; ``study`` (a
    :class:`~tlsurvey.study.Study`) names the project and labels case studies and sources.
    """
    texts = texts.sort_values("text_id", ignore_index=True)
    title = study.title if study else "tlsurvey coding"
    if study is not None and choices is not None:
        choices = choices.assign(source=choices["source"].map(study.label))
    starts = ({} if responses is None or "start" not in responses else
              responses.dropna(subset=["start"]).set_index("participant")["start"].astype(str)
              .to_dict())
    created = xml_datetime(timestamp(list(starts.values())))
    dates = {p: xml_datetime(timestamp([v])) for p, v in starts.items()}
    selections = _selections(texts, codes, human)
    root = etree.Element(f"{{{PROJECT_NS}}}Project", nsmap={None: PROJECT_NS}, name=title,
                         origin=ORIGIN, creationDateTime=created)
    block = _el(root, "Users")
    for user in _users(selections, human):
        _el(block, "User", guid=guid("user", user), name=user, id=user)
    code_tree(_el(root, "CodeBook"), PROJECT_NS, codebook, groups)
    case_names, case_values = _case_variables(responses, choices)
    files = _file_values(texts, choices)
    if case_names or len(files.columns):
        block = _el(root, "Variables")
        for name in case_names + list(files.columns):
            _el(block, "Variable", guid=guid("variable", name), name=name, typeOfVariable="Text")
    sources = {t: guid("source", t) for t in texts["text_id"].tolist()}
    _cases(root, texts, case_names, case_values, sources)
    _sources(root, texts, selections, files, dates, created, sources)
    if human is not None:
        _sets(root, human, {(r[1], r[0]) for r in selections}, sources)
    return root


def qdpx_bytes(texts: pd.DataFrame, codes: pd.DataFrame, codebook: dict, **kwargs) -> bytes:
    """The ``.qdpx`` zip: ``project.qde`` plus ``Sources/<guid>.txt`` per answer (UTF-8)."""
    root = _project(texts, codes, codebook, **kwargs)
    when = timestamp([root.get("creationDateTime")])
    entries = {"project.qde": _serialise(root)}
    for text_id, text in zip(texts["text_id"].tolist(), texts["text"].tolist(), strict=True):
        entries[f"Sources/{guid('source', text_id)}.txt"] = str(text).encode("utf-8")
    return zip_bytes(entries, when)


def write_qdpx(path, texts, codes, codebook, **kwargs) -> Path:
    """Write the ``.qdpx`` atomically (see :func:`project_xml` for the keyword arguments)."""
    return write_bytes(qdpx_bytes(texts, codes, codebook, **kwargs), path)


# ---- import ------------------------------------------------------------------------------

Q = {"q": PROJECT_NS}


def _source_text(archive: zipfile.ZipFile, source, path) -> str:
    inline = source.find("q:PlainTextContent", Q)
    if inline is not None:
        return inline.text or ""
    ref = source.get("plainTextPath") or ""
    if not ref.startswith("internal://"):
        raise InputError(path, f"source {source.get('name')!r} has no internal plain text "
                               f"(plainTextPath {ref!r})")
    names = {n.lower(): n for n in archive.namelist()}
    name = names.get(f"sources/{ref[len('internal://'):]}".lower())
    if name is None:
        raise InputError(path, f"source {source.get('name')!r}: {ref} not in the archive")
    return archive.read(name).decode("utf-8-sig")


def _text_id(source) -> str:
    note = source.findtext("q:Description", default="", namespaces=Q) or ""
    for line in note.splitlines():
        if line.startswith(TEXT_ID):
            return line[len(TEXT_ID):].strip()
    return source.get("name")


def read_qdpx(path) -> dict:
    """Parse a ``.qdpx``: ``sources`` (text_id, name, text), ``codings`` (text_id, user, code,
    start, end), ``reviewed`` ({user: set of text_ids from its Set}) and ``codes`` (codable code
    names).

    Raises
    ------
    InputError
        Not a REFI-QDA project, a source without its text, or a selection outside its text.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            qde = [n for n in archive.namelist() if n.lower().endswith(".qde")]
            if not qde:
                raise InputError(path, "no project.qde in the archive")
            root = etree.fromstring(archive.read(qde[0]))
            users = {u.get("guid"): u.get("name") or u.get("id") or u.get("guid")
                     for u in root.iterfind("q:Users/q:User", Q)}
            names = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", Q)}
            cases = {c.get("guid") for c in root.iterfind("q:Cases/q:Case", Q)}
            sources, codings, by_guid = [], [], {}
            for source in root.iterfind("q:Sources/q:TextSource", Q):
                text, text_id = _source_text(archive, source, path), _text_id(source)
                by_guid[source.get("guid")] = text_id
                sources.append({"text_id": text_id, "name": source.get("name"), "text": text})
                for sel in source.iterfind("q:PlainTextSelection", Q):
                    start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                    if not 0 <= start < end <= len(text):
                        raise InputError(path, f"selection {start}-{end} outside source "
                                               f"{source.get('name')!r} ({len(text)} characters)")
                    for coding in sel.iterfind("q:Coding", Q):
                        user = coding.get("creatingUser") or sel.get("creatingUser")
                        ref = coding.find("q:CodeRef", Q).get("targetGUID")
                        if ref in cases:  # NVivo: a case assigned to text, not a code
                            continue
                        codings.append({"text_id": text_id, "user": users.get(user, "default"),
                                        "code": names.get(ref, ref), "start": start, "end": end})
    except (zipfile.BadZipFile, etree.XMLSyntaxError) as err:
        raise InputError(path, f"not a REFI-QDA project: {err}") from None
    reviewed = {s.get("name")[len(REVIEWED):]: {by_guid[m.get("targetGUID")]
                                               for m in s.iterfind("q:MemberSource", Q)
                                               if m.get("targetGUID") in by_guid}
                for s in root.iterfind("q:Sets/q:Set", Q)
                if (s.get("name") or "").startswith(REVIEWED)}
    codable = sorted(c.get("name") for c in root.iterfind(".//q:Code", Q)
                     if c.get("isCodable", "true") == "true")
    columns = ["text_id", "user", "code", "start", "end"]
    table = pd.DataFrame(codings, columns=columns).sort_values(columns, ignore_index=True)
    return {"sources": pd.DataFrame(sources, columns=["text_id", "name", "text"]),
            "codings": table, "reviewed": reviewed, "codes": codable}
