"""lme4 formula parsing: random terms, their lme4 expansions and the model frame."""

import pandas as pd
import pytest

from tlsurvey.errors import InputError
from tlsurvey.models.formula import RandomTerm, model_frame, parse, r_name


def test_single_intercept():
    f = parse("expected ~ visual + semantic + embedding + case_study + (1 | participant)")
    assert f.response == "expected"
    assert f.fixed == "visual + semantic + embedding + case_study"
    assert f.groups == ["participant"] and f.intercepts_only
    assert f.random == (RandomTerm("participant"),)


def test_crossed_factors_are_separate_terms():
    f = parse("y ~ x + (1 | participant) + (1 | source)")
    assert f.random == (RandomTerm("participant"), RandomTerm("source"))


@pytest.mark.parametrize(
    "text, intercept, slopes",
    [
        ("y ~ x + (x | g)", True, ("x",)),
        ("y ~ x + (1 + x | g)", True, ("x",)),
        ("y ~ x + (0 + x | g)", False, ("x",)),
    ],
)
def test_random_slopes(text, intercept, slopes):
    term = parse(text).random[0]
    assert (term.intercept, term.slopes) == (intercept, slopes)
    assert term.names == ["(Intercept)"] * intercept + ["x"]


@pytest.mark.parametrize(
    "text, terms",
    [
        # lme4: (1 + x || g) is (1 | g) + (0 + x | g)
        ("y ~ x + (1 + x || g)", [("g", True, ()), ("g", False, ("x",))]),
        ("y ~ x + (x + z || g)", [("g", True, ()), ("g", False, ("x",)), ("g", False, ("z",))]),
        ("y ~ x + (0 + x || g)", [("g", False, ("x",))]),
        # slopes beside a crossed factor
        ("y ~ x + (1 + x | p) + (1 | s)", [("p", True, ("x",)), ("s", True, ())]),
        # nesting: a/b is a + b:a, a/b/c also c:b:a
        ("y ~ (1 | a/b)", [("a", True, ()), ("b:a", True, ())]),
        ("y ~ (1 | a/b/c)", [("a", True, ()), ("b:a", True, ()), ("c:b:a", True, ())]),
        ("y ~ (1 | a:b)", [("a:b", True, ())]),
    ],
)
def test_lme4_expansions(text, terms):
    assert parse(text).random == tuple(RandomTerm(*t) for t in terms)


def test_interaction_factor_levels_are_combinations():
    data = pd.DataFrame({"y": [1.0, 2, 3, 4], "a": list("aabb"), "b": list("xyxx")})
    frame = model_frame(parse("y ~ (1 | a/b)"), data)
    assert list(frame["b:a"]) == ["x:a", "y:a", "x:b", "x:b"]
    assert parse("y ~ (1 | a/b)").random[1].factors == ["b", "a"]


def test_intercept_only_fixed_part():
    assert parse("y ~ (1 | g)").fixed == "1"
    assert parse("y ~ 1 + (1 | a) + (1 | b)").fixed == "1"


@pytest.mark.parametrize(
    "text, message",
    [
        ("y ~ x + (1 | a b)", "column names"),
        ("y ~ x + (1 | a/)", "column names"),
        ("y ~ x + (1 | g | h)", "exactly one"),
        ("y ~ x + (x:z | g)", "interaction"),
        ("y ~ x + (1 | g) + (1 + x | g)", "twice"),
        ("y ~ x + (1 + x || g) + (0 + x | g)", "twice"),
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
    assert r_name("C(group)[T.b]") == "groupb"
    assert r_name("f[a]") == "fa" and r_name("x:f[T.b]") == "x:fb"
