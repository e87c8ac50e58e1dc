"""lme4 formula parsing and its mapping to statsmodels and the CLMM."""

import pandas as pd
import pytest

from tlsurvey.errors import InputError
from tlsurvey.models.formula import model_frame, parse, r_name


def test_single_intercept():
    f = parse("expected ~ visual + semantic + embedding + case_study + (1 | participant)")
    assert f.response == "expected"
    assert f.fixed == "visual + semantic + embedding + case_study"
    assert f.groups == ["participant"] and f.intercepts_only
    kw = f.statsmodels()
    assert kw == {
        "formula": "expected ~ visual + semantic + embedding + case_study",
        "groups": "participant",
        "re_formula": "1",
    }


def test_crossed_maps_to_variance_components():
    kw = parse("y ~ x + (1 | participant) + (1 | source)").statsmodels()
    assert kw["groups"] == "_all" and kw["re_formula"] == "0"
    assert kw["vc_formula"] == {"participant": "0 + C(participant)", "source": "0 + C(source)"}


@pytest.mark.parametrize(
    "text, intercept, slopes, re_formula",
    [
        ("y ~ x + (x | g)", True, ("x",), "1 + x"),
        ("y ~ x + (1 + x | g)", True, ("x",), "1 + x"),
        ("y ~ x + (0 + x | g)", False, ("x",), "0 + x"),
    ],
)
def test_random_slopes(text, intercept, slopes, re_formula):
    f = parse(text)
    term = f.random[0]
    assert (term.intercept, term.slopes) == (intercept, slopes)
    assert f.statsmodels()["re_formula"] == re_formula


def test_intercept_only_fixed_part():
    assert parse("y ~ (1 | g)").fixed == "1"
    assert parse("y ~ 1 + (1 | a) + (1 | b)").fixed == "1"


@pytest.mark.parametrize(
    "text, message",
    [
        ("y ~ x + (1 || g)", "'||'"),
        ("y ~ x + (1 | a/b)", "nested"),
        ("y ~ x + (1 | a:b)", "single column"),
        ("y ~ x + (x:z | g)", "interaction"),
        ("y ~ x + (1 | g) + (0 + x | g)", "more than one"),
        ("y ~ x + 1 | g", "parentheses"),
        ("y x", "'~'"),
        ("y ~ x + (1 | g", "unbalanced"),
        ("y ~ x + ( | g)", "cannot parse"),
        ("y ~ x", "no random-effects term"),
    ],
)
def test_unsupported_syntax_is_input_error(text, message):
    with pytest.raises(InputError, match="formula") as err:
        parse(text)
    assert message in str(err.value)


def test_crossed_slopes_rejected_for_statsmodels():
    with pytest.raises(InputError, match="one grouping factor"):
        parse("y ~ x + (x | a) + (1 | b)").statsmodels()


def test_model_frame_drops_missing_and_checks_columns(caplog):
    data = pd.DataFrame({"y": [1, 2, None, 3], "x": [1.0, None, 2.0, 3.0], "g": list("abab")})
    f = parse("y ~ x + (1 | g)")
    with caplog.at_level("INFO", logger="tlsurvey.models"):
        assert len(model_frame(f, data)) == 2
    assert "dropped 2 of 4 rows" in caplog.text
    with pytest.raises(InputError, match="not found"):
        model_frame(parse("y ~ x + (1 | h)"), data)


def test_r_names():
    assert r_name("Intercept") == "(Intercept)"
    assert r_name("temp[T.warm]") == "tempwarm"
    assert r_name("C(case_study)[T.xray]") == "case_studyxray"
