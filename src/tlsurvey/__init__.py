"""tlsurvey: reproducible analysis of transfer-learning source-choice surveys.

Stages (each a module): ingest, descriptives, coding, models, figures, report.
See docs/design.md for the data contracts between them. A study's vocabulary (case studies,
sources, dimensions, factors) is data: :class:`tlsurvey.study.Study`, read from
``results/ingest/study.json``.
"""

__version__ = "0.1.0"

# fixed columns of the tidy responses table (the demographic variables follow them)
RESPONSE_COLUMNS = ("participant", "wave", "start", "duration_s", "progress", "finished")

# TEMPORARY (issue 10): the example study's vocabulary for figures/ and report/ until they
# read the Study (branch i13); the integrator deletes this block with that merge. The values
# live in the simulator, the only place allowed to name the example's vocabulary.
_LEGACY = ("CASE_STUDIES", "CASE_STUDY_LABELS", "SOURCES", "SOURCE_LABELS",
           "SIMILARITY_DIMENSIONS", "DIMENSIONS", "FACTORS")


def __getattr__(name):
    if name in _LEGACY:
        from importlib import import_module

        return getattr(import_module("tlsurvey.simulate.instrument"), name)
    raise AttributeError(f"module 'tlsurvey' has no attribute {name!r}")
