"""Simulated coder sheets double-code a sample of at most CODED_PARTICIPANTS participants."""

import pandas as pd

from tlsurvey.simulate import simulate_wave
from tlsurvey.simulate import text as phrases
from tlsurvey.simulate.instrument import TEXT_KEYS
from tlsurvey.simulate.survey import CODED_PARTICIPANTS


def _check_sheets(sim) -> set:
    """The coded participants (the same for both coders), each with every code of every one of
    their answers."""
    a, b = (set(sheet["response_id"]) for sheet in sim["coders"].values())
    assert a == b
    answers = sim["responses"].set_index("response_id")[TEXT_KEYS].notna().sum(axis=1)
    for sheet in sim["coders"].values():
        rows = sheet.groupby("response_id").size()
        pd.testing.assert_series_equal(rows, answers[rows.index] * len(phrases.PHRASES),
                                       check_names=False)
    return a


def test_large_wave_codes_a_seeded_sample_of_participants():
    sim = simulate_wave(CODED_PARTICIPANTS + 10, 3, "w")
    kept = set(sim["participants"].query("kept")["response_id"])
    assert len(kept) == CODED_PARTICIPANTS + 5  # 5 planted exclusions among 310 people
    coded = _check_sheets(sim)
    assert len(coded) == CODED_PARTICIPANTS and coded <= kept
    again = simulate_wave(CODED_PARTICIPANTS + 10, 3, "w")
    for coder, frame in sim["coders"].items():
        pd.testing.assert_frame_equal(frame, again["coders"][coder])
    in_order = [r for r in sim["responses"]["response_id"] if r in kept]
    assert coded != set(in_order[:CODED_PARTICIPANTS])  # a draw, not the first respondents


def test_small_wave_codes_every_kept_participant():
    sim = simulate_wave(40, 2, "w")
    assert _check_sheets(sim) == set(sim["participants"].query("kept")["response_id"])
