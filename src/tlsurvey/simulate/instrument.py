"""The example survey's questions, as one Python structure.

Every export format and every instrument map (including ``config/instrument.yaml``) is derived
from ``COLUMNS``, so formats and maps cannot drift apart. Each column knows its address in every
format: Qualtrics ImportId and short name (also the SPSS variable name), LimeSurvey code, and the
question text (Google Forms and LimeSurvey full-text headers).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

# The example study's vocabulary (only the simulator names it; the pipeline reads a Study).
CASE_STUDIES = ("tissue", "xray")
CASE_STUDY_LABELS = {"tissue": "CS-tissue", "xray": "CS-xray"}
CASE_STUDY_DESCRIPTIONS = {"tissue": "H&E histology of colorectal tissue (CRC-VAL-HE-7K)",
                           "xray": "Chest X-ray (CheXpert subset)"}
SOURCES = ("imagenet", "radimagenet", "ecoset")
SOURCE_LABELS = {"imagenet": "ImageNet-1K", "radimagenet": "RadImageNet", "ecoset": "Ecoset"}
SIMILARITY_DIMENSIONS = ("visual", "semantic", "embedding", "domain")
DIMENSIONS = (*SIMILARITY_DIMENSIONS, "expected")
FACTORS = ("embedding_similarity", "visual_similarity", "domain_similarity", "robustness",
           "fairness", "dataset_scale")

SCALES = {
    "similarity": ["Not at all similar", "Slightly similar", "Moderately similar",
                   "Very similar", "Extremely similar"],
    "performance": ["Very poor", "Poor", "Fair", "Good", "Excellent"],
    "importance": ["Not at all important", "Slightly important", "Moderately important",
                   "Very important", "Extremely important"],
    "years": ["Less than 1 year", "1-2 years", "3-5 years", "6-10 years", "More than 10 years"],
    "frequency": ["Never", "Rarely", "Sometimes", "Often", "Always"],
}
ROLES = ["PhD student", "Postdoc", "Faculty / PI", "Industry researcher", "Other"]
ATTENTION_EXPECTED = "Moderately similar"
DIMENSION_LABELS = {
    "visual": "Visual similarity",
    "semantic": "Semantic similarity",
    "embedding": "Embedding (data) similarity",
    "domain": "Domain similarity",
    "expected": "Expected performance after transfer",
}
FACTOR_LABELS = {
    "embedding_similarity": "Embedding similarity",
    "visual_similarity": "Visual similarity",
    "domain_similarity": "Domain similarity",
    "robustness": "Robustness",
    "fairness": "Fairness",
    "dataset_scale": "Dataset scale",
}
SHORT_DIMENSION_LABELS = {"visual": "Visual", "semantic": "Semantic", "embedding": "Embedding",
                          "domain": "Domain", "expected": "Expected performance"}
DEMOGRAPHIC_LABELS = {"role": "Role", "ml_years": "ML experience",
                      "mi_years": "Medical-imaging experience",
                      "tl_frequency": "Use of transfer learning"}
LS_SOURCE = {"imagenet": "IN", "radimagenet": "RIN", "ecoset": "ECO"}
LS_FACTOR = {"embedding_similarity": "embsim", "visual_similarity": "vissim",
             "domain_similarity": "domsim", "robustness": "robust", "fairness": "fair",
             "dataset_scale": "scale"}


@dataclass(frozen=True)
class Column:
    """One answer column of the survey.

    ``key`` names it in the simulator's wide table; ``entry`` holds the instrument-map fields
    other than ``column``; ``section`` is the instrument-map list it belongs to.
    """

    key: str
    qid: str
    short: str
    code: str
    question: str
    sub: str | None
    section: str
    scale: str | None = None
    options: tuple = ()
    entry: tuple = ()

    @property
    def labels(self) -> list[str]:
        """Answer labels in code order (empty for free text)."""
        return list(SCALES[self.scale]) if self.scale else list(self.options)

    def text(self, style: str = "qualtrics") -> str:
        """Header text: ``question - sub`` (Qualtrics) or ``question [sub]`` (others)."""
        if self.sub is None:
            return self.question
        return f"{self.question} - {self.sub}" if style == "qualtrics" else \
            f"{self.question} [{self.sub}]"


def _columns() -> list[Column]:
    cols = [
        Column("role", "QID1", "Q1", "role", "What is your current role?", None,
               "demographics", options=tuple(ROLES), entry=(("variable", "role"),)),
    ]
    for n, (var, code, scale, q) in enumerate([
        ("ml_years", "mlyears", "years", "How many years have you worked with machine learning?"),
        ("mi_years", "miyears", "years", "How many years have you worked with medical images?"),
        ("tl_frequency", "tlfreq", "frequency", "How often do you use transfer learning?"),
    ], start=2):
        cols.append(Column(var, f"QID{n}", f"Q{n}", code, q, None, "demographics", scale=scale,
                           entry=(("variable", var), ("scale", scale))))
    blocks = {"tissue": (5, 8, 9), "xray": (10, 13, 14)}
    for case in CASE_STUDIES:
        first, choice_q, text_q = blocks[case]
        cl = CASE_STUDY_LABELS[case]
        for k, source in enumerate(SOURCES):
            q = first + k
            question = f"{cl} and {SOURCE_LABELS[source]}: how would you rate the following?"
            for i, dim in enumerate(DIMENSIONS, start=1):
                scale = "performance" if dim == "expected" else "similarity"
                cols.append(Column(
                    f"{case}.{source}.{dim}", f"QID{q}_{i}", f"Q{q}_{i}",
                    f"{case}{LS_SOURCE[source]}_{dim}", question, DIMENSION_LABELS[dim],
                    "ratings", scale=scale,
                    entry=(("case_study", case), ("source", source), ("dimension", dim),
                           ("scale", scale))))
        cols.append(Column(
            f"choice.{case}", f"QID{choice_q}", f"Q{choice_q}", f"{case}Choice",
            f"{cl}: which source dataset would you choose for pre-training?", None, "choices",
            options=tuple(SOURCE_LABELS[s] for s in SOURCES), entry=(("case_study", case),)))
        cols.append(Column(
            f"rationale.{case}", f"QID{text_q}_TEXT", f"Q{text_q}", f"{case}Why",
            f"{cl}: why did you choose this source dataset?", None, "texts",
            entry=(("field", "rationale"), ("case_study", case))))
    cols.append(Column(
        "attention", "QID15", "Q15", "attn",
        f'This is an attention check. Please select "{ATTENTION_EXPECTED}".', None,
        "attention_checks", scale="similarity", entry=(("expected", ATTENTION_EXPECTED),)))
    for i, factor in enumerate(FACTORS, start=1):
        cols.append(Column(
            f"factor.{factor}", f"QID16_{i}", f"Q16_{i}", f"factors_{LS_FACTOR[factor]}",
            "How important are the following factors when selecting a source dataset?",
            FACTOR_LABELS[factor], "factors", scale="importance",
            entry=(("factor", factor), ("scale", "importance"))))
    cols.append(Column("considerations", "QID17_TEXT", "Q17", "consider",
                       "What do you consider when selecting a source dataset?", None, "texts",
                       entry=(("field", "considerations"),)))
    cols.append(Column("meaning_of_similar", "QID18_TEXT", "Q18", "similar",
                       "What does 'similar' mean to you when comparing two datasets?", None,
                       "texts", entry=(("field", "meaning_of_similar"),)))
    return cols


COLUMNS = _columns()
BY_KEY = {c.key: c for c in COLUMNS}
RATING_KEYS = [c.key for c in COLUMNS if c.section == "ratings"]
TEXT_KEYS = [c.key for c in COLUMNS if c.section == "texts"]

# Metadata columns per platform: (tidy name or None, column name/address).
QUALTRICS_META = [
    # (export short name, question text, ImportId, wide-table key)
    ("StartDate", "Start Date", "startDate", "start"),
    ("EndDate", "End Date", "endDate", "end"),
    ("Status", "Response Type", "status", "status"),
    ("IPAddress", "IP Address", "ipAddress", "ip"),
    ("Progress", "Progress", "progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration", "duration"),
    ("Finished", "Finished", "finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate", "recorded"),
    ("ResponseId", "Response ID", "_recordId", "response_id"),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName", "last_name"),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName", "first_name"),
    ("RecipientEmail", "Recipient Email", "recipientEmail", "email"),
    ("ExternalReference", "External Data Reference", "externalDataReference", "external_reference"),
    ("LocationLatitude", "Location Latitude", "locationLatitude", "latitude"),
    ("LocationLongitude", "Location Longitude", "locationLongitude", "longitude"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel", "channel"),
    ("UserLanguage", "User Language", "userLanguage", "language"),
]
META_KEYS = [m[3] for m in QUALTRICS_META]  # simulated response fields behind the metadata
SPSS_NAMES = {"Duration (in seconds)": "Duration__in_seconds_"}

# LimeSurvey: (code, full-text heading, field type, wide-table key or None)
LIMESURVEY_META = [
    ("id", "Response ID", "F", "ls_id"),
    ("submitdate", "Date submitted", "DATETIME23.2", "end"),
    ("lastpage", "Last page", "F", "ls_lastpage"),
    ("startlanguage", "Start language", "A", "ls_language"),
    ("seed", "Seed", "A", "ls_seed"),
    ("token", "Access code", "A", "external_reference"),
    ("startdate", "Date started", "DATETIME23.2", "start"),
    ("datestamp", "Date last action", "DATETIME23.2", "end"),
    ("ipaddr", "IP address", "A", "ip"),
    ("firstname", "First name", "A", "first_name"),
    ("lastname", "Last name", "A", "last_name"),
    ("email", "Email address", "A", "email"),
]
LIMESURVEY_TIME = ("interviewtime", "Total time", "F", "duration")

PLATFORMS = {
    "qualtrics-csv": "qualtrics", "qualtrics-tsv": "qualtrics", "qualtrics-xlsx": "qualtrics",
    "spss": "qualtrics-spss", "limesurvey": "limesurvey", "limesurvey-csv": "limesurvey",
    "google-forms": "google-forms",
}
GOOGLE_TIMESTAMP, GOOGLE_EMAIL = "Timestamp", "Email Address"


def address(col: Column, fmt: str) -> str:
    """The name by which ``col`` is addressed in format ``fmt``'s instrument map."""
    platform = PLATFORMS[fmt]
    if platform == "qualtrics":
        return col.qid
    if platform == "qualtrics-spss":
        return col.short
    if fmt == "limesurvey-csv" and col.sub:
        return "{}[{}]".format(*col.code.split("_", 1))
    if platform == "limesurvey":
        return col.code
    return col.text("google")


def _metadata(fmt: str) -> tuple[dict, list]:
    platform = PLATFORMS[fmt]
    if platform == "limesurvey":
        meta = {"response_id": "id", "start": "startdate", "end": "submitdate",
                "duration": "interviewtime", "external_reference": "token", "email": "email"}
        return meta, ["ipaddr", "token", "firstname", "lastname", "email"]
    if platform == "google-forms":
        return {"response_id": GOOGLE_TIMESTAMP, "start": GOOGLE_TIMESTAMP,
                "email": GOOGLE_EMAIL}, [GOOGLE_EMAIL]
    spss = platform == "qualtrics-spss"
    names = {key: SPSS_NAMES.get(short, short) if spss else import_id
             for short, _, import_id, key in QUALTRICS_META}
    meta = {tidy: names[tidy] for tidy in ("response_id", "start", "duration", "progress",
                                           "finished", "status", "external_reference", "email")}
    keys = ["ip", "latitude", "longitude", "last_name", "first_name", "email",
            "external_reference"]
    return meta, [names[k] for k in keys]


def study_section() -> dict:
    """The instrument map's ``study:`` section: labels, order, descriptions and roles."""
    return {
        "title": "How ML practitioners choose a source dataset for transfer learning",
        "case_studies": [{"id": c, "label": CASE_STUDY_LABELS[c],
                          "description": CASE_STUDY_DESCRIPTIONS[c]} for c in CASE_STUDIES],
        "sources": [{"id": s, "label": SOURCE_LABELS[s]} for s in SOURCES],
        "dimensions": [{"id": d, "label": SHORT_DIMENSION_LABELS[d],
                        "role": "outcome" if d == "expected" else "similarity"}
                       for d in DIMENSIONS],
        "factors": [{"id": f, "label": FACTOR_LABELS[f]} for f in FACTORS],
        "labels": DEMOGRAPHIC_LABELS,
    }


def instrument(fmt: str = "qualtrics-csv") -> dict:
    """The instrument map (as a dict) that reads the simulator's export in format ``fmt``."""
    meta, identifiers = _metadata(fmt)
    doc = {"platform": PLATFORMS[fmt], "study": study_section(), "metadata": meta,
           "identifiers": identifiers,
           "scales": {name: {label: i for i, label in enumerate(labels, start=1)}
                      for name, labels in SCALES.items()}}
    choice_labels = {SOURCE_LABELS[s]: s for s in SOURCES}
    for section in ("demographics", "ratings", "choices", "texts", "attention_checks",
                    "factors"):
        doc[section] = []
        for col in COLUMNS:
            if col.section == section:
                entry = {"column": address(col, fmt), **dict(col.entry)}
                if section == "choices":
                    entry["labels"] = choice_labels
                doc[section].append(entry)
    return doc


def instrument_yaml(fmt: str = "qualtrics-csv") -> str:
    """``instrument(fmt)`` as YAML text with a header comment."""
    head = (f"# Instrument map for the simulated example survey ({fmt} export, written by "
            "`tlsurvey simulate`).\n# See docs/design.md for the format.\n")
    return head + yaml.safe_dump(instrument(fmt), sort_keys=False, allow_unicode=True, width=100)
