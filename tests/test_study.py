"""The study description: derived from instrument maps, declared, merged, round-tripped."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from tlsurvey.errors import InputError
from tlsurvey.study import OTHER_COLOR, PALETTE, Study

ROOT = Path(__file__).resolve().parents[1]
FIVE = {f"s{i}": i for i in range(1, 6)}
SEVEN = {f"p{i}": i for i in range(1, 8)}


def follow_up(study_section=None) -> dict:
    """The issue's follow-up design: two case studies, four sources, three similarity
    dimensions on a 5-point scale, expected performance on a 7-point scale, an "other" choice."""
    cases, sources = ["derm", "fundus"], ["in21k", "radimagenet", "medsam", "ecoset"]
    ratings = [
        {"column": f"{c}_{s}_{d}", "case_study": c, "source": s, "dimension": d,
         "scale": "perf" if d == "expected" else "sim"}
        for c in cases for s in sources for d in ("visual", "semantic", "embedding", "expected")
    ]
    labels = {s.upper(): s for s in sources} | {"Other (please specify)": "other"}
    doc = {
        "metadata": {"response_id": "id"},
        "scales": {"sim": FIVE, "perf": SEVEN, "years": {"<1": 1, "1-5": 2, ">5": 3}},
        "demographics": [{"column": "q1", "variable": "ml_years", "scale": "years"},
                         {"column": "q2", "variable": "role"}],
        "ratings": ratings,
        "choices": [{"column": f"{c}_choice", "case_study": c, "labels": labels} for c in cases],
    }
    if study_section is not None:
        doc["study"] = study_section
    return doc


def test_derived_from_items_in_order_of_first_appearance():
    study = Study.from_instrument(follow_up())
    assert [c.id for c in study.case_studies] == ["derm", "fundus"]
    assert study.source_ids == ("in21k", "radimagenet", "medsam", "ecoset")
    assert study.other_choice.id == "other"  # the one choice option no rating uses
    assert study.similarity_dimensions == ("visual", "semantic", "embedding")
    assert study.outcome == "expected"  # alone on its scale
    assert study.label("medsam") == "medsam" and study.label("unknown_id") == "unknown_id"
    perf = study.dimension_scale("expected")
    assert (perf.low, perf.high, perf.codes) == (1, 7, tuple(range(1, 8)))
    assert perf.labels == tuple(SEVEN) and perf.direction == "ascending"
    assert study.factors == () and study.factor_scale is None and study.attention_checks == 0
    years = next(d for d in study.demographics if d.variable == "ml_years")
    assert years.options == ("<1", "1-5", ">5")


def test_declared_section_sets_labels_order_roles_and_scale_display():
    section = {
        "title": "Follow-up",
        "case_studies": [{"id": "fundus", "label": "Fundus", "description": "retina"}, "derm"],
        "sources": [{"id": "ecoset", "label": "Ecoset"}, "in21k", "radimagenet",
                    {"id": "medsam", "label": "MedSAM pre-training"}],
        "other_choice": {"id": "other", "label": "Other"},
        "dimensions": [{"id": "visual", "role": "similarity", "label": "Visual"},
                       {"id": "semantic", "role": "similarity"},
                       {"id": "embedding", "role": "outcome"},
                       {"id": "expected", "role": "similarity"}],
        "scales": {"perf": {"direction": "descending", "labels": list("abcdefg")}},
        "labels": {"role": "Role"},
    }
    study = Study.from_instrument(follow_up(section))
    assert study.title == "Follow-up"
    assert study.case_study_ids == ("fundus", "derm")
    assert study.case_studies[0].description == "retina"
    assert study.source_ids[0] == "ecoset" and study.label("medsam") == "MedSAM pre-training"
    assert study.outcome == "embedding"
    assert study.similarity_dimensions == ("visual", "semantic", "expected")
    assert study.scales["perf"].labels == tuple("abcdefg")
    assert study.scales["perf"].direction == "descending"
    assert study.label("role") == "Role" and study.label("other") == "Other"


def test_problems_are_collected_not_just_the_first():
    section = {"case_studies": ["derm"], "sources": ["in21k", "radimagenet", "medsam", "ecoset",
                                                      "typo"],
               "scales": {"nope": {"direction": "ascending"}}}
    problems = []
    Study.from_instrument(follow_up(section), "map.yaml", problems)
    messages = [str(p) for p in problems]
    assert any("'fundus' is used by an item but not declared" in m for m in messages)
    assert any("'typo' is declared but no item uses it" in m for m in messages)
    assert any("'nope' is not a scale" in m for m in messages)
    assert all(m.startswith("map.yaml: ") for m in messages) and len(messages) == 3
    with pytest.raises(InputError, match=re.escape(messages[0].split(": ", 1)[1])):
        Study.from_instrument(follow_up(section), "map.yaml")


def test_dimension_on_two_scales_and_two_outcomes_are_errors():
    doc = follow_up()
    doc["ratings"][0]["scale"] = "perf"
    with pytest.raises(InputError, match="dimension 'visual' uses scales"):
        Study.from_instrument(doc)
    two = {"dimensions": [{"id": d, "role": "outcome"} for d in
                          ("visual", "semantic", "embedding", "expected")]}
    with pytest.raises(InputError, match="more than one outcome"):
        Study.from_instrument(follow_up(two))


def test_colours_by_order_from_one_palette_other_grey():
    study = Study.from_instrument(follow_up())
    colours = study.colors
    ordered = [*study.source_ids, *study.case_study_ids]
    assert [colours[i] for i in ordered] == list(PALETTE[: len(ordered)])
    assert len(set(colours[i] for i in ordered)) == len(ordered)
    assert study.color("other") == OTHER_COLOR and study.color("nothing") == OTHER_COLOR


def test_json_round_trip_is_byte_identical(tmp_path):
    study = Study.from_instrument(follow_up({"sources": ["medsam", "in21k", "radimagenet",
                                                          "ecoset"]}))
    first = study.save(tmp_path / "a" / "study.json")
    again = Study.load(first)
    assert again == study
    second = again.save(tmp_path / "b.json")
    assert first.read_bytes() == second.read_bytes()
    assert Study.from_dict(study.to_dict()) == study


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        Study.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "x"}')
    with pytest.raises(InputError, match="bad.json: not a study description"):
        Study.load(bad)


def test_merge_unions_waves_and_names_the_disagreeing_field():
    first = Study.from_instrument(follow_up({"sources": [{"id": "in21k", "label": "IN-21k"},
                                                         "radimagenet", "medsam", "ecoset"]}))
    doc = follow_up()
    doc["ratings"] = [r for r in doc["ratings"] if r["source"] != "medsam"] + [
        {**r, "column": r["column"] + "x", "source": "extra"} for r in doc["ratings"]
        if r["source"] == "medsam"]
    for item in doc["choices"]:
        item["labels"] = {**item["labels"], "EXTRA": "extra"}
        del item["labels"]["MEDSAM"]
    second = Study.from_instrument(doc)
    merged = Study.merge([first, second])
    assert merged.source_ids == ("in21k", "radimagenet", "medsam", "ecoset", "extra")
    assert merged.label("in21k") == "IN-21k"  # the undeclared label of wave 2 defers
    assert Study.merge([first]) == first

    relabelled = Study.from_instrument(follow_up({"sources": [
        {"id": "in21k", "label": "ImageNet-21k"}, "radimagenet", "medsam", "ecoset"]}))
    with pytest.raises(InputError, match="waves disagree on sources 'in21k': label"):
        Study.merge([first, relabelled])
    rescaled = copy.deepcopy(follow_up())
    rescaled["scales"]["perf"] = FIVE
    with pytest.raises(InputError, match="waves disagree on scales 'perf'"):
        Study.merge([first, Study.from_instrument(rescaled)])


def test_example_instrument_derives_the_published_design():
    doc = yaml.safe_load((ROOT / "config" / "instrument.yaml").read_text())
    study = Study.from_instrument(doc)
    assert (len(study.case_studies), len(study.sources), len(study.dimensions)) == (2, 3, 5)
    assert len(study.similarity_dimensions) == 4 and study.outcome is not None
    assert len(study.factors) == 6 and study.attention_checks == 1
    assert study.other_choice is None
    # colours of the example kept from the former fixed theme (orange, blue, green)
    assert [study.color(s) for s in study.source_ids] == ["#E69F00", "#0072B2", "#009E73"]
