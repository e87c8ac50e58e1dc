"""Figures: results/figures/<name>.png and .pdf, each wrapped in report() with the caption
workflow/report/<name>.rst and a category.

The figures share a few processes (Python, pandas and matplotlib start once per group, not once
per figure): one rule figures_<group> per stage whose outputs a figure waits for (FIGURE_STAGES),
so the figures of ingested data are drawn while coding and models still run. Each figure is
built by tlsurvey.figures.make from its own named inputs; a group redraws all its figures when
one of its inputs changes (a second or two each).

A figure group is the longest single job between its inputs and the report, so it starts as soon
as its inputs are there, before the remaining models and specifications (priority below the
coding chain's).
"""

FIG_INGEST = "results/ingest"
FIG_CODING = "results/coding"
FIG_MODELS = "results/models"

FIG_RATINGS = f"{FIG_INGEST}/ratings.parquet"
FIG_CHOICES = f"{FIG_INGEST}/choices.parquet"
FIG_CODES = f"{FIG_CODING}/codes.parquet"
FIG_STUDY = rules.ingest_combine.output.study
FIG_ALIGNMENT = {
    "participants": f"{FIG_MODELS}/alignment_participants.csv",
    "alignment_summary": f"{FIG_MODELS}/alignment_summary.csv",
}

# name -> (category, named inputs of tlsurvey.figures.FIGURES[name]); every figure also gets
# the study (labels, order, colours, scales).
FIGURE_SPECS = {
    "likert": ("Ratings", {"ratings": FIG_RATINGS}),
    "demographics": ("Sample", {"responses": f"{FIG_INGEST}/responses.parquet"}),
    "similarity_expected": (
        "Models",
        {"ratings": FIG_RATINGS, "rmcorr": f"{FIG_MODELS}/alignment_rmcorr.csv"},
    ),
    "coefficients": ("Models", {"coefficients": f"{FIG_MODELS}/coefficients.csv"}),
    "alignment": ("Models", {"misalignment": f"{FIG_MODELS}/alignment_misalignment.csv"}),
    "rho_distribution": ("Models", FIG_ALIGNMENT),
    "choices": ("Choices", {"choices": FIG_CHOICES}),
    "transitions": ("Choices", {"choices": FIG_CHOICES}),
    "code_frequency": (
        "Coding",
        {"codes": FIG_CODES, "choices": FIG_CHOICES, "codebook": config["codebook"]},
    ),
    "code_families": (
        "Coding",
        {"codes": FIG_CODES, "choices": FIG_CHOICES, "codebook": config["codebook"]},
    ),
    "code_cooccurrence": ("Coding", {"codes": FIG_CODES, "codebook": config["codebook"]}),
    "factors": ("Framework factors", {"factors": f"{FIG_INGEST}/factors.parquet"}),
    "topics": (
        "Coding",
        {"topic_info": f"{FIG_CODING}/topic_info.csv", "codebook": config["codebook"]},
    ),
    "ambiguous_terms": (
        "Coding",
        {"terms": f"{FIG_CODING}/ambiguous_terms.csv", "codebook": config["codebook"]},
    ),
    "intuition_outcome": (
        "Intuition vs outcome",
        {"ratings": FIG_RATINGS, **OUTCOMES},
    ),
    "waves": ("Waves", {"ratings": FIG_RATINGS, "choices": FIG_CHOICES}),
    "specification_curve": ("Multiverse", {"curve": f"{MV_DIR}/specification_curve.csv"}),
}
# The wave comparison is only requested when there are at least two waves.
FIGURE_NAMES = [name for name in FIGURE_SPECS if name != "waves" or len(WAVES) >= 2]


# A figure's group: the last of these stages that one of its inputs comes from.
FIGURE_STAGES = {"ingest": FIG_INGEST, "models": FIG_MODELS, "coding": FIG_CODING,
                 "multiverse": MV_DIR}
FIGURE_FORMATS = ("png", "pdf")


FIGURE_GROUPS = {}
for fig_name in FIGURE_NAMES:
    fig_group = figure_group(FIGURE_SPECS[fig_name][1], FIGURE_STAGES)
    FIGURE_GROUPS.setdefault(fig_group, []).append(fig_name)


for fig_group, fig_names in FIGURE_GROUPS.items():

    rule:
        name:
            f"figures_{fig_group}"
        input:
            **figure_inputs(FIGURE_SPECS, fig_names, FIG_STUDY),
        output:
            **figure_outputs(FIGURE_SPECS, fig_names, FIGURE_FORMATS),
        params:
            code=CODE["figures"],
            figures={name: sorted([*FIGURE_SPECS[name][1], "study"]) for name in fig_names},
            formats=list(FIGURE_FORMATS),
        priority: 40
        log:
            f"logs/figures/{fig_group}.log",
        conda:
            "../../environment.yml"
        script:
            "../../scripts/figures_plot.py"


rule figures:
    input:
        expand("results/figures/{name}.{ext}", name=FIGURE_NAMES, ext=FIGURE_FORMATS),
