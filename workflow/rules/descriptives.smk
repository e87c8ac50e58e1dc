DESCRIPTIVES = ["likert", "rating_summary", "demographics", "choices", "factors"]


rule descriptives:
    input:
        tables=expand(
            "results/ingest/{table}.parquet", table=["ratings", "responses", "choices", "factors"]
        ),
        instruments=sorted({wave_cfg(wave)["instrument"] for wave in WAVES}),
    output:
        [
            report(
                f"results/descriptives/{name}.csv",
                caption=f"../report/descriptives_{name}.rst",
                category="Descriptives",
            )
            for name in DESCRIPTIVES
        ],
    params:
        code=CODE["descriptives"],
    log:
        "logs/descriptives/descriptives.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/descriptives.py"
