"""Random-intercept linear mixed model with known sampling covariance.

Σ = V + τ²ZZ', τ² by (restricted) maximum likelihood, coefficients by generalised least squares
— the recipe of metafor ``rma.mv`` used by the Weibull synthesis
(docs/evidence.md#weibull-synthesis).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import linalg, optimize

from .series import FloatArray


@dataclass(frozen=True)
class MixedFit:
    """GLS coefficients, their covariance, τ² and the log-likelihood at the optimum."""

    beta: FloatArray
    cov: FloatArray
    tau2: float
    loglik: float


def _gls(
    y: FloatArray, x: FloatArray, sigma: FloatArray
) -> tuple[FloatArray, FloatArray, float, float, float]:
    """GLS via Cholesky: beta, (X'Σ⁻¹X)⁻¹, r'Σ⁻¹r, log|Σ|, log|X'Σ⁻¹X|."""
    chol = linalg.cholesky(sigma, lower=True)
    xw = linalg.solve_triangular(chol, x, lower=True)
    yw = linalg.solve_triangular(chol, y, lower=True)
    info = xw.T @ xw
    beta = linalg.solve(info, xw.T @ yw, assume_a="pos")
    resid = yw - xw @ beta
    logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
    logdet_info = float(np.linalg.slogdet(info)[1])
    return beta, linalg.inv(info), float(resid @ resid), logdet, logdet_info


def _neg_loglik(
    tau2: float, y: FloatArray, x: FloatArray, v: FloatArray, zzt: FloatArray, method: str
) -> float:
    """Negative (restricted) log-likelihood of the random-intercept model at τ²."""
    _, _, rss, logdet, logdet_info = _gls(y, x, v + tau2 * zzt)
    n_obs, p = int(x.shape[0]), int(x.shape[1])
    if method == "REML":
        return 0.5 * ((n_obs - p) * math.log(2 * math.pi) + logdet + logdet_info + rss)
    return 0.5 * (n_obs * math.log(2 * math.pi) + logdet + rss)


def fit_random_intercept(
    y: FloatArray, x: FloatArray, v: FloatArray, groups: npt.NDArray[np.intp], method: str
) -> MixedFit:
    """Maximise the (RE)ML over τ² >= 0: log grid, then bounded Brent around the best node.

    With a single series τ² is not identifiable and is set to 0.
    """
    z = (groups[:, None] == np.arange(groups.max() + 1)[None, :]).astype(np.float64)
    zzt = z @ z.T
    if z.shape[1] < 2:
        beta, cov, _, _, _ = _gls(y, x, v)
        return MixedFit(
            beta=beta, cov=cov, tau2=0.0, loglik=-_neg_loglik(0.0, y, x, v, zzt, method)
        )

    def objective(tau2: float) -> float:
        return _neg_loglik(tau2, y, x, v, zzt, method)

    upper = max(10.0, 10.0 * float(np.var(y)))
    grid = np.concatenate([[0.0], np.geomspace(1e-8, upper, 80)])
    values = np.array([objective(float(g)) for g in grid])
    best = int(np.argmin(values))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    tau2, value = float(grid[best]), float(values[best])
    if hi > lo:
        res = optimize.minimize_scalar(
            objective, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12 * max(hi, 1)}
        )
        if float(res.fun) < value:
            tau2, value = float(res.x), float(res.fun)
    beta, cov, _, _, _ = _gls(y, x, v + tau2 * zzt)
    return MixedFit(beta=beta, cov=cov, tau2=tau2, loglik=-value)


def residual_q(y: FloatArray, x: FloatArray, v: FloatArray) -> float:
    """Q_E = r'V⁻¹r of the fixed-effects GLS fit (τ² = 0)."""
    return _gls(y, x, v)[2]
