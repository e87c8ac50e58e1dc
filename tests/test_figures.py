"""Figures: content (bar groups, panels, annotations), non-blank PNG, PDF and determinism."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tlsurvey.figures import FIGURES, likert, theme
from tlsurvey.simulate.instrument import CASE_STUDIES, DIMENSIONS, FACTORS, SOURCES
from tlsurvey.study import Demographic, Dimension, Level, Scale, Study

SIMILARITY = ["Not at all similar", "Slightly similar", "Moderately similar", "Very similar",
              "Extremely similar"]
PERFORMANCE = ["Very poor", "Poor", "Fair", "Good", "Excellent"]
INSTRUMENT = {
    "scales": {"similarity": dict(zip(SIMILARITY, range(1, 6), strict=True)),
               "performance": dict(zip(PERFORMANCE, range(1, 6), strict=True)),
               "years": {"<1": 1, "1-2": 2, "3-5": 3, "6-10": 4, ">10": 5}},
    "ratings": [{"dimension": d, "scale": "performance" if d == "expected" else "similarity"}
                for d in DIMENSIONS],
    "demographics": [{"variable": "role"}, {"variable": "ml_years", "scale": "years"}],
}
YEARS = ["<1", "1-2", "3-5", "6-10", ">10"]
STUDY = Study(
    title="Test survey",
    case_studies=tuple(Level(c, f"CS-{c}") for c in CASE_STUDIES),
    sources=tuple(Level(s, s.upper()) for s in SOURCES),
    other_choice=None,
    dimensions=tuple(Dimension(d, "Expected performance" if d == "expected" else d.title(),
                               "outcome" if d == "expected" else "similarity",
                               "performance" if d == "expected" else "similarity")
                     for d in DIMENSIONS),
    scales={"similarity": Scale("similarity", (1, 2, 3, 4, 5), tuple(SIMILARITY)),
            "performance": Scale("performance", (1, 2, 3, 4, 5), tuple(PERFORMANCE)),
            "importance": Scale("importance", (1, 2, 3, 4, 5), tuple("abcde")),
            "years": Scale("years", (1, 2, 3, 4, 5), tuple(YEARS))},
    factors=tuple(Level(f, f) for f in FACTORS), factor_scale="importance",
    demographics=(Demographic("role", "Role"),
                  Demographic("ml_years", "ML experience", "years", tuple(YEARS))),
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def participants(n: int, wave: str) -> list[str]:
    return [f"P{wave[-1]}{i:09d}" for i in range(n)]


def make_ratings(n=12, waves=("wave1",), seed=0) -> pd.DataFrame:
    """One row per participant x case x source x dimension, ~5% skipped."""
    rng = np.random.default_rng(seed)
    rows = []
    for wave in waves:
        for p in participants(n, wave):
            for c in CASE_STUDIES:
                for s in SOURCES:
                    for d in DIMENSIONS:
                        v = int(rng.integers(1, 6)) if rng.random() > 0.05 else None
                        scale = PERFORMANCE if d == "expected" else SIMILARITY
                        rows.append((p, wave, c, s, d, v, None if v is None else scale[v - 1]))
    df = pd.DataFrame(rows, columns=["participant", "wave", "case_study", "source", "dimension",
                                     "value", "label"])
    return df.astype({"value": "Int64", "label": "string"})


def make_responses(n=12, waves=("wave1",), seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = ["<1", "1-2", "3-5", "6-10", ">10"]
    rows = []
    for wave in waves:
        for p in participants(n, wave):
            k = int(rng.integers(1, 6))
            rows.append({"participant": p, "wave": wave, "start": "2025-01-01T10:00:00",
                         "duration_s": float(rng.integers(300, 1500)), "progress": 100.0,
                         "finished": True, "role": str(rng.choice(["PhD student", "Postdoc",
                                                                   "Faculty", "<Industry>"])),
                         "ml_years": years[k - 1], "ml_years_code": k})
    return pd.DataFrame(rows)


def make_choices(n=12, waves=("wave1",), seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(p, w, c, str(rng.choice(SOURCES)) if rng.random() > 0.1 else None)
            for w in waves for p in participants(n, w) for c in CASE_STUDIES]
    return pd.DataFrame(rows, columns=["participant", "wave", "case_study", "source"]).astype(
        {"source": "string"})


def make_factors(n=12, waves=("wave1",), seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(p, w, f, int(rng.integers(1, 6))) for w in waves for p in participants(n, w)
            for f in FACTORS]
    return pd.DataFrame(rows, columns=["participant", "wave", "factor", "value"]).astype(
        {"value": "Int64"})


def png_pixels(fig) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(theme.render(fig, "png"))).convert("L"), dtype=float)


def gids(fig) -> list[str]:
    return [p.get_gid() for ax in fig.axes for p in ax.patches if p.get_gid()]


# --- Likert ---------------------------------------------------------------------------------


def test_likert_one_bar_group_per_case_source_dimension():
    ratings = make_ratings()
    fig = likert.likert(ratings, STUDY)
    groups = {g.rsplit("/", 1)[0] for g in gids(fig)}
    assert groups == {f"{c}/{s}/{d}" for c in CASE_STUDIES for s in SOURCES for d in DIMENSIONS}
    assert len(gids(fig)) == len(groups) * 5  # five levels per bar
    n = {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid()}
    answered = ratings.dropna(subset=["value"]).query(
        "case_study == 'xray' and source == 'ecoset' and dimension == 'visual'")
    assert n["n/xray/ecoset/visual"] == f"n = {len(answered)}"
    assert len([ax for ax in fig.axes if ax.patches]) == len(CASE_STUDIES) * len(DIMENSIONS)
    legend_titles = {leg.get_title().get_text() for leg in fig.legends}
    assert legend_titles == {"Similarity", "Expected performance"}
    labels = {t.get_text() for leg in fig.legends for t in leg.get_texts()}
    assert set(SIMILARITY) | set(PERFORMANCE) == labels


def test_likert_neutral_level_centred_and_shares_sum_to_100():
    ratings = make_ratings()
    fig = likert.likert(ratings, STUDY)
    bars = {p.get_gid(): p for ax in fig.axes for p in ax.patches if p.get_gid()}
    for c in CASE_STUDIES:
        neutral = bars[f"{c}/imagenet/visual/3"]
        assert neutral.get_x() == pytest.approx(-neutral.get_width() / 2)
        total = sum(bars[f"{c}/imagenet/visual/{k}"].get_width() for k in range(1, 6))
        assert total == pytest.approx(100)
    # widths equal the observed shares
    sub = ratings[(ratings.case_study == "xray") & (ratings.source == "ecoset")
                  & (ratings.dimension == "expected")].dropna(subset=["value"])
    share = 100 * (sub["value"] == 5).mean()
    assert bars["xray/ecoset/expected/5"].get_width() == pytest.approx(share)


def test_likert_labels_from_data_when_no_instrument():
    fig = likert.likert(make_ratings())
    labels = {t.get_text() for leg in fig.legends for t in leg.get_texts()}
    assert "Moderately similar" in labels and "Excellent" in labels


def test_save_writes_nonblank_png_pdf_deterministically(tmp_path):
    ratings = make_ratings()
    paths = theme.save(likert.likert(ratings), tmp_path / "a" / "likert")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    png, pdf = (p.read_bytes() for p in paths)
    assert pdf.startswith(b"%PDF") and b"CreationDate" not in pdf
    image = Image.open(paths[0])
    assert image.size[0] == pytest.approx(theme.DOUBLE * theme.DPI, abs=2)
    assert np.asarray(image.convert("L"), dtype=float).std() > 10
    theme.save(likert.likert(ratings), tmp_path / "b" / "likert")
    assert (tmp_path / "b" / "likert.png").read_bytes() == png
    assert (tmp_path / "b" / "likert.pdf").read_bytes() == pdf


def test_registry_covers_every_caption(root):
    captions = {p.stem for p in (root / "workflow" / "report").glob("*.rst")}
    assert set(FIGURES) <= captions


CODES = ["community_practice", "dataset_size", "visual_similarity", "domain_similarity",
         "embedding_similarity", "task_dependence"]
GROUPS = {"community_practice": "practice", "dataset_size": "dataset",
          "task_dependence": "task"}
CODEBOOK = {"groups": {"practice": "Community practice", "dataset": "Dataset properties",
                       "similarity": "Perceived similarity", "task": "Task"},
            "codes": {c: {"label": theme.readable(c), "group": GROUPS.get(c, "similarity")}
                      for c in CODES}}


def make_codes(n=12, waves=("wave1",), seed=0) -> pd.DataFrame:
    """Codes of each participant's rationale per case study and of one non-case field."""
    rng = np.random.default_rng(seed)
    rows = []
    for w in waves:
        for p in participants(n, w):
            for case in [*CASE_STUDIES, None]:
                field = "rationale" if case else "considerations"
                text_id = f"{p}:{field}" + (f":{case}" if case else "")
                for code in rng.choice(CODES, size=int(rng.integers(1, 4)), replace=False):
                    rows.append((text_id, p, w, field, case, str(code), "lexicon", "ev", "x"))
    return pd.DataFrame(rows, columns=["text_id", "participant", "wave", "field", "case_study",
                                       "code", "origin", "evidence", "provenance"])


def make_coefficients() -> pd.DataFrame:
    terms = ["visual", "semantic", "embedding", "domain", "case_study[T.xray]"]
    rows = []
    for model, shift in [("expected_similarity_ordinal", 0.4), ("expected_similarity_linear", 0.1)]:
        family = "ordinal" if "ordinal" in model else "gaussian"
        rows += [(model, family, "1|2", "threshold", -2.0, -2.5, -1.5, 0.001)]
        rows += [(model, family, t, "fixed", shift * (i - 1), shift * (i - 1) - 0.2,
                  shift * (i - 1) + 0.2, 0.03 * i) for i, t in enumerate(terms)]
    return pd.DataFrame(rows, columns=["model", "family", "term", "kind", "estimate", "ci_low",
                                       "ci_high", "p"])


def make_rmcorr() -> pd.DataFrame:
    rows = [(c, d, 0.1 * i - 0.12, 0.1 * i - 0.3, 0.1 * i + 0.07, 0.21)
            for c in [*CASE_STUDIES, "pooled"]
            for i, d in enumerate(["visual", "semantic", "embedding", "domain"])]
    return pd.DataFrame(rows, columns=["scope", "dimension", "r", "ci_low", "ci_high", "p"])


def make_alignment(n=12) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = [(p, c, str(rng.choice(SOURCES)), str(rng.choice([*SOURCES, "ecoset;imagenet"])))
            for p in participants(n, "wave1") for c in CASE_STUDIES]
    df = pd.DataFrame(rows, columns=["participant", "case_study", "most_similar", "expected_best"])
    df["misaligned"] = [s not in e.split(";") for s, e in zip(df.most_similar, df.expected_best,
                                                              strict=True)]
    return df


def make_rho(n=12) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    rows = [(p, scope, d, 3, float(rng.choice([-1, -0.5, 0, 0.5, 1, np.nan])))
            for p in participants(n, "wave1") for scope in [*CASE_STUDIES, "pooled"]
            for d in DIMENSIONS[:-1]]
    return pd.DataFrame(rows, columns=["participant", "scope", "dimension", "n", "rho"])


def make_rho_summary() -> pd.DataFrame:
    rho = make_rho().dropna(subset=["rho"])
    means = rho.groupby(["scope", "dimension"])["rho"].agg(["mean", "size"]).reset_index()
    return pd.DataFrame({"measure": "mean_rho", "scope": means["scope"],
                         "dimension": means["dimension"], "n": means["size"],
                         "estimate": means["mean"], "ci_low": means["mean"] - 0.2,
                         "ci_high": means["mean"] + 0.2})


OUTCOMES = pd.DataFrame({
    "source": ["imagenet", "radimagenet", "ecoset", "random"] * 2,
    "case_study": ["tissue"] * 4 + ["xray"] * 4,
    "macro_auc": [0.9897, 0.9875, 0.9864, 0.9768, 0.7245, 0.7323, 0.7359, 0.7170]})
TOPIC_INFO = pd.DataFrame({
    "topic": [-1, 0, 1, 2], "label": ["-1_a", "0_b", "1_c", "2_d"], "count": [5, 20, 12, 8],
    "top_words": ["a; b", "imagenet; popular; standard; weights", "similar; visual; texture",
                  "size; large; diverse"],
    "code": [None, "community_practice", "visual_similarity", "dataset_size"]})
TERMS = pd.DataFrame({
    "term_id": ["domain", "domain", "similar", "similar", "similar"],
    "disagreement": [0.5, 0.5, 0.62, 0.62, 0.62], "n_participants_term": [4, 4, 8, 8, 8],
    "n_senses": [2, 2, 3, 3, 3],
    "sense": ["domain_similarity", "visual_similarity", "visual_similarity",
              "semantic_similarity", "unqualified"],
    "n_participants": [2, 2, 4, 2, 2], "n_uses": [2, 3, 5, 2, 2],
    "participant": ["P1", "P2", "P1", "P3", "P4"], "text_id": ["a", "b", "c", "d", "e"],
    "quote": ["the domain <gap>", "domain", "similar look", "similar meaning", "similar"]})


def make_curve() -> pd.DataFrame:
    """A ranked specification curve of 2 x 2 x 2 specifications, one failed."""
    from tlsurvey.multiverse.curve import curve

    rows = [{"spec": f"{e}.{f}.{p}.participant.all", "exclusions": e, "family": f,
             "predictors": p, "random": "participant", "waves": "all",
             "standardised": est, "standardised_low": est - 0.2, "standardised_high": est + 0.2,
             "p": 0.001 if est > 0.2 else 0.3}
            for (e, f, p), est in zip(
                [(e, f, p) for e in ("applied", "none") for f in ("ordinal", "gaussian")
                 for p in ("separate", "mean")],
                [0.8, 0.75, 0.5, 0.45, 0.7, 0.1, np.nan, 0.4], strict=True)]
    return curve(pd.DataFrame(rows))


def all_tables(waves=("wave1", "wave2")) -> dict:
    """Inputs of every registered figure, keyed like the rule inputs."""
    ratings = make_ratings(waves=waves)
    choices = make_choices(waves=waves)
    return {"ratings": ratings, "instrument": INSTRUMENT, "responses": make_responses(waves=waves),
            "rmcorr": make_rmcorr(), "coefficients": make_coefficients(),
            "misalignment": make_alignment(), "choices": choices, "study": STUDY,
            "participants": make_rho(), "alignment_summary": make_rho_summary(),
            "codes": make_codes(waves=waves), "codebook": CODEBOOK,
            "factors": make_factors(waves=waves), "topic_info": TOPIC_INFO, "terms": TERMS,
            "outcomes": OUTCOMES, "curve": make_curve()}


# --- every figure -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables():
    return all_tables()


def artists_by_gid(fig, prefix="") -> dict:
    """Every artist (patch, line, text, collection) with a gid starting with ``prefix``."""
    found = {}
    for artist in fig.findobj(lambda a: bool(getattr(a, "get_gid", lambda: None)())):
        if artist.get_gid().startswith(prefix):
            found.setdefault(artist.get_gid(), artist)
    return found


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_draws_data(name, tables):
    fig = FIGURES[name](tables)
    assert artists_by_gid(fig), f"{name}: no data artists"
    assert png_pixels(fig).std() > 10, f"{name}: blank PNG"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_is_deterministic(name, tables):
    assert theme.render(FIGURES[name](tables), "png") == theme.render(FIGURES[name](tables), "png")


def test_make_reads_files_and_writes_png_pdf(tmp_path, tables):
    from tlsurvey.figures import make
    from tlsurvey.io import write_table

    ratings = write_table(tables["ratings"], tmp_path / "ratings.parquet")
    inputs = {"ratings": ratings, "study": STUDY.save(tmp_path / "study.json")}
    paths = make("likert", inputs, tmp_path / "f" / "likert")
    assert [p.name for p in paths] == ["likert.png", "likert.pdf"]
    assert all(p.stat().st_size for p in paths)


def test_demographics_bars_equal_counts(tables):
    from tlsurvey.figures import sample

    fig = sample.demographics(tables["responses"], STUDY)
    bars = artists_by_gid(fig)
    counts = tables["responses"]["role"].value_counts()
    assert {g.split("/", 1)[1]: b.get_width() for g, b in bars.items() if g.startswith("role/")} \
        == counts.to_dict()
    years = [g.split("/", 1)[1] for g in bars if g.startswith("ml_years/")]
    assert years == ["<1", "1-2", "3-5", "6-10", ">10"]  # scale order, not frequency


def test_similarity_expected_lines_and_rmcorr(tables):
    from tlsurvey.figures import relations

    ratings = tables["ratings"]
    fig = relations.similarity_expected(ratings, STUDY, make_rmcorr())
    data_axes = [ax for ax in fig.axes if ax.collections]
    assert len(data_axes) == len(CASE_STUDIES) * 4
    notes = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "rmcorr"]
    assert len(notes) == 8 and notes[0].startswith("r_rm = -0.12\n95% CI [-0.30, 0.07], p = .21")
    wide = ratings.pivot_table(index=["participant", "wave", "case_study", "source"],
                               columns="dimension", values="value", aggfunc="first").astype(float)
    visual = wide.dropna(subset=["visual", "expected"]).xs("tissue", level="case_study")
    varying = (visual.groupby(["wave", "participant"])["visual"].nunique() > 1).sum()
    first_ax = data_axes[0]
    lines = [c for c in first_ax.collections if c.get_gid() == "participant"]
    assert len(lines) == 1 and len(lines[0].get_segments()) == varying


def test_participant_lines_equal_each_participants_polyfit(tables):
    """The grey lines: each participant's own least-squares fit (numpy.polyfit), drawn over
    their range of ratings; participants with one x value get none."""
    from tlsurvey.figures.relations import participant_lines
    from tlsurvey.models.stats import wide_ratings

    part = wide_ratings(tables["ratings"]).dropna(subset=["visual", "expected"])
    part = part[part["case_study"] == "tissue"]
    segments = participant_lines(part, "visual", "expected")
    expected = []
    for _, person in part.groupby(["wave", "participant"], sort=True):
        if person["visual"].nunique() > 1:
            slope, icept = np.polyfit(person["visual"], person["expected"], 1)
            xs = np.array([person["visual"].min(), person["visual"].max()])
            expected.append(np.stack([xs, icept + slope * xs], axis=1))
    np.testing.assert_allclose(segments, np.array(expected), atol=1e-9)


def test_coefficients_drop_thresholds(tables):
    from tlsurvey.figures import models

    fig = models.coefficients(tables["coefficients"])
    gids = set(artists_by_gid(fig))
    assert len(gids) == 10 and not any("|" in g.split("/", 1)[1] for g in gids)
    line = artists_by_gid(fig)["expected_similarity_linear/domain"]
    assert list(line.get_xdata()) == pytest.approx([0.0, 0.4])


def test_alignment_counts_add_up_to_title(tables):
    from tlsurvey.figures import relations

    fig = relations.alignment(tables["misalignment"], STUDY)
    cells = artists_by_gid(fig)
    assert len(cells) == 2 * 16 + 2  # three sources and "tie", squared, per case; two titles
    for k, case in enumerate(CASE_STUDIES):
        data = tables["misalignment"].query("case_study == @case")
        mine = {g: t.get_text() for g, t in cells.items() if g.startswith(f"{case}/")}
        assert sum(int(t.split()[0]) for t in mine.values()) == len(data)
        tie = ((data.most_similar == "imagenet") & data.expected_best.str.contains(";"))
        assert mine[f"{case}/imagenet/tie"].split()[0] == str(tie.sum())
        diagonal = sum(int(mine[f"{case}/{s}/{s}"]) for s in SOURCES)
        via_tie = sum(int(t.split("(")[1].split()[0]) for t in mine.values() if "(" in t)
        aligned = int((~data["misaligned"]).sum())
        assert diagonal + via_tie == aligned
        assert fig.axes[k].get_title() == (f"CS-{case}: {aligned}/{len(data)} aligned\n"
                                           f"({diagonal} same source + {via_tie} within a tie)")


def test_rho_distribution_points_and_means(tables):
    from tlsurvey.figures import relations

    fig = relations.rho_distribution(tables["participants"], STUDY, tables["alignment_summary"])
    found = artists_by_gid(fig)
    part = tables["participants"].query("scope == 'tissue' and dimension == 'visual'")
    assert len(found["rho/tissue/visual"].get_offsets()) == part["rho"].notna().sum()
    assert "mean/tissue/visual" in found and "mean/pooled/visual" not in found


def test_transitions_bands_equal_task_choices(tables):
    from tlsurvey.figures import choices

    data = tables["choices"]
    fig = choices.transitions(data, STUDY)
    found = artists_by_gid(fig)
    table = choices.transition_table(data.dropna(subset=["source"]), "tissue", "xray")
    for (a, b), m in table.stack().items():
        assert (f"tissue/xray/{a}/{b}" in found) == bool(m)
        if m >= 2:
            assert found[f"count/tissue/xray/{a}/{b}"].get_text() == str(m)
    n = int(table.to_numpy().sum())
    assert fig.axes[0].get_title().startswith(f"Source chosen per case study (n = {n}; ")


def test_choices_bars_equal_counts(tables):
    from tlsurvey.figures import choices

    bars = artists_by_gid(choices.choices(tables["choices"], STUDY))
    data = tables["choices"]
    expected = ((data["case_study"] == "xray") & (data["source"] == "ecoset")).sum()
    assert bars["xray/ecoset"].get_height() == expected
    assert "tissue/(skipped)" in bars


def test_code_frequency_shares(tables):
    from tlsurvey.figures import coding

    codes, choices = tables["codes"], tables["choices"]
    bars = artists_by_gid(coding.code_frequency(codes, choices, CODEBOOK, STUDY))
    tissue = codes[(codes["case_study"] == "tissue") & (codes["code"] == "dataset_size")]
    expected = 100 * tissue["participant"].nunique() / (choices["case_study"] == "tissue").sum()
    assert bars["case/tissue/dataset_size"].get_width() == pytest.approx(expected)
    assert any(g.startswith("source/radimagenet/") for g in bars)


def test_code_families_shares(tables):
    from tlsurvey.figures import coding

    codes, choices = tables["codes"], tables["choices"]
    bars = artists_by_gid(coding.code_families(codes, choices, CODEBOOK, STUDY))
    members = [c for c, spec in CODEBOOK["codes"].items() if spec["group"] == "similarity"]
    xray = codes[(codes["case_study"] == "xray") & codes["code"].isin(members)]
    expected = 100 * xray["participant"].nunique() / (choices["case_study"] == "xray").sum()
    assert bars["case/xray/similarity"].get_width() == pytest.approx(expected)


def test_code_cooccurrence_upper_triangle_and_totals(tables):
    from tlsurvey.figures import coding

    codes = tables["codes"]
    cells = artists_by_gid(coding.code_cooccurrence(codes, CODEBOOK))
    pairs = {g for g in cells if not g.startswith("total/")}
    assert len(pairs) == len(CODES) * (len(CODES) - 1) // 2
    n = codes.loc[codes["code"] == "task_dependence", "text_id"].nunique()
    assert cells["total/task_dependence"].get_width() == n
    both = codes[codes["code"].isin(["community_practice", "dataset_size"])]
    n_both = (both.groupby("text_id")["code"].nunique() == 2).sum()
    assert cells["community_practice/dataset_size"].get_text() == str(n_both)


def test_factor_radar_means_pooled_and_per_wave(tables):
    from tlsurvey.figures import factors

    fig = factors.factors(tables["factors"], STUDY)
    found = artists_by_gid(fig)
    assert {"mean/all", "mean/wave1", "mean/wave2"} <= set(found)
    means = tables["factors"].groupby("factor")["value"].mean().reindex(FACTORS)
    assert list(found["mean/all"].get_ydata()[:-1]) == pytest.approx(list(means))
    wave2 = tables["factors"].query("wave == 'wave2'").groupby("factor")["value"].mean()
    assert list(found["mean/wave2"].get_ydata()[:-1]) == pytest.approx(list(wave2[list(FACTORS)]))
    assert len(found["mean/all"].get_xdata()) == len(FACTORS) + 1  # closed polygon
    none = Study.from_dict({**STUDY.to_dict(), "factors": []})
    assert "no framework-factor" in factors.factors(tables["factors"].iloc[:0], none).axes[
        0].texts[0].get_text()


def test_topics_ambiguous_outcome_waves(tables):
    from tlsurvey.figures import choices, coding, relations

    assert set(artists_by_gid(coding.topics(TOPIC_INFO))) == {"topic/0", "topic/1", "topic/2"}
    largest = coding.topics(TOPIC_INFO, max_topics=2)  # the 2 largest of 3 topics
    assert set(artists_by_gid(largest)) == {"topic/0", "topic/1"}
    assert largest.axes[0].get_xlabel() == "Answers (2 largest of 3 topics)"
    fig = coding.ambiguous_terms(TERMS, CODEBOOK)
    bars = artists_by_gid(fig)
    assert len(bars) == 2 * 4  # terms x senses present
    assert bars["similar/visual_similarity"].get_width() == 4
    assert bars["similar/unqualified"].get_x() == 6  # stacked after 4 + 2
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ['"similar"', '"domain"']
    fig = relations.intuition_outcome(tables["ratings"], OUTCOMES, STUDY)
    points = artists_by_gid(fig)
    assert {g for g in points if not g.startswith("note/")} == {
        f"{c}/{s}" for c in CASE_STUDIES for s in SOURCES}  # no "random"
    assert "significance of its differences unknown" in points["note/tissue"].get_text()
    low, high = fig.axes[0].get_xlim()
    assert high - low >= 0.05 - 1e-9  # no 0.004-wide axis magnifying small differences
    with_ci = OUTCOMES.assign(ci_low=OUTCOMES["macro_auc"] - 0.004,
                              ci_high=OUTCOMES["macro_auc"] + 0.004)
    notes = artists_by_gid(relations.intuition_outcome(tables["ratings"], with_ci, STUDY), "note/")
    assert notes["note/tissue"].get_text().endswith("differences not significant")
    assert notes["note/xray"].get_text() == "some benchmark 95% CIs do not overlap"
    wave_points = artists_by_gid(choices.waves(tables["ratings"], tables["choices"], STUDY))
    assert {g.split("/")[0] for g in wave_points} == {"wave1", "wave2"}
    chosen = tables["choices"].query("wave == 'wave2' and case_study == 'xray'")
    share = 100 * (chosen["source"] == "ecoset").sum() / len(chosen)
    assert wave_points["wave2/xray/chosen"].get_ydata()[SOURCES.index("ecoset")] == \
        pytest.approx(share)
    rated = tables["ratings"].query("wave == 'wave1' and case_study == 'tissue' and "
                                    "dimension == 'visual'").groupby("source")["value"].mean()
    assert list(wave_points["wave1/tissue/visual"].get_ydata()) == pytest.approx(
        [float(rated[s]) for s in SOURCES])
    # intuition vs outcome: the points are the mean outcome ratings
    found = artists_by_gid(relations.intuition_outcome(tables["ratings"], OUTCOMES, STUDY))
    mean = tables["ratings"].query("case_study == 'xray' and source == 'radimagenet' and "
                                   "dimension == 'expected'")["value"].mean()
    line = found["xray/radimagenet"]
    drawn = ~np.isnan(np.asarray(line.get_ydata(), dtype=float))
    assert list(np.asarray(line.get_ydata())[drawn]) == pytest.approx([float(mean)])
    assert list(np.asarray(line.get_xdata())[drawn]) == pytest.approx([0.7323])


def test_empty_inputs_give_message_figures():
    from tlsurvey.figures import choices, coding

    empty = make_ratings().iloc[:0]
    for fig in (likert.likert(empty), choices.choices(make_choices().iloc[:0]),
                coding.ambiguous_terms(TERMS.iloc[:0])):
        assert fig.axes[0].texts and not artists_by_gid(fig)


def test_identical_bytes_across_processes(tmp_path, tables):
    """Same inputs -> identical PNG and PDF bytes, even with different hash seeds."""
    import os
    import subprocess
    import sys

    from tlsurvey.io import write_table

    ratings = write_table(tables["ratings"], tmp_path / "ratings.parquet")
    code = ("import sys; from tlsurvey.figures import make; "
            "make('likert', {'ratings': sys.argv[1]}, sys.argv[2])")
    digests = []
    for seed in ("1", "2"):
        stem = tmp_path / seed / "likert"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", code, str(ratings), str(stem)], check=True, env=env)
        digests.append([stem.with_suffix(s).read_bytes() for s in (".png", ".pdf")])
    assert digests[0] == digests[1]


def test_rules_request_every_registered_figure(root):
    """figures.smk has one spec (hence one rule and caption) per registered figure."""
    import re

    smk = (root / "workflow" / "rules" / "figures.smk").read_text()
    specs = smk[smk.index("FIGURE_SPECS = {"):]
    names = re.findall(r'^    "(\w+)": \(', specs, flags=re.MULTILINE)
    assert sorted(names) == sorted(FIGURES)


def test_similarity_label_is_not_doubled():
    from tlsurvey.figures.theme import similarity_label

    assert similarity_label("Visual") == "Visual similarity"
    assert similarity_label("Visual similarity") == "Visual similarity"
    assert similarity_label("Embedding") == "Embedding similarity"


def test_model_display_names_from_the_study(tables):
    """Default spec names are shown as outcome ~ predictors, family (no snake_case ids)."""
    from tlsurvey.figures import models
    from tlsurvey.latex import model_label
    from tlsurvey.models.specs import default_specs

    label = theme.labeller(STUDY)
    names = [model_label(s["name"], s["family"], label) for s in default_specs(STUDY)]
    assert names == ["Expected performance ~ similarity, ordinal (CLMM)",
                     "Expected performance ~ similarity, linear (LMM)",
                     "Expected performance ~ similarity, ordinal (CLMM), crossed random "
                     "intercepts"]
    assert model_label("my_model", "gaussian", label) == "My model, linear (LMM)"
    fig = models.coefficients(tables["coefficients"], STUDY)
    titles = [ax.get_title().replace("\n", " ") for ax in fig.axes]
    assert titles == names[:2]
    assert fig.axes[0].get_shared_y_axes().joined(*fig.axes[:2])  # one shared term axis
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "Visual", "Semantic", "Embedding", "Domain", "Case study: CS-xray"]
