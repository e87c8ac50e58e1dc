"""Coding steps as functions of paths: each reads its inputs, writes its outputs atomically.

The Snakemake scripts and the ``tlsurvey code`` command both call these.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from tlsurvey.coding import ambiguity, codes, reliability, sheets
from tlsurvey.coding.audit import render_audit
from tlsurvey.coding.codebook import load_codebook
from tlsurvey.coding.lexicon import coded, load_lexicon, match_texts
from tlsurvey.coding.qdpx import write_qdpx
from tlsurvey.coding.topics import EmbeddingCache, fit_topics, topic_codes
from tlsurvey.io import read_table, write_table, write_text, xml_text
from tlsurvey.provenance import embedding_provenance, package_versions

log = logging.getLogger(__name__)


def participant_mapper(privacy: dict | None):
    """``pid(wave, response_id)`` using the salt resolved from config ``privacy``."""
    from tlsurvey.ingest import participant_id
    from tlsurvey.ingest.deidentify import get_salt

    salt = []

    def pid(wave: str, response_id: str) -> str:
        if not salt:
            salt.append(get_salt(privacy or {}))
        return participant_id(wave, response_id, salt[0])

    return pid


def read_texts(path) -> pd.DataFrame:
    """The ingest ``texts`` table, sorted by text_id, control characters removed (ingest removes
    them already; a texts table from elsewhere must not break the XML and HTML outputs)."""
    texts = read_table(path).sort_values("text_id", ignore_index=True)
    return texts.assign(text=texts["text"].map(xml_text, na_action="ignore"))


def run_lexicon(texts_path, codebook_path, lexicon_path, out_dir) -> pd.DataFrame:
    """lexicon_matches.parquet and ambiguous_terms.csv."""
    out_dir = Path(out_dir)
    texts = read_texts(texts_path)
    lexicon = load_lexicon(lexicon_path, load_codebook(codebook_path))
    log.info("lexicon %s (sha256 %s): matching %d texts", lexicon_path, lexicon.sha256[:12],
             len(texts))
    matches = match_texts(texts, lexicon).assign(lexicon_sha256=lexicon.sha256)
    write_table(matches, out_dir / "lexicon_matches.parquet")
    write_table(ambiguity.ambiguous_terms(matches, texts), out_dir / "ambiguous_terms.csv")
    log.info("%d matches, %d coded", len(matches), len(coded(matches)))
    return matches


def run_topics(texts_path, matches_path, codebook_path, out_dir, cache_dir, seed=42,
               min_topic_size=5, encoder=None) -> dict:
    """topics.parquet, topic_info.csv and topic_codes.csv (cross-tab with lexicon codes)."""
    out_dir = Path(out_dir)
    texts, codebook = read_texts(texts_path), load_codebook(codebook_path)
    cache = EmbeddingCache(cache_dir, encoder=encoder)
    result = fit_topics(texts, codebook, cache, seed=seed, min_topic_size=min_topic_size)
    log.info("topics: %s; %d new embeddings", result["method"], cache.n_encoded)
    lexicon_codes = coded(read_table(matches_path))
    write_table(result["topics"], out_dir / "topics.parquet")
    write_table(result["info"], out_dir / "topic_info.csv")
    write_table(topic_codes(result["topics"], lexicon_codes, codebook), out_dir / "topic_codes.csv")
    return {**result, "n_encoded": cache.n_encoded}


def _sheets(coder_paths, codebook, texts, privacy):
    pid = participant_mapper(privacy)
    return sheets.read_sheets(coder_paths or [], codebook, texts, pid)


def run_reliability(texts_path, matches_path, codebook_path, coder_paths, out_dir, seed=42,
                    privacy=None, n_boot=1000) -> dict:
    """reliability.csv, auto_vs_human.csv and disagreements.csv (headers only without sheets)."""
    out_dir = Path(out_dir)
    texts, codebook = read_texts(texts_path), load_codebook(codebook_path)
    human = _sheets(coder_paths, codebook, texts, privacy)
    matrix = reliability.human_matrix(human, list(codebook))
    auto = set(map(tuple, coded(read_table(matches_path))[["text_id", "code"]].to_numpy()))
    tables = {
        "reliability": reliability.reliability_table(matrix, seed=seed, n_boot=n_boot),
        "auto_vs_human": reliability.auto_vs_human(matrix, auto),
        "disagreements": reliability.disagreements(matrix, auto, texts),
    }
    for name, table in tables.items():
        write_table(table, out_dir / f"{name}.csv")
    log.info("reliability: %d coders, %d texts, %d disagreements", matrix.shape[1],
             matrix.index.get_level_values(0).nunique(), len(tables["disagreements"]))
    return tables


def run_codes(texts_path, matches_path, codebook_path, out_dir, topics_path=None,
              topic_info_path=None, coder_paths=(), seed=42, privacy=None) -> pd.DataFrame:
    """codes.parquet (lexicon, topic and human rows) and provenance.json."""
    out_dir = Path(out_dir)
    texts, codebook = read_texts(texts_path), load_codebook(codebook_path)
    matches = read_table(matches_path)
    rows, embedding = codes.lexicon_rows(matches), embedding_provenance()
    topic_method = None
    if topics_path:
        topics, info = read_table(topics_path), read_table(topic_info_path)
        rows += codes.topic_rows(topics, info, texts)
        embedding = topics[list(embedding)].iloc[0].to_dict() if len(topics) else embedding
        topic_method = info["method"].iloc[0]
    rows += codes.human_rows(_sheets(coder_paths, codebook, texts, privacy), texts)
    lexicon_sha = str(matches["lexicon_sha256"].iloc[0]) if len(matches) else None
    provenance = {"lexicon_sha256": lexicon_sha, "seed": seed, **embedding}
    table = codes.build_codes(texts, rows, provenance)
    write_table(table, out_dir / "codes.parquet")
    record = {**provenance, "topic_method": topic_method, "packages": package_versions()}
    write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n",
               out_dir / "provenance.json")
    return table


def run_audit(texts_path, codes_path, disagreements_path, codebook_path, out_path) -> Path:
    """audit.html."""
    texts, codebook = read_texts(texts_path), load_codebook(codebook_path)
    page = render_audit(texts, read_table(codes_path), codebook, read_table(disagreements_path))
    return write_text(page, out_path)


def run_qdpx(texts_path, codes_path, codebook_path, out_path, responses_path=None) -> Path:
    """project.qdpx."""
    responses = read_table(responses_path) if responses_path else None
    return write_qdpx(out_path, read_texts(texts_path), read_table(codes_path),
                      load_codebook(codebook_path), responses)
