"""Linear mixed models in lme4 syntax, fitted with statsmodels MixedLM (REML or ML).

Optimiser settings were tuned so that the fits reproduce lme4 (sleepstudy random slopes, REML
and ML; Penicillin crossed intercepts) within 1e-5 relative (see tests/test_models_lmm.py).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from tlsurvey.errors import InputError
from tlsurvey.models.clmm import wald_table
from tlsurvey.models.formula import model_frame, parse, r_name

# statsmodels tries a list's methods in turn from the previous optimum until one converges; a
# list that raises (e.g. lbfgs stepping to a singular covariance) falls back to the next list.
METHODS = (["bfgs", "lbfgs"], ["powell", "bfgs"], ["nm", "bfgs"])


@dataclass
class LMMResult:
    """Fitted linear mixed model.

    Attributes
    ----------
    coefficients, se : pandas.Series
        Fixed effects and their standard errors.
    random : pandas.DataFrame
        Random-effect parameters: group, term, variance, sd, cor (with the group's first term).
    residual_sd : float
    loglik : float
        Log-likelihood (REML log-likelihood when ``reml``); ``criterion`` is ``-2 * loglik``,
        lme4's "REML criterion at convergence" under REML.
    """

    formula: str
    reml: bool
    coefficients: pd.Series
    se: pd.Series
    random: pd.DataFrame
    residual_sd: float
    loglik: float
    nobs: int
    ngroups: dict
    fixed_variance: float
    random_variance: float
    converged: bool = True
    messages: list = field(default_factory=list)

    @property
    def aic(self) -> float:
        """AIC of an ML fit (NaN under REML, whose likelihoods are not comparable)."""
        if self.reml:
            return float("nan")
        n_cov = int(self.random["cor"].notna().sum()) + len(self.random)  # incl. residual
        return -2 * self.loglik + 2 * (len(self.coefficients) + n_cov)

    @property
    def criterion(self) -> float:
        return -2 * self.loglik

    @property
    def icc(self) -> float:
        """Adjusted ICC: random-effect variance over random plus residual variance."""
        return self.random_variance / (self.random_variance + self.residual_sd**2)

    @property
    def r2(self) -> tuple[float, float]:
        """Nakagawa & Schielzeth marginal and conditional R2 (Johnson's random-slope form)."""
        total = self.fixed_variance + self.random_variance + self.residual_sd**2
        return self.fixed_variance / total, (self.fixed_variance + self.random_variance) / total

    def table(self) -> pd.DataFrame:
        """Tidy fixed-effects table (Wald z tests and 95% CIs)."""
        return wald_table(self.coefficients, self.se, "fixed")


def fit_lmm(formula: str, data: pd.DataFrame, reml: bool = True) -> LMMResult:
    """Fit a linear mixed model given in lme4 syntax.

    Parameters
    ----------
    formula : str
        e.g. ``"Reaction ~ Days + (Days | Subject)"`` or ``"y ~ 1 + (1 | a) + (1 | b)"``.
    data : pandas.DataFrame
        Rows with missing model variables are dropped (count logged).
    reml : bool
        REML (default, as lme4) or maximum likelihood.

    Returns
    -------
    LMMResult

    Notes
    -----
    Crossed random intercepts are fitted as variance components within one all-ones group.
    p-values are Wald z tests (as statsmodels; lme4 gives none).

    References
    ----------
    Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models
    using lme4. Journal of Statistical Software, 67(1).
    Nakagawa, S. & Schielzeth, H. (2013). A general and simple method for obtaining R2 from
    generalized linear mixed-effects models. Methods in Ecology and Evolution, 4(2), 133-142.
    Johnson, P. C. D. (2014). Extension of Nakagawa & Schielzeth's R2GLMM to random slopes
    models. Methods in Ecology and Evolution, 5(9), 944-946.
    """
    parsed = parse(formula)
    frame = model_frame(parsed, data)
    frame["_all"] = 1
    kwargs = parsed.statsmodels()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = smf.mixedlm(data=frame, **kwargs)
        except Exception as exc:  # patsy errors on unknown terms
            raise InputError("formula", f"cannot build {formula!r}: {exc}") from None
        res = _fit(model, reml)
    messages = sorted({str(w.message).splitlines()[0] for w in caught})
    fe = res.fe_params.rename(r_name)
    se = pd.Series(np.asarray(res.bse_fe), index=fe.index)
    random = _random_table(parsed, model, res)
    X = model.exog
    fixed_variance = float(np.var(X @ fe.to_numpy(), ddof=1))
    if len(parsed.random) == 1:
        Z, cov = model.exog_re, np.asarray(res.cov_re)
        random_variance = float(np.mean(np.einsum("ij,jk,ik->i", Z, cov, Z)))
    else:
        random_variance = float(np.sum(res.vcomp))
    return LMMResult(
        formula=formula,
        reml=reml,
        coefficients=fe,
        se=se,
        random=random,
        residual_sd=float(np.sqrt(res.scale)),
        loglik=float(res.llf),
        nobs=int(res.nobs),
        ngroups={g: int(frame[g].nunique()) for g in parsed.groups},
        fixed_variance=fixed_variance,
        random_variance=random_variance,
        converged=bool(res.converged),
        messages=messages,
    )


def _fit(model, reml):
    """First converged fit over METHODS; otherwise the best non-converged one."""
    fits, error = [], None
    for methods in METHODS:
        try:
            res = model.fit(reml=reml, method=methods)
        except (np.linalg.LinAlgError, ValueError) as exc:
            error = exc
            continue
        if res.converged:
            return res
        fits.append(res)
    if not fits:
        raise InputError("model", f"linear mixed model failed to fit: {error}")
    return max(fits, key=lambda res: res.llf)


def _random_table(parsed, model, res) -> pd.DataFrame:
    rows = []
    if len(parsed.random) == 1:
        group, cov = parsed.random[0].group, np.asarray(res.cov_re)
        names = (
            parsed.random[0].names
            if cov.shape[0] == len(parsed.random[0].names)
            else list(res.cov_re.index)
        )
        sd = np.sqrt(np.diag(cov))
        for k, name in enumerate(names):
            cor = cov[0, k] / (sd[0] * sd[k]) if k and sd[0] * sd[k] > 0 else np.nan
            rows.append((group, name, cov[k, k], sd[k], cor))
    else:
        for name, var in zip(model.exog_vc.names, np.asarray(res.vcomp), strict=True):
            rows.append((name, "(Intercept)", var, np.sqrt(var), np.nan))
    rows.append(("Residual", "", res.scale, np.sqrt(res.scale), np.nan))
    return pd.DataFrame(rows, columns=["group", "term", "variance", "sd", "cor"])
