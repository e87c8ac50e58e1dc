"""REFI-QDA export (.qdpx, .qdc), Taguette codebook, and the round trip through a QDA tool.

The QDA-tool side is simulated the way QualCoder re-exports a project it imported: fresh random
GUIDs for everything, source files renamed after the new GUIDs, Sets dropped, plus a coder's
edits (a new user with new selections, a moved span, a removed coding, a new code).
"""

import csv
import io
import random
import uuid
import zipfile

import pandas as pd
import pytest
from lxml import etree
from test_coding_lexicon import make_texts

from tlsurvey.cli import main
from tlsurvey.coding import pipeline, reliability
from tlsurvey.coding.codebook import load_codebook
from tlsurvey.coding.qdpx import AUTO_USER, read_qdpx
from tlsurvey.coding.refi import CODEBOOK_NS, NAMESPACE, PROJECT_NS, guid
from tlsurvey.coding.sheets import qdpx_sheet, read_sheet
from tlsurvey.errors import InputError
from tlsurvey.io import records, write_table

XSD = "tests/data/refi-qda/Project.xsd"  # REFI-QDA QDA-XML 1.0, MIT licence (see its header)
Q = {"q": PROJECT_NS}
TISSUE = "P1:rationale:tissue"


def sheet_rows():
    """Coder a and b on every text; b's P3 considerations reviewed with no code at all."""
    given = {
        "a": {TISSUE: ["visual_similarity", "dataset_size"], "P2:rationale:xray":
              ["domain_similarity"], "P3:rationale:tissue": ["task_dependence"],
              "P3:considerations": ["label_quality"], "P1:considerations": ["domain_similarity"],
              "P1:meaning_of_similar": ["embedding_similarity"]},
        "b": {TISSUE: ["visual_similarity"], "P2:rationale:xray": ["domain_similarity",
                                                                  "acquisition"],
              "P3:rationale:tissue": ["task_dependence", "resources_weights"],
              "P3:considerations": [], "P1:considerations": ["visual_similarity"],
              "P1:meaning_of_similar": ["embedding_similarity"]},
    }
    return given


@pytest.fixture(scope="module")
def project(tmp_path_factory, root):
    out = tmp_path_factory.mktemp("qdpx")
    texts = make_texts()
    write_table(texts, out / "texts.parquet")
    codebook = load_codebook(root / "config/codebook.yaml")
    rows = [{"text_id": t, "coder": c, "code": code, "value": int(code in codes),
             "start": 63 if (c, t, code) == ("a", TISSUE, "visual_similarity") else None,
             "end": 79 if (c, t, code) == ("a", TISSUE, "visual_similarity") else None}
            for c, by_text in sheet_rows().items() for t, codes in by_text.items()
            for code in codebook]
    pd.DataFrame(rows).to_csv(out / "coders.csv", index=False)
    responses = pd.DataFrame({"participant": ["P1", "P2", "P3"], "wave": "wave1",
                              "start": ["2025-02-18T06:08:49", "2025-02-19T10:00:00", None],
                              "role": ["PhD student", "Postdoc", "Engineer"],
                              "role_code": [1, 2, 3], "duration_s": 300.0})
    choices = pd.DataFrame({"participant": ["P1", "P1", "P2", "P3"], "wave": "wave1",
                            "case_study": ["tissue", "xray", "xray", "tissue"],
                            "source": ["srcA", "srcB", "srcB", "srcA"]})
    write_table(responses, out / "responses.parquet")
    write_table(choices, out / "choices.parquet")
    cb = root / "config/codebook.yaml"
    pipeline.run_lexicon(out / "texts.parquet", cb, root / "config/lexicon.yaml", out)
    pipeline.run_codes(out / "texts.parquet", out / "lexicon_matches.parquet", cb, out,
                       coder_paths=[out / "coders.csv"])
    pipeline.run_qdpx(out / "texts.parquet", out / "codes.parquet", cb, out / "project.qdpx",
                      out / "responses.parquet", out / "choices.parquet", [out / "coders.csv"])
    pipeline.run_codebook(cb, out / "codebook.qdc", out / "codebook_taguette.csv")
    return out


def qde(path) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read("project.qde"))


def test_project_validates_and_carries_sources_users_variables(project, root):
    schema = etree.XMLSchema(etree.parse(str(root / XSD)))
    doc = qde(project / "project.qdpx")
    schema.assertValid(doc)
    texts = make_texts().set_index("text_id")["text"]
    with zipfile.ZipFile(project / "project.qdpx") as archive:
        sources = doc.findall("q:Sources/q:TextSource", Q)
        assert len(sources) == len(texts)
        for source in sources:
            assert source.find("q:PlainTextContent", Q) is None
            ref = source.get("plainTextPath")
            assert ref == f"internal://{source.get('guid')}.txt"
            text_id = source.findtext("q:Description", namespaces=Q).removeprefix("text_id: ")
            assert archive.read(f"Sources/{ref[11:]}").decode() == texts[text_id]
            assert source.get("creationDateTime")
    users = {u.get("guid"): u.get("name") for u in doc.iterfind("q:Users/q:User", Q)}
    assert sorted(users.values()) == ["a", "b", "tlsurvey:lexicon"]
    for sel in doc.iterfind(".//q:PlainTextSelection", Q):
        coding = sel.find("q:Coding", Q)
        assert sel.get("creatingUser") in users and coding.get("creatingUser") in users
        assert sel.get("creationDateTime") and coding.get("creationDateTime")
    # coder a's span and b's whole-answer code on the same answer, as separate users
    source = next(s for s in sources if s.get("name") == "P1_rationale_tissue")
    by_user = {(users[s.get("creatingUser")], s.get("startPosition"), s.get("endPosition"))
               for s in source.iterfind("q:PlainTextSelection", Q)}
    assert ("a", "63", "79") in by_user and ("b", "0", str(len(texts[TISSUE]))) in by_user
    assert ("tlsurvey:lexicon", "63", "79") in by_user
    variables = {v.get("guid"): v.get("name") for v in doc.iterfind(".//q:Variable", Q)}
    assert set(variables.values()) == {"wave", "role", "chosen_source:tissue",
                                       "chosen_source:xray", "field", "case_study",
                                       "chosen_source"}
    case = next(c for c in doc.iterfind(".//q:Case", Q) if c.get("name") == "P1")
    values = {variables[v.find("q:VariableRef", Q).get("targetGUID")]: v.findtext("q:TextValue",
                                                                                    namespaces=Q)
              for v in case.iterfind("q:VariableValue", Q)}
    assert values == {"wave": "wave1", "role": "PhD student", "chosen_source:tissue": "srcA",
                      "chosen_source:xray": "srcB"}
    file_values = {variables[v.find("q:VariableRef", Q).get("targetGUID")]:
                   v.findtext("q:TextValue", namespaces=Q)
                   for v in source.iterfind("q:VariableValue", Q)}
    assert file_values == {"field": "rationale", "case_study": "tissue", "chosen_source": "srcA"}
    assert len(case.findall("q:SourceRef", Q)) == 3
    assert source.get("creationDateTime") == "2025-02-18T06:08:49Z"  # P1's answer time
    assert doc.get("creationDateTime") == "2025-02-19T10:00:00Z"  # latest answer


def test_codebook_groups_and_colours(project, root):
    codebook = load_codebook(root / "config/codebook.yaml")
    for doc, ns in ((qde(project / "project.qdpx").find(f"{{{PROJECT_NS}}}CodeBook"), PROJECT_NS),
                    (etree.parse(str(project / "codebook.qdc")).getroot(), CODEBOOK_NS)):
        families = doc.findall(f"{{{ns}}}Codes/{{{ns}}}Code")
        assert {f.get("isCodable") for f in families} == {"false"}
        assert [f.get("name") for f in families] == list(dict.fromkeys(
            s["group"] for s in codebook.values()))
        for family in families:
            for code in family.findall(f"{{{ns}}}Code"):
                spec = codebook[code.get("name")]
                assert spec["group"] == family.get("name") and code.get("isCodable") == "true"
                assert code.get("color") == spec["color"]
    rows = list(csv.DictReader(io.StringIO((project / "codebook_taguette.csv").read_text())))
    assert [r["tag"] for r in rows] == list(codebook)
    assert codebook["task_dependence"]["definition"] in rows[0]["description"]


def test_qdc_validates_against_the_codebook_schema(project, root):
    # Codebook.xsd is Project.xsd's code types in the codebook namespace, rooted at CodeBook
    # (Codes, optional Sets, optional origin): derive it instead of shipping a second file.
    xsd = (root / XSD).read_text().replace(PROJECT_NS, CODEBOOK_NS)
    tree = etree.fromstring(xsd.encode())
    s = "{http://www.w3.org/2001/XMLSchema}"
    root_el = tree.find(f"{s}element[@name='Project']")
    root_el.set("name", "CodeBook")
    root_el.set("type", "CodeBookFileType")
    file_type = etree.SubElement(tree, f"{s}complexType", name="CodeBookFileType")
    seq = etree.SubElement(file_type, f"{s}sequence")
    etree.SubElement(seq, f"{s}element", name="Codes", type="CodesType")
    etree.SubElement(seq, f"{s}element", name="Sets", type="SetsType", minOccurs="0")
    etree.SubElement(file_type, f"{s}attribute", name="origin", type="xsd:string")
    etree.XMLSchema(tree).assertValid(etree.parse(str(project / "codebook.qdc")))


def test_export_is_deterministic_and_dated_by_source_date_epoch(project, tmp_path, root,
                                                                monkeypatch):
    args = (project / "texts.parquet", project / "codes.parquet", root / "config/codebook.yaml")
    extra = (project / "responses.parquet", project / "choices.parquet", [project / "coders.csv"])
    pipeline.run_qdpx(*args, tmp_path / "again.qdpx", *extra)
    assert (tmp_path / "again.qdpx").read_bytes() == (project / "project.qdpx").read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    pipeline.run_qdpx(*args, tmp_path / "epoch.qdpx", *extra)
    doc = qde(tmp_path / "epoch.qdpx")
    assert doc.get("creationDateTime") == "2023-11-14T22:13:20Z"
    assert {s.get("creationDateTime") for s in doc.iterfind(".//q:PlainTextSelection", Q)} == {
        "2023-11-14T22:13:20Z"}
    with zipfile.ZipFile(tmp_path / "epoch.qdpx") as archive:
        assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_guid_is_the_uuid5_of_kind_and_key():
    for kind, key in [("source", "P1:rationale:tissue"), ("selection", "P1:x:coder a:é—ß:0:5:"),
                      ("user", "")]:
        assert guid(kind, key) == str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def test_records_give_the_values_of_itertuples():
    df = pd.DataFrame({"a": pd.Series(["x", None], dtype="str"),
                       "b": pd.Series(["y", None], dtype="string"),
                       "c": [1.5, float("nan")], "d": pd.Series([2, None], dtype="Int64")})
    rows = list(records(df))
    assert [repr(tuple(r)[:3]) for r in rows] == [repr(tuple(r)[1:4]) for r in df.itertuples()]
    assert [r.b for r in rows] == ["y", pd.NA] and rows[0]._fields == ("a", "b", "c", "d")
    assert [r.d for r in rows] == [2, pd.NA]  # as Python scalars
    assert [tuple(r) for r in records(df, ["c"])][0] == (1.5,)
    assert list(records(df, [])) == [(), ()]


def test_unedited_round_trip_gives_the_sheets_back(project, root):
    codebook = load_codebook(root / "config/codebook.yaml")
    back = qdpx_sheet(project / "project.qdpx", codebook)
    original = read_sheet(project / "coders.csv", codebook)
    assert set(back["coder"]) == {"a", "b"}  # automatic origins are not coders
    key = ["text_id", "coder", "code", "value"]
    assert sorted(map(tuple, back[key].to_numpy().tolist())) == sorted(
        map(tuple, original[key].to_numpy().tolist()))
    spans = back.dropna(subset=["start"])
    assert spans[["coder", "code", "start", "end"]].values.tolist() == [
        ["a", "visual_similarity", 63.0, 79.0]]
    pd.testing.assert_frame_equal(reliability.human_matrix(back, list(codebook)),
                                  reliability.human_matrix(original, list(codebook)))


def _new_guid(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def qualcoder_reexport(src, dst, edit=None):
    """Rewrite ``src`` as QualCoder exports a project it imported (new GUIDs, files renamed after
    them, Sets dropped), after ``edit(root, new_guid)`` changed what the coder did."""
    rng = random.Random(7)
    with zipfile.ZipFile(src) as archive:
        root = etree.fromstring(archive.read("project.qde"))
        files = {n: archive.read(n) for n in archive.namelist() if n.startswith("Sources/")}
    for sets in root.findall("q:Sets", Q):
        root.remove(sets)
    if edit:
        edit(root, lambda: _new_guid(rng))
    mapping = {}
    for el in root.iter():
        for attr in ("guid", "targetGUID", "creatingUser"):
            if el.get(attr):
                el.set(attr, mapping.setdefault(el.get(attr), _new_guid(rng)))
    entries = {}
    for source in root.iterfind(".//q:TextSource", Q):
        old = source.get("plainTextPath")[len("internal://"):]
        source.set("plainTextPath", f"internal://{source.get('guid')}.txt")
        entries[f"Sources/{source.get('guid')}.txt"] = files[f"Sources/{old}"]
    entries["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    with zipfile.ZipFile(dst, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return dst


def _user(root, name):
    return next(u.get("guid") for u in root.iterfind("q:Users/q:User", Q)
                if u.get("name") == name)


def _code(root, name):
    return next(c.get("guid") for c in root.iterfind(".//q:Code", Q) if c.get("name") == name)


def _source(root, name):
    return next(s for s in root.iterfind(".//q:TextSource", Q) if s.get("name") == name)


def _select(source, guid, user, code, start, end):
    sel = etree.SubElement(source, f"{{{PROJECT_NS}}}PlainTextSelection", guid=guid(),
                           startPosition=str(start), endPosition=str(end), creatingUser=user,
                           creationDateTime="2026-11-30T12:00:00Z")
    coding = etree.SubElement(sel, f"{{{PROJECT_NS}}}Coding", guid=guid(), creatingUser=user,
                              creationDateTime="2026-11-30T12:00:00Z")
    etree.SubElement(coding, f"{{{PROJECT_NS}}}CodeRef", targetGUID=code)
    source.remove(sel)  # selections precede VariableValues in a TextSource
    source.insert(1, sel)


def coder_edits(root, guid):
    """A third coder c codes two answers; a moves a span; b drops a code."""
    users = root.find("q:Users", Q)
    etree.SubElement(users, f"{{{PROJECT_NS}}}User", guid=guid(), name="c")
    c = _user(root, "c")
    tissue = _source(root, "P1_rationale_tissue")
    _select(tissue, guid, c, _code(root, "visual_similarity"), 63, 79)
    _select(_source(root, "P2_rationale_xray"), guid, c, _code(root, "domain_similarity"), 0, 11)
    a = _user(root, "a")
    moved = next(s for s in tissue.iterfind("q:PlainTextSelection", Q)
                 if s.get("creatingUser") == a and s.get("startPosition") == "63")
    moved.set("startPosition", "54")
    b = _user(root, "b")
    xray = _source(root, "P2_rationale_xray")
    dropped = next(s for s in xray.iterfind("q:PlainTextSelection", Q)
                   if s.get("creatingUser") == b
                   and s.find("q:Coding/q:CodeRef", Q).get("targetGUID") == _code(root,
                                                                                  "acquisition"))
    xray.remove(dropped)


def test_qualcoder_edited_project_feeds_reliability(project, tmp_path, root):
    codebook = load_codebook(root / "config/codebook.yaml")
    edited = qualcoder_reexport(project / "project.qdpx", tmp_path / "coded.qdpx", coder_edits)
    etree.XMLSchema(etree.parse(str(root / XSD))).assertValid(qde(edited))
    sheet = qdpx_sheet(edited, codebook)
    assert set(sheet["coder"]) == {"a", "b", "c"}
    c = sheet.query("coder == 'c' and value == 1")
    assert sorted(zip(c["text_id"], c["code"], c["start"], c["end"], strict=True)) == [
        (TISSUE, "visual_similarity", 63, 79), ("P2:rationale:xray", "domain_similarity", 0, 11)]
    assert set(sheet.query("coder == 'c'")["text_id"]) == {TISSUE, "P2:rationale:xray"}
    moved = sheet.query("coder == 'a' and code == 'visual_similarity' and value == 1")
    assert moved[["start", "end"]].values.tolist() == [[54.0, 79.0]]
    b_xray = sheet.query("coder == 'b' and text_id == 'P2:rationale:xray'").set_index("code")
    assert b_xray.loc["acquisition", "value"] == 0 and b_xray.loc["domain_similarity",
                                                                  "value"] == 1
    # Sets were dropped: b's answer reviewed without any code is no longer one of b's units
    assert "P3:considerations" not in set(sheet.query("coder == 'b'")["text_id"])

    # reliability from the edited project equals reliability from the same edits in a CSV
    expected = read_sheet(project / "coders.csv", codebook)
    expected.loc[(expected["coder"] == "b") & (expected["text_id"] == "P2:rationale:xray")
                 & (expected["code"] == "acquisition"), "value"] = 0
    expected = expected[~((expected["coder"] == "b")
                          & (expected["text_id"] == "P3:considerations"))]
    extra = [{"text_id": t, "coder": "c", "code": code, "value": int((t, code) in {
        (TISSUE, "visual_similarity"), ("P2:rationale:xray", "domain_similarity")})}
        for t in (TISSUE, "P2:rationale:xray") for code in codebook]
    expected = pd.concat([expected, pd.DataFrame(extra)], ignore_index=True)
    out = tmp_path / "rel"
    tables = pipeline.run_reliability(project / "texts.parquet",
                                      project / "lexicon_matches.parquet",
                                      root / "config/codebook.yaml", [edited], out, n_boot=20)
    want = reliability.reliability_table(reliability.human_matrix(expected, list(codebook)),
                                         n_boot=20)
    got = tables["reliability"]
    pd.testing.assert_frame_equal(got.drop(columns=["alpha_ci_low", "alpha_ci_high"]),
                                  want.drop(columns=["alpha_ci_low", "alpha_ci_high"]))
    pooled = got.query("code == '(all)' and coder_1 == 'a' and coder_2 == 'b'").iloc[0]
    assert pooled["n_units"] == 5 * len(codebook)  # P3 considerations not b's unit any more
    assert set(tables["auto_vs_human"]["coder"]) == {"a", "b", "c"}


def test_unknown_code_is_named(project, tmp_path, root):
    def new_code(root_el, guid):
        family = root_el.find("q:CodeBook/q:Codes/q:Code", Q)
        etree.SubElement(family, f"{{{PROJECT_NS}}}Code", guid=guid(), name="gut_feeling",
                         isCodable="true")
        _select(_source(root_el, "P1_rationale_tissue"), guid, _user(root_el, "a"),
                _code(root_el, "gut_feeling"), 0, 5)

    edited = qualcoder_reexport(project / "project.qdpx", tmp_path / "new.qdpx", new_code)
    codebook = load_codebook(root / "config/codebook.yaml")
    with pytest.raises(InputError, match="unknown code 'gut_feeling'.*coded by a in "
                                         "P1:rationale:tissue"):
        qdpx_sheet(edited, codebook)
    assert main(["import-coding", str(edited), "--codebook", str(root / "config/codebook.yaml"),
                 "--out", str(tmp_path / "x.csv")]) == 1
    assert not (tmp_path / "x.csv").exists()


def test_selection_outside_its_text_is_an_error(project, tmp_path):
    def stretch(root_el, guid):
        sel = root_el.find(".//q:PlainTextSelection", Q)
        sel.set("endPosition", "100000")

    bad = qualcoder_reexport(project / "project.qdpx", tmp_path / "bad.qdpx", stretch)
    with pytest.raises(InputError, match="outside source"):
        read_qdpx(bad)


def test_import_coding_cli_writes_a_coder_sheet(project, tmp_path, root):
    edited = qualcoder_reexport(project / "project.qdpx", tmp_path / "coded.qdpx", coder_edits)
    out = tmp_path / "sheet.csv"
    assert main(["import-coding", str(edited), "--codebook", str(root / "config/codebook.yaml"),
                 "--out", str(out)]) == 0
    codebook = load_codebook(root / "config/codebook.yaml")
    written = read_sheet(out, codebook)
    direct = qdpx_sheet(edited, codebook)
    pd.testing.assert_frame_equal(written.reset_index(drop=True), direct, check_dtype=False)
    assert not any(written["coder"].str.startswith(AUTO_USER))


def test_source_matched_by_name_when_description_lost(project, tmp_path, root):
    def drop_descriptions(root_el, guid):
        for source in root_el.iterfind(".//q:TextSource", Q):
            source.remove(source.find("q:Description", Q))

    edited = qualcoder_reexport(project / "project.qdpx", tmp_path / "nodesc.qdpx",
                                drop_descriptions)
    codebook = load_codebook(root / "config/codebook.yaml")
    texts = make_texts()
    sheet = qdpx_sheet(edited, codebook, known=texts["text_id"])
    assert set(sheet["text_id"]) == set(texts["text_id"])
    assert set(read_qdpx(edited)["sources"]["text_id"]) == {
        t.replace(":", "_") for t in texts["text_id"]}


def test_study_names_the_project_and_labels_sources(project, tmp_path, root):
    from tlsurvey.coding.audit import render_audit
    from tlsurvey.study import Level, Study

    study = Study(title="Source survey", case_studies=(Level("xray", "Chest X-ray"),
                                                       Level("tissue", "Histology")),
                  sources=(Level("srcA", "Source A"), Level("srcB", "Source B")),
                  other_choice=None, dimensions=(), scales={})
    study.save(tmp_path / "study.json")
    cb = root / "config/codebook.yaml"
    pipeline.run_qdpx(project / "texts.parquet", project / "codes.parquet", cb,
                      tmp_path / "p.qdpx", project / "responses.parquet",
                      project / "choices.parquet", [project / "coders.csv"],
                      study_path=tmp_path / "study.json")
    doc = qde(tmp_path / "p.qdpx")
    assert doc.get("name") == "Source survey"
    values = {v.findtext("q:TextValue", namespaces=Q) for v in doc.iterfind(".//q:VariableValue",
                                                                             Q)}
    assert {"Source A", "Source B"} <= values and "srcA" not in values
    page = render_audit(make_texts(), pd.read_parquet(project / "codes.parquet"),
                        load_codebook(cb), choices=pd.read_parquet(project / "choices.parquet"),
                        study=study)
    assert "<title>Source survey: coding audit</title>" in page
    assert 'data-facet="case" data-value="xray">Chest X-ray</button>' in page
    assert page.index('data-value="xray">') < page.index('data-value="tissue">')  # study order
    assert f'border:2px solid {study.color("srcB")}">Source B</span>' in page


def test_case_codings_are_not_codes(project, tmp_path, root):
    def code_a_case(root_el, guid):  # NVivo codes text at a case with the case's GUID
        case = root_el.find("q:Cases/q:Case", Q).get("guid")
        _select(_source(root_el, "P1_rationale_tissue"), guid, _user(root_el, "a"), case, 0, 5)

    edited = qualcoder_reexport(project / "project.qdpx", tmp_path / "case.qdpx", code_a_case)
    codebook = load_codebook(root / "config/codebook.yaml")
    plain = qualcoder_reexport(project / "project.qdpx", tmp_path / "plain.qdpx")
    pd.testing.assert_frame_equal(qdpx_sheet(edited, codebook), qdpx_sheet(plain, codebook))


def test_exported_project_as_coder_sheet_reproduces_reliability(project, tmp_path, root):
    args = (project / "texts.parquet", project / "lexicon_matches.parquet",
            root / "config/codebook.yaml")
    from_csv = pipeline.run_reliability(*args, [project / "coders.csv"], tmp_path / "csv",
                                        n_boot=20)
    from_qdpx = pipeline.run_reliability(*args, [project / "project.qdpx"], tmp_path / "qdpx",
                                         n_boot=20)
    for name in ("reliability", "auto_vs_human", "disagreements"):
        assert (tmp_path / "csv" / f"{name}.csv").read_bytes() == (
            tmp_path / "qdpx" / f"{name}.csv").read_bytes(), name
    assert from_csv["reliability"]["n_units"].sum() == from_qdpx["reliability"]["n_units"].sum()


@pytest.mark.slow
def test_workflow_reads_a_coded_qdpx_listed_under_coder_sheets(workflow_run, tmp_path, root):
    """The workflow's own project.qdpx, coded further in a QDA tool (a new coder c codes the
    first answer, coder_a's first selection is moved), listed under ``coder_sheets``: rule
    coding_reliability reads it back, as pipeline.run_reliability does from the same file."""
    import shutil

    import yaml
    from conftest import snakemake

    work = tmp_path / "run"
    shutil.copytree(workflow_run, work, symlinks=True)
    coding = work / "results/coding"

    def code_more(root_el, guid):
        etree.SubElement(root_el.find("q:Users", Q), f"{{{PROJECT_NS}}}User", guid=guid(),
                         name="c")
        source = root_el.find(".//q:TextSource", Q)
        _select(source, guid, _user(root_el, "c"), _code(root_el, "robustness"), 0, 5)
        moved = next(s for s in root_el.iterfind(".//q:PlainTextSelection", Q)
                     if s.get("creatingUser") == _user(root_el, "coder_a")
                     and int(s.get("endPosition")) > int(s.get("startPosition")) + 1)
        moved.set("startPosition", str(int(moved.get("startPosition")) + 1))

    coded = qualcoder_reexport(coding / "project.qdpx", work / "data/coded.qdpx", code_more)
    (work / "qdpx.yaml").write_text(yaml.safe_dump({"coder_sheets": ["data/coded.qdpx"]}))
    targets = ["results/coding/reliability.csv", "results/coding/auto_vs_human.csv",
               "results/coding/disagreements.csv"]
    planned = snakemake(work, *targets, "-n", "--configfile", "qdpx.yaml").stdout
    assert "coding_reliability" in planned and "coding_semantic" in planned
    snakemake(work, *targets, "--configfile", "qdpx.yaml")
    config = yaml.safe_load((work / "config/config.yaml").read_text())
    expected = tmp_path / "expected"
    pipeline.run_reliability(work / "results/ingest/texts.parquet",
                             coding / "lexicon_matches.parquet", work / config["codebook"],
                             [coded], expected, seed=config.get("coding", {}).get("seed", 42),
                             semantic_path=coding / "semantic.parquet")
    for name in ("reliability", "auto_vs_human", "disagreements"):
        assert (coding / f"{name}.csv").read_bytes() == (expected / f"{name}.csv").read_bytes()
    auto = pd.read_csv(coding / "auto_vs_human.csv")
    assert {"coder_a", "coder_b", "c"} <= set(auto["coder"])
    c = auto.query("coder == 'c' and origin == 'lexicon' and code == '(micro)'").iloc[0]
    assert c["tp"] + c["fn"] == 1  # c reviewed one answer and gave it one code
    pairs = pd.read_csv(coding / "reliability.csv")
    assert {("c", "coder_a"), ("c", "coder_b")} <= set(zip(pairs["coder_1"], pairs["coder_2"],
                                                           strict=True))
