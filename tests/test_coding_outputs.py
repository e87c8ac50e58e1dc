"""End-to-end coding outputs: codes table, reliability files, audit page, REFI-QDA export, CLI."""

import json
import re
import zipfile

import pandas as pd
import pytest
from lxml import etree
from test_coding_lexicon import make_texts
from test_coding_topics import CountingEncoder

from tlsurvey.cli import main
from tlsurvey.coding import pipeline
from tlsurvey.coding.qdpx import read_qdpx
from tlsurvey.io import write_table


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, root):
    out = tmp_path_factory.mktemp("coding")
    texts = make_texts()
    write_table(texts, out / "texts.parquet")
    responses = pd.DataFrame({"participant": ["P1", "P2", "P3"], "wave": "wave1",
                              "role": ["PhD student", "Postdoc", "<b>Engineer</b>"],
                              "ml_years": ["1-3", "3-5", None], "ml_years_code": [1, 2, None],
                              "duration_s": 300.0})
    write_table(responses, out / "responses.parquet")
    sheet = pd.DataFrame({
        "text_id": ["P1:rationale:tissue"] * 3 + ["P2:rationale:xray"],
        "coder": ["a", "a", "b", "b"],
        "code": ["visual_similarity", "community_practice", "visual_similarity",
                 "domain_similarity"],
        "value": [1, 1, 1, 1], "start": [None, None, 63, None], "end": [None, None, 79, None],
    })
    sheet_path = out / "coders.csv"
    sheet.to_csv(sheet_path, index=False)
    cfg = {"codebook": root / "config/codebook.yaml", "lexicon": root / "config/lexicon.yaml"}
    t, m = out / "texts.parquet", out / "lexicon_matches.parquet"
    pipeline.run_lexicon(t, cfg["codebook"], cfg["lexicon"], out)
    pipeline.run_topics(t, cfg["codebook"], out, out / "cache", seed=3, min_topic_size=2,
                        encoder=CountingEncoder(),
                        validation_paths=[root / "tests/data/validation/texts.csv"])
    semantic, after_topics = out / "semantic.parquet", CountingEncoder()
    pipeline.run_semantic(t, cfg["codebook"], [sheet_path], semantic, out / "cache",
                          settings={"threshold": 0.72}, encoder=after_topics)
    assert after_topics.calls == 0  # run_topics cached the sentences and prototypes it embeds
    pipeline.run_reliability(t, m, cfg["codebook"], [sheet_path], out, n_boot=50,
                             semantic_path=semantic)
    pipeline.run_codes(t, m, cfg["codebook"], out, out / "topics.parquet",
                       out / "topic_info.csv", [sheet_path], semantic_path=semantic)
    pipeline.run_audit(t, out / "codes.parquet", cfg["codebook"], out / "audit.html",
                       [sheet_path])
    pipeline.run_qdpx(t, out / "codes.parquet", cfg["codebook"], out / "project.qdpx",
                      out / "responses.parquet", coder_paths=[sheet_path])
    return out


def test_validation_finds_its_embeddings_in_the_cache(outputs, root):
    """run_topics embedded the validation texts' sentences: run_validation encodes nothing."""
    data, encoder = root / "tests/data/validation", CountingEncoder()
    table = pipeline.run_validation(
        data / "texts.csv", [data / f"{n}.csv" for n in ("coder_a", "coder_b", "gold")], "gold",
        root / "config/codebook.yaml", root / "config/lexicon.yaml", outputs / "validation.csv",
        outputs / "cache", encoder=encoder)
    assert encoder.calls == 0 and set(table["origin"]) >= {"lexicon", "semantic"}


def test_codes_table(outputs):
    codes = pd.read_parquet(outputs / "codes.parquet")
    assert set(codes["origin"]) <= {"lexicon", "semantic", "topic", "human"}
    semantic = pd.read_parquet(outputs / "semantic.parquet")
    assert len(semantic) == 6 * 14 and semantic["method"].eq("prototype").all()
    given = codes.query("origin == 'semantic'")
    assert len(given) == int(semantic["coded"].sum()) > 0
    for row in given.itertuples():
        (span,) = json.loads(row.evidence)
        assert span["score"] >= span["threshold"] and span["term_id"] == "prototype"
    summary = pd.read_csv(outputs / "summary.csv").set_index("origin")
    assert summary.loc["lexicon", "n_texts"] == 6 and summary["n_non_english"].eq(0).all()
    assert not codes.duplicated(["text_id", "code", "origin"]).any()
    row = codes.query("text_id == 'P1:rationale:tissue' and code == 'visual_similarity' "
                      "and origin == 'lexicon'").iloc[0]
    assert json.loads(row["evidence"])[0] == {"start": 63, "end": 79, "text": "visually similar",
                                              "term_id": "visual"}
    assert len(row["lexicon_sha256"]) == 64 and row["embedding_sha256"].startswith("53aa5117")
    assert "community_practice" not in set(codes.query("origin == 'lexicon'")["code"])
    matches = pd.read_parquet(outputs / "lexicon_matches.parquet")
    assert matches["lexicon_sha256"].nunique() == 1
    prov = json.loads((outputs / "provenance.json").read_text())
    assert prov["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_reliability_outputs(outputs):
    rel = pd.read_csv(outputs / "reliability.csv")
    assert {"kappa", "alpha", "alpha_ci_low", "percent_agreement"} <= set(rel.columns)
    auto = pd.read_csv(outputs / "auto_vs_human.csv")
    assert {"precision", "recall", "f1", "kappa"} <= set(auto.columns)
    assert set(auto["origin"]) == {"lexicon", "semantic", "lexicon+semantic"}
    dis = pd.read_csv(outputs / "disagreements.csv", keep_default_na=False)
    assert dis["text_id"].is_unique
    first = dis.iloc[0]  # a and b split on community practice in P1 only
    assert (first["text_id"], first["n_split"], first["split"]) == (
        "P1:rationale:tissue", 1, "community_practice")
    assert first["codes_a"] == "community_practice;visual_similarity"
    assert first["codes_b"] == "visual_similarity"
    assert (dis["n_split"].iloc[1:] == 0).all()
    assert {"n_lexicon", "n_semantic", "codes_lexicon", "codes_semantic"} <= set(dis.columns)
    # the same answers, in the same degrees, as the audit page's disagreements-only view
    page = (outputs / "audit.html").read_text()
    shown = {tid: float(score) for score, tid in re.findall(
        r'data-score="([0-9.]+)"[^>]*data-types="[^"]+"[^>]*data-text-id="([^"]+)"', page)}
    assert dict(zip(dis["text_id"], dis["score"].round(6), strict=True)) == shown


def test_audit_highlights_and_escapes(outputs):
    page = (outputs / "audit.html").read_text()
    assert 'class="code-visual_similarity" data-codes="visual_similarity"' in page
    assert ">visually similar</mark>" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)" in page
    assert page.index("P1:rationale:tissue") < page.index("P3:considerations")  # disagreement first


def test_qdpx_valid_and_round_trips(outputs, root):
    schema = etree.XMLSchema(etree.parse(str(root / "tests/data/refi-qda/Project.xsd")))
    with zipfile.ZipFile(outputs / "project.qdpx") as archive:
        doc = etree.fromstring(archive.read("project.qde"))
    schema.assertValid(doc)
    assert doc.nsmap[None] == "urn:QDA-XML:project:1.0"
    back = read_qdpx(outputs / "project.qdpx")
    codes = pd.read_parquet(outputs / "codes.parquet")
    spans = sorted((r.text_id, f"tlsurvey:{r.origin}", r.code, s["start"], s["end"])
                   for r in codes.itertuples() if r.origin == "lexicon"
                   for s in json.loads(r.evidence))
    got = back["codings"].query("user == 'tlsurvey:lexicon'")
    assert sorted(map(tuple, got.to_numpy().tolist())) == spans
    length = back["sources"].set_index("text_id")["text"].str.len()
    topics = back["codings"].query("user == 'tlsurvey:topic'")
    assert len(topics) == (codes["origin"] == "topic").sum()
    assert (topics["start"] == 0).all()
    assert (topics["end"] == topics["text_id"].map(length)).all()
    assert set(back["codings"]["user"]) >= {"a", "b", "tlsurvey:lexicon"}
    assert len(back["codes"]) == 14
    variables = {v.get("name") for v in doc.iter("{urn:QDA-XML:project:1.0}Variable")}
    assert variables == {"wave", "role", "ml_years", "field", "case_study"}


def test_cli_runs_and_is_deterministic(outputs, root, tmp_path):
    args = ["code", str(outputs / "texts.parquet"),
            "--codebook", str(root / "config/codebook.yaml"),
            "--lexicon", str(root / "config/lexicon.yaml"), "--no-topics",
            "--coders", str(outputs / "coders.csv")]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    for name in ("codes.parquet", "audit.html", "project.qdpx", "reliability.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert main(["code", str(outputs / "texts.parquet"), "--lexicon", "missing.yaml",
                 "--no-topics", "--out", str(tmp_path / "c")]) == 1


def test_output_paths_named_or_in_a_directory(tmp_path):
    named = {"matches": tmp_path / "m.parquet", "ambiguous": tmp_path / "a.csv", "other": "x"}
    assert pipeline.output_paths(named, pipeline.LEXICON_OUTPUTS) == {
        "matches": tmp_path / "m.parquet", "ambiguous": tmp_path / "a.csv"}
    assert pipeline.output_paths(tmp_path, pipeline.LEXICON_OUTPUTS) == {
        "matches": tmp_path / "lexicon_matches.parquet",
        "ambiguous": tmp_path / "ambiguous_terms.csv"}
    with pytest.raises(KeyError):
        pipeline.output_paths({"matches": "m.parquet"}, pipeline.LEXICON_OUTPUTS)
