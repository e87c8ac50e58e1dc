"""Statistical models of the survey: mixed models, alignment, task dependence, outcomes.

Public API
----------
fit(formula, data, family, link, reml, nagq)
    Mixed model in lme4 syntax: ``gaussian`` (own LMM, as lme4) or ``ordinal`` (own CLMM).
fit_lmm, fit_clmm, parse
rm_corr_table, participant_spearman, misalignment, alignment_summary
bowker_test, task_dependence
intuition_outcome
run
    The workflow step: every table under ``results/models/``.
"""

from __future__ import annotations

from tlsurvey.errors import InputError
from tlsurvey.models.alignment import (
    alignment_summary,
    misalignment,
    participant_spearman,
    rm_corr_table,
)
from tlsurvey.models.clmm import CLMMResult, fit_clmm
from tlsurvey.models.formula import parse
from tlsurvey.models.lmm import LMMResult, fit_lmm
from tlsurvey.models.outcome import intuition_outcome
from tlsurvey.models.task import bowker_test, task_dependence

FAMILIES = ("gaussian", "ordinal")


def fit(
    formula: str,
    data,
    family: str = "ordinal",
    link: str = "logit",
    reml: bool = True,
    nagq: int = 1,
) -> LMMResult | CLMMResult:
    """Fit a mixed model given in lme4 syntax.

    Parameters
    ----------
    formula : str
        e.g. ``"expected ~ visual + semantic + case_study + (1 | participant)"``.
    data : pandas.DataFrame
    family : {"ordinal", "gaussian"}
        Cumulative link mixed model (Likert outcomes, the default) or linear mixed model.
    link : {"logit", "probit"}
        Ordinal family only.
    reml : bool
        Gaussian family only: REML (True) or ML.
    nagq : int
        Ordinal family only: 1 = Laplace, > 1 = adaptive Gauss-Hermite quadrature.
    """
    if family == "gaussian":
        return fit_lmm(formula, data, reml=reml)
    if family == "ordinal":
        return fit_clmm(formula, data, link=link, nagq=nagq)
    raise InputError("model", f"unknown family {family!r}; use one of {FAMILIES}")


def run(*args, **kwargs):
    """See :func:`tlsurvey.models.workflow.run`."""
    from tlsurvey.models.workflow import run as _run

    return _run(*args, **kwargs)


__all__ = [
    "CLMMResult",
    "LMMResult",
    "alignment_summary",
    "bowker_test",
    "fit",
    "fit_clmm",
    "fit_lmm",
    "intuition_outcome",
    "misalignment",
    "parse",
    "participant_spearman",
    "rm_corr_table",
    "run",
    "task_dependence",
]
