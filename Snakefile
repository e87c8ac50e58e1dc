"""tlsurvey workflow: ingest -> descriptives -> coding -> models -> figures -> report.

Each stage's rules live in workflow/rules/<stage>.smk and write under results/<stage>/.
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/descriptives.smk"
include: "workflow/rules/coding.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/multiverse.smk"


rule all:
    input:
        "results/report/report.html",
        "results/coding/audit.html",
        "results/coding/project.qdpx",
        *CODING_VALIDATION,
        "results/coding/codebook.qdc",
        "results/coding/codebook_taguette.csv",
        rules.multiverse.input,
