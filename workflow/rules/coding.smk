# Coding of free-text answers (tlsurvey.coding). The lexicon and BERTopic run side by side;
# codes and the audit outputs join everything. The chain topics -> semantic -> codes -> audit (and
# exports) is the workflow's longest path, so its jobs have priority over the others.

CODING = "results/coding"
CODING_CFG = config.get("coding", {})
CODER_SHEETS = config.get("coder_sheets", [])
EMBEDDING_CACHE = CODING_CFG.get("embedding_cache", "results/cache/embeddings")
LEXICON_CACHE = CODING_CFG.get("lexicon_cache", "results/cache/lexicon")
TOPIC_CACHE = CODING_CFG.get("topic_cache", "results/cache/topics")
# The waves the topic model is fitted on (default: all); the others' answers are assigned.
TOPIC_FIT_WAVES = CODING_CFG.get("topic_fit_waves")
if TOPIC_FIT_WAVES is not None and set(TOPIC_FIT_WAVES) - set(WAVES):
    raise ValueError(f"config coding.topic_fit_waves names waves that are not in config "
                     f"waves {WAVES}: {sorted(set(TOPIC_FIT_WAVES) - set(WAVES))}")
VALIDATION = CODING_CFG.get("validation", {})
SEMANTIC_CFG = json.loads(json.dumps(CODING_CFG.get("semantic", {}), sort_keys=True))
# The hand-coded validation set is scored only when it is there (a checkout with tests/).
CODING_VALIDATION = (
    [f"{CODING}/validation.csv"] if VALIDATION and Path(VALIDATION["texts"]).is_file() else []
)


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
        cache=LEXICON_CACHE,
    priority: 50
    log:
        "logs/coding/lexicon.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_lexicon.py"


rule coding_topics:
    input:
        texts="results/ingest/texts.parquet",
        codebook=config["codebook"],
        validation=[VALIDATION["texts"]] if CODING_VALIDATION else [],
    output:
        topics=f"{CODING}/topics.parquet",
        info=reported(f"{CODING}/topic_info.csv", "Coding"),
    params:
        code=CODE["coding"],
        seed=CODING_CFG.get("seed", 42),
        min_topic_size=CODING_CFG.get("min_topic_size", 5),
        code_threshold=CODING_CFG.get("topic_code_threshold", 0.4),
        cache=EMBEDDING_CACHE,
        fit_waves=TOPIC_FIT_WAVES,
        fit_cache=TOPIC_CACHE,
    # the encoder's torch threads: 1 on small studies, so that the step runs beside
    # coding_lexicon; 2 pays off when many new answers must be embedded (about 220 vs 150
    # texts/s), but only on free cores: beside another busy process 2 threads embed 60 texts/s
    threads: CODING_CFG.get("embedding_threads", 1)
    # Snakemake starts the set of jobs with the largest summed priority that fits the free
    # cores, and never holds a core free for a job that needs more. Above the sum of any two
    # other rules (50 + 50), this job starts alone as soon as ingest_combine ends (nothing
    # else runs then: multiverse_data waits for ingest_combine too).
    priority: 101
    log:
        "logs/coding/topics.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_topics.py"


# After coding_topics, which stores the embeddings of every answer in the cache: this step then
# finds them all there and loads neither torch nor the model.
rule coding_semantic:
    input:
        texts="results/ingest/texts.parquet",
        codebook=config["codebook"],
        sheets=CODER_SHEETS,
        embedded=f"{CODING}/topics.parquet",
    output:
        scores=f"{CODING}/semantic.parquet",
    params:
        code=CODE["coding"],
        settings=SEMANTIC_CFG,
        cache=EMBEDDING_CACHE,
        privacy=config_section("privacy"),
        salt=SALT_FINGERPRINT,
    threads: 1
    priority: 50
    log:
        "logs/coding/semantic.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_semantic.py"


# After coding_topics, which also embeds the validation texts (as for coding_semantic).
rule coding_validation:
    input:
        texts=VALIDATION.get("texts", []),
        sheets=VALIDATION.get("coders", []),
        codebook=config["codebook"],
        lexicon=config["lexicon"],
        embedded=f"{CODING}/topics.parquet",
    output:
        validation=reported(f"{CODING}/validation.csv", "Coding"),
    params:
        code=CODE["coding"],
        reference=VALIDATION.get("reference"),
        settings=SEMANTIC_CFG,
        cache=EMBEDDING_CACHE,
    threads: 1
    log:
        "logs/coding/validation.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_validation.py"


rule coding_reliability:
    input:
        texts="results/ingest/texts.parquet",
        matches=f"{CODING}/lexicon_matches.parquet",
        semantic=f"{CODING}/semantic.parquet",
        codebook=config["codebook"],
        sheets=CODER_SHEETS,
    output:
        reliability=reported(f"{CODING}/reliability.csv", "Coding"),
        auto_vs_human=reported(f"{CODING}/auto_vs_human.csv", "Coding"),
        disagreements=reported(f"{CODING}/disagreements.csv", "Coding"),
    params:
        code=CODE["coding"],
        seed=CODING_CFG.get("seed", 42),
        privacy=config_section("privacy"),
        salt=SALT_FINGERPRINT,
    priority: 50
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
        semantic=f"{CODING}/semantic.parquet",
        codebook=config["codebook"],
        topics=f"{CODING}/topics.parquet",
        info=f"{CODING}/topic_info.csv",
        sheets=CODER_SHEETS,
    output:
        codes=f"{CODING}/codes.parquet",
        summary=reported(f"{CODING}/summary.csv", "Coding"),
        provenance=f"{CODING}/provenance.json",
        topic_codes=reported(f"{CODING}/topic_codes.csv", "Coding"),
    params:
        code=CODE["coding"],
        seed=CODING_CFG.get("seed", 42),
        privacy=config_section("privacy"),
        salt=SALT_FINGERPRINT,
    priority: 50
    log:
        "logs/coding/codes.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_codes.py"


# The audit page and the exports for QDA tools are two jobs, so that they run side by side at
# the end of the chain (at 10,000 respondents each takes a few seconds to half a minute).
rule coding_audit:
    input:
        texts="results/ingest/texts.parquet",
        codes=f"{CODING}/codes.parquet",
        codebook=config["codebook"],
        choices="results/ingest/choices.parquet",
        study=f"results/ingest/{STUDY_FILE}",
        sheets=CODER_SHEETS,
    output:
        audit=reported(f"{CODING}/audit.html", "Coding"),
    params:
        code=CODE["coding"],
        privacy=config_section("privacy"),
        salt=SALT_FINGERPRINT,
    priority: 50
    log:
        "logs/coding/audit.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_audit.py"


rule coding_exports:
    input:
        texts="results/ingest/texts.parquet",
        codes=f"{CODING}/codes.parquet",
        codebook=config["codebook"],
        responses="results/ingest/responses.parquet",
        choices="results/ingest/choices.parquet",
        study=f"results/ingest/{STUDY_FILE}",
        sheets=CODER_SHEETS,
    output:
        qdpx=reported(f"{CODING}/project.qdpx", "Coding"),
        qdc=reported(f"{CODING}/codebook.qdc", "Coding"),
        taguette=reported(f"{CODING}/codebook_taguette.csv", "Coding"),
    params:
        code=CODE["coding"],
        privacy=config_section("privacy"),
        salt=SALT_FINGERPRINT,
    priority: 50
    log:
        "logs/coding/exports.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/coding_exports.py"
