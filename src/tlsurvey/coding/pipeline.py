"""Coding steps as functions of paths: each reads its inputs, writes its outputs atomically.

The Snakemake scripts and the ``tlsurvey code`` command both call these.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from tlsurvey.coding import ambiguity, codes, refi, reliability, semantic, sheets
from tlsurvey.coding.audit import render_audit
from tlsurvey.coding.codebook import load_codebook
from tlsurvey.coding.lexicon import MatchCache, coded, load_lexicon, match_texts
from tlsurvey.coding.qdpx import write_qdpx
from tlsurvey.coding.topics import (
    CODE_THRESHOLD,
    EmbeddingCache,
    TopicFitCache,
    fit_topics,
    topic_codes,
)
from tlsurvey.config import file_sha256, load_yaml
from tlsurvey.errors import InputError
from tlsurvey.io import read_table, write_bytes, write_table, write_text, xml_text
from tlsurvey.layout import named_paths as output_paths  # {output name: path} of a step
from tlsurvey.provenance import embedding_provenance, package_versions

log = logging.getLogger(__name__)


# Each step's named outputs and their file names in an output directory.
LEXICON_OUTPUTS = {"matches": "lexicon_matches.parquet", "ambiguous": "ambiguous_terms.csv"}
TOPIC_OUTPUTS = {"topics": "topics.parquet", "info": "topic_info.csv"}
RELIABILITY_OUTPUTS = {"reliability": "reliability.csv", "auto_vs_human": "auto_vs_human.csv",
                       "disagreements": "disagreements.csv"}
CODES_OUTPUTS = {"codes": "codes.parquet", "summary": "summary.csv",
                 "provenance": "provenance.json", "topic_codes": "topic_codes.csv"}


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


def run_lexicon(texts_path, codebook_path, lexicon_path, out, cache_dir=None) -> pd.DataFrame:
    """lexicon_matches.parquet and ambiguous_terms.csv (``out``: see :func:`output_paths`);
    with ``cache_dir``, texts already matched with the same lexicon and codebook are taken from
    its :class:`~tlsurvey.coding.lexicon.MatchCache`."""
    out = output_paths(out, LEXICON_OUTPUTS)
    texts = read_texts(texts_path)
    lexicon = load_lexicon(lexicon_path, load_codebook(codebook_path))
    cache = MatchCache(cache_dir, lexicon, file_sha256(codebook_path)) if cache_dir else None
    log.info("lexicon %s (sha256 %s): matching %d texts", lexicon_path, lexicon.sha256[:12],
             len(texts))
    matches = match_texts(texts, lexicon, cache=cache).assign(lexicon_sha256=lexicon.sha256)
    write_table(matches, out["matches"])
    write_table(ambiguity.ambiguous_terms(matches, texts), out["ambiguous"])
    log.info("%d matches, %d coded", len(matches), len(coded(matches)))
    return matches


def run_topics(texts_path, codebook_path, out, cache_dir, seed=42,
               min_topic_size=5, encoder=None, code_threshold=CODE_THRESHOLD,
               threads=None, fit_waves=None, fit_cache_dir=None, validation_paths=()) -> dict:
    """topics.parquet and topic_info.csv (``out``: see :func:`output_paths`); also caches every
    embedding the semantic coder needs: the codebook's prototypes and the sentences of the
    answers and of the validation texts ``validation_paths`` (see :func:`run_validation`).
    Needs no lexicon matches, so it runs beside the lexicon step. ``fit_waves`` and
    ``fit_cache_dir``: see :func:`fit_topics`."""
    out = output_paths(out, TOPIC_OUTPUTS)
    texts, codebook = read_texts(texts_path), load_codebook(codebook_path)
    cache = EmbeddingCache(cache_dir, encoder=encoder, threads=threads)
    result = fit_topics(texts, codebook, cache, seed=seed, min_topic_size=min_topic_size,
                        code_threshold=code_threshold, fit_waves=fit_waves,
                        fit_cache=TopicFitCache(fit_cache_dir) if fit_cache_dir else None)
    # The semantic coder's units too, while the model is loaded: run_semantic and
    # run_validation (rules coding_semantic and coding_validation, after this one) then find
    # every embedding they need in the cache and load neither torch nor the model.
    # One call per set, so that a set's embeddings do not depend on the others (the encoder
    # batches texts by length).
    cache.encode(semantic.sentence_table(texts)["sentence"].tolist())
    cache.encode(semantic.prototypes(codebook)[1])
    for path in validation_paths:
        cache.encode(semantic.sentence_table(read_validation_texts(path))["sentence"].tolist())
    log.info("topics: %s (%s); %d new embeddings", result["method"], result["method_reason"],
             cache.n_encoded)
    write_table(result["topics"], out["topics"])
    write_table(result["info"], out["info"])
    return {**result, "n_encoded": cache.n_encoded}


def _sheets(coder_paths, codebook, texts, privacy):
    pid = participant_mapper(privacy)
    return sheets.read_sheets(coder_paths or [], codebook, texts, pid)


def run_semantic(texts_path, codebook_path, coder_paths, out_path, cache_dir, settings=None,
                 privacy=None, encoder=None, threads=None) -> pd.DataFrame:
    """semantic.parquet: the semantic coder's score of every (answer, code)."""
    texts, codebook = read_texts(texts_path), load_codebook(codebook_path)
    human = _sheets(coder_paths, codebook, texts, privacy)
    cache = EmbeddingCache(cache_dir, encoder=encoder, threads=threads)
    scores = semantic.code_texts(texts, codebook, cache.encode, human if len(human) else None,
                                 settings)
    write_table(scores, out_path)
    log.info("semantic: %d codes given to %d answers (%d new embeddings)",
             int(scores["coded"].sum()), scores.loc[scores["coded"], "text_id"].nunique(),
             cache.n_encoded)
    return scores


def automatic_codes(matches_path, semantic_path=None, matrix=None) -> dict:
    """{origin: set of (text_id, code)} of the automatic coders, with their combination
    (thresholds from the human codes of ``matrix``, see :func:`reliability.combine_origins`)."""
    auto = {"lexicon": set(map(tuple, coded(read_table(matches_path))[["text_id", "code"]]
                               .to_numpy()))}
    scores = read_table(semantic_path) if semantic_path else None
    if scores is not None:
        auto["semantic"] = semantic.coded_pairs(scores)
    return reliability.combine_origins(auto, scores, matrix)


def read_validation_texts(path) -> pd.DataFrame:
    """Texts of a hand-coded validation set (CSV: text_id, field, text[, language, subset])."""
    texts = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"text_id", "text"} - set(texts.columns)
    if missing:
        raise InputError(path, f"missing column(s): {', '.join(sorted(missing))}")
    return texts.assign(field=texts.get("field", "text")).sort_values("text_id",
                                                                      ignore_index=True)


def validation_table(matrix: pd.DataFrame, auto: dict, subsets: pd.Series) -> pd.DataFrame:
    """:func:`reliability.auto_vs_human` on all texts (``subset = "all"``) and on each subset
    (``subsets``: text_id -> label)."""
    frames = []
    for label in ["all", *sorted(set(subsets))]:
        ids = matrix.index.get_level_values("text_id")
        part = matrix if label == "all" else matrix[ids.isin(subsets.index[subsets == label])]
        frames.append(reliability.auto_vs_human(part, auto).assign(subset=label))
    out = pd.concat(frames, ignore_index=True)
    return out[["subset", *reliability.AUTO_COLUMNS]]


def run_validation(texts_path, sheet_paths, reference, codebook_path, lexicon_path, out_path,
                   cache_dir, settings=None, encoder=None, threads=None) -> pd.DataFrame:
    """validation.csv: precision, recall and F1 of each automatic origin (lexicon, semantic,
    lexicon+semantic) per code and pooled, against every coder of a hand-coded validation set.

    The semantic classifier is trained (by cross-validation) on the ``reference`` coder's
    codes (all coders when None); rows per ``subset`` label of the texts as well as ``all``.
    """
    texts, codebook = read_validation_texts(texts_path), load_codebook(codebook_path)
    human = sheets.read_sheets(sheet_paths, codebook, texts)
    train = human[human["coder"] == str(reference)] if reference else human
    lexicon = load_lexicon(lexicon_path, codebook)
    cache = EmbeddingCache(cache_dir, encoder=encoder, threads=threads)
    scores = semantic.code_texts(texts, codebook, cache.encode, train, settings)
    lexicon_codes = coded(match_texts(texts, lexicon))[["text_id", "code"]].to_numpy()
    auto = reliability.combine_origins({"lexicon": set(map(tuple, lexicon_codes)),
                                        "semantic": semantic.coded_pairs(scores)}, scores,
                                       reliability.human_matrix(train, list(codebook)))
    subsets = texts.set_index("text_id")["subset"] if "subset" in texts else \
        pd.Series(dtype=str)
    table = validation_table(reliability.human_matrix(human, list(codebook)), auto, subsets)
    write_table(table, out_path)
    log.info("validation: %d texts (%d new embeddings)", len(texts), cache.n_encoded)
    for row in table.query("code == '(micro)' and subset == 'all'").itertuples():
        log.info("validation: %s vs %s: precision %.3f recall %.3f F1 %.3f", row.origin,
                 row.coder, row.precision, row.recall, row.f1)
    return table


def run_reliability(texts_path, matches_path, codebook_path, coder_paths, out, seed=42,
                    privacy=None, n_boot=1000, semantic_path=None) -> dict:
    """reliability.csv, auto_vs_human.csv (per automatic origin) and disagreements.csv (one row
    per answer to review); headers only without sheets. ``out``: see :func:`output_paths`."""
    out = output_paths(out, RELIABILITY_OUTPUTS)
    texts, codebook = read_texts(texts_path), load_codebook(codebook_path)
    human = _sheets(coder_paths, codebook, texts, privacy)
    matrix = reliability.human_matrix(human, list(codebook))
    auto = automatic_codes(matches_path, semantic_path, matrix)
    tables = {
        "reliability": reliability.reliability_table(matrix, seed=seed, n_boot=n_boot),
        "auto_vs_human": reliability.auto_vs_human(matrix, auto),
        "disagreements": reliability.disagreements(matrix, auto, texts),
    }
    for name, table in tables.items():
        write_table(table, out[name])
    log.info("reliability: %d coders, %d texts, %d disagreements", matrix.shape[1],
             matrix.index.get_level_values(0).nunique(), len(tables["disagreements"]))
    return tables


def run_codes(texts_path, matches_path, codebook_path, out, topics_path=None,
              topic_info_path=None, coder_paths=(), seed=42, privacy=None,
              semantic_path=None) -> pd.DataFrame:
    """codes.parquet (lexicon, semantic, topic and human rows), summary.csv, provenance.json
    and, with topics, topic_codes.csv (topic x lexicon code cross-tab); ``out``: see
    :func:`output_paths`."""
    out = output_paths(out, CODES_OUTPUTS)
    texts, codebook = read_texts(texts_path), load_codebook(codebook_path)
    matches = read_table(matches_path)
    rows, embedding = codes.lexicon_rows(matches), embedding_provenance()
    if semantic_path:
        rows += codes.semantic_rows(read_table(semantic_path))
    topic_method = topic_reason = None
    if topics_path:
        topics, info = read_table(topics_path), read_table(topic_info_path)
        rows += codes.topic_rows(topics, info, texts, codebook)
        write_table(topic_codes(topics, coded(matches), codebook), out["topic_codes"])
        embedding = topics[list(embedding)].iloc[0].to_dict() if len(topics) else embedding
        topic_method = info["method"].iloc[0]
        topic_reason = info["method_reason"].iloc[0] if "method_reason" in info else None
    rows += codes.human_rows(_sheets(coder_paths, codebook, texts, privacy), texts)
    lexicon_sha = str(matches["lexicon_sha256"].iloc[0]) if len(matches) else None
    provenance = {"lexicon_sha256": lexicon_sha, "seed": seed, **embedding}
    table = codes.build_codes(texts, rows, provenance)
    write_table(table, out["codes"])
    write_table(codes.summary(texts, table), out["summary"])
    record = {**provenance, "topic_method": topic_method, "topic_method_reason": topic_reason,
              "packages": package_versions()}
    write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n",
               out["provenance"])
    return table


def _study(path):
    from tlsurvey.study import Study

    return Study.load(path) if path else None


def run_audit(texts_path, codes_path, codebook_path, out_path, coder_paths=(), privacy=None,
              choices_path=None, study_path=None) -> Path:
    """audit.html: answers, every origin's codes, each coder's codes (sheets), chosen sources,
    labels and colours from study.json."""
    texts, codebook = read_texts(texts_path), load_codebook(codebook_path)
    human = _sheets(coder_paths, codebook, texts, privacy) if coder_paths else None
    choices = read_table(choices_path) if choices_path else None
    page = render_audit(texts, read_table(codes_path), codebook, human, choices,
                        _study(study_path))
    return write_text(page, out_path)


def _groups(codebook_path) -> dict:
    return load_yaml(codebook_path, "codebook").get("groups", {})


def run_qdpx(texts_path, codes_path, codebook_path, out_path, responses_path=None,
             choices_path=None, coder_paths=(), privacy=None, study_path=None) -> Path:
    """project.qdpx: answers, automatic codes (codes.parquet), each coder's codes (sheets),
    participants with their variables (responses, choices)."""
    texts, codebook = read_texts(texts_path), load_codebook(codebook_path)
    tables = {name: read_table(p) if p else None
              for name, p in (("responses", responses_path), ("choices", choices_path))}
    human = _sheets(coder_paths, codebook, texts, privacy) if coder_paths else None
    return write_qdpx(out_path, texts, read_table(codes_path), codebook,
                      groups=_groups(codebook_path), human=human, study=_study(study_path),
                      **tables)


def run_codebook(codebook_path, qdc_path, taguette_path) -> tuple[Path, Path]:
    """codebook.qdc (REFI-QDA) and codebook_taguette.csv."""
    codebook = load_codebook(codebook_path)
    return (write_bytes(refi.codebook_qdc(codebook, _groups(codebook_path)), qdc_path),
            write_text(refi.taguette_csv(codebook), taguette_path))
