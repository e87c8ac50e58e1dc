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


def test_pdf_draws_dense_collections_as_an_image_and_the_rest_as_vectors():
    import numpy as np

    from tlsurvey.figures import theme

    fig, axes = theme.figure()
    ax = axes[0, 0]
    dense = ax.scatter(np.arange(theme.DENSE), np.arange(theme.DENSE), s=2)
    sparse = ax.scatter([0, 1], [1, 0])
    assert theme.dense_collections(fig) == [dense]
    pdf = theme.render(fig, "pdf")
    assert b"/Subtype /Image" in pdf  # (with its alpha mask)
    assert not dense.get_rasterized() and not sparse.get_rasterized()  # as they were
    dense.remove()
    assert b"/Subtype /Image" not in theme.render(fig, "pdf")
    theme.plt.close(fig)
