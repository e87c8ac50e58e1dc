"""Figures: one rule figures_<name> per figure, writing results/figures/<name>.png and .pdf.

Every figure is built by tlsurvey.figures.make from the named inputs below, and its PNG is
wrapped in report() with the caption workflow/report/<name>.rst and a category.
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


for fig_name, (fig_category, fig_inputs) in FIGURE_SPECS.items():

    rule:
        name:
            f"figures_{fig_name}"
        input:
            **fig_inputs,
            study=FIG_STUDY,
        output:
            png=report(
                f"results/figures/{fig_name}.png",
                caption=f"../report/{fig_name}.rst",
                category=fig_category,
                labels={"figure": fig_name, "format": "PNG"},
            ),
            pdf=report(
                f"results/figures/{fig_name}.pdf",
                caption=f"../report/{fig_name}.rst",
                category=fig_category,
                labels={"figure": fig_name, "format": "PDF"},
            ),
        params:
            code=CODE["figures"],
            name=fig_name,
        log:
            f"logs/figures/{fig_name}.log",
        conda:
            "../../environment.yml"
        script:
            "../../scripts/figures_plot.py"


rule figures:
    input:
        expand("results/figures/{name}.{ext}", name=FIGURE_NAMES, ext=["png", "pdf"]),
