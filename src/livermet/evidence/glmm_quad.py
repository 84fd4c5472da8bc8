"""The marginal deviance of the binomial-normal model by adaptive Gauss-Hermite quadrature.

Model (Stijnen, Hamza & Özdemir 2010; metafor ``rma.glmm(measure="PLO")``): ``x_i ~ Bin(n_i,
pi_i)``, ``logit(pi_i) = x_i' beta + theta u_i`` with ``u_i ~ N(0, 1)`` and ``theta = tau``. The
likelihood of series i is the one-dimensional integral ``L_i = int f(x_i | u) phi(u) du``.

As lme4's ``glmer`` (nAGQ >= 1), the deviance is written relative to the saturated binomial model:
``d_i(u) = dev_i(eta_i(u)) + u²`` with ``dev_i`` the binomial deviance residual of series i. At the
conditional mode ``u0`` (minimum of ``d_i``, by Newton's method) with curvature
``h_i = 1 + theta² n_i mu_i (1 - mu_i)`` (observed = expected information for the logit link) and
scale ``s_i = h_i^{-1/2}``, the adaptive rule with the nodes ``z_k`` and weights ``w_k`` of the
standard normal density (``sum w_k = 1``) gives

``D_i = d_i(u0) + log h_i - 2 log sum_k w_k exp(-(d_i(u0 + s_i z_k) - d_i(u0))/2 + z_k²/2)``

and the model deviance ``D = sum_i D_i``. One node (z = 0, w = 1) is the Laplace approximation.
``-D/2`` is the log-likelihood up to the saturated model's log-likelihood (a constant).
See docs/evidence.md#binomial-normal-glmm.

References
----------
Pinheiro, J. C. & Bates, D. M. (1995). Approximations to the log-likelihood function in the
nonlinear mixed-effects model. *J. Comput. Graph. Stat.* 4, 12-35 (adaptive quadrature).
Bates, D. et al. (2015). Fitting linear mixed-effects models using lme4. *JSS* 67(1).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.special import expit, log_expit, roots_hermitenorm, xlogy

FloatArray = npt.NDArray[np.float64]

_NEWTON_MAXITER = 200
_NEWTON_TOL = 1e-13


@lru_cache(maxsize=32)
def gauss_hermite(nagq: int) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights of the ``nagq``-point rule for the standard normal density.

    The weights sum to 1 (lme4's ``GHrule``: Golub-Welsch nodes of the probabilists' Hermite
    polynomials). ``nagq = 1`` is the single node 0 with weight 1 (Laplace).
    """
    if nagq == 1:
        return np.zeros(1), np.ones(1)
    z, w = roots_hermitenorm(nagq)
    return np.asarray(z, dtype=float), np.asarray(w / w.sum(), dtype=float)


def deviance_residuals(x: FloatArray, n: FloatArray, eta: FloatArray) -> FloatArray:
    """Binomial deviance residuals ``2[x log(x/(n mu)) + (n-x) log((n-x)/(n(1-mu)))]``."""
    sat = xlogy(x, x / n) + xlogy(n - x, (n - x) / n)
    fit = x * log_expit(eta) + (n - x) * log_expit(-eta)
    out: FloatArray = 2.0 * (sat - fit)
    return out


def _penalised(
    x: FloatArray, n: FloatArray, offset: FloatArray, theta: float, u: FloatArray
) -> FloatArray:
    """``d_i(u) = dev_i(offset + theta u) + u²``."""
    return deviance_residuals(x, n, offset + theta * u) + u * u


def conditional_modes(
    x: FloatArray,
    n: FloatArray,
    offset: FloatArray,
    theta: float,
    start: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Return the modes ``u0`` of ``d_i(u)`` and the curvatures ``h_i`` there.

    Newton's method on the strictly convex ``d_i`` from ``start`` (default 0), steps halved where
    they would not decrease it, until the steps are below 1e-13 (relative): the result does not
    depend on the start beyond rounding.
    """
    u = np.zeros_like(x) if start is None else np.array(start, dtype=float)
    d = _penalised(x, n, offset, theta, u)
    for _ in range(_NEWTON_MAXITER):
        mu = expit(offset + theta * u)
        grad = theta * (x - n * mu) - u  # -(1/2) d'(u)
        h = 1.0 + theta * theta * n * mu * (1.0 - mu)
        step = grad / h
        for _ in range(60):
            trial = u + step
            d_new = _penalised(x, n, offset, theta, trial)
            worse = d_new > d + 1e-12 * (1.0 + np.abs(d))
            if not np.any(worse):
                break
            step = np.where(worse, step / 2.0, step)
        u, d = trial, d_new
        if np.all(np.abs(step) <= _NEWTON_TOL * (1.0 + np.abs(u))):
            break
    mu = expit(offset + theta * u)
    return u, 1.0 + theta * theta * n * mu * (1.0 - mu)


def marginal_deviance(
    x: FloatArray, n: FloatArray, X: FloatArray, beta: FloatArray, theta: float, nagq: int
) -> float:
    """Return the deviance ``D(theta, beta)`` by adaptive Gauss-Hermite quadrature (see above).

    The deviance is even in ``theta`` (``u -> -u``), so a negative ``theta`` is allowed (finite
    differences at the boundary ``theta = 0``).
    """
    return deviance_and_modes(x, n, X, beta, theta, nagq)[0]


def deviance_and_modes(
    x: FloatArray,
    n: FloatArray,
    X: FloatArray,
    beta: FloatArray,
    theta: float,
    nagq: int,
    start: FloatArray | None = None,
) -> tuple[float, FloatArray]:
    """Return ``D(theta, beta)`` and the conditional modes (``start``: a first guess of them)."""
    offset = X @ beta
    u0, h = conditional_modes(x, n, offset, theta, start)
    d0 = _penalised(x, n, offset, theta, u0)
    total = d0 + np.log(h)
    if nagq > 1:
        z, w = gauss_hermite(nagq)
        s = 1.0 / np.sqrt(h)
        dk = _penalised(
            x[:, None], n[:, None], offset[:, None], theta, u0[:, None] + s[:, None] * z
        )
        terms = -(dk - d0[:, None]) / 2.0 + z * z / 2.0
        top = terms.max(axis=1, keepdims=True)
        total = total - 2.0 * (top[:, 0] + np.log(np.exp(terms - top) @ w))
    return float(total.sum()), u0
