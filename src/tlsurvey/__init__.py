"""tlsurvey: reproducible analysis of transfer-learning source-choice surveys.

Stages (each a module): ingest, descriptives, coding, models, figures, report.
See docs/design.md for the data contracts between them. A study's vocabulary (case studies,
sources, dimensions, factors) is data: :class:`tlsurvey.study.Study`, read from
``results/ingest/study.json``.
"""

__version__ = "0.1.0"

# fixed columns of the tidy responses table (the demographic variables follow them)
RESPONSE_COLUMNS = ("participant", "wave", "start", "duration_s", "progress", "finished")
