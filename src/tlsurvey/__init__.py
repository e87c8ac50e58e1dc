"""tlsurvey: reproducible analysis of transfer-learning source-choice surveys.

Stages (each a module): ingest, descriptives, coding, models, figures, report.
See docs/design.md for the data contracts between them.
"""

__version__ = "0.1.0"

CASE_STUDIES = ("tissue", "xray")
CASE_STUDY_LABELS = {"tissue": "CS-tissue", "xray": "CS-xray"}
SOURCES = ("imagenet", "radimagenet", "ecoset")
SOURCE_LABELS = {"imagenet": "ImageNet-1K", "radimagenet": "RadImageNet", "ecoset": "Ecoset"}
SIMILARITY_DIMENSIONS = ("visual", "semantic", "embedding", "domain")
DIMENSIONS = (*SIMILARITY_DIMENSIONS, "expected")
FACTORS = (
    "embedding_similarity",
    "visual_similarity",
    "domain_similarity",
    "robustness",
    "fairness",
    "dataset_scale",
)
# fixed columns of the tidy responses table (the demographic variables follow them)
RESPONSE_COLUMNS = ("participant", "wave", "start", "duration_s", "progress", "finished")
