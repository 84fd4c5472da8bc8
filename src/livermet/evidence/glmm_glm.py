"""The two binomial GLMs behind the heterogeneity tests of the binomial-normal model.

metafor's ``rma.glmm`` (3.8-1) fits, besides the random-effects model, with R's ``glm``:

* the **fixed-effects model** ``logit(pi_i) = x_i' beta`` (log-likelihood ``ll_FE``);
* the **saturated model**, one logit per series (log-likelihood ``ll_QE``).

``QE.LRT = -2 (ll_FE - ll_QE)`` on ``k - p`` degrees of freedom; ``QE.Wld`` is the Wald test that
the saturated model's extra coefficients are 0, which for any full-rank coding of the saturated
model is ``theta' (V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1) theta`` with ``theta`` the saturated
logits and ``V = diag(1 / (n_i mu_i (1 - mu_i)))`` their variances. A series with 0 or n events
has no finite saturated logit: R's iteratively reweighted least squares (IRLS) walks its logit
towards ±infinity until the deviance stops changing (relative change below 1e-8), so
:func:`saturated_glm` repeats those iterations as ``glm.fit`` does them (start
``mu = (n y + 1/2)/(n + 1)``, logit link clamped at ±30, ``mu.eta`` floored at machine epsilon,
covariance from the working weights of the last iteration) to give the same, finite, numbers.
See docs/evidence.md#binomial-normal-glmm.

References
----------
R Core Team. ``glm.fit`` and ``binomial()`` (R 4.x, src/library/stats). McCullagh, P. & Nelder,
J. A. (1989). *Generalized Linear Models*, 2nd ed., ch. 2 (IRLS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import expit, gammaln, xlogy

FloatArray = npt.NDArray[np.float64]

_EPS = float(np.finfo(float).eps)
_THRESH = 30.0  # R's logit link: exp(eta) clamped outside [-30, 30]
GLM_EPSILON = 1e-8  # glm.control(epsilon)
GLM_MAXIT = 25  # glm.control(maxit)


def _linkinv(eta: FloatArray) -> FloatArray:
    """R's ``binomial()$linkinv`` (``C_logit_linkinv``)."""
    t = np.where(
        eta < -_THRESH,
        _EPS,
        np.where(eta > _THRESH, 1.0 / _EPS, np.exp(np.clip(eta, -_THRESH, _THRESH))),
    )
    out: FloatArray = t / (1.0 + t)
    return out


def _mu_eta(eta: FloatArray) -> FloatArray:
    """R's ``binomial()$mu.eta`` (``C_logit_mu_eta``)."""
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    out: FloatArray = np.where(np.abs(eta) > _THRESH, _EPS, e / ((1.0 + e) * (1.0 + e)))
    return out


def _deviance(x: FloatArray, n: FloatArray, mu: FloatArray) -> float:
    y = x / n
    return float(np.sum(2.0 * n * (xlogy(y, y / mu) + xlogy(1.0 - y, (1.0 - y) / (1.0 - mu)))))


def binomial_loglik(x: FloatArray, n: FloatArray, mu: FloatArray) -> float:
    """Binomial log-likelihood with the binomial coefficients (R's ``logLik.glm``)."""
    log_choose = gammaln(n + 1.0) - gammaln(x + 1.0) - gammaln(n - x + 1.0)
    return float(np.sum(log_choose + xlogy(x, mu) + xlogy(n - x, 1.0 - mu)))


@dataclass(frozen=True)
class SaturatedFit:
    """The saturated model as R's ``glm`` leaves it: logits, their variances, log-likelihood."""

    logits: FloatArray
    variances: FloatArray
    loglik: float
    iterations: int


def saturated_glm(x: FloatArray, n: FloatArray) -> SaturatedFit:
    """Repeat ``glm.fit``'s IRLS for the saturated binomial model (module docstring).

    In the saturated model the weighted least-squares step fits the working response exactly, so
    each iteration sets ``eta = z = eta + (y - mu) / mu.eta(eta)``.
    """
    y = x / n
    mu = (n * y + 0.5) / (n + 1.0)
    eta = np.log(mu / (1.0 - mu))
    mu = _linkinv(eta)
    devold = _deviance(x, n, mu)
    weights = n * _mu_eta(eta)
    it = 0
    for it in range(1, GLM_MAXIT + 1):  # noqa: B007 - the count is reported
        dmu = _mu_eta(eta)
        weights = n * dmu * dmu / (mu * (1.0 - mu))
        eta = eta + (y - mu) / dmu
        mu = _linkinv(eta)
        dev = _deviance(x, n, mu)
        if abs(dev - devold) / (abs(dev) + 0.1) < GLM_EPSILON:
            break
        devold = dev
    return SaturatedFit(eta, 1.0 / weights, binomial_loglik(x, n, mu), it)


def fixed_effects_glm(x: FloatArray, n: FloatArray, X: FloatArray) -> tuple[FloatArray, float]:
    """Maximum-likelihood ``beta`` of ``logit(pi) = X beta`` and its log-likelihood.

    Newton's method (IRLS) from R's start (the weighted least-squares fit at ``mustart``), steps
    halved when the log-likelihood would fall, iterated to convergence of the coefficients rather
    than stopped at a relative deviance change of 1e-8: the log-likelihood agrees with ``glm``'s
    to second order in its stopping error.
    """
    y = x / n
    mu0 = (n * y + 0.5) / (n + 1.0)
    eta0 = np.log(mu0 / (1.0 - mu0))
    w0 = n * mu0 * (1.0 - mu0)  # glm.fit's first step: weighted least squares at mustart
    beta = np.linalg.solve(X.T @ (X * w0[:, None]), X.T @ (w0 * eta0))
    ll = binomial_loglik(x, n, expit(X @ beta))
    for _ in range(100):
        mu = expit(X @ beta)
        w = n * mu * (1.0 - mu)
        step = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (x - n * mu))
        for _ in range(60):  # halve a step that lowers the log-likelihood (as glm.fit)
            trial_ll = binomial_loglik(x, n, expit(X @ (beta + step)))
            if np.isfinite(trial_ll) and trial_ll >= ll - 1e-12 * (1.0 + abs(ll)):
                break
            step = step / 2.0
        beta, ll = beta + step, trial_ll
        if np.max(np.abs(step)) < 1e-12 * (1.0 + np.max(np.abs(beta))):
            break
    out: FloatArray = np.asarray(beta, dtype=float)
    return out, binomial_loglik(x, n, expit(X @ out))


def wald_heterogeneity(sat: SaturatedFit, X: FloatArray) -> float:
    """``QE.Wld``: the weighted residual sum of squares of the saturated logits on X."""
    w = 1.0 / sat.variances
    xtw = X.T * w
    coef = np.linalg.solve(xtw @ X, xtw @ sat.logits)
    resid = sat.logits - X @ coef
    return max(0.0, float(np.sum(w * resid * resid)))
