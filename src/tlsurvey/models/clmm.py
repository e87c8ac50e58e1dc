"""Cumulative link mixed models (ordinal regression with random intercepts), numpy/scipy only.

Model (parameterised as in the R package ordinal): for observation ``i`` in level ``g`` of each
grouping factor, ``P(Y_i <= j) = F(theta_j - x_i' beta - sum_k u_k[g_k(i)])`` with
``u_k ~ N(0, sd_k^2)`` and ``F`` the logistic (logit link) or standard normal (probit) cdf.
The marginal likelihood is approximated by the Laplace approximation or, for one grouping factor,
by adaptive Gauss-Hermite quadrature (AGQ). With one factor the conditional modes separate by
level and are found by a vectorised Newton iteration over all levels at once (cost linear in the
number of participants). With two crossed factors the joint mode Hessian has diagonal blocks
and a sparse cross block (``scipy.sparse`` when large), handled by a Schur complement over the
smaller factor. The Laplace log-likelihood has an analytic gradient (finite differences for AGQ
and for large sparse cross blocks).
Standard errors come from the Hessian of the approximate log-likelihood in
``(theta, beta, log sd)`` (central differences of the analytic gradient, or of the likelihood).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import optimize, special

from tlsurvey.errors import InputError
from tlsurvey.models.formula import model_frame, parse, patsy_frame, r_name
from tlsurvey.models.stats import log


def _logit():
    def funcs(x):
        cdf = special.expit(x)
        pdf = cdf * (1 - cdf)
        d1 = pdf * (1 - 2 * cdf)
        return cdf, pdf, d1, d1 * (1 - 2 * cdf) - 2 * pdf**2

    return funcs, special.logit, np.pi**2 / 3


def _probit():
    def funcs(x):
        pdf = np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)
        finite = np.where(np.isfinite(x), x, 0.0)
        return special.ndtr(x), pdf, -finite * pdf, (finite**2 - 1) * pdf

    return funcs, special.ndtri, 1.0


LINKS = {"logit": _logit, "probit": _probit}
BOUNDARY_SD = 1e-3  # latent-scale sds below this are at the boundary (no standard error)


@dataclass
class CLMMResult:
    """Fitted cumulative link mixed model.

    Attributes
    ----------
    thresholds, coefficients : pandas.Series
        Estimated ``theta_j`` (named ``"a|b"``) and ``beta``.
    se : pandas.Series
        Standard errors of thresholds and coefficients (inverse Hessian of the approximate
        log-likelihood in ``(theta, beta, log sd)``; sds at the boundary held fixed).
    sd : pandas.Series
        Random-intercept standard deviation per grouping factor.
    loglik : float
        Maximised (approximate) log-likelihood.
    """

    formula: str
    link: str
    method: str
    thresholds: pd.Series
    coefficients: pd.Series
    se: pd.Series
    sd: pd.Series
    loglik: float
    vcov: pd.DataFrame
    nobs: int
    ngroups: dict
    modes: dict = field(repr=False, default_factory=dict)
    converged: bool = True
    iterations: int = 0
    seconds: float = 0.0
    residual_variance: float = np.pi**2 / 3
    linear_predictor_variance: float = 0.0
    covariance: dict = field(default_factory=dict)
    random_variance: float = np.nan

    @property
    def variance(self) -> pd.Series:
        return self.sd**2

    @property
    def aic(self) -> float:
        n_cov = len(self.sd) + sum(len(c) * (len(c) - 1) // 2 for c in self.covariance.values())
        return -2 * self.loglik + 2 * (len(self.thresholds) + len(self.coefficients) + n_cov)

    @property
    def _random_variance(self) -> float:
        """Random-effect variance of the linear predictor: the sum of the intercept variances,
        or with slopes the mean of ``z_i' Sigma z_i`` over observations (Johnson 2014)."""
        if np.isfinite(self.random_variance):
            return float(self.random_variance)
        return float(self.variance.sum())

    @property
    def r2(self) -> tuple[float, float]:
        """Marginal and conditional R2 on the latent scale (Nakagawa & Schielzeth 2013): the
        residual variance is that of the link's latent distribution (pi^2/3 or 1)."""
        vf, vr = self.linear_predictor_variance, self._random_variance
        total = vf + vr + self.residual_variance
        return vf / total, (vf + vr) / total

    @property
    def icc(self) -> pd.Series:
        """Latent-scale intra-class correlation per grouping factor (with slopes, of the
        grouping factor's whole random-effect variance)."""
        total = self._random_variance + self.residual_variance
        if self.covariance:
            return pd.Series({g: self._random_variance / total for g in self.covariance})
        return self.variance / total

    @property
    def random(self) -> pd.DataFrame:
        """Random-effect parameters: group, term, variance, sd, cor (with the group's first
        term)."""
        if not self.covariance:
            return pd.DataFrame(
                {
                    "group": self.sd.index,
                    "term": "(Intercept)",
                    "variance": self.variance.values,
                    "sd": self.sd.values,
                    "cor": np.nan,
                }
            )
        rows = []
        for group, cov in self.covariance.items():
            sd = np.sqrt(np.diag(cov.to_numpy()))
            for k, term in enumerate(cov.index):
                cor = cov.iloc[0, k] / (sd[0] * sd[k]) if k and sd[0] * sd[k] > 0 else np.nan
                rows.append((group, term, sd[k] ** 2, sd[k], cor))
        return pd.DataFrame(rows, columns=["group", "term", "variance", "sd", "cor"])

    def table(self) -> pd.DataFrame:
        """Tidy fixed-effects table: term, kind, estimate, SE, Wald z, p, 95% CI."""
        est = pd.concat([self.thresholds, self.coefficients])
        kind = ["threshold"] * len(self.thresholds) + ["fixed"] * len(self.coefficients)
        return wald_table(est, self.se.reindex(est.index), kind)


def wald_table(est: pd.Series, se: pd.Series, kind) -> pd.DataFrame:
    """Wald z statistics, two-sided normal p-values and 95% confidence intervals."""
    z = est / se
    q = special.ndtri(0.975)  # normal quantile (scipy.special: no scipy.stats import)
    return pd.DataFrame(
        {
            "term": est.index,
            "kind": kind,
            "estimate": est.values,
            "se": se.values,
            "statistic": z.values,
            "p": 2 * special.ndtr(-np.abs(z.values)),
            "ci_low": (est - q * se).values,
            "ci_high": (est + q * se).values,
            "test": "Wald z",
        }
    )


def check_nagq(nagq, scalar: bool) -> int:
    """Validate the number of quadrature nodes as ``ordinal::clmm`` interprets it.

    1 is the Laplace approximation, ``n > 1`` adaptive and ``n < 0`` non-adaptive
    Gauss-Hermite quadrature with ``|n|`` nodes (only for a single scalar random effect).
    0, which ordinal silently treats as Laplace, is rejected.
    """
    if isinstance(nagq, bool) or not isinstance(nagq, int | np.integer):
        raise InputError("model", f"nagq must be an integer, got {nagq!r}")
    if nagq == 0:
        raise InputError(
            "model",
            "nagq 0 is not a quadrature rule: use 1 (Laplace), n > 1 (adaptive Gauss-Hermite) "
            "or n < 0 (non-adaptive Gauss-Hermite with |n| nodes)",
        )
    if nagq != 1 and not scalar:
        raise InputError(
            "model", f"nagq {nagq}: quadrature needs a single scalar random effect (use 1)"
        )
    return int(nagq)


class _Problem:
    """Data and the approximate marginal log-likelihood of a CLMM."""

    def __init__(self, y, X, groups, nlevels, link="logit", nagq=1):
        if link not in LINKS:
            raise InputError("model", f"unknown link {link!r}; use one of {sorted(LINKS)}")
        if len(groups) not in (1, 2):
            raise InputError("model", "the CLMM needs one or two crossed random intercepts")
        check_nagq(nagq, len(groups) == 1)
        self.F, self.quantile, self.residual_variance = LINKS[link]()
        self.y, self.X = np.asarray(y, int), np.asarray(X, float)
        self.nthr = int(self.y.max())
        self.groups, self.nlevels, self.nagq = [np.asarray(g, int) for g in groups], nlevels, nagq
        self.p = self.X.shape[1]
        self.b = [np.zeros(n) for n in nlevels]
        self.rule = np.polynomial.hermite.hermgauss(abs(nagq)) if nagq != 1 else None
        if len(groups) == 2:
            self.order = list(np.argsort(nlevels)[::-1])  # larger factor first: diagonal block
            g1, g2 = (self.groups[k] for k in self.order)
            q1, q2 = (nlevels[k] for k in self.order)
            cells, self.cell = np.unique(g1 * q2 + g2, return_inverse=True)
            self.cell_rc, self.qq = (cells // q2, cells % q2), (q1, q2)
            self.dense = q1 * q2 <= 250_000

    def _offdiag(self, w, scale):
        """Cross block Z1' W Z2 of the mode Hessian (dense when small, else scipy.sparse)."""
        vals = np.bincount(self.cell, w, len(self.cell_rc[0])) * scale
        if self.dense:
            C = np.zeros(self.qq)
            C[self.cell_rc] = vals
            return C
        return sp.csr_matrix((vals, self.cell_rc), shape=self.qq)

    # per-observation log-probabilities and derivatives; a, c = upper and lower cut minus eta
    def _obs(self, theta, eta, third=False):
        full = np.concatenate([[-np.inf], theta, [np.inf]])
        a, c = full[self.y + 1] - eta, full[self.y] - eta
        Fa, fa, ga, ha = self.F(a)
        Fc, fc, gc, hc = self.F(c)
        upper = c > 0  # both cut points in the upper tail: difference of survival functions
        prob = np.where(
            upper, self.F(-np.where(upper, c, 0))[0] - self.F(-np.where(upper, a, 0))[0], Fa - Fc
        )
        prob = np.maximum(prob, 1e-300)
        with np.errstate(over="ignore", invalid="ignore"):
            r = (fa - fc) / prob
            d1 = -r  # d log p / d eta
            w = r**2 - (ga - gc) / prob  # -d2 log p / d eta2
            bad = ~np.isfinite(w)
            if bad.any():  # only at absurd trial points of a line search
                d1, w = np.where(bad, 0.0, d1), np.where(bad, 0.0, w)
            if not third:
                return np.log(prob), d1, w
            # derivatives in a and c (for the analytic gradient of the Laplace likelihood)
            ua, uc = (ga - r * fa) / prob, (-gc + r * fc) / prob
            m = (ga - gc) / prob
            out = {
                "d1": d1,
                "w": w,
                "l_a": fa / prob,
                "l_c": -fc / prob,
                "d1_a": -ua,
                "d1_c": -uc,
                "w_a": 2 * r * ua - (ha - m * fa) / prob,
                "w_c": 2 * r * uc - (-hc + m * fc) / prob,
            }
        return {k: np.nan_to_num(v) for k, v in out.items()}

    @property
    def analytic(self) -> bool:
        """Whether the Laplace gradient is analytic (one factor, or two with a small cross
        block); otherwise finite differences are used."""
        return self.nagq == 1 and (len(self.groups) == 1 or self.dense)

    def boundary(self, par) -> np.ndarray:
        """Random-effect sds below ``BOUNDARY_SD`` (held fixed for the Hessian)."""
        return np.exp(par[self.nthr + self.p :]) < BOUNDARY_SD

    def _inverse(self, w, sd):
        """Pieces of ``H^-1`` at the modes: per-observation leverage ``z_i' H^-1 z_i`` (``z_i``
        the scaled random-effects row), the trace of ``H^-1`` per factor, and a solver."""
        if len(self.groups) == 1:
            g, n, s = self.groups[0], self.nlevels[0], sd[0]
            H = 1 + s**2 * np.bincount(g, w, n)
            return s**2 / H[g], [np.sum(1 / H)], lambda t: [t[0] / H]
        i1, i2 = self.order
        s1, s2 = sd[i1], sd[i2]
        G1, G2 = self.groups[i1], self.groups[i2]
        q1, q2 = self.qq
        D1 = s1**2 * np.bincount(G1, w, q1) + 1
        D2 = s2**2 * np.bincount(G2, w, q2) + 1
        C = self._offdiag(w, s1 * s2)
        M = C / D1[:, None]
        Sinv = np.linalg.inv(np.diag(D2) - C.T @ M)
        MS = M @ Sinv
        H11 = 1 / D1 + np.sum(MS * M, axis=1)
        lev = s1**2 * H11[G1] - 2 * s1 * s2 * MS[G1, G2] + s2**2 * Sinv[G2, G2]
        traces = [0.0, 0.0]
        traces[i1], traces[i2] = np.sum(H11), np.trace(Sinv)

        def solve(t):
            x2 = Sinv @ (t[i2] - M.T @ t[i1])
            out = [None, None]
            out[i1], out[i2] = (t[i1] - C @ x2) / D1, x2
            return out

        return lev, traces, solve

    def value_and_gradient(self, par):
        """Laplace log-likelihood and its analytic gradient.

        Envelope theorem for the conditional modes; the log-determinant is differentiated at
        fixed modes and through the modes' implicit dependence on the parameters
        (``d b / d par = H^-1 d grad_b / d par``).
        """
        theta, beta, sd = self.split(par)
        y, j = self.y, self.nthr
        value = self.loglik(par)
        if not np.isfinite(value):
            return value, np.zeros_like(par)
        G, b = self.groups, self.b
        eta = self.X @ beta + sum(s * bk[g] for s, bk, g in zip(sd, b, G, strict=True))
        q = self._obs(theta, eta, third=True)
        w, d1 = q["w"], q["d1"]
        w_eta = -(q["w_a"] + q["w_c"])
        lev, traces, solve = self._inverse(w, sd)
        u = solve(
            [
                s * np.bincount(g, w_eta * lev, n)
                for s, g, n in zip(sd, G, self.nlevels, strict=True)
            ]
        )
        rho = sum(s * uk[g] for s, uk, g in zip(sd, u, G, strict=True))
        per_obs = d1 - 0.5 * w_eta * lev + 0.5 * rho * w
        grad_beta = self.X.T @ per_obs
        ca = q["l_a"] - 0.5 * lev * q["w_a"] - 0.5 * rho * q["d1_a"]
        cc = q["l_c"] - 0.5 * lev * q["w_c"] - 0.5 * rho * q["d1_c"]
        up, low = y <= j - 1, y >= 1
        grad_theta = np.bincount(y[up], ca[up], j) + np.bincount(y[low] - 1, cc[low], j)
        grad_tau = [
            s * np.sum(bk[g] * per_obs) - (n - tr) - 0.5 * s * np.sum(uk[g] * d1)
            for s, bk, uk, g, n, tr in zip(sd, b, u, G, self.nlevels, traces, strict=True)
        ]
        return value, np.concatenate([grad_theta, grad_beta, grad_tau])

    def split(self, par):
        j, p = self.nthr, self.p
        return par[:j], par[j : j + p], np.exp(par[j + p :])

    def loglik(self, par):
        theta, beta, sd = self.split(par)
        if np.any(np.diff(theta) <= 0) or not np.all(np.isfinite(par)):
            return -np.inf
        eta0 = self.X @ beta
        if len(self.groups) == 1:
            return self._single(theta, eta0, sd[0])
        return self._crossed(theta, eta0, sd)

    def _single(self, theta, eta0, s, tol=1e-10):
        g, n = self.groups[0], self.nlevels[0]
        b = self.b[0].copy()

        def h(b):
            logp, d1, w = self._obs(theta, eta0 + s * b[g])
            return np.bincount(g, logp, n) - b**2 / 2, d1, w

        hb, d1, w = h(b)
        for _ in range(100):
            grad = s * np.bincount(g, d1, n) - b
            hess = s**2 * np.bincount(g, w, n) + 1
            if np.max(np.abs(grad)) < tol:
                break
            step = grad / hess
            for _ in range(30):  # vectorised step halving where a level's objective fell
                hn, d1n, wn = h(b + step)
                worse = hn < hb - 1e-12
                if not worse.any():
                    break
                step = np.where(worse, step / 2, step)
            b, hb, d1, w = b + step, hn, d1n, wn
        self.b[0] = b
        if self.nagq == 1:
            return float(np.sum(hb - 0.5 * np.log(hess)))
        x, wq = self.rule
        if self.nagq > 0:  # adaptive: nodes centred at the mode, scaled by its curvature
            scale = np.sqrt(2 / hess)
        else:  # non-adaptive, as ordinal: u = x_h, weights w_h exp(x_h^2 / 2) / sqrt(2 pi)
            b, scale = np.zeros(n), np.ones(n)
        nodes = b[:, None] + scale[:, None] * x[None, :]  # levels x nodes
        logp = self._obs(theta, eta0 + s * nodes[g].T)[0]  # nodes x observations, one pass
        cells = (np.arange(len(x))[:, None] * n + g).ravel()
        lik = np.bincount(cells, logp.ravel(), n * len(x)).reshape(len(x), n).T
        terms = lik - nodes**2 / 2 + x**2 + np.log(wq)
        top = np.max(terms, axis=1)  # log-sum-exp over the nodes of each level
        logsum = top + np.log(np.sum(np.exp(terms - top[:, None]), axis=1))
        return float(np.sum(logsum + np.log(scale) - 0.5 * np.log(2 * np.pi)))

    def _crossed(self, theta, eta0, sd, tol=1e-10):
        i1, i2 = self.order
        s1, s2 = sd[i1], sd[i2]
        G1, G2 = self.groups[i1], self.groups[i2]
        q1, q2 = self.qq
        b1, b2 = self.b[i1].copy(), self.b[i2].copy()

        def h(b1, b2):
            logp, d1, w = self._obs(theta, eta0 + s1 * b1[G1] + s2 * b2[G2])
            return logp.sum() - (b1 @ b1 + b2 @ b2) / 2, d1, w

        hb, d1, w = h(b1, b2)
        for _ in range(100):
            g1 = s1 * np.bincount(G1, d1, q1) - b1
            g2 = s2 * np.bincount(G2, d1, q2) - b2
            D1 = s1**2 * np.bincount(G1, w, q1) + 1
            D2 = s2**2 * np.bincount(G2, w, q2) + 1
            C = self._offdiag(w, s1 * s2)
            CD = C.T @ (sp.diags(1 / D1) @ C)
            S = np.diag(D2) - (CD if self.dense else CD.toarray())
            chol = np.linalg.cholesky(S)
            if max(np.max(np.abs(g1)), np.max(np.abs(g2))) < tol:
                break
            r2 = g2 - C.T @ (g1 / D1)
            d2 = np.linalg.solve(chol.T, np.linalg.solve(chol, r2))
            d1s = (g1 - C @ d2) / D1
            t = 1.0
            # a step is worse only beyond the rounding error of the sum over observations
            # (an absolute 1e-12 rejected near-optimal steps of large samples, 30 halvings each)
            slack = 1e-12 * max(1.0, abs(hb))
            for _ in range(30):
                hn, d1n, wn = h(b1 + t * d1s, b2 + t * d2)
                if hn >= hb - slack:
                    break
                t /= 2
            b1, b2, hb, d1, w = b1 + t * d1s, b2 + t * d2, hn, d1n, wn
        self.b[i1], self.b[i2] = b1, b2
        logdet = np.sum(np.log(D1)) + 2 * np.sum(np.log(np.diag(chol)))
        return float(hb - 0.5 * logdet)

    def start(self):
        counts = np.bincount(self.y, minlength=self.nthr + 1)
        cum = np.cumsum(counts)[:-1] / counts.sum()
        theta = self.quantile(np.clip(cum, 1e-3, 1 - 1e-3))
        theta = np.maximum.accumulate(theta + 1e-3 * np.arange(self.nthr))
        return np.concatenate([theta, np.zeros(self.p), np.zeros(len(self.groups))])


def _sum_by(g, values, n):
    """Column sums of ``values`` (observations x m) within the ``n`` levels coded by ``g``."""
    return np.stack([np.bincount(g, col, n) for col in values.T], axis=1)


class _SlopesProblem(_Problem):
    """One grouping factor with a vector of correlated random effects ``(1 + x | g)``.

    ``b_g = L u_g`` with ``u_g ~ N(0, I)`` and ``L`` lower triangular (``Sigma = L L'``); the
    covariance parameters are the rows of ``L``'s lower triangle with its diagonal on the log
    scale. The conditional modes solve one small ``q x q`` Newton system per level (batched),
    and the Laplace log-likelihood has an analytic gradient (envelope theorem plus the modes'
    implicit dependence on the parameters, as for the scalar case).
    """

    def __init__(self, y, X, Z, group, nlevels, link="logit"):
        super().__init__(y, X, [group], [nlevels], link, 1)
        self.Z = np.asarray(Z, float)
        self.q = self.Z.shape[1]
        self.tril = np.tril_indices(self.q)
        self.diag = self.tril[0] == self.tril[1]
        self.u = np.zeros((nlevels, self.q))

    @property
    def analytic(self) -> bool:
        return True

    def split(self, par):
        j, p = self.nthr, self.p
        L = np.zeros((self.q, self.q))
        cov = par[j + p :]
        L[self.tril] = np.where(self.diag, np.exp(cov), cov)
        return par[:j], par[j : j + p], L

    def start(self):
        base = super().start()[: self.nthr + self.p]
        scale = np.std(self.Z, axis=0)  # 0 for the intercept column
        diag = 1 / np.where(scale > 1e-12, scale, 1.0)  # L starts at diag(1 / sd(z_k))
        cov = np.where(self.diag, np.log(diag[self.tril[0]]), 0.0)
        return np.concatenate([base, cov])

    def boundary(self, par) -> np.ndarray:
        """Covariance parameters at the boundary: log-diagonal entries of ``L`` whose value is
        below ``BOUNDARY_SD`` (a zero variance or a correlation of +-1)."""
        cov = par[self.nthr + self.p :]
        return self.diag & (np.exp(cov) < BOUNDARY_SD)

    def _modes(self, theta, eta0, T, tol=1e-10):
        """Conditional modes ``u`` (levels x q, warm-started from the last call), each level's
        objective at its mode and the Hessians ``I + T' W T`` (levels x q x q)."""
        g, n, q = self.groups[0], self.nlevels[0], self.q
        u = self.u.copy()
        rows, cols = (idx.ravel() for idx in np.indices((q, q)))

        def h(u):
            logp, d1, w = self._obs(theta, eta0 + np.sum(T * u[g], axis=1))
            return np.bincount(g, logp, n) - np.sum(u**2, axis=1) / 2, d1, w

        def grad_hess(d1, w, u):
            grad = _sum_by(g, d1[:, None] * T, n) - u
            hess = _sum_by(g, w[:, None] * T[:, rows] * T[:, cols], n)
            return grad, hess.reshape(n, q, q) + np.eye(q)

        hu, d1, w = h(u)
        for _ in range(100):
            grad, hess = grad_hess(d1, w, u)
            if np.max(np.abs(grad)) < tol:
                break
            step = np.linalg.solve(hess, grad[..., None])[..., 0]
            for _ in range(30):  # vectorised step halving where a level's objective fell
                hn, d1n, wn = h(u + step)
                worse = hn < hu - 1e-12
                if not worse.any():
                    break
                step = np.where(worse[:, None], step / 2, step)
            u, hu, d1, w = u + step, hn, d1n, wn
        self.u = u
        return u, hu, hess

    def loglik(self, par):
        return self._laplace(par)[0]

    def _laplace(self, par):
        theta, beta, L = self.split(par)
        if np.any(np.diff(theta) <= 0) or not np.all(np.isfinite(par)):
            return -np.inf, None
        u, hu, hess = self._modes(theta, self.X @ beta, self.Z @ L)
        return float(np.sum(hu) - 0.5 * np.sum(np.linalg.slogdet(hess)[1])), hess

    def value_and_gradient(self, par):
        """Laplace log-likelihood and its analytic gradient in ``par``."""
        value, hess = self._laplace(par)
        if not np.isfinite(value):
            return value, np.zeros_like(par)
        theta, beta, L = self.split(par)
        y, j, g, u = self.y, self.nthr, self.groups[0], self.u
        T = self.Z @ L
        obs = self._obs(theta, self.X @ beta + np.sum(T * u[g], axis=1), third=True)
        w, d1 = obs["w"], obs["d1"]
        w_eta = -(obs["w_a"] + obs["w_c"])
        Hinv = np.linalg.inv(hess)
        HT = np.einsum("ikm,im->ik", Hinv[g], T)  # H_g^-1 t_i
        lev = np.sum(T * HT, axis=1)  # t_i' H_g^-1 t_i
        a = _sum_by(g, (0.5 * w_eta * lev)[:, None] * T, len(u))
        v = np.einsum("gkm,gm->gk", Hinv, a)  # H^-1 d(logdet/2)/du
        rho = np.sum(v[g] * T, axis=1)
        per_obs = d1 - 0.5 * w_eta * lev + rho * w
        ca = obs["l_a"] - 0.5 * lev * obs["w_a"] - rho * obs["d1_a"]
        cc = obs["l_c"] - 0.5 * lev * obs["w_c"] - rho * obs["d1_c"]
        up, low = y <= j - 1, y >= 1
        grad_theta = np.bincount(y[up], ca[up], j) + np.bincount(y[low] - 1, cc[low], j)
        r = per_obs[:, None] * u[g] - w[:, None] * HT - d1[:, None] * v[g]
        grad_L = (self.Z.T @ r)[self.tril]
        grad_cov = np.where(self.diag, grad_L * L[self.tril], grad_L)
        return value, np.concatenate([grad_theta, self.X.T @ per_obs, grad_cov])


def _to_free(par, j):
    """Map thresholds to (theta_1, log increments) so that they stay ordered."""
    return np.concatenate([par[:1], np.log(np.diff(par[:j])), par[j:]])


def _from_free(free, j):
    return np.concatenate([np.cumsum(np.concatenate([free[:1], np.exp(free[1:j])])), free[j:]])


def _gradient(f, x, h=1e-5):
    grad = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


def _hessian(f, x, h=1e-4):
    """Central-difference Hessian of a scalar function."""
    m = len(x)
    H, f0, E = np.empty((m, m)), f(x), np.eye(m) * h
    for i in range(m):
        H[i, i] = (f(x + E[i]) - 2 * f0 + f(x - E[i])) / h**2
        for k in range(i):
            H[i, k] = H[k, i] = (
                f(x + E[i] + E[k]) - f(x + E[i] - E[k]) - f(x - E[i] + E[k]) + f(x - E[i] - E[k])
            ) / (4 * h**2)
    return H


def _free_jacobian(free, j):
    """d natural / d free for the threshold transform (lower-triangular in the thresholds)."""
    jac = np.eye(len(free))
    jac[:j, 0] = 1
    jac[:j, 1:j] = np.tril(np.ones((j, j)))[:, 1:] * np.exp(free[1:j])
    return jac


def fit_arrays(y, X, groups, nlevels, link="logit", nagq=1, gtol=1e-6, Z=None):
    """Fit a CLMM to arrays; returns ``(par, loglik, hessian, free_mask, iterations, problem)``.

    ``y`` holds category codes ``0..J-1``, ``X`` the fixed-effects design without intercept,
    ``groups`` one integer level-code array per grouping factor. ``par`` is
    ``(theta, beta, log sd)``; ``hessian`` is that of the negative log-likelihood in the
    parameters marked by ``free_mask`` (sds at the boundary are excluded). With ``Z`` (the
    random-effects design of a single grouping factor, one column per correlated term) the
    covariance part of ``par`` is the lower triangle of its Cholesky factor, log diagonal.
    """
    if Z is None:
        prob = _Problem(y, X, groups, nlevels, link, nagq)
    else:
        check_nagq(nagq, False)
        prob = _SlopesProblem(y, X, Z, groups[0], nlevels[0], link)
    j = prob.nthr

    def negll(par):
        value = -prob.loglik(par)
        return value if np.isfinite(value) else 1e100

    if prob.analytic:

        def objective(free):
            value, grad = prob.value_and_gradient(_from_free(free, j))
            if not np.isfinite(value):
                return 1e100, np.zeros_like(free)
            return -value, -(grad @ _free_jacobian(free, j))

        def negll_grad(par):
            return -prob.value_and_gradient(par)[1]

    else:

        def objective(free):
            f = lambda x: negll(_from_free(x, j))  # noqa: E731
            return f(free), _gradient(f, free)

        def negll_grad(par):
            return _gradient(negll, par)

    start = prob.start()
    if nagq != 1 and len(groups) == 1:  # quadrature: start from the (fast, analytic) Laplace fit
        start = fit_arrays(y, X, groups, nlevels, link, 1, gtol)[0]
        prob.b[0] = np.zeros(nlevels[0])
    def progress(intermediate_result):  # scipy passes an OptimizeResult to this name
        progress.n += 1
        if progress.n % 25 == 0:
            log.info("CLMM: %d BFGS iterations, -logLik %.6f", progress.n,
                     intermediate_result.fun)

    progress.n = 0
    res = optimize.minimize(
        objective,
        _to_free(start, j),
        jac=True,
        method="BFGS",
        options={"gtol": gtol, "maxiter": 1000},
        callback=progress,
    )
    par = _from_free(res.x, j)
    free = np.ones(len(par), bool)
    free[j + prob.p :] = ~prob.boundary(par)

    def sub_grad(sub, base):
        full = base.copy()
        full[free] = sub
        return negll_grad(full)[free]

    def hessian(base):
        if prob.analytic:  # central differences of the analytic gradient
            x, h = base[free], 1e-5
            cols = [
                (sub_grad(x + e, base) - sub_grad(x - e, base)) / (2 * h)
                for e in np.eye(len(x)) * h
            ]
            H = np.array(cols)
            return (H + H.T) / 2
        return _hessian(
            lambda sub: negll(np.where(free, 0, base) + _scatter(sub, free)), base[free]
        )

    hess, moved = hessian(par), False
    for _ in range(3):  # Newton polish in the natural parameters
        grad = sub_grad(par[free], par)
        if np.max(np.abs(grad)) < 1e-7:
            break
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        trial = par.copy()
        trial[free] -= step
        if negll(trial) < negll(par):
            par, moved = trial, True
            if prob.analytic:  # cheap: refresh the Hessian at every step
                hess, moved = hessian(par), False
        else:
            break
    if moved:  # finite-difference Hessian: refreshed once, at the polished estimate
        hess = hessian(par)
    prob.max_gradient = float(np.max(np.abs(sub_grad(par[free], par))))
    return par, prob.loglik(par), hess, free, res.nit, prob


def _scatter(sub, mask):
    out = np.zeros(len(mask))
    out[mask] = sub
    return out


def _ordinal_response(values) -> tuple[np.ndarray, list]:
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.ordered:
        levels = [lv for lv in values.cat.categories if (values == lv).any()]
    else:
        levels = sorted(pd.unique(values))
        levels = [int(v) if isinstance(v, float) and v.is_integer() else v for v in levels]
    codes = pd.Categorical(values, categories=levels).codes
    if len(levels) < 3:
        raise InputError("data", f"ordinal response needs >= 3 observed categories, got {levels}")
    return codes, levels


def _design(formula: str, rhs: str, frame: pd.DataFrame, intercept: bool) -> pd.DataFrame:
    """Design matrix of ``rhs`` with R column names and R's column order (terms as written,
    main effects before interactions; patsy puts categorical terms first). ``(Intercept)`` is
    kept only if asked."""
    import patsy

    try:
        X = patsy.dmatrix(rhs, patsy_frame(frame), return_type="dataframe")
        written = patsy.ModelDesc.from_formula(rhs).rhs_termlist
    except patsy.PatsyError as exc:
        raise InputError("formula", f"cannot build the design of {formula!r}: {exc}") from None
    slices = X.design_info.term_name_slices
    order = [t.name() for t in sorted(written, key=lambda t: len(t.factors))]
    if sorted(order) == sorted(slices):
        X = X[[c for name in order for c in X.columns[slices[name]]]]
    if not intercept:
        X = X.drop(columns=[c for c in X.columns if c == "Intercept"])
    return X.rename(columns=r_name)


def _covariance_names(group: str, terms: list[str]) -> list[str]:
    """Names of the Cholesky-factor parameters (row-wise lower triangle)."""
    rows, cols = np.tril_indices(len(terms))
    return [f"chol({group}: {terms[a]}, {terms[b]})" for a, b in zip(rows, cols, strict=True)]


def fit_clmm(formula: str, data: pd.DataFrame, link: str = "logit", nagq: int = 1) -> CLMMResult:
    """Fit a cumulative link mixed model given in lme4 syntax.

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + x2 + (1 | g)"``, ``"y ~ x + (1 | g1) + (1 | g2)"`` (crossed) or
        ``"y ~ x + (1 + x | g)"`` (correlated random slopes, one grouping factor, Laplace). The
        response is ordinal: an ordered categorical or sortable values (e.g. Likert codes 1-5).
    data : pandas.DataFrame
        Rows with missing model variables are dropped (count logged).
    link : {"logit", "probit"}
    nagq : int
        As ``nAGQ`` of ``ordinal::clmm``: 1 for the Laplace approximation; ``n > 1`` adaptive and
        ``n < 0`` non-adaptive Gauss-Hermite quadrature with ``|n|`` nodes (a single random
        intercept only). 0 is rejected.

    Returns
    -------
    CLMMResult

    References
    ----------
    Agresti, A. (2010). Analysis of Ordinal Categorical Data (2nd ed.). Wiley.
    Christensen, R. H. B. (2019). ordinal: Regression models for ordinal data. R package;
    "A tutorial on fitting cumulative link mixed models with clmm2 from the ordinal package".
    Pinheiro, J. C. & Bates, D. M. (1995). Approximations to the log-likelihood function in the
    nonlinear mixed-effects model. Journal of Computational and Graphical Statistics, 4(1).
    Johnson, P. C. D. (2014). Extension of Nakagawa & Schielzeth's R2GLMM to random slopes
    models. Methods in Ecology and Evolution, 5(9), 944-946.
    """
    started = time.perf_counter()
    parsed = parse(formula)
    slopes = not parsed.intercepts_only
    groups = [term.group for term in parsed.random]
    if (not 1 <= len(groups) <= 2 or (slopes and len(groups) != 1)
            or len(set(groups)) != len(groups)):  # e.g. (1 + x || g): uncorrelated terms
        raise InputError(
            "formula",
            f"CLMM supports (1 | g), (1 | g1) + (1 | g2) for two different factors or correlated "
            f"slopes (1 + x | g) for one grouping factor: {formula!r}",
        )
    check_nagq(nagq, not slopes and len(parsed.random) == 1)
    frame = model_frame(parsed, data)
    y, levels = _ordinal_response(frame[parsed.response])
    X = _design(formula, parsed.fixed, frame, intercept=False)
    codes = [pd.factorize(frame[g], sort=True) for g in parsed.groups]
    Z = None
    if slopes:
        term = parsed.random[0]
        rhs = " + ".join(["1" if term.intercept else "0", *term.slopes])
        Z = _design(formula, rhs, frame, intercept=term.intercept)
    par, loglik, hess, free, nit, prob = fit_arrays(
        y,
        X.to_numpy(float),
        [c for c, _ in codes],
        [len(u) for _, u in codes],
        link,
        nagq,
        Z=None if Z is None else Z.to_numpy(float),
    )
    j, p = prob.nthr, prob.p
    names = [f"{levels[k]}|{levels[k + 1]}" for k in range(j)] + list(X.columns)
    covariance, modes = {}, {}
    if slopes:
        group, terms = parsed.groups[0], list(Z.columns)
        L = prob.split(par)[2]
        sigma = L @ L.T
        covariance[group] = pd.DataFrame(sigma, index=terms, columns=terms)
        cov_names = _covariance_names(group, terms)
        sd = pd.Series(
            np.sqrt(np.diag(sigma)),
            index=[group if t == "(Intercept)" else f"{group}:{t}" for t in terms],
        )
        modes[group] = pd.DataFrame(prob.u @ L.T, index=codes[0][1], columns=terms)
        random_variance = float(np.mean(np.einsum("ij,jk,ik->i", prob.Z, sigma, prob.Z)))
    else:
        cov_names = [f"sd({g})" for g in parsed.groups]
        sd = pd.Series(np.exp(par[j + p :]), index=list(parsed.groups))
        modes = {
            g: pd.Series(prob.b[k] * sd.iloc[k], index=uniq)
            for k, (g, (_, uniq)) in enumerate(zip(parsed.groups, codes, strict=True))
        }
        random_variance = float(np.sum(sd**2))
    cov = np.full((len(par), len(par)), np.nan)
    converged = bool(np.all(np.isfinite(hess))) and prob.max_gradient < 1e-3
    try:
        cov[np.ix_(free, free)] = np.linalg.inv(hess)
        converged &= bool(np.all(np.linalg.eigvalsh(hess) > 0))
    except np.linalg.LinAlgError:
        converged = False
    vcov = pd.DataFrame(cov, index=names + cov_names, columns=names + cov_names)
    se = pd.Series(np.sqrt(np.diag(cov))[: j + p], index=names)
    beta = par[j : j + p]
    method = "Laplace" if nagq == 1 else (f"AGQ({nagq})" if nagq > 0 else f"GHQ({-nagq})")
    log.info("CLMM %s (%s, %d obs): %d iterations, logLik %.6f, %.2f s", formula, method,
             len(frame), nit, loglik, time.perf_counter() - started)
    return CLMMResult(
        formula=formula,
        link=link,
        method=method,
        thresholds=pd.Series(par[:j], index=names[:j]),
        coefficients=pd.Series(beta, index=names[j:]),
        se=se,
        sd=sd,
        loglik=float(loglik),
        vcov=vcov,
        nobs=len(frame),
        ngroups={g: len(u) for g, (_, u) in zip(parsed.groups, codes, strict=True)},
        modes=modes,
        converged=converged,
        iterations=int(nit),
        seconds=time.perf_counter() - started,
        residual_variance=prob.residual_variance,
        linear_predictor_variance=float(np.var(X.to_numpy(float) @ beta, ddof=1)),
        covariance=covariance,
        random_variance=random_variance,
    )
