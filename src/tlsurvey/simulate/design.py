"""Simulate a survey of another design: its own case studies, sources, dimensions and scales.

``tlsurvey simulate --design FILE`` reads a design (YAML, see ``config/designs/``) and writes a
Qualtrics CSV export, the instrument map that reads it (with a ``study:`` section) and the
planted truth. The generative model:

- each case study x source x similarity dimension has a latent similarity ``mu`` (seeded,
  uniform on the scale); a participant's rating is ``mu`` plus N(0, 0.6) noise, rounded into
  the scale;
- the outcome (expected performance) follows a cumulative logit model on the similarity
  ratings (centred at the scale midpoint) with slopes ``beta`` (``effects.json``), a random
  participant intercept N(0, 0.5) and thresholds evenly spaced over the outcome scale;
- the chosen source is the one with the highest expected performance (ties: the first), or the
  other option with probability ``other_share``;
- each case study's rationale plants one or two codes of the codebook (``text_codes.csv``).

The export has the usual mess: one survey preview and one unfinished response (both excluded
by ingest) and skipped ratings.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from tlsurvey.errors import InputError
from tlsurvey.io import write_table, write_text
from tlsurvey.simulate import text
from tlsurvey.simulate.writers import _delimited, as_text

META = [  # short name, question text, ImportId
    ("StartDate", "Start Date", "startDate"),
    ("EndDate", "End Date", "endDate"),
    ("Status", "Response Type", "status"),
    ("IPAddress", "IP Address", "ipAddress"),
    ("Progress", "Progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration"),
    ("Finished", "Finished", "finished"),
    ("ResponseId", "Response ID", "_recordId"),
]
SIMILARITY_NOISE = 0.6
INTERCEPT_SD = 0.5
SKIP_RATE = 0.02
ROLES = ["Student", "Researcher", "Engineer"]


def load_design(path) -> dict:
    """Read a design file and fill its defaults (points 5, role similarity, label = id)."""
    path = Path(path)
    try:
        design = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    for key in ("case_studies", "sources", "dimensions"):
        if not design.get(key):
            raise InputError(path, f"design needs a non-empty `{key}` list")
    for section in ("case_studies", "sources", "dimensions", "factors"):
        design[section] = [{"id": e} if isinstance(e, str) else dict(e)
                           for e in design.get(section) or []]
        for entry in design[section]:
            entry.setdefault("label", entry["id"])
    for dim in design["dimensions"]:
        dim.setdefault("role", "similarity")
        dim.setdefault("points", 5)
    if len(design["sources"]) < 2:
        raise InputError(path, "design needs at least two sources")
    if sum(d["role"] == "outcome" for d in design["dimensions"]) > 1:
        raise InputError(path, "design has more than one outcome dimension")
    return design


def _scale(points: int) -> list[str]:
    """Labels of a ``points``-point scale: ``1 (lowest)``, ``2``, ..., ``N (highest)``."""
    return ["1 (lowest)", *map(str, range(2, points)), f"{points} (highest)"]


def _columns(design: dict) -> list[dict]:
    """Every answer column: key, import id, short name, question, sub-question, item entry."""
    cols, q = [], 1
    if design.get("demographics", True):
        cols.append({"key": "role", "qid": "QID1", "question": "What is your current role?",
                     "section": "demographics", "entry": {"variable": "role"}})
    q = 2
    for case in design["case_studies"]:
        for source in design["sources"]:
            for i, dim in enumerate(design["dimensions"], start=1):
                cols.append({
                    "key": f"{case['id']}.{source['id']}.{dim['id']}", "qid": f"QID{q}_{i}",
                    "question": f"{case['label']} and {source['label']}: rate the following",
                    "sub": dim["label"], "section": "ratings",
                    "entry": {"case_study": case["id"], "source": source["id"],
                              "dimension": dim["id"], "scale": f"points{dim['points']}"}})
            q += 1
        cols.append({"key": f"choice.{case['id']}", "qid": f"QID{q}",
                     "question": f"{case['label']}: which source would you choose?",
                     "section": "choices", "entry": {"case_study": case["id"]}})
        cols.append({"key": f"rationale.{case['id']}", "qid": f"QID{q + 1}_TEXT",
                     "question": f"{case['label']}: why?", "section": "texts",
                     "entry": {"field": "rationale", "case_study": case["id"]}})
        q += 2
    if design.get("attention_check"):
        cols.append({"key": "attention", "qid": f"QID{q}", "section": "attention_checks",
                     "question": "Attention check: please select the middle answer.",
                     "entry": {"expected": _middle(design)}})
        q += 1
    for i, factor in enumerate(design["factors"], start=1):
        cols.append({"key": f"factor.{factor['id']}", "qid": f"QID{q}_{i}",
                     "question": "How important are these factors?", "sub": factor["label"],
                     "section": "factors", "entry": {"factor": factor["id"],
                                                     "scale": "points5"}})
    return cols


def _middle(design: dict) -> int:
    points = design["dimensions"][0]["points"]
    return (points + 1) // 2


def instrument(design: dict) -> dict:
    """The instrument map reading the simulated export, with the design's ``study:`` section."""
    points = sorted({d["points"] for d in design["dimensions"]} | {5})
    section = {k: design[k] for k in ("title",) if k in design}
    section |= {
        "case_studies": [_level(c) for c in design["case_studies"]],
        "sources": [_level(s) for s in design["sources"]],
        "dimensions": [{**_level(d), "role": d["role"]} for d in design["dimensions"]],
    }
    if design["factors"]:
        section["factors"] = [_level(f) for f in design["factors"]]
    other = design.get("other_choice")
    if other:
        section["other_choice"] = _level(other)
    doc = {
        "platform": "qualtrics",
        "study": section,
        "metadata": {"response_id": "_recordId", "start": "startDate", "duration": "duration",
                     "progress": "progress", "finished": "finished", "status": "status"},
        "identifiers": ["ipAddress"],
        "scales": {f"points{n}": {label: i for i, label in enumerate(_scale(n), 1)}
                   for n in points},
        "ratings": [], "choices": [], "texts": [],
    }
    labels = {s["label"]: s["id"] for s in design["sources"]}
    if other:
        labels[other.get("text", other["label"])] = other["id"]
    for col in _columns(design):
        entry = {"column": col["qid"], **col["entry"]}
        if col["section"] == "choices":
            entry["labels"] = labels
        doc.setdefault(col["section"], []).append(entry)
    return doc


def _level(entry: dict) -> dict:
    return {k: entry[k] for k in ("id", "label", "description") if k in entry}


def effects(design: dict, seed: int) -> dict:
    """Planted slopes of the outcome on each similarity dimension and the thresholds."""
    rng = np.random.default_rng(seed)
    similarity = [d for d in design["dimensions"] if d["role"] == "similarity"]
    outcome = next((d for d in design["dimensions"] if d["role"] == "outcome"), None)
    beta = {d["id"]: round(float(rng.uniform(0.3, 0.9)), 3) for d in similarity}
    points = outcome["points"] if outcome else 0
    thresholds = [round(float(t), 3) for t in np.linspace(-2.5, 2.5, points - 1)] if points else []
    return {"beta": beta, "thresholds": thresholds, "intercept_sd": INTERCEPT_SD,
            "outcome": outcome["id"] if outcome else None}


def simulate_design(design: dict, n_participants: int, seed: int, wave: str) -> dict:
    """Responses (one dict per export row, keyed by column key) and the planted truth."""
    rng = np.random.default_rng(seed)
    truth = effects(design, seed + 1)
    dims = {d["id"]: d for d in design["dimensions"]}
    similarity = [d for d in dims if dims[d]["role"] == "similarity"]
    mu = {(c["id"], s["id"], d): rng.uniform(1, dims[d]["points"])
          for c in design["case_studies"] for s in design["sources"] for d in similarity}
    other = design.get("other_choice")
    other_share = float(design.get("other_share", 0.1 if other else 0.0))
    codes = [c for c in text.PHRASES if c != "fairness_ethics"]
    start = datetime(2026, 3, 2, 9, 0, 0) + timedelta(days=seed % 30)
    rows, participants, text_codes = [], [], []
    for i in range(n_participants + 2):
        rid = f"R_{wave}{seed:03d}{i:04d}"
        u = rng.normal(0, INTERCEPT_SD)
        began = start + timedelta(minutes=int(rng.integers(5, 600)) + 45 * i)
        duration = float(rng.uniform(300, 900))
        row = {"start": began, "end": began + timedelta(seconds=duration), "status": "IP Address",
               "ip": f"10.0.{i // 250}.{i % 250}", "progress": 100, "duration": round(duration),
               "finished": True, "response_id": rid, "role": ROLES[i % len(ROLES)]}
        if i == n_participants:
            row["status"] = "Survey Preview"
        if i == n_participants + 1:
            row |= {"progress": 40, "finished": False}
        for case in design["case_studies"]:
            expected = {}
            for source in design["sources"]:
                key = f"{case['id']}.{source['id']}"
                sims = {}
                for d in similarity:
                    value = mu[(case["id"], source["id"], d)] + rng.normal(0, SIMILARITY_NOISE)
                    sims[d] = int(np.clip(np.rint(value), 1, dims[d]["points"]))
                    row[f"{key}.{d}"] = sims[d]
                if truth["outcome"]:
                    eta = u + sum(truth["beta"][d] * (sims[d] - (dims[d]["points"] + 1) / 2)
                                  for d in similarity)
                    cum = 1 / (1 + np.exp(-(np.array(truth["thresholds"]) - eta)))
                    probs = np.diff(np.concatenate([[0.0], cum, [1.0]]))
                    value = int(rng.choice(len(probs), p=probs / probs.sum())) + 1
                    row[f"{key}.{truth['outcome']}"] = expected[source["id"]] = value
            for key in [k for k in row if k.startswith(f"{case['id']}.")]:
                if rng.random() < SKIP_RATE:
                    row[key] = None
            ids = [s["id"] for s in design["sources"]]
            best = max(ids, key=lambda s: expected.get(s, 0)) if expected else \
                ids[int(rng.integers(len(ids)))]
            chosen = other["id"] if other and rng.random() < other_share else best
            labels = {s["id"]: s["label"] for s in design["sources"]}
            if other:
                labels[other["id"]] = other.get("text", other["label"])
            row[f"choice.{case['id']}"] = labels[chosen]
            planted = list(rng.choice(codes, size=int(rng.integers(1, 3)), replace=False))
            row[f"rationale.{case['id']}"] = text.compose(rng, planted)[0]
            text_codes += [{"wave": wave, "response_id": rid, "field": "rationale",
                            "case_study": case["id"], "code": c} for c in planted]
        if design.get("attention_check"):
            row["attention"] = _middle(design)
        for factor in design["factors"]:
            row[f"factor.{factor['id']}"] = int(rng.integers(1, 6))
        rows.append(row)
        participants.append({"response_id": rid, "kept": i < n_participants,
                             "intercept": round(float(u), 6)})
    counts = {"raw_rows": len(rows), "kept": n_participants,
              "exclusions": {"preview": 1, "unfinished": 1}}
    return {"rows": rows, "effects": truth, "participants": pd.DataFrame(participants),
            "text_codes": pd.DataFrame(text_codes), "counts": counts}


def _export_rows(design: dict, rows: list[dict]) -> list[list[str]]:
    cols = _columns(design)
    scale = {c["key"]: _scale(int(c["entry"]["scale"][6:]))
             for c in cols if "scale" in c["entry"]}
    head = [[m[0] for m in META] + [c["qid"].replace("QID", "Q") for c in cols],
            [m[1] for m in META] + [c["question"] + (f" - {c['sub']}" if c.get("sub") else "")
                                    for c in cols],
            [json.dumps({"ImportId": m[2]}, separators=(",", ":")) for m in META]
            + [json.dumps({"ImportId": c["qid"]}, separators=(",", ":")) for c in cols]]
    keys = ["start", "end", "status", "ip", "progress", "duration", "finished", "response_id"]
    body = []
    for row in rows:
        cells = [as_text(row.get(k)) for k in keys]
        for c in cols:
            value = row.get(c["key"])
            if c["key"] in scale and value is not None:
                value = scale[c["key"]][value - 1]
            cells.append(as_text(value))
        body.append(cells)
    return head + body


def simulate(design_path, n_participants: int, seed: int, wave: str, out) -> list[Path]:
    """Write ``out/<wave>.csv`` (Qualtrics CSV), ``out/instrument.yaml`` and
    ``out/truth/<wave>/`` (effects.json, counts.json, participants.csv, text_codes.csv)."""
    design, out = load_design(design_path), Path(out)
    sim = simulate_design(design, n_participants, seed, wave)
    head = f"# Instrument map for a survey simulated from {Path(design_path).name}.\n"
    paths = [_delimited(_export_rows(design, sim["rows"]), out / f"{wave}.csv"),
             write_text(head + yaml.safe_dump(instrument(design), sort_keys=False,
                                              allow_unicode=True, width=100),
                        out / "instrument.yaml")]
    truth = out / "truth" / wave
    for name in ("participants", "text_codes"):
        paths.append(write_table(sim[name], truth / f"{name}.csv"))
    for name in ("effects", "counts"):
        paths.append(write_text(json.dumps(sim[name], indent=2) + "\n", truth / f"{name}.json"))
    return paths
