"""The study description: a survey's vocabulary (case studies, sources, dimensions, scales,
factors, demographics) as data.

It is declared by the optional ``study:`` section of an instrument map, completed from the
map's items (order of first appearance, label = id), written by ingest as
``results/ingest/study.json`` and read by every later stage. Nothing downstream names a case
study, source or dimension in code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path

from tlsurvey.errors import InputError

__all__ = ["Level", "Dimension", "Scale", "Demographic", "Study", "PALETTE", "OTHER_COLOR"]

DEFAULT_TITLE = "Transfer-learning source choice survey"
# Okabe-Ito, in the order colours are handed out: sources first, then case studies.
PALETTE = ("#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
OTHER_COLOR = "#999999"


@dataclass(frozen=True)
class Level:
    """One case study, source, choice option or framework factor."""

    id: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class Dimension:
    """A rating dimension: ``role`` is ``"similarity"`` or ``"outcome"``; ``scale`` its scale."""

    id: str
    label: str
    role: str
    scale: str
    description: str = ""


@dataclass(frozen=True)
class Scale:
    """An ordered answer scale: codes ascending, one display label per code.

    ``direction`` is ``"ascending"`` when a higher code means more (agreement, similarity,
    performance), ``"descending"`` when it means less.
    """

    name: str
    codes: tuple[int, ...]
    labels: tuple[str, ...]
    direction: str = "ascending"

    @property
    def low(self) -> int:
        return self.codes[0]

    @property
    def high(self) -> int:
        return self.codes[-1]

    def label(self, code) -> str:
        """Display label of ``code`` (the code itself when unknown)."""
        return dict(zip(self.codes, self.labels, strict=True)).get(code, str(code))


@dataclass(frozen=True)
class Demographic:
    """A demographic variable; ``options`` are its ordered (scale) or multi-select options;
    ``multiple`` marks a multi-select question."""

    variable: str
    label: str
    scale: str | None = None
    options: tuple[str, ...] = ()
    multiple: bool = False


class _Errors:
    """Raise the first problem, or collect all of them into ``sink``."""

    def __init__(self, path, sink: list | None):
        self.path, self.sink = path, sink

    def add(self, message: str, column: str | None = None) -> None:
        error = InputError(self.path, message, column=column)
        if self.sink is None:
            raise error
        self.sink.append(error)


def _entries(items) -> list[dict]:
    """Study-section list entries as dicts (an entry may be a bare id)."""
    return [{"id": item} if isinstance(item, str) else dict(item) for item in items or []]


def _first_seen(values) -> list[str]:
    return list(dict.fromkeys(v for v in values if v is not None))


def _levels(section: str, used: list[str], declared, errors: _Errors) -> list[Level]:
    """Levels in declared order (all used ids must be declared when a list is given), else in
    order of first use with label = id."""
    if declared is None:
        return [Level(i, i) for i in used]
    entries = _entries(declared)
    ids = [e["id"] for e in entries]
    for i in sorted({i for i in ids if ids.count(i) > 1}):
        errors.add(f"study.{section}: {i!r} declared twice")
    for i in used:
        if i not in ids:
            errors.add(f"study.{section}: {i!r} is used by an item but not declared")
    for i in ids:
        if i not in used:
            errors.add(f"study.{section}: {i!r} is declared but no item uses it")
    return [Level(e["id"], e.get("label", e["id"]), e.get("description", "")) for e in entries]


def _scales(instrument: dict, section: dict, errors: _Errors) -> dict[str, Scale]:
    declared = section.get("scales", {})
    out = {}
    for name, labels in instrument.get("scales", {}).items():
        canonical = {}
        for label, code in labels.items():
            canonical.setdefault(int(code), str(label))
        codes = tuple(sorted(canonical))
        extra = declared.get(name, {})
        shown = tuple(extra.get("labels", [canonical[c] for c in codes]))
        if len(shown) != len(codes):
            errors.add(f"study.scales.{name}: {len(shown)} labels for {len(codes)} codes")
            shown = tuple(canonical[c] for c in codes)
        out[name] = Scale(name, codes, shown, extra.get("direction", "ascending"))
    for name in declared:
        if name not in out:
            errors.add(f"study.scales: {name!r} is not a scale of the instrument")
    return out


def _dimensions(instrument: dict, section: dict, errors: _Errors) -> list[Dimension]:
    ratings = instrument.get("ratings", [])
    scale_of: dict[str, str] = {}
    for item in ratings:
        dim, scale = item["dimension"], item["scale"]
        if scale_of.setdefault(dim, scale) != scale:
            errors.add(f"ratings: dimension {dim!r} uses scales {scale_of[dim]!r} and "
                       f"{scale!r}", column=item["column"])
    levels = _levels("dimensions", list(scale_of), section.get("dimensions"), errors)
    roles = {e["id"]: e["role"] for e in _entries(section.get("dimensions")) if "role" in e}
    if not roles:
        roles = _derived_roles(scale_of)
    outcomes = [d for d, r in roles.items() if r == "outcome"]
    if len(outcomes) > 1:
        errors.add(f"study.dimensions: more than one outcome dimension: {', '.join(outcomes)}")
    return [Dimension(lv.id, lv.label, roles.get(lv.id, "similarity"), scale_of.get(lv.id, ""),
                      lv.description) for lv in levels]


def _derived_roles(scale_of: dict[str, str]) -> dict[str, str]:
    """With no declared roles: a dimension alone on its scale while every other dimension
    shares one other scale is the outcome; all others are similarity dimensions."""
    by_scale: dict[str, list[str]] = {}
    for dim, scale in scale_of.items():
        by_scale.setdefault(scale, []).append(dim)
    sizes = sorted(len(v) for v in by_scale.values())
    if len(by_scale) == 2 and sizes[0] == 1 and sizes[1] >= 2:
        outcome = next(v[0] for v in by_scale.values() if len(v) == 1)
        return {d: "outcome" if d == outcome else "similarity" for d in scale_of}
    return {d: "similarity" for d in scale_of}


def _choice_ids(instrument: dict) -> list[str]:
    """Choice ids of the label maps, then those given to typed ``other_text`` answers."""
    items = instrument.get("choices", [])
    return _first_seen([*(v for item in items for v in item["labels"].values()),
                        *(item["other_text"]["choice"] for item in items if "other_text" in item)])


def _other(instrument: dict, section: dict, rated: list[str], errors: _Errors) -> Level | None:
    """The free ("other") choice option: declared, or the one choice id no rating uses."""
    chosen = _choice_ids(instrument)
    if "other_choice" in section:
        entry = _entries([section["other_choice"]])[0]
        if entry["id"] not in chosen:
            errors.add(f"study.other_choice: {entry['id']!r} is no choice option")
        return Level(entry["id"], entry.get("label", entry["id"]), entry.get("description", ""))
    unrated = [c for c in chosen if c not in rated]
    return Level(unrated[0], unrated[0]) if len(unrated) == 1 and rated else None


def _demographics(instrument: dict, scales: dict[str, Scale], labels: dict) -> list[Demographic]:
    out = []
    for item in instrument.get("demographics", []):
        var, scale = item["variable"], item.get("scale")
        options = scales[scale].labels if scale in scales else tuple(item.get("options", ()))
        out.append(Demographic(var, labels.get(var, var), scale, options,
                               bool(item.get("multiple"))))
    return out


def _unset(item, name: str, value) -> bool:
    """A field left at what derivation gives: empty, or a label equal to the item's id."""
    key = getattr(item, "id", getattr(item, "variable", None))
    return value in ("", None, ()) or (name == "label" and value == key)


def _combined(field: str, key, a, b):
    """``a`` completed by ``b`` field by field; a field both set differently is an error."""
    if a == b or not is_dataclass(a):
        if a != b:
            raise InputError("study", f"waves disagree on {field} {key!r}: {a!r} vs {b!r}")
        return a
    values = {}
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x != y and not (_unset(a, f.name, x) or _unset(b, f.name, y)):
            raise InputError("study", f"waves disagree on {field} {key!r}: {f.name} "
                             f"{x!r} vs {y!r}")
        values[f.name] = y if _unset(a, f.name, x) else x
    return replace(a, **values)


def _merged(field: str, parts: list[list], key) -> list:
    """Union of ``parts`` in order of first appearance; an id described differently in two
    waves (other than one leaving a label or description unset) is an error naming ``field``
    and the id."""
    out: dict = {}
    for part in parts:
        for item in part:
            k = key(item)
            out[k] = _combined(field, k, out[k], item) if k in out else item
    return list(out.values())


@dataclass(frozen=True)
class Study:
    """A survey's vocabulary; see the module docstring."""

    title: str
    case_studies: tuple[Level, ...]
    sources: tuple[Level, ...]
    other_choice: Level | None
    dimensions: tuple[Dimension, ...]
    scales: dict
    factors: tuple[Level, ...] = ()
    factor_scale: str | None = None
    attention_checks: int = 0
    demographics: tuple[Demographic, ...] = ()
    labels: dict | None = None  # display labels of further ids (e.g. demographic variables)

    # ---- derived views -------------------------------------------------------------------
    @property
    def similarity_dimensions(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions if d.role == "similarity")

    @property
    def outcome(self) -> str | None:
        return next((d.id for d in self.dimensions if d.role == "outcome"), None)

    @property
    def case_study_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.case_studies)

    @property
    def source_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sources)

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    @property
    def factor_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.factors)

    @property
    def choice_ids(self) -> tuple[str, ...]:
        """Listed sources then the other option: every value a choice may take."""
        return self.source_ids + ((self.other_choice.id,) if self.other_choice else ())

    @property
    def multiple_choice(self) -> dict[str, tuple[str, ...]]:
        """Multi-select demographic variables with their options in display order."""
        return {d.variable: d.options for d in self.demographics if d.multiple}

    def dimension(self, id: str) -> Dimension:
        return next(d for d in self.dimensions if d.id == id)

    def dimension_scale(self, id: str) -> Scale | None:
        """The scale of dimension ``id`` (None when the dimension or scale is unknown)."""
        found = [d.scale for d in self.dimensions if d.id == id]
        return self.scales.get(found[0]) if found else None

    @property
    def colors(self) -> dict[str, str]:
        """Hex colour per source, case study and the other option, by order from
        :data:`PALETTE` (sources first); grey for the other option."""
        ids = [*self.source_ids, *self.case_study_ids]
        out = {i: PALETTE[n % len(PALETTE)] for n, i in enumerate(ids)}
        if self.other_choice:
            out[self.other_choice.id] = OTHER_COLOR
        return out

    def color(self, id: str) -> str:
        """Colour of a source, case study or the other option (grey for anything else)."""
        return self.colors.get(id, OTHER_COLOR)

    def label(self, id) -> str:
        """Display label of any id of the study, falling back to the id itself."""
        id = str(id)
        for level in (*self.case_studies, *self.sources, *self.dimensions, *self.factors,
                      *([self.other_choice] if self.other_choice else [])):
            if level.id == id:
                return level.label
        for demographic in self.demographics:
            if demographic.variable == id:
                return demographic.label
        return (self.labels or {}).get(id, id)

    # ---- construction --------------------------------------------------------------------
    @classmethod
    def from_instrument(cls, instrument: dict, path="instrument",
                        problems: list | None = None) -> Study:
        """Derive the study from an instrument map (its ``study:`` section plus its items).

        Raises
        ------
        InputError
            A declared id no item uses, a used id missing from a declared list, a dimension on
            two scales, more than one outcome (unless ``problems`` collects them).
        """
        errors = _Errors(path, problems)
        section = instrument.get("study", {}) or {}
        ratings = instrument.get("ratings", [])
        rated = _first_seen(item["source"] for item in ratings)
        cases = _first_seen([*(i["case_study"] for i in ratings),
                             *(i["case_study"] for i in instrument.get("choices", [])),
                             *(i.get("case_study") for i in instrument.get("texts", []))])
        other = _other(instrument, section, rated, errors)
        other_id = () if other is None else (other.id,)
        for i, item in enumerate(instrument.get("choices", [])):
            typed = item.get("other_text", {}).get("choice")
            if typed is not None and typed not in other_id:
                errors.add(f"choices[{i}].other_text.choice: {typed!r} is not the other option "
                           f"({other_id[0] if other_id else 'none: every choice id is rated'})")
        sources = _first_seen([*rated, *(c for c in _choice_ids(instrument) if c not in other_id)])
        factor_items = instrument.get("factors", [])
        factor_scales = _first_seen(item["scale"] for item in factor_items)
        if len(factor_scales) > 1:
            errors.add(f"factors: more than one scale ({', '.join(factor_scales)})")
        scales = _scales(instrument, section, errors)
        labels = {str(k): str(v) for k, v in (section.get("labels") or {}).items()}
        return cls(
            title=section.get("title", DEFAULT_TITLE),
            case_studies=tuple(_levels("case_studies", cases, section.get("case_studies"),
                                       errors)),
            sources=tuple(_levels("sources", sources, section.get("sources"), errors)),
            other_choice=other,
            dimensions=tuple(_dimensions(instrument, section, errors)),
            scales=scales,
            factors=tuple(_levels("factors", _first_seen(i["factor"] for i in factor_items),
                                  section.get("factors"), errors)),
            factor_scale=factor_scales[0] if factor_scales else None,
            attention_checks=len(instrument.get("attention_checks", [])),
            demographics=tuple(_demographics(instrument, scales, labels)),
            labels=labels,
        )

    @classmethod
    def merge(cls, studies: list[Study]) -> Study:
        """One study across waves: union of ids in order of first appearance.

        Raises
        ------
        InputError
            Waves describing the same id differently (label, role, scale, codes), naming the
            field and the id.
        """
        if not studies:
            raise InputError("study", "no study to merge")

        def one(field, unset=None):
            values = _first_seen(getattr(s, field) for s in studies)
            values = [v for v in values if v != unset] or values
            if len(values) > 1:
                raise InputError("study", f"waves disagree on {field}: {values}")
            return values[0] if values else None

        def union(field, key=lambda x: x.id):
            return tuple(_merged(field, [list(getattr(s, field)) for s in studies], key))

        others = _merged("other_choice", [[s.other_choice] for s in studies if s.other_choice],
                         lambda x: "other_choice")
        scales = _merged("scales", [list(s.scales.values()) for s in studies], lambda x: x.name)
        labels = _merged("labels", [list((s.labels or {}).items()) for s in studies],
                         lambda x: x[0])
        return cls(
            title=one("title", DEFAULT_TITLE),
            case_studies=union("case_studies"),
            sources=union("sources"),
            other_choice=others[0] if others else None,
            dimensions=union("dimensions"),
            scales={s.name: s for s in scales},
            factors=union("factors"),
            factor_scale=one("factor_scale"),
            attention_checks=max(s.attention_checks for s in studies),
            demographics=union("demographics", key=lambda x: x.variable),
            labels=dict(labels),
        )

    # ---- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain-JSON form (the ``study.json`` contents; ``colors`` is informative)."""

        def level(x):
            return {"id": x.id, "label": x.label, "description": x.description}

        return {
            "title": self.title,
            "case_studies": [level(c) for c in self.case_studies],
            "sources": [level(s) for s in self.sources],
            "other_choice": level(self.other_choice) if self.other_choice else None,
            "dimensions": [{**level(d), "role": d.role, "scale": d.scale}
                           for d in self.dimensions],
            "scales": {n: {"codes": list(s.codes), "labels": list(s.labels),
                           "direction": s.direction} for n, s in self.scales.items()},
            "factors": [level(f) for f in self.factors],
            "factor_scale": self.factor_scale,
            "attention_checks": self.attention_checks,
            "demographics": [{"variable": d.variable, "label": d.label, "scale": d.scale,
                              "options": list(d.options), "multiple": d.multiple}
                             for d in self.demographics],
            "labels": dict(self.labels or {}),
            "colors": self.colors,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Study:
        """Inverse of :meth:`to_dict`."""

        def level(x):
            return Level(x["id"], x["label"], x.get("description", ""))

        return cls(
            title=d["title"],
            case_studies=tuple(level(c) for c in d["case_studies"]),
            sources=tuple(level(s) for s in d["sources"]),
            other_choice=level(d["other_choice"]) if d.get("other_choice") else None,
            dimensions=tuple(Dimension(x["id"], x["label"], x["role"], x["scale"],
                                       x.get("description", "")) for x in d["dimensions"]),
            scales={n: Scale(n, tuple(s["codes"]), tuple(s["labels"]),
                             s.get("direction", "ascending")) for n, s in d["scales"].items()},
            factors=tuple(level(f) for f in d.get("factors", [])),
            factor_scale=d.get("factor_scale"),
            attention_checks=int(d.get("attention_checks", 0)),
            demographics=tuple(Demographic(x["variable"], x["label"], x.get("scale"),
                                           tuple(x.get("options", ())),
                                           bool(x.get("multiple", False)))
                               for x in d.get("demographics", [])),
            labels=dict(d.get("labels", {})),
        )

    def save(self, path) -> Path:
        """Write ``study.json`` (sorted keys, byte-identical for the same study)."""
        from tlsurvey.io import write_text  # pandas: not needed while Snakemake parses

        return write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True,
                                     ensure_ascii=False) + "\n", path)

    @classmethod
    def from_instrument_files(cls, paths) -> Study:
        """The study described by the instrument maps ``paths`` (one per wave), merged; each map
        is checked against the instrument schema (ingest checks the rest)."""
        from tlsurvey.config import load_yaml, validate

        studies = []
        for path in paths:
            instrument = load_yaml(path)
            validate(instrument, "instrument", path)
            studies.append(cls.from_instrument(instrument, path))
        return cls.merge(studies)

    @classmethod
    def load(cls, path) -> Study:
        """Read a ``study.json`` written by :meth:`save`."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise InputError(path, "file not found") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(path, f"not a study description: {exc}") from None
