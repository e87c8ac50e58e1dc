"""REFI-QDA building blocks shared by the project (``.qdpx``) and codebook (``.qdc``) exports,
and the codebook as Taguette's CSV.

GUIDs are uuid5 of an object's kind and key, dates come from ``SOURCE_DATE_EPOCH`` or the data
and zip entries carry fixed timestamps, so every export is byte-identical across runs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import uuid
import zipfile
from datetime import UTC, datetime

from lxml import etree

from tlsurvey import __version__
from tlsurvey.coding.codebook import color
from tlsurvey.io import xml_text

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://tlsurvey/refi-qda")
_NAMESPACE_BYTES = NAMESPACE.bytes
EPOCH_FLOOR = datetime(1980, 1, 1, tzinfo=UTC)  # zip timestamps start in 1980
ORIGIN = f"tlsurvey {__version__}"


def guid(kind: str, key: str) -> str:
    """Deterministic GUID of an object of ``kind`` identified by ``key``: the text of
    ``uuid.uuid5(NAMESPACE, f"{kind}:{key}")``, computed without building the UUID object
    (an export makes one per answer, selection and coding)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{kind}:{key}".encode()).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def element(parent, ns: str, tag: str, text: str | None = None, **attrs):
    """Append ``<tag>`` in namespace ``ns`` with string attributes (and text) to ``parent``."""
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def timestamp(values=()) -> datetime:
    """Creation time of an export: ``SOURCE_DATE_EPOCH`` when set, else the latest of ``values``
    (ISO strings from the data), else 1980-01-01; never before 1980 (zip limit)."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        when = datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), UTC)
    else:
        parsed = [as_utc(v) for v in values if isinstance(v, str) and v]
        when = max(parsed, default=EPOCH_FLOOR)
    return max(when, EPOCH_FLOOR)


def as_utc(value: str) -> datetime:
    """An ISO date-time string as an aware UTC datetime (naive values are taken as UTC)."""
    when = datetime.fromisoformat(value)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def xml_datetime(when: datetime) -> str:
    """``xsd:dateTime`` in UTC with a ``Z`` suffix, as QDA tools write it."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def description(spec: dict) -> str:
    """A code's description for QDA tools: label, definition, include and exclude rules."""
    parts = [f"{spec['label']}: {spec['definition']}"]
    for key in ("include", "exclude"):
        if spec.get(key):
            parts.append(f"{key.capitalize()}: " + "; ".join(spec[key]))
    return "\n".join(parts)


def code_tree(parent, ns: str, codebook: dict, groups: dict | None = None) -> None:
    """``<Codes>`` under ``parent``: one non-codable parent code per group (code family) holding
    its codes, in codebook order, with the codebook's colours."""
    codes = element(parent, ns, "Codes")
    families = {}
    for code, spec in codebook.items():
        group = spec["group"]
        if group not in families:
            families[group] = element(codes, ns, "Code", guid=guid("group", group), name=group,
                                      isCodable="false")
            if (groups or {}).get(group):
                element(families[group], ns, "Description", groups[group])
        el = element(families[group], ns, "Code", guid=guid("code", code), name=code,
                     isCodable="true", color=color(codebook, code))
        element(el, ns, "Description", description(spec))


def codebook_qdc(codebook: dict, groups: dict | None = None) -> bytes:
    """The codebook alone as a REFI-QDA codebook document (``.qdc``, QDA-XML codebook 1.0)."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin=ORIGIN)
    code_tree(root, CODEBOOK_NS, codebook, groups)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def taguette_csv(codebook: dict) -> str:
    """The codebook as Taguette's codebook CSV (columns ``tag``, ``description``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["tag", "description"])
    for code, spec in codebook.items():
        writer.writerow([code, f"[{spec['group']}] {description(spec)}"])
    return out.getvalue()


def zip_bytes(entries: dict[str, bytes], when: datetime) -> bytes:
    """A deflated zip of ``entries`` (name -> bytes, written in sorted order) stamped ``when``."""
    buffer = io.BytesIO()
    stamp = when.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])
    return buffer.getvalue()
