"""The study description the multiverse takes its similarity dimensions and outcome from."""

from __future__ import annotations

from tlsurvey.study import Study


def load_study(study_json=None, instruments=()) -> Study:
    """``study.json`` when given, else the study merged from the waves' instrument maps."""
    if study_json:
        return Study.load(study_json)
    from tlsurvey.ingest import load_instrument

    return Study.merge([Study.from_instrument(load_instrument(path), str(path))
                        for path in instruments])
