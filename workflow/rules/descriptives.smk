DESCRIPTIVES = ["likert", "rating_summary", "demographics", "choices", "factors"]


rule descriptives:
    input:
        expand("results/ingest/{table}.parquet", table=["ratings", "responses", "choices", "factors"]),
    output:
        [
            report(
                f"results/descriptives/{name}.csv",
                caption=f"../report/descriptives_{name}.rst",
                category="Descriptives",
            )
            for name in DESCRIPTIVES
        ],
    log:
        "logs/descriptives/descriptives.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/descriptives.py"
