# Coding of free-text answers (tlsurvey.coding). Cheap steps (lexicon, ambiguous terms,
# reliability) do not wait on BERTopic; codes/audit/qdpx join everything.

CODING = "results/coding"
CODING_CFG = config.get("coding", {})
CODER_SHEETS = config.get("coder_sheets", [])


rule coding_lexicon:
    input:
        texts="results/ingest/texts.parquet",
        codebook=config["codebook"],
        lexicon=config["lexicon"],
    output:
        matches=f"{CODING}/lexicon_matches.parquet",
        ambiguous=reported(f"{CODING}/ambiguous_terms.csv", "Coding"),
    params:
        code=CODE["coding"],
    log:
        "logs/coding/lexicon.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_lexicon.py"


rule coding_topics:
    input:
        texts="results/ingest/texts.parquet",
        matches=f"{CODING}/lexicon_matches.parquet",
        codebook=config["codebook"],
    output:
        topics=f"{CODING}/topics.parquet",
        info=reported(f"{CODING}/topic_info.csv", "Coding"),
        codes=reported(f"{CODING}/topic_codes.csv", "Coding"),
    params:
        code=CODE["coding"],
        seed=CODING_CFG.get("seed", 42),
        min_topic_size=CODING_CFG.get("min_topic_size", 5),
        cache=CODING_CFG.get("embedding_cache", "results/cache/embeddings"),
    threads: 2
    log:
        "logs/coding/topics.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_topics.py"


rule coding_reliability:
    input:
        texts="results/ingest/texts.parquet",
        matches=f"{CODING}/lexicon_matches.parquet",
        codebook=config["codebook"],
        sheets=CODER_SHEETS,
    output:
        reliability=reported(f"{CODING}/reliability.csv", "Coding"),
        auto=reported(f"{CODING}/auto_vs_human.csv", "Coding"),
        disagreements=reported(f"{CODING}/disagreements.csv", "Coding"),
    params:
        code=CODE["coding"],
        seed=CODING_CFG.get("seed", 42),
        privacy=config_section("privacy"),
        salt=SALT_FINGERPRINT,
    log:
        "logs/coding/reliability.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_reliability.py"


rule coding_codes:
    input:
        texts="results/ingest/texts.parquet",
        matches=f"{CODING}/lexicon_matches.parquet",
        codebook=config["codebook"],
        topics=f"{CODING}/topics.parquet",
        info=f"{CODING}/topic_info.csv",
        sheets=CODER_SHEETS,
    output:
        codes=f"{CODING}/codes.parquet",
        provenance=f"{CODING}/provenance.json",
    params:
        code=CODE["coding"],
        seed=CODING_CFG.get("seed", 42),
        privacy=config_section("privacy"),
        salt=SALT_FINGERPRINT,
    log:
        "logs/coding/codes.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_codes.py"


rule coding_audit:
    input:
        texts="results/ingest/texts.parquet",
        codes=f"{CODING}/codes.parquet",
        codebook=config["codebook"],
        choices="results/ingest/choices.parquet",
        study=f"results/ingest/{STUDY_FILE}",
        sheets=CODER_SHEETS,
    output:
        reported(f"{CODING}/audit.html", "Coding"),
    params:
        code=CODE["coding"],
        privacy=config_section("privacy"),
        salt=SALT_FINGERPRINT,
    log:
        "logs/coding/audit.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_audit.py"


rule coding_qdpx:
    input:
        texts="results/ingest/texts.parquet",
        codes=f"{CODING}/codes.parquet",
        codebook=config["codebook"],
        responses="results/ingest/responses.parquet",
        choices="results/ingest/choices.parquet",
        study=f"results/ingest/{STUDY_FILE}",
        sheets=CODER_SHEETS,
    output:
        reported(f"{CODING}/project.qdpx", "Coding"),
    params:
        code=CODE["coding"],
        privacy=config_section("privacy"),
        salt=SALT_FINGERPRINT,
    log:
        "logs/coding/qdpx.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_qdpx.py"


rule coding_codebook:
    input:
        codebook=config["codebook"],
    output:
        qdc=reported(f"{CODING}/codebook.qdc", "Coding"),
        taguette=reported(f"{CODING}/codebook_taguette.csv", "Coding"),
    params:
        code=CODE["coding"],
    log:
        "logs/coding/codebook.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_codebook.py"
