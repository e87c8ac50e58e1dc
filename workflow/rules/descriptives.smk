DESCRIPTIVES = ["likert", "rating_summary", "demographics", "choices", "factors"]


rule descriptives:
    input:
        **{table: f"results/ingest/{table}.parquet"
           for table in ["ratings", "responses", "choices", "factors"]},
        study=f"results/ingest/{STUDY_FILE}",
    output:
        **{name: reported(f"results/descriptives/{name}.csv", "Descriptives")
           for name in DESCRIPTIVES},
    params:
        code=CODE["descriptives"],
    log:
        "logs/descriptives/descriptives.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/descriptives.py"
