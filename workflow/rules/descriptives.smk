DESCRIPTIVES = ["likert", "rating_summary", "demographics", "choices", "factors"]


rule descriptives:
    input:
        tables=expand(
            "results/ingest/{table}.parquet", table=["ratings", "responses", "choices", "factors"]
        ),
        study=f"results/ingest/{STUDY_FILE}",
    output:
        [reported(f"results/descriptives/{name}.csv", "Descriptives") for name in DESCRIPTIVES],
    params:
        code=CODE["descriptives"],
    log:
        "logs/descriptives/descriptives.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/descriptives.py"
