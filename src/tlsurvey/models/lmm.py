"""Linear mixed models in lme4 syntax, fitted as lme4 does (Bates et al. 2015).

The model is ``y = X beta + Z b + e`` with ``b = Lambda(theta) u``, ``u ~ N(0, sigma^2 I)`` and
``e ~ N(0, sigma^2 I)``. For a given relative covariance factor ``theta`` the penalised least
squares problem is solved in closed form and ``beta`` and ``sigma`` are profiled out, leaving the
REML or ML deviance as a function of ``theta`` alone, which is minimised under the bounds
``diag(Lambda) >= 0``.

Everything is computed from cross-products. With ``A = Lambda' Z'Z Lambda + I`` and
``R = Lambda' Z' [y X]``, ``M = [y X]'[y X] - R' A^-1 R`` holds the penalised residual sum of
squares and ``RX'RX`` (lme4's ``X' V^-1 X / sigma^2``); ``log|A|`` is lme4's ``log|L|^2``.
``A`` is factored blockwise: the random effects of the grouping factor with most effects form a
block-diagonal block (one small dense block per level, factored all at once); the remaining
effects (crossed or nested factors with fewer effects) enter through a dense Schur complement,
or, when they are many, the whole of ``A`` goes to a sparse LU factorisation. BLAS runs on one
thread: the dense blocks are small, and threaded BLAS slows them down on a busy machine.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import linalg, optimize
from scipy.sparse.linalg import splu
from threadpoolctl import threadpool_limits

from tlsurvey.errors import InputError
from tlsurvey.models.formula import model_frame, parse, patsy_frame, r_name
from tlsurvey.models.satterthwaite import type3_contrasts

RESTART = 0.1  # relative SD from which to restart a search that stopped on the boundary
CORR = (np.nan, np.nan)  # variance and sd of a correlation-only row of the random table
SINGULAR_TOL = 1e-4  # lme4's isSingular tolerance on theta
GTOL = 1e-10  # on the gradient of the deviance relative to its value at the start
DENSE_SCHUR = 2000  # at most this many effects outside the largest factor: dense Schur complement
DENSE_CELLS = 2e7  # and at most this many entries in the dense cross-product Z1'Z2


@dataclass
class _Block:
    """The random effects of one grouping factor: ``k`` effects per level, ``m`` levels.

    ``terms`` lists, per random term on this factor, the positions of its effects (uncorrelated
    slopes ``||`` are separate terms on one factor, so ``Lambda`` is block diagonal within a level).
    """

    group: str
    codes: np.ndarray
    levels: int
    Z: np.ndarray  # n x k model matrix of the effects
    names: list
    terms: list

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def ntheta(self) -> int:
        return sum(len(t) * (len(t) + 1) // 2 for t in self.terms)

    def template(self, theta: np.ndarray) -> np.ndarray:
        """The k x k lower-triangular factor of one level (theta column-wise per term, as lme4)."""
        T, at = np.zeros((self.k, self.k)), 0
        for term in self.terms:
            for j in range(len(term)):
                for i in range(j, len(term)):
                    T[term[i], term[j]] = theta[at]
                    at += 1
        return T

    def lower(self) -> np.ndarray:
        """Lower bounds of theta: 0 on diagonals, -inf elsewhere."""
        return np.concatenate(
            [
                [0.0 if i == j else -np.inf for j in range(len(t)) for i in range(j, len(t))]
                for t in self.terms
            ]
        )

    def start(self) -> np.ndarray:
        return np.where(self.lower() == 0, 1.0, 0.0)

    def sparse(self) -> sp.csc_matrix:
        """The n x (m k) sparse model matrix, columns level-major as lme4."""
        n = len(self.codes)
        cols = (self.codes[:, None] * self.k + np.arange(self.k)).ravel()
        rows = np.repeat(np.arange(n), self.k)
        return sp.csc_matrix((self.Z.ravel(), (rows, cols)), shape=(n, self.levels * self.k))


class _Deviance:
    """Cross-products of a linear mixed model and its profiled deviance as a function of theta."""

    def __init__(self, y, X, blocks, reml):
        self.n, self.p = X.shape
        self.reml, self.blocks = reml, blocks
        # beta is estimated as OLS + a correction: the deviance is invariant to replacing y by
        # its OLS residuals, which keeps the penalised residual sum of squares free of
        # cancellation
        self.beta_ols = np.linalg.lstsq(X, y, rcond=None)[0]
        Y = np.column_stack([y - X @ self.beta_ols, X])
        self.YtY = Y.T @ Y
        big, rest = blocks[0], blocks[1:]
        self.q2 = sum(b.levels * b.k for b in rest)
        self.split = np.cumsum([0] + [b.ntheta for b in blocks])
        self.sparse = self.q2 > DENSE_SCHUR or big.levels * big.k * self.q2 > DENSE_CELLS
        if self.sparse:
            Zs = sp.hstack([b.sparse() for b in blocks]).tocsc()
            self.ZtZ, self.ZtY = (Zs.T @ Zs).tocsc(), np.asarray(Zs.T @ Y)
            return
        outer = big.Z[:, :, None] * big.Z[:, None, :]
        self.Z1Z1 = _by_level(big.codes, big.levels, outer)  # m x k x k
        self.Z1Y = _by_level(big.codes, big.levels, big.Z[:, :, None] * Y[:, None, :])
        if rest:
            Z2 = sp.hstack([b.sparse() for b in rest]).tocsc()
            self.Z2Z2 = (Z2.T @ Z2).toarray()
            self.Z2Y = np.asarray(Z2.T @ Y)
            # Z1'Z2 as m x k x q2 (dense: q2 is small)
            cross = np.zeros((big.levels, big.k, self.q2))
            Z2c = Z2.tocsr()
            for j in range(big.k):
                W = sp.csr_matrix(
                    (big.Z[:, j], (big.codes, np.arange(self.n))), shape=(big.levels, self.n)
                )
                cross[:, j, :] = (W @ Z2c).toarray()
            self.Z1Z2 = cross

    def templates(self, theta):
        return [
            b.template(theta[s:e])
            for b, s, e in zip(self.blocks, self.split[:-1], self.split[1:], strict=True)
        ]

    def factor(self, theta):
        """``log|A|`` and ``M = [y X]'[y X] - R' A^-1 R`` at ``theta``."""
        T = self.templates(theta)
        if self.sparse:
            return self._factor_sparse(T)
        T1 = T[0]
        A11 = np.einsum("ji,ljk,km->lim", T1, self.Z1Z1, T1)
        A11 += np.eye(T1.shape[0])
        R1 = np.einsum("ji,ljc->lic", T1, self.Z1Y)
        if T1.shape[0] == 1:  # scalar blocks: plain division
            d = A11[:, 0, 0]
            logdet = float(np.log(d).sum())
            solve1 = lambda B: B / d[:, None, None]  # noqa: E731
        else:
            C = np.linalg.cholesky(A11)
            logdet = 2.0 * float(np.log(np.diagonal(C, axis1=1, axis2=2)).sum())
            solve1 = lambda B: np.linalg.solve(A11, B)  # noqa: E731
        X1 = solve1(R1)
        G = np.einsum("lic,lid->cd", R1, X1)
        if self.q2:
            rest = self.blocks[1:], T[1:]
            A12 = _times_lambda(np.einsum("ji,ljq->liq", T1, self.Z1Z2), *rest)
            R2 = _times_lambda(self.Z2Y.T, *rest).T
            W = solve1(A12)
            m, k = A11.shape[:2]
            S = _times_lambda(_times_lambda(self.Z2Z2, *rest).T, *rest) + np.eye(self.q2)
            S -= A12.reshape(m * k, -1).T @ W.reshape(m * k, -1)
            cho = linalg.cho_factor(S, lower=True, check_finite=False)
            logdet += 2.0 * float(np.log(np.diag(cho[0])).sum())
            rhs = R2 - np.einsum("liq,lic->qc", A12, X1)
            G += rhs.T @ linalg.cho_solve(cho, rhs, check_finite=False)
        return logdet, self.YtY - G

    def _factor_sparse(self, T):
        lam = _lambda(self.blocks, T)
        A = (lam.T @ self.ZtZ @ lam + sp.identity(lam.shape[0])).tocsc()
        lu = splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0)
        R = lam.T @ self.ZtY
        logdet = float(np.log(np.abs(lu.U.diagonal())).sum())
        return logdet, self.YtY - R.T @ lu.solve(R)

    def profile(self, theta):
        """Everything at ``theta``: deviance, beta, sigma^2, (RX'RX)^-1, log|A|, r^2, log|RX|^2."""
        logdet, M = self.factor(theta)
        RXtRX = M[1:, 1:]
        cho = linalg.cho_factor(RXtRX, lower=True, check_finite=False)
        step = linalg.cho_solve(cho, M[1:, 0], check_finite=False)
        r2 = max(float(M[0, 0] - M[1:, 0] @ step), 1e-300)
        ldRX = 2.0 * float(np.log(np.diag(cho[0])).sum())
        dof = self.n - self.p if self.reml else self.n
        dev = logdet + dof * (1.0 + math.log(2.0 * math.pi * r2 / dof))
        if self.reml:
            dev += ldRX
        inv = linalg.cho_solve(cho, np.eye(self.p), check_finite=False)
        return dev, self.beta_ols + step, r2 / dof, inv, logdet, r2, ldRX

    def deviance(self, theta):
        try:
            return self.profile(theta)[0]
        except (np.linalg.LinAlgError, linalg.LinAlgError, RuntimeError):
            return np.inf

    def deviance_varpar(self, varpar):
        """lmerTest's deviance in (theta, sigma), beta profiled, sigma not."""
        theta, sigma2 = varpar[:-1], varpar[-1] ** 2
        _, _, _, _, logdet, r2, ldRX = self.profile(theta)
        dev = logdet + r2 / sigma2 + self.n * math.log(2 * math.pi * sigma2)
        if self.reml:
            dev += ldRX - self.p * math.log(2 * math.pi * sigma2)
        return dev

    def covbeta(self, varpar):
        return varpar[-1] ** 2 * self.profile(varpar[:-1])[3]


def _lambda(blocks, templates) -> sp.csr_matrix:
    """Block-diagonal ``Lambda``: each block's template repeated over its levels."""
    data, indices, indptr, at = [], [], [np.zeros(1, int)], 0
    for b, T in zip(blocks, templates, strict=True):
        data.append(np.tile(T.ravel(), b.levels))
        indices.append(
            at
            + np.repeat(np.arange(b.levels) * b.k, b.k * b.k)
            + np.tile(np.arange(b.k), b.levels * b.k)
        )
        indptr.append(indptr[-1][-1] + b.k * np.arange(1, b.levels * b.k + 1))
        at += b.levels * b.k
    return sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.concatenate(indptr)), shape=(at, at)
    )


def _times_lambda(M, blocks, templates) -> np.ndarray:
    """``M @ Lambda`` for the blocks' block-diagonal ``Lambda`` (last axis of ``M``)."""
    out, at = np.empty_like(M), 0
    for b, T in zip(blocks, templates, strict=True):
        cols = slice(at, at + b.levels * b.k)
        part = M[..., cols].reshape(*M.shape[:-1], b.levels, b.k) @ T
        out[..., cols] = part.reshape(*M.shape[:-1], -1)
        at += b.levels * b.k
    return out


def _by_level(codes, levels, values):
    """Sum ``values`` (n x ...) over the rows of each level: levels x ..."""
    out = np.zeros((levels, *values.shape[1:]))
    np.add.at(out, codes, values)
    return out


@dataclass
class LMMResult:
    """Fitted linear mixed model.

    Attributes
    ----------
    coefficients, se : pandas.Series
        Fixed effects and their standard errors, ``sqrt(diag(sigma^2 (X' V^-1 X)^-1))`` as lme4.
    vcov : pandas.DataFrame
        Covariance matrix of the fixed effects.
    random : pandas.DataFrame
        Random-effect parameters: group, term, variance, sd, cor (with the term's first effect;
        with three or more correlated effects the other correlations follow as rows
        ``cor(a, b)`` with variance and sd empty).
    residual_sd : float
    loglik : float
        Log-likelihood (REML log-likelihood when ``reml``); ``criterion`` is ``-2 * loglik``,
        lme4's "REML criterion at convergence" under REML (the deviance under ML).
    theta : numpy.ndarray
        Relative covariance factor at the optimum (lme4's ``getME(fit, "theta")`` up to the order
        of the terms).
    """

    formula: str
    reml: bool
    coefficients: pd.Series
    se: pd.Series
    vcov: pd.DataFrame
    random: pd.DataFrame
    residual_sd: float
    loglik: float
    nobs: int
    ngroups: dict
    fixed_variance: float
    random_variance: float
    theta: np.ndarray
    terms: dict = field(default_factory=dict)
    contrasts: dict = field(default_factory=dict)
    converged: bool = True
    messages: list = field(default_factory=list)
    deviance: _Deviance | None = field(default=None, repr=False)

    @cached_property
    def _satterthwaite(self):
        from tlsurvey.models.satterthwaite import satterthwaite

        with threadpool_limits(1, user_api="blas"):
            return satterthwaite(self.deviance, self.theta, self.residual_sd, self.vcov.to_numpy())

    @property
    def df(self) -> pd.Series:
        """Satterthwaite df of each fixed effect (computed on first use, as lmerTest)."""
        return pd.Series(self._satterthwaite[0], index=self.coefficients.index)

    @property
    def varpar_vcov(self) -> np.ndarray:
        """Asymptotic covariance of (theta, sigma): twice the inverse deviance Hessian."""
        return self._satterthwaite[1]

    @property
    def jacobian(self) -> list:
        """Derivatives of ``vcov`` with respect to each of (theta, sigma)."""
        return self._satterthwaite[2]

    @property
    def satterthwaite_notes(self) -> list:
        return self._satterthwaite[3]

    @property
    def singular(self) -> bool:
        """lme4's ``isSingular``: a diagonal element of theta below 1e-4."""
        diagonal = np.concatenate([b.lower() for b in self.deviance.blocks]) == 0
        return bool(np.any(self.theta[diagonal] < SINGULAR_TOL))

    @property
    def npar(self) -> int:
        """Parameters counted by lme4: fixed effects, theta and the residual SD."""
        return len(self.coefficients) + len(self.theta) + 1

    @property
    def aic(self) -> float:
        """``-2 logLik + 2 npar``; under REML from the REML log-likelihood, as R's ``AIC``."""
        return -2 * self.loglik + 2 * self.npar

    @property
    def bic(self) -> float:
        return -2 * self.loglik + math.log(self.nobs) * self.npar

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
        """Tidy fixed-effects table: t tests with Satterthwaite df and 95% t intervals."""
        from tlsurvey.models.satterthwaite import t_table

        return t_table(self.coefficients, self.se, self.df)

    def anova(self) -> pd.DataFrame:
        """Type III F tests of the fixed-effect terms with Satterthwaite denominator df
        (lmerTest's ``anova``; see :func:`tlsurvey.models.satterthwaite.f_tests`)."""
        from tlsurvey.models.satterthwaite import f_tests

        return f_tests(self)


def _design(parsed, frame):
    """Fixed-effects matrix (R column names), its terms -> column positions and the type III
    contrast of each term (lmerTest's, for treatment coding)."""
    import patsy

    try:
        desc = patsy.ModelDesc.from_formula(parsed.fixed)
        X = patsy.dmatrix(desc, patsy_frame(frame), return_type="dataframe")
    except patsy.PatsyError as exc:
        raise InputError(
            "formula", f"cannot build fixed effects of {parsed.formula!r}: {exc}"
        ) from None
    # columns in R's order: terms by degree, then as written
    info, slices = X.design_info, X.design_info.term_name_slices
    ordered = sorted(desc.rhs_termlist, key=lambda term: len(term.factors))
    columns, terms, factors = [], {}, {}
    for term in ordered:
        cols = list(X.columns[slices[term.name()]])
        name = r_name(term.name())
        terms[name] = list(range(len(columns), len(columns) + len(cols)))
        factors[name] = {f.name() for f in term.factors}
        columns += cols
    X = X[columns].rename(columns=r_name)
    if np.linalg.matrix_rank(X.to_numpy(float)) < X.shape[1]:
        raise InputError(
            "formula", f"fixed-effects model matrix of {parsed.formula!r} is rank deficient"
        )
    contained = any(factors[a] < factors[b] for a in factors for b in factors if a != "(Intercept)")
    complete = _complete_design(ordered, info, frame) if contained else None
    return X, terms, type3_contrasts(X, terms, factors, complete)


def _complete_design(ordered, info, frame) -> pd.DataFrame | None:
    """lmerTest's 'complete' design: every level of every factor of every term (R names);
    None when a factor is not plainly treatment coded."""
    import patsy

    columns = {}
    for term in ordered:
        parts = [("", np.ones(len(frame)))]
        for factor in term.factors:
            name, fi = factor.name(), info.factor_infos[factor]
            if fi.type == "numerical":
                values = [(r_name(name), patsy.dmatrix(f"0 + {name}", frame)[:, 0])]
            else:
                column = re.fullmatch(r"C\((\w+)\)|(\w+)", name)
                if column is None:  # explicit contrasts: no coding-free type III here
                    return None
                values = frame[column.group(1) or column.group(2)].to_numpy()
                values = [
                    (f"{r_name(name)}{lv}", (values == lv).astype(float)) for lv in fi.categories
                ]
            parts = [(f"{a}:{b}" if a else b, x * v) for a, x in parts for b, v in values]
        for name, values in parts:
            columns[name or "(Intercept)"] = values
    return pd.DataFrame(columns)


def _blocks(parsed, frame) -> list[_Block]:
    """One block per grouping factor, largest (most effects) first."""
    import patsy

    by_group: dict[str, list] = {}
    for term in parsed.random:
        by_group.setdefault(term.group, []).append(term)
    blocks = []
    for group, terms in by_group.items():
        codes, uniques = pd.factorize(frame[group], sort=True)
        mats, names, positions = [], [], []
        for term in terms:
            rhs = ("1" if term.intercept else "0") + "".join(f" + {s}" for s in term.slopes)
            try:
                Zt = patsy.dmatrix(rhs, frame, return_type="dataframe")
            except patsy.PatsyError as exc:
                raise InputError(
                    "formula", f"cannot build random term of {parsed.formula!r}: {exc}"
                ) from None
            positions.append(list(range(len(names), len(names) + Zt.shape[1])))
            names += [r_name(c) for c in Zt.columns]
            mats.append(Zt.to_numpy(float))
        if len(uniques) < 2:
            raise InputError("data", f"grouping factor '{group}' has fewer than 2 levels")
        if len(uniques) * len(names) >= len(frame):
            raise InputError(
                "data",
                f"{len(uniques) * len(names)} random effects for '{group}' but only "
                f"{len(frame)} observations in {parsed.formula!r}",
            )
        blocks.append(_Block(group, codes, len(uniques), np.hstack(mats), names, positions))
    return sorted(blocks, key=lambda b: -b.levels * b.k)


def _optimise(dev: _Deviance):
    lower = np.concatenate([b.lower() for b in dev.blocks])
    start = np.concatenate([b.start() for b in dev.blocks])
    bounds = [(lo, None) for lo in lower]
    options = {"ftol": 1e-13, "gtol": GTOL, "maxiter": 2000, "maxls": 20}
    # relative deviance, so that the gradient tolerance does not depend on the sample size
    scale = max(abs(dev.deviance(start)), 1.0)

    def run(x0):
        res = optimize.minimize(
            lambda t: dev.deviance(t) / scale,
            x0,
            method="L-BFGS-B",
            jac="3-point",
            bounds=bounds,
            options=options,
        )
        res.fun *= scale
        return res

    res = run(start)
    # theta_i = 0 is a stationary point of the (even) deviance, so a search that lands on the
    # boundary may stop there: restart from inside and keep the better optimum
    at_bound = (lower == 0) & (res.x < 1e-3)
    if at_bound.any():
        retry = run(np.where(at_bound, RESTART, res.x))
        if retry.fun < res.fun:
            res = retry
    return res


def fit_lmm(formula: str, data: pd.DataFrame, reml: bool = True) -> LMMResult:
    """Fit a linear mixed model given in lme4 syntax.

    Parameters
    ----------
    formula : str
        e.g. ``"Reaction ~ Days + (Days | Subject)"``, ``"y ~ x + (1 + x || g)"``,
        ``"y ~ x + (1 + x | a) + (1 | b)"`` or ``"y ~ 1 + (1 | a/b)"``.
    data : pandas.DataFrame
        Rows with missing model variables are dropped (count logged).
    reml : bool
        REML (default, as lme4) or maximum likelihood.

    Returns
    -------
    LMMResult

    References
    ----------
    Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models
    using lme4. Journal of Statistical Software, 67(1).
    Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest package: tests in
    linear mixed effects models. Journal of Statistical Software, 82(13).
    Nakagawa, S. & Schielzeth, H. (2013). A general and simple method for obtaining R2 from
    generalized linear mixed-effects models. Methods in Ecology and Evolution, 4(2), 133-142.
    Johnson, P. C. D. (2014). Extension of Nakagawa & Schielzeth's R2GLMM to random slopes
    models. Methods in Ecology and Evolution, 5(9), 944-946.
    """
    with threadpool_limits(1, user_api="blas"):
        return _fit(formula, data, reml)


def _fit(formula: str, data: pd.DataFrame, reml: bool) -> LMMResult:
    parsed = parse(formula)
    frame = model_frame(parsed, data)
    X, terms, contrasts = _design(parsed, frame)
    y = pd.to_numeric(frame[parsed.response], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(y)):
        raise InputError("data", f"response '{parsed.response}' must be numeric in {formula!r}")
    blocks = _blocks(parsed, frame)
    dev = _Deviance(y, X.to_numpy(float), blocks, reml)
    res = _optimise(dev)
    theta = res.x
    value, beta, sigma2, inv, *_ = dev.profile(theta)
    names = list(X.columns)
    vcov = sigma2 * inv
    sigma = math.sqrt(sigma2)
    random, random_variance = _random_table(dev, theta, sigma2)
    messages = [] if res.success else [f"optimizer: {res.message}"]
    return LMMResult(
        formula=formula,
        reml=reml,
        coefficients=pd.Series(beta, index=names),
        se=pd.Series(np.sqrt(np.diag(vcov)), index=names),
        vcov=pd.DataFrame(vcov, index=names, columns=names),
        random=random,
        residual_sd=sigma,
        loglik=-0.5 * value,
        nobs=len(frame),
        ngroups={b.group: b.levels for b in blocks},
        fixed_variance=float(np.var(X.to_numpy(float) @ beta, ddof=1)),
        random_variance=random_variance,
        theta=theta,
        terms=terms,
        contrasts=contrasts,
        converged=bool(res.success),
        messages=messages,
        deviance=dev,
    )


def _random_table(dev: _Deviance, theta, sigma2):
    """Variance components per term and Johnson's mean random-effect variance."""
    rows, random_variance = [], 0.0
    for block, T in zip(dev.blocks, dev.templates(theta), strict=True):
        for term in block.terms:
            L = T[np.ix_(term, term)]
            cov = sigma2 * L @ L.T
            sd = np.sqrt(np.diag(cov))
            Z = block.Z[:, term]
            random_variance += float(np.mean(np.einsum("ij,jk,ik->i", Z, cov, Z)))
            with np.errstate(divide="ignore", invalid="ignore"):
                cor = cov / np.outer(sd, sd)
            names = [block.names[pos] for pos in term]
            for k, name in enumerate(names):
                rows.append((block.group, name, cov[k, k], sd[k], cor[0, k] if k else np.nan))
            # correlations not involving the first effect (3 or more correlated effects)
            for i, j in zip(*np.triu_indices(len(term), 1), strict=True):
                if i:
                    rows.append((block.group, f"cor({names[i]}, {names[j]})", *CORR, cor[i, j]))
    rows.append(("Residual", "", sigma2, math.sqrt(sigma2), np.nan))
    table = pd.DataFrame(rows, columns=["group", "term", "variance", "sd", "cor"])
    return table, random_variance


def likelihood_ratio(formulas: list[str], data: pd.DataFrame) -> pd.DataFrame:
    """Likelihood-ratio tests between nested linear mixed models, as lme4's ``anova``.

    Every model is (re)fitted by maximum likelihood on the rows complete in the variables of all
    of them; models are ordered by their number of parameters and each is tested against the
    one before it.

    Parameters
    ----------
    formulas : list of str
        At least two lme4 formulas, each nested in the next larger one (not checked, as lme4).
    data : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        formula, npar, aic, bic, loglik, deviance, chisq, df, p (first row: no test).
    """
    from scipy import stats as distributions

    from tlsurvey.models.stats import complete

    if len(formulas) < 2:
        raise InputError("formula", "a likelihood-ratio test needs at least two formulas")
    used = list(dict.fromkeys(v for f in formulas for v in parse(f).variables if v in data))
    rows = complete(data, used, f"likelihood-ratio test (columns {used})")
    fits = sorted((fit_lmm(f, rows, reml=False) for f in formulas), key=lambda r: r.npar)
    table = pd.DataFrame(
        {
            "formula": [f.formula for f in fits],
            "npar": [f.npar for f in fits],
            "aic": [f.aic for f in fits],
            "bic": [f.bic for f in fits],
            "loglik": [f.loglik for f in fits],
            "deviance": [f.criterion for f in fits],
        }
    )
    table["chisq"] = (2 * table["loglik"].diff()).clip(lower=0)
    table["df"] = table["npar"].diff()
    table["p"] = distributions.chi2.sf(table["chisq"], table["df"])
    return table.assign(test="likelihood ratio (ML)")
