"""tlsurvey.figures.make writes a figure to the named paths a workflow rule declares."""

from test_figures import STUDY, tables  # noqa: F401  (fixture)

from tlsurvey.figures import make
from tlsurvey.io import write_table


def test_make_writes_named_paths_like_a_stem(tmp_path, tables):  # noqa: F811
    inputs = {"ratings": write_table(tables["ratings"], tmp_path / "ratings.parquet"),
              "study": STUDY.save(tmp_path / "study.json")}
    named = {"png": tmp_path / "named" / "a.png", "pdf": tmp_path / "other" / "b.pdf"}
    assert make("likert", inputs, named) == list(named.values())
    by_stem = make("likert", inputs, tmp_path / "stem" / "likert")
    assert [p.name for p in by_stem] == ["likert.png", "likert.pdf"]
    assert [p.read_bytes() for p in named.values()] == [p.read_bytes() for p in by_stem]
    assert make("likert", inputs, {"pdf": tmp_path / "only.pdf"}) == [tmp_path / "only.pdf"]
