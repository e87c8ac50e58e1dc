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

import importlib
from typing import TYPE_CHECKING

from tlsurvey.errors import InputError

if TYPE_CHECKING:
    from tlsurvey.models.clmm import CLMMResult
    from tlsurvey.models.lmm import LMMResult

FAMILIES = ("gaussian", "ordinal")
# public names, imported on first use (PEP 562) so that ``tlsurvey fit`` starts fast
_LAZY = {
    "alignment_summary": "alignment",
    "misalignment": "alignment",
    "participant_spearman": "alignment",
    "rm_corr_table": "alignment",
    "CLMMResult": "clmm",
    "fit_clmm": "clmm",
    "parse": "formula",
    "LMMResult": "lmm",
    "fit_lmm": "lmm",
    "intuition_outcome": "outcome",
    "bowker_test": "task",
    "task_dependence": "task",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"tlsurvey.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'tlsurvey.models' has no attribute {name!r}")


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
        Ordinal family only, as ``nAGQ`` of ``ordinal::clmm``: 1 = Laplace, n > 1 adaptive and
        n < 0 non-adaptive Gauss-Hermite quadrature with ``|n|`` nodes; 0 is an error.
    """
    if family == "gaussian":
        from tlsurvey.models.lmm import fit_lmm

        return fit_lmm(formula, data, reml=reml)
    if family == "ordinal":
        from tlsurvey.models.clmm import fit_clmm

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
