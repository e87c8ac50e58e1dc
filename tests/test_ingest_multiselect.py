"""Multi-select questions (``multiple: true``): parsed, validated, counted per option."""

import csv
import io
import re

import pandas as pd
import pytest
import yaml

from tlsurvey import descriptives, ingest, simulate
from tlsurvey.errors import InputError
from tlsurvey.figures.sample import demographics as demographics_figure
from tlsurvey.ingest.mapping import parse_multiple

PUBLIC = {"public_example_salt": True, "salt_env": "TLSURVEY_TEST_NO_SUCH_VAR",
          "salt_file": "/nonexistent/salt"}
OPTIONS = ["CT", "MRI", "X-ray, plain film", "Histology"]
QUESTION = "Which modalities do you work with?"


@pytest.mark.parametrize("cell, expected", [
    ("MRI, CT", "CT; MRI"),  # Google Forms order and spacing; canonical option order out
    ("CT,X-ray, plain film", "CT; X-ray, plain film"),  # an option containing a comma
    ("histology", "Histology"),  # case-insensitive
    ("2,4", "MRI; Histology"),  # Qualtrics numeric values: 1-based option numbers
    ("  ", None),
])
def test_parse_multiple(cell, expected):
    assert parse_multiple(cell, OPTIONS) == expected


def test_unknown_option_is_an_error():
    with pytest.raises(ValueError, match="unknown option 'PET'"):
        parse_multiple("CT, PET", OPTIONS)


@pytest.fixture()
def export(tmp_path):
    """A simulated Google Forms export with a multi-select column added, and its map."""
    paths = simulate.simulate(10, 3, "w1", tmp_path, "google-forms")
    path = next(p for p in paths if p.name == "w1.csv")
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    answers = ["MRI, CT", "Histology", "", "X-ray, plain film, CT"]
    rows[0].append(QUESTION)
    for i, row in enumerate(rows[1:]):
        row.append(answers[i % len(answers)])
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    instrument = yaml.safe_load((tmp_path / "instrument.yaml").read_text())
    instrument["demographics"].append(
        {"column": QUESTION, "variable": "modalities", "multiple": True, "options": OPTIONS})
    (tmp_path / "instrument.yaml").write_text(yaml.safe_dump(instrument, sort_keys=False))
    return path, tmp_path / "instrument.yaml", answers, rows


def test_multiselect_through_ingest_descriptives_and_figure(export):
    path, instrument, answers, rows = export
    tables = ingest.combine([ingest.ingest_wave(path, "w1", instrument, PUBLIC)])
    responses = tables["responses"]
    parsed = [parse_multiple(a, OPTIONS) for a in answers]
    assert set(responses["modalities"].dropna()) <= {p for p in parsed if p}
    demo = descriptives.demographics(responses, {"modalities": OPTIONS})
    demo = demo.query("wave == 'all' and variable == 'modalities'").set_index("level")
    chosen = responses["modalities"].dropna().str.split("; ").explode().value_counts()
    skipped = int(responses["modalities"].isna().sum())
    assert demo["n"].drop("(skipped)").to_dict() == chosen.to_dict()
    assert demo.loc["(skipped)", "n"] == skipped
    assert demo["pct"].to_dict() == pytest.approx((100 * demo["n"] / len(responses)).to_dict(),
                                                  abs=1e-4)
    assert list(demo.index) == [o for o in OPTIONS if o in chosen] + ["(skipped)"]
    fig = demographics_figure(responses, tables["study"])
    bars = {b.get_gid(): b.get_width() for ax in fig.axes for b in ax.patches if b.get_gid()}
    assert bars["modalities/CT"] == chosen["CT"]
    assert not any("; " in gid for gid in bars)


def test_unknown_option_names_file_row_and_column(export):
    path, instrument, _, rows = export
    rows[3][-1] = "CT, PET"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    before = io.StringIO()
    csv.writer(before).writerows(rows[:3])  # free text may span lines: rows are file lines
    line = before.getvalue().count("\n") + 1
    message = f"w1.csv:row {line}:column {QUESTION}: unknown option 'PET'"
    with pytest.raises(InputError, match=re.escape(message)):
        ingest.ingest_wave(path, "w1", instrument, PUBLIC)


def test_multiple_needs_options(export):
    path, instrument, _, _ = export
    spec = yaml.safe_load(instrument.read_text())
    del spec["demographics"][-1]["options"]
    instrument.write_text(yaml.safe_dump(spec, sort_keys=False))
    with pytest.raises(InputError, match="multi-select item needs"):
        ingest.ingest_wave(path, "w1", instrument, PUBLIC)


def test_pct_of_single_choice_variables_unchanged(export):
    path, instrument, _, _ = export
    responses = ingest.combine([ingest.ingest_wave(path, "w1", instrument, PUBLIC)])["responses"]
    demo = descriptives.demographics(responses.drop(columns="modalities"))
    sums = demo.groupby(["wave", "variable"])["pct"].sum()
    assert sums.to_numpy() == pytest.approx(100.0, abs=1e-3)
    assert isinstance(demo, pd.DataFrame)
