"""The same simulated survey exported in every format ingests to the same tidy tables.

Participant ids hash the platform's response id, which differs by platform (Qualtrics
``R_...``, LimeSurvey ``id``, Google Forms ``Timestamp``), and metadata columns differ too
(LimeSurvey has no progress, Google Forms no duration), so answers are compared per participant
under a platform-free key: the participant's rating values and role.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from tlsurvey import ingest, simulate
from tlsurvey.coding.sheets import read_sheet
from tlsurvey.ingest.deidentify import get_salt, participant_id
from tlsurvey.ingest.readers import FORMATS

PUBLIC = {
    "public_example_salt": True,
    "salt_env": "TLSURVEY_TEST_NO_SUCH_VAR",
    "salt_file": "/nonexistent/salt",
}
METADATA = ["start", "duration_s", "progress", "finished"]
CODEBOOK = Path(__file__).parents[1] / "config" / "codebook.yaml"
CODES = list(yaml.safe_load(CODEBOOK.read_text())["codes"])


def _export(paths, out: Path) -> Path:
    """The export file among the files the simulator wrote (not the map or the R syntax)."""
    return next(
        p
        for p in map(Path, paths)
        if p.parent == out and p.name != "instrument.yaml" and "_R_syntax_file" not in p.name
    )


def _canonical(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    ratings = tables["ratings"]
    sig = ratings.groupby("participant", sort=False)["value"].agg(
        lambda s: ",".join("NA" if pd.isna(v) else str(v) for v in s)
    )
    role = tables["responses"].set_index("participant")["role"].astype(str)
    key = (sig + "|" + role.reindex(sig.index)).to_dict()
    assert len(set(key.values())) == len(key), "signature must identify participants"
    out = {}
    for name in ingest.TABLES:
        frame = tables[name].drop(columns=["wave", "text_id", *METADATA], errors="ignore")
        frame = frame.assign(participant=frame["participant"].map(key))
        out[name] = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
    return out


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Format -> (directory, export) of the same simulated survey."""
    results = {}
    for fmt in simulate.FORMATS:
        out = tmp_path_factory.mktemp(fmt)
        results[fmt] = out, _export(simulate.simulate(10, 3, "w1", out, fmt), out)
    return results


@pytest.fixture(scope="module")
def ingested(simulated):
    return {fmt: ingest.combine([ingest.ingest_wave(export, "w1", out / "instrument.yaml",
                                                    PUBLIC)])
            for fmt, (out, export) in simulated.items()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_coder_sheets_name_responses_as_the_export_does(simulated, ingested, fmt):
    out, _ = simulated[fmt]
    salt = get_salt(PUBLIC)
    texts = ingested[fmt]["texts"]
    for sheet in sorted((out / "coders").glob("*.csv")):
        rows = read_sheet(sheet, CODES, lambda w, r: participant_id(w, r, salt))
        assert rows["text_id"].isin(set(texts["text_id"])).mean() > 0.9, sheet.name


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_the_same_tables(ingested, fmt):
    reference = _canonical(ingested["qualtrics-csv"])
    got = _canonical(ingested[fmt])
    if fmt == "google-forms":
        # Google Forms records no duration: the planted speeder cannot be detected there.
        extra = set(got["responses"]["participant"]) - set(reference["responses"]["participant"])
        assert len(extra) == 1
        got = {n: f[~f["participant"].isin(extra)].reset_index(drop=True) for n, f in got.items()}
    for name in ingest.TABLES:
        pd.testing.assert_frame_equal(got[name], reference[name], check_dtype=True, obj=name)


def test_flow_adds_up_in_every_format(ingested):
    for fmt, tables in ingested.items():
        flow = tables["flow"].query("wave == 'total'").set_index("step")["n"]
        excluded = flow[flow.index.str.startswith("excluded:")].sum()
        assert flow["raw"] == excluded + flow["analysed"], fmt
