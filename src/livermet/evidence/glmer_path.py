"""glmer's default fit of the binomial-normal model, step for step (metafor's numbers).

metafor's ``rma.glmm(measure="PLO")`` calls ``lme4::glmer`` with its default control. glmer
does not converge to the maximum: its optimisers stop by their own rules a few 1e-6 away (on the
case report's Table 1, mu-hat -0.49415408 against the maximum's -0.49415689). To give a metafor
user the numbers they know, :func:`fit_as_glmer` repeats glmer 1.1-31's path exactly:

1. stage 1: bobyqa (minqa, ``rhobeg = 0.2``, ``rhoend = 2e-7``) over ``theta`` from 1 on the
   ``nAGQ = 0`` deviance (PIRLS over u and beta), then one more evaluation at its optimum;
2. stage 2: Nelder-Mead over ``(theta, beta)`` from there, with steps
   ``xst = 0.2 (0.1, min(sqrt(diag(unsc)), 10))`` and tolerances ``xt = 5e-4 xst``, on the
   ``nAGQ``-point deviance (PIRLS over u), lower bound 0 for theta;
3. the Hessian by lme4's ``deriv12`` (central differences, step 1e-4) at that point, from which
   ``vcov`` takes ``Var(beta)``;
4. ``check.boundary``: a theta within 1e-5 of 0 is set to 0 when that lowers the deviance (the
   Hessian is not recomputed, as in lme4).

:func:`scale_as_metafor` gives the scaled moderators metafor passes to glmer with R's rounding
(numpy's ``X @ M`` differs in the last bit, which moves glmer's path on ill-conditioned designs),
and :class:`GlmerOptimum` carries ``pp$unsc()``, lme4's ``vcov`` where the Hessian is not positive
definite.

Every deviance value comes from :class:`.glmer_pirls.GlmerDevfun` (lme4's PIRLS and its
imprecision, bit for bit), because both optimisers' paths depend on the exact values. The
converged alternative is :func:`.glmm_fit.minimise`. See docs/evidence.md#binomial-normal-glmm.

References
----------
lme4 1.1-31 (``glmer``, ``optimizeGlmer``, ``optwrap``, ``check.boundary``, ``deriv12``,
``vcov.merMod``); minqa 1.2.5 ``bobyqa``; metafor 3.8-1 ``rma.glmm``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .glmer_bobyqa import bobyqa_1d
from .glmer_nelder_mead import nelder_mead
from .glmer_pirls import THETA_START, GlmerDevfun
from .glmm_fit import HESSIAN_STEP, Objective, Optimum
from .glmm_quad import marginal_deviance

FloatArray = npt.NDArray[np.float64]

THETA_STEP = 0.1  # optwrap: xst for theta is 0.2 * 0.1
STEP_FACTOR = 0.2  # optwrap: xst = 0.2 * c(thetaStep, pmin(betaSD, 10))
MAX_BETA_STEP = 10.0
XT_FACTOR = 5e-4  # optwrap: xt = xst * 5e-4
BOUNDARY_TOL = 1e-5  # glmerControl(boundary.tol = 1e-5)


@dataclass(frozen=True)
class GlmerOptimum(Optimum):
    """glmer's fit as an :class:`.Optimum`, with ``unsc``: ``pp$unsc()`` at the final state.

    lme4's ``vcov`` takes ``Var(beta)`` from the Hessian unless that block is not positive
    definite (or the Hessian is singular); it then warns and falls back to ``unsc`` (in the
    scaling of the X passed to glmer).
    """

    unsc: FloatArray | None = None


def _r_mean(v: FloatArray) -> float:
    """R's ``colMeans`` of one column: a long double sum divided by n, then rounded."""
    acc = np.longdouble(0.0)
    for a in v.tolist():
        acc += np.longdouble(a)
    return float(acc / np.longdouble(v.size))


def _r_sum(v: FloatArray) -> float:
    """R's ``sum`` of doubles: accumulated in long double, then rounded."""
    acc = np.longdouble(0.0)
    for a in v.tolist():
        acc += np.longdouble(a)
    return float(acc)


def scale_as_metafor(X: FloatArray) -> FloatArray:
    """Return the ``X.fit`` metafor 3.8-1 hands to glmer (``scaleX = TRUE``), rounded as R.

    metafor applies R's ``scale()`` to every column that is not a dummy (``.is.dummy``: all
    values within 1e-8 of 0 or 1; the intercept column is one): ``v - colMeans(v)``, then
    divided by ``sqrt(sum(v^2) / (n - 1))`` of the centred column. R sums in long double, so the
    result can differ in the last bit from ``(v - mean) / std`` in numpy, and on ill-conditioned
    designs (nearly collinear moderators) that bit changes glmer's path. Apply only to models
    with an intercept and at least one moderator, as metafor does.
    """
    out = np.array(X, dtype=float, copy=True)
    for j in range(out.shape[1]):
        col = out[:, j]
        if np.all((np.abs(col) < 1e-8) | (np.abs(col - 1.0) < 1e-8)):
            continue
        centred = col - _r_mean(col)
        sd = math.sqrt(_r_sum(centred * centred) / max(1, col.size - 1))
        out[:, j] = centred / sd
    return out


def deriv12_hessian(fn: Objective, at: FloatArray, delta: float = HESSIAN_STEP) -> FloatArray:
    """Hessian by lme4's ``deriv12`` (same points, order and arithmetic; no bounds)."""
    m = at.size
    fx = fn(at.copy())
    H = np.empty((m, m))
    add, sub = at + delta, at - delta
    for j in range(m):
        xa, xs = at.copy(), at.copy()
        xa[j], xs[j] = add[j], sub[j]
        fadd, fsub = fn(xa), fn(xs)
        H[j, j] = fadd / delta**2 - 2 * fx / (delta * delta) + fsub / delta**2
        for i in range(j):
            corner = []
            for ai, aj in ((add, add), (add, sub), (sub, add), (sub, sub)):
                pt = at.copy()
                pt[i], pt[j] = ai[i], aj[j]
                corner.append(fn(pt))
            two = (2 * delta) ** 2
            H[i, j] = H[j, i] = (
                corner[0] / two - corner[1] / two - corner[2] / two + corner[3] / two
            )
    return H


def _boundary(dev: GlmerDevfun, par: FloatArray, fval: float) -> FloatArray:
    """lme4's ``check.boundary``: try theta = 0 when it is within ``BOUNDARY_TOL`` of it."""
    if 0.0 < par[0] < BOUNDARY_TOL:
        trial = par.copy()
        trial[0] = 0.0
        if dev.stage2(trial) < fval:
            par = trial
        dev.stage2(par)
    return par


def fit_as_glmer(x: FloatArray, n: FloatArray, X: FloatArray, nagq: int) -> GlmerOptimum:
    """Return glmer's default fit (module docstring) as a :class:`GlmerOptimum`.

    ``deviance`` is the marginal deviance of :mod:`.glmm_quad` at the returned point (relative to
    the saturated model, as for the converged fit; lme4's Laplace value adds a constant);
    ``iterations`` counts the
    Nelder-Mead evaluations; ``converged`` is False when Nelder-Mead ran out of evaluations.

    Raises
    ------
    InputError
        lme4 would fail too (PIRLS does not converge, or no simplex can be built).
    """
    dev = GlmerDevfun(x, n, X)
    first = bobyqa_1d(dev.stage1, THETA_START, 0.0, math.inf)
    dev.stage1(first.x)  # optwrap re-evaluates the optimum: stage 2 starts from that state
    start = np.concatenate([[first.x], dev.delb])
    beta_sd = np.sqrt(dev.unsc_diag())
    xst = STEP_FACTOR * np.concatenate([[THETA_STEP], np.minimum(beta_sd, MAX_BETA_STEP)])
    dev.start_stage2(nagq)
    lower = np.concatenate([[0.0], np.full(start.size - 1, -np.inf)])
    second = nelder_mead(
        dev.stage2, start, lower, np.full(start.size, np.inf), xst, XT_FACTOR * xst
    )
    hess = deriv12_hessian(dev.stage2, second.x)
    dev.stage2(second.x)
    par = _boundary(dev, second.x.copy(), second.fval)
    unsc = dev.unsc()
    deviance = marginal_deviance(x, n, X, par[1:], float(par[0]), nagq)
    return GlmerOptimum(par, deviance, hess, second.evaluations, second.status == "xcvg", unsc)
