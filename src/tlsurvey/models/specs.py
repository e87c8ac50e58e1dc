"""Model specs: checked against the study at config time, or built from its dimensions."""

from __future__ import annotations

from tlsurvey.errors import InputError
from tlsurvey.models.formula import parse
from tlsurvey.study import Study

DESIGN_VARIABLES = ("participant", "wave", "case_study", "source")  # columns besides dimensions


def default_specs(study: Study) -> list[dict]:
    """Specs built from the study's dimensions: the outcome on every similarity dimension (plus
    ``case_study`` with several case studies), random participant intercepts; ordinal (CLMM)
    and linear (LMM) fits, and with three or more sources also crossed participant and source
    intercepts. None without an outcome or a similarity dimension."""
    if study.outcome is None or not study.similarity_dimensions:
        return []
    terms = [*study.similarity_dimensions, *(["case_study"] if len(study.case_studies) > 1
                                              else [])]
    fixed = f"{study.outcome} ~ {' + '.join(terms)} + (1 | participant)"
    name = f"{study.outcome}_similarity"
    specs = [{"name": f"{name}_ordinal", "formula": fixed, "family": "ordinal", "link": "logit"},
             {"name": f"{name}_linear", "formula": fixed, "family": "gaussian", "reml": True}]
    if len(study.sources) >= 3:
        specs.append({"name": f"{name}_crossed", "formula": f"{fixed} + (1 | source)",
                      "family": "ordinal", "link": "logit"})
    return specs


def default_lrt(study: Study) -> list[dict]:
    """The source-variance test: the default linear model with and without random source
    intercepts (three or more sources, as the crossed spec). None otherwise."""
    fixed = [s["formula"] for s in default_specs(study) if s["family"] == "gaussian"]
    if not fixed or len(study.sources) < 3:
        return []
    return [{"name": "source_variance", "formulas": [fixed[0], f"{fixed[0]} + (1 | source)"]}]


def _check(formula: str, study: Study, path, where: str) -> None:
    """Raise an InputError when ``formula`` names a variable the study lacks."""
    try:
        variables = parse(formula).variables
    except InputError:  # unsupported syntax: reported by the fit, the other specs still run
        return
    unknown = [v for v in variables if v not in {*study.dimension_ids, *DESIGN_VARIABLES}]
    if unknown:
        raise InputError(path, f"{where}: the study has no {', '.join(map(repr, unknown))}; "
                         f"its dimensions are {', '.join(study.dimension_ids)}")


def model_specs(config: dict | None, study: Study, path="config") -> list[dict]:
    """``config["specs"]`` checked against the study, or :func:`default_specs` when omitted
    or null.

    Raises
    ------
    InputError
        A spec whose formula names a variable the study lacks (one line naming ``path``, the
        spec and the variable).
    """
    specs = (config or {}).get("specs")
    if specs is None:
        return default_specs(study)
    for i, spec in enumerate(specs):
        _check(spec["formula"], study, path, f"models.specs[{i}] ({spec['name']})")
    return specs


def model_lrt(config: dict | None, study: Study, path="config") -> list[dict]:
    """``config["lrt"]`` checked against the study like :func:`model_specs`, or
    :func:`default_lrt` when omitted or null."""
    tests = (config or {}).get("lrt")
    if tests is None:
        return default_lrt(study)
    for i, test in enumerate(tests):
        for formula in test["formulas"]:
            _check(formula, study, path, f"models.lrt[{i}] ({test['name']})")
    return tests
