"""Satterthwaite degrees of freedom for the fixed effects of a linear mixed model (lmerTest).

The variance parameters are ``varpar = (theta, sigma)``. Their asymptotic covariance is twice the
(Moore-Penrose) inverse of the Hessian of the deviance in ``varpar`` (``beta`` profiled, ``sigma``
not), and ``vcov(beta)`` is differentiated with respect to ``varpar``; both derivatives are
central differences refined by Richardson extrapolation, as numDeriv does for lmerTest. For a
contrast ``L``: ``df = 2 (L C L')^2 / (g' A g)`` with ``g`` the gradient of ``L C L'``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special  # the t and F tails as scipy.stats computes them, without its import

EIGEN_TOL = 1e-8  # lmerTest: Hessian eigenvalues below this are dropped
STEPS = 4  # Richardson levels (numDeriv: r = 4, halving the step)


def _richardson(estimates: list[np.ndarray]) -> np.ndarray:
    """Extrapolate estimates with error in even powers of a halving step."""
    table = list(estimates)
    for j in range(1, len(table)):
        factor = 4.0**j
        table = [(factor * table[i + 1] - table[i]) / (factor - 1) for i in range(len(table) - 1)]
    return table[0]


def _steps(x: np.ndarray) -> np.ndarray:
    """numDeriv's initial steps: 0.1 |x|, or 1e-4 where x is about 0."""
    return np.where(np.abs(x) > 1e-4, 0.1 * np.abs(x), 1e-4)


def hessian(f, x: np.ndarray) -> np.ndarray:
    """Hessian of scalar ``f`` at ``x`` (central differences, Richardson extrapolation)."""
    x = np.asarray(x, float)
    d, f0, levels = len(x), f(x), []
    for level in range(STEPS):
        h = _steps(x) / 2**level
        H = np.empty((d, d))
        for i in range(d):
            ei = np.eye(d)[i] * h[i]
            H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
            for j in range(i):
                ej = np.eye(d)[j] * h[j]
                H[i, j] = H[j, i] = (
                    f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
                ) / (4 * h[i] * h[j])
        levels.append(H)
    return _richardson(levels)


def jacobian(f, x: np.ndarray) -> list[np.ndarray]:
    """Derivatives of array-valued ``f`` with respect to each element of ``x``."""
    x = np.asarray(x, float)
    out = []
    for i in range(len(x)):
        levels = []
        for level in range(STEPS):
            e = np.eye(len(x))[i] * _steps(x)[i] / 2**level
            levels.append((f(x + e) - f(x - e)) / (2 * e[i]))
        out.append(_richardson(levels))
    return out


def satterthwaite(dev, theta, sigma, vcov):
    """Per-coefficient Satterthwaite df, ``vcov(varpar)`` and the Jacobian of ``vcov(beta)``.

    Parameters
    ----------
    dev : tlsurvey.models.lmm._Deviance
        Supplies ``deviance_varpar`` and ``covbeta``.
    theta, sigma : numpy.ndarray, float
        The estimates.
    vcov : numpy.ndarray
        ``vcov(beta)`` at the estimates.

    Returns
    -------
    df : numpy.ndarray
    varpar_vcov : numpy.ndarray
    jac : list of numpy.ndarray
    notes : list of str
        Messages (e.g. a Hessian that is not positive definite, as lmerTest warns).
    """
    varpar = np.append(theta, sigma)
    H = hessian(dev.deviance_varpar, varpar)
    values, vectors = np.linalg.eigh(H)
    pos = values > EIGEN_TOL
    notes = [] if pos.all() else ["Satterthwaite: Hessian of the variance parameters is singular"]
    A = 2 * (vectors[:, pos] / values[pos]) @ vectors[:, pos].T
    jac = jacobian(dev.covbeta, varpar)
    df = np.array([_df(np.eye(len(vcov))[j], vcov, jac, A) for j in range(len(vcov))])
    return df, A, jac, notes


def _df(contrast, vcov, jac, A) -> float:
    var = contrast @ vcov @ contrast
    grad = np.array([contrast @ J @ contrast for J in jac])
    denom = grad @ A @ grad
    return float(2 * var**2 / denom) if denom > 0 else np.nan


def t_sf(x, df):
    """Upper tail of Student's t (``scipy.stats.t.sf``): NaN where ``df`` is not positive."""
    x, df = np.broadcast_arrays(np.asarray(x, float), np.asarray(df, float))
    return np.where(df > 0, special.stdtr(np.where(df > 0, df, 1.0), -x), np.nan)


def t_ppf(q, df):
    """Quantile of Student's t (``scipy.stats.t.ppf``) at ``0 < q < 1``: NaN where ``df`` is not
    positive."""
    df = np.asarray(df, float)
    return np.where(df > 0, special.stdtrit(np.where(df > 0, df, 1.0), q), np.nan)


def f_sf(x: float, dfn: float, dfd: float) -> float:
    """Upper tail of the F distribution (``scipy.stats.f.sf``): NaN unless both df are positive."""
    if not (dfn > 0 and dfd > 0):
        return np.nan
    return 1.0 if x <= 0 else float(special.fdtrc(dfn, dfd, x))


def t_table(est: pd.Series, se: pd.Series, df: pd.Series) -> pd.DataFrame:
    """t statistics, two-sided p-values and 95% intervals on Satterthwaite df."""
    t = est / se
    df = df.reindex(est.index)
    return pd.DataFrame(
        {
            "term": est.index,
            "kind": "fixed",
            "estimate": est.values,
            "se": se.values,
            "statistic": t.values,
            "df": df.values,
            "p": 2 * t_sf(np.abs(t.values), df.values),
            "ci_low": (est - t_ppf(0.975, df.values) * se).values,
            "ci_high": (est + t_ppf(0.975, df.values) * se).values,
            "test": "Satterthwaite t",
        }
    )


def _ddf(nu: np.ndarray) -> float:
    """lmerTest's denominator df of an F test from the df of its q orthogonal t tests."""
    if len(nu) == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < 1e-8):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    e = np.sum(nu / (nu - 2))
    return float(2 * e / (e - len(nu)))


def f_test(result, L: np.ndarray) -> tuple[int, float, float, float]:
    """F test of ``L beta = 0``: (numerator df, denominator df, F, p), as lmerTest's contestMD."""
    beta, vcov = result.coefficients.to_numpy(), result.vcov.to_numpy()
    values, vectors = np.linalg.eigh(L @ vcov @ L.T)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    keep = values > max(np.sqrt(np.finfo(float).eps) * values[0], 0)
    PtL = (vectors.T @ L)[keep]
    d = values[keep]
    F = float(np.sum((PtL @ beta) ** 2 / d) / len(d))
    nu = np.array([_df(row, vcov, result.jacobian, result.varpar_vcov) for row in PtL])
    ddf = _ddf(nu)
    return len(d), ddf, F, float(f_sf(F, len(d), ddf))


def _zapsmall(a: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: round to ``digits`` significant digits of the largest entry."""
    biggest = np.max(np.abs(a)) if a.size else 0.0
    if biggest == 0:
        return a
    return np.round(a, max(0, digits - int(np.ceil(np.log10(biggest)))))


def type3_contrasts(X: pd.DataFrame, terms: dict, factors: dict, complete) -> dict:
    """Type III contrast matrix of each term, as lmerTest's ``extract_contrasts_type3``.

    Parameters
    ----------
    X : pandas.DataFrame
        The (treatment-coded, full-rank) fixed-effects matrix.
    terms : dict
        Term -> positions of its columns in ``X``.
    factors : dict
        Term -> set of its factors (containment: a term whose factors are a proper subset).
    complete : pandas.DataFrame or None
        Every level of every factor of every term (lmerTest's ``rdX``). None: no term is
        contained in another (each term's contrast selects its columns), or a coding this
        does not handle (contained terms get no contrast).
    """
    p = X.shape[1]
    names = [t for t in terms if t != "(Intercept)"]
    contains = {t: [o for o in names if factors[t] < factors[o]] for t in names}
    if complete is None:
        return {t: np.eye(p)[terms[t]] for t in names if not contains[t]}
    B = np.linalg.lstsq(X.to_numpy(float), complete.to_numpy(float), rcond=None)[0]
    L = _zapsmall(B.T)  # rows: complete-design columns, columns: coefficients
    for term in sorted(names, key=lambda t: -len(factors[t])):  # higher order first
        if contains[term]:
            other = L[:, [c for o in contains[term] for c in terms[o]]]
            y = L[:, terms[term]]
            L[:, terms[term]] = _zapsmall(y - other @ np.linalg.lstsq(other, y, rcond=None)[0])
    rows = [list(complete.columns).index(c) for c in X.columns]
    out = {}
    for term in names:
        Lt = L[np.ix_(rows, terms[term])].T
        out[term] = Lt[np.abs(Lt).sum(axis=1) > 1e-8]
    return out


def f_tests(result) -> pd.DataFrame:
    """Type III Satterthwaite F test per fixed-effect term, as lmerTest's ``anova``.

    Terms contained in a higher-order interaction are tested with lmerTest's type III
    contrasts (treatment coding); with explicit contrasts (``C(f, Sum)``) they get NaN.
    """
    rows = []
    for name, cols in result.terms.items():
        if name == "(Intercept)":
            continue
        L = result.contrasts.get(name)
        if L is None:
            rows.append((name, len(cols), np.nan, np.nan, np.nan))
        else:
            rows.append((name, *f_test(result, L)))
    table = pd.DataFrame(rows, columns=["term", "num_df", "den_df", "F", "p"])
    return table.assign(test="Satterthwaite F")
