"""Coding of free-text answers: lexicon, ambiguous terms, topics, codes, reliability, audit, QDPX.

Public API
----------
- :func:`tlsurvey.coding.lexicon.load_lexicon`, :func:`~tlsurvey.coding.lexicon.match_texts`
- :func:`tlsurvey.coding.codebook.load_codebook`
- :func:`tlsurvey.coding.semantic.code_texts` (origin ``semantic``),
  :func:`tlsurvey.coding.language.detect_languages`
- :func:`tlsurvey.coding.ambiguity.ambiguous_terms`
- :class:`tlsurvey.coding.topics.EmbeddingCache`, :func:`~tlsurvey.coding.topics.fit_topics`
- :func:`tlsurvey.coding.codes.build_codes`
- statistics in :mod:`tlsurvey.coding.reliability`: ``percent_agreement``, ``cohen_kappa``,
  ``krippendorff_alpha``, ``bootstrap_alpha_ci``, ``precision_recall_f1``
- :func:`tlsurvey.coding.audit.render_audit`, :func:`tlsurvey.coding.qdpx.write_qdpx` /
  :func:`~tlsurvey.coding.qdpx.read_qdpx`
- the steps in :mod:`tlsurvey.coding.pipeline`, and :func:`cli` (``tlsurvey code``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tlsurvey.config import load_config


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tlsurvey code", description="Code free-text answers.")
    p.add_argument("texts", help="texts.parquet written by tlsurvey ingest")
    p.add_argument("--codebook", default="config/codebook.yaml")
    p.add_argument("--lexicon", default="config/lexicon.yaml")
    p.add_argument("--out", default="results/coding", help="output directory")
    p.add_argument("--coders", nargs="*", default=[],
                   help="human coder sheets (CSV, or .qdpx exported by a QDA tool)")
    p.add_argument("--responses", help="responses.parquet (variables of QDPX cases)")
    p.add_argument("--choices", help="choices.parquet (chosen sources in the QDPX and audit)")
    p.add_argument("--study", help="study.json written by ingest (labels and colours)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--min-topic-size", type=int, default=5)
    p.add_argument("--embedding-cache", default="results/cache/embeddings")
    p.add_argument("--lexicon-cache", default="results/cache/lexicon")
    p.add_argument("--topic-cache", default="results/cache/topics")
    p.add_argument("--topic-fit-waves", nargs="+", metavar="WAVE",
                   help="fit the topic model on these waves only; assign the other answers")
    p.add_argument("--config", default="config/config.yaml",
                   help="workflow config; its privacy section gives the participant-id salt")
    p.add_argument("--no-topics", action="store_true",
                   help="skip BERTopic and the semantic coder (no embeddings)")
    return p


def cli(argv=None) -> int:
    """``tlsurvey code TEXTS.parquet --codebook F --lexicon F --out DIR [--coders CSV...]``."""
    from tlsurvey.coding import pipeline
    from tlsurvey.logs import setup

    args = _parser().parse_args(argv)
    setup()
    out = Path(args.out)
    privacy = (load_config(args.config, ("privacy",)).get("privacy")
               if Path(args.config).is_file() else None)
    matches = out / "lexicon_matches.parquet"
    pipeline.run_lexicon(args.texts, args.codebook, args.lexicon, out, args.lexicon_cache)
    topics = info = semantic = None
    if not args.no_topics:
        pipeline.run_topics(args.texts, args.codebook, out, args.embedding_cache,
                            seed=args.seed, min_topic_size=args.min_topic_size,
                            fit_waves=args.topic_fit_waves, fit_cache_dir=args.topic_cache)
        topics, info, semantic = (out / "topics.parquet", out / "topic_info.csv",
                                  out / "semantic.parquet")
        pipeline.run_semantic(args.texts, args.codebook, args.coders, semantic,
                              args.embedding_cache, privacy=privacy)
    pipeline.run_reliability(args.texts, matches, args.codebook, args.coders, out, seed=args.seed,
                             privacy=privacy, semantic_path=semantic)
    pipeline.run_codes(args.texts, matches, args.codebook, out, topics, info, args.coders,
                       seed=args.seed, privacy=privacy, semantic_path=semantic)
    pipeline.run_audit(args.texts, out / "codes.parquet", args.codebook, out / "audit.html",
                       args.coders, privacy, args.choices, args.study)
    pipeline.run_qdpx(args.texts, out / "codes.parquet", args.codebook, out / "project.qdpx",
                      args.responses, args.choices, args.coders, privacy=privacy,
                      study_path=args.study)
    pipeline.run_codebook(args.codebook, out / "codebook.qdc", out / "codebook_taguette.csv")
    print(f"coding outputs written to {out}")
    return 0
