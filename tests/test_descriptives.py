"""Descriptive tables on a small hand-made tidy data set with known answers."""

import pandas as pd
import pytest

from tlsurvey import descriptives


@pytest.fixture
def ratings():
    rows = []
    answers = [("P1", "w1", [1, 2]), ("P2", "w1", [3, None]), ("P3", "w2", [5, 4])]
    for participant, wave, values in answers:
        for dimension, value in zip(["visual", "expected"], values, strict=True):
            rows.append(
                {"participant": participant, "wave": wave, "case_study": "tissue",
                 "source": "imagenet", "dimension": dimension, "value": value,
                 "label": None if value is None else f"L{value}"}
            )
    df = pd.DataFrame(rows)
    df["value"] = df["value"].astype("Int64")
    return df


def test_likert_counts_percentages(ratings):
    table = descriptives.likert_counts(ratings)
    pooled = table[(table.wave == "all") & (table.dimension == "visual")]
    assert pooled["value"].tolist() == [1, 3, 5]
    assert pooled["pct"].tolist() == pytest.approx([100 / 3] * 3, rel=1e-4)
    w1_expected = table[(table.wave == "w1") & (table.dimension == "expected")]
    assert w1_expected[["value", "n", "pct"]].values.tolist() == [[2, 1, 100.0]]


def test_rating_summary_counts_skipped(ratings):
    table = descriptives.rating_summary(ratings).set_index(["wave", "dimension"])
    assert table.loc[("all", "expected"), "n"] == 2
    assert table.loc[("all", "expected"), "n_missing"] == 1
    assert table.loc[("all", "visual"), "mean"] == pytest.approx(3.0)
    assert table.loc[("all", "visual"), "median"] == 3.0


def test_factor_importance_ci():
    factors = pd.DataFrame(
        {"participant": ["P1", "P2", "P3"], "wave": "w1", "factor": "fairness",
         "value": pd.array([1, 2, 3], dtype="Int64")}
    )
    row = descriptives.factor_importance(factors).query("wave == 'all'").iloc[0]
    # mean 2, sd 1, n 3: t(0.975, 2) = 4.302653 -> half width 4.302653 / sqrt(3)
    assert row["mean"] == pytest.approx(2.0)
    assert row["ci_high"] - row["mean"] == pytest.approx(4.302653 / 3**0.5, rel=1e-6)


def test_choices_and_demographics_include_skipped():
    choices = pd.DataFrame(
        {"participant": ["P1", "P2"], "wave": "w1", "case_study": "xray",
         "source": pd.array(["radimagenet", None], dtype="string")}
    )
    table = descriptives.choice_counts(choices).query("wave == 'w1'")
    assert dict(zip(table.source, table.n, strict=True)) == {"(skipped)": 1, "radimagenet": 1}
    responses = pd.DataFrame(
        {"participant": ["P1", "P2", "P3"], "wave": "w1", "start": "", "duration_s": 1.0,
         "progress": 100.0, "finished": True, "role": ["PhD student", None, "Postdoc"],
         "ml_years": ["More than 10 years", "3-5 years", None],
         "ml_years_code": pd.array([5, 3, None], dtype="Int64")}
    )
    demo = descriptives.demographics(responses).query("wave == 'w1'")
    assert set(demo.variable) == {"role", "ml_years"}
    assert demo.query("variable == 'role'")["level"].tolist() == [
        "(skipped)", "PhD student", "Postdoc"]
    # ordered variables keep their scale order, skipped last
    assert demo.query("variable == 'ml_years'")["level"].tolist() == [
        "3-5 years", "More than 10 years", "(skipped)"]


def test_mean_ci_is_t_based():
    # mean 2.5, sd 1.29099, t(0.975, 3) = 3.18245: half-width 2.05426
    ci = descriptives.mean_ci(pd.Series([1, 2, 3, 4, None]))
    assert ci["n"] == 4 and ci["mean"] == 2.5
    assert ci["ci_low"] == pytest.approx(0.4457397432394794, rel=1e-12)
    assert ci["ci_high"] == pytest.approx(4.554260256760521, rel=1e-12)
    assert descriptives.mean_ci(pd.Series([3.0]))[["sd", "ci_low"]].isna().all()
