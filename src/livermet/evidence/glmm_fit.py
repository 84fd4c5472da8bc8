"""Maximum-likelihood fit of the binomial-normal model: optimiser and covariance of beta.

The deviance ``D(theta, beta)`` of :mod:`.glmm_quad` is minimised over ``theta = tau`` and
``beta``. D is even in ``theta``, so the search runs over the real line and reports ``|theta|``;
a maximum on the boundary ``tau² = 0`` is a regular minimum at ``theta = 0``. Newton steps with
finite-difference gradients and Hessians converge to where the gradient vanishes (steps below
1e-10), rather than stopping where a derivative-free optimiser's function tolerance does
(glmer's default Nelder-Mead stage stops a few 1e-6 from the maximum; see
docs/evidence.md#binomial-normal-glmm). Start: the fixed-effects logistic fit for beta and a
DerSimonian-Laird tau of the logits (at least 0.1, as D has a stationary point at theta = 0).

``Var(beta)``: as lme4's ``vcov`` for ``nAGQ >= 1``, the beta block of ``2 H^-1`` with H the
Hessian of D in ``(theta, beta)`` by central differences with step 1e-4 (lme4's ``deriv12``),
taken in the parametrisation the model was fitted in (moderators centred and scaled, as metafor's
``scaleX``) and transformed back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .glmm_quad import deviance_and_modes

FloatArray = npt.NDArray[np.float64]
Objective = Callable[[FloatArray], float]

HESSIAN_STEP = 1e-4  # lme4 deriv12(delta = 1e-4)
_GRAD_STEP = 1e-5
_NEWTON_TOL = 1e-10
_NEWTON_MAXITER = 200
_NOISE = 4.0 * float(np.finfo(float).eps)  # a decrease below this is rounding


@dataclass(frozen=True)
class Optimum:
    """Parameters ``(theta, beta...)`` at the minimum, the deviance there and its Hessian."""

    params: FloatArray
    deviance: float
    hessian: FloatArray
    iterations: int
    converged: bool


def objective(x: FloatArray, n: FloatArray, X: FloatArray, nagq: int) -> Objective:
    """Return ``D(params)`` with ``params = (theta, beta...)``.

    Each evaluation starts the search for the conditional modes at the previous evaluation's
    modes (the points are close together), which halves the Newton iterations.
    """
    last: list[FloatArray] = []

    def fn(params: FloatArray) -> float:
        start = last[0] * np.sign(params[0]) if last else None
        d, u0 = deviance_and_modes(x, n, X, params[1:], float(params[0]), nagq, start)
        last[:] = [u0 * np.sign(params[0])] if params[0] != 0 else []
        return d

    return fn


def gradient(fn: Objective, at: FloatArray, step: float = _GRAD_STEP) -> FloatArray:
    """Central-difference gradient."""
    g = np.empty_like(at)
    for i in range(at.size):
        e = np.zeros_like(at)
        e[i] = step
        g[i] = (fn(at + e) - fn(at - e)) / (2.0 * step)
    return g


def hessian(fn: Objective, at: FloatArray, step: float = HESSIAN_STEP) -> FloatArray:
    """Central-difference Hessian (lme4 ``deriv12``: diagonal from three points, others four)."""
    m = at.size
    f0 = fn(at)
    H = np.empty((m, m))
    eye = np.eye(m) * step
    for i in range(m):
        H[i, i] = (fn(at + eye[i]) - 2.0 * f0 + fn(at - eye[i])) / step**2
        for j in range(i):
            pp = fn(at + eye[i] + eye[j])
            pm = fn(at + eye[i] - eye[j])
            mp = fn(at - eye[i] + eye[j])
            mm = fn(at - eye[i] - eye[j])
            H[i, j] = H[j, i] = (pp - pm - mp + mm) / (4.0 * step**2)
    return H


def _direction(g: FloatArray, H: FloatArray) -> FloatArray:
    """Newton direction with the Hessian's eigenvalues made positive (|lambda|, floored)."""
    w, V = np.linalg.eigh((H + H.T) / 2.0)
    w = np.maximum(np.abs(w), 1e-8 * max(1.0, float(np.max(np.abs(w)))))
    out: FloatArray = -(V @ ((V.T @ g) / w))
    return out


def _line_search(
    fn: Objective, at: FloatArray, f_at: float, step: FloatArray
) -> tuple[FloatArray, float, float]:
    """Halve ``step`` until the deviance does not increase; return point, deviance, step size."""
    for _ in range(40):
        trial = at + step
        f_trial = fn(trial)
        if f_trial <= f_at + 1e-12 * (1.0 + abs(f_at)):
            return trial, f_trial, float(np.max(np.abs(step)))
        step = step / 2.0
    return at, f_at, 0.0


def minimise(fn: Objective, start: FloatArray) -> Optimum:
    """Minimise ``fn`` from ``start`` (module docstring) and return the optimum with its Hessian.

    Newton's method with central-difference gradients (step 1e-5) and Hessians (step 1e-3,
    recomputed while the steps exceed 1e-3, then kept), eigenvalues made positive and steps
    halved until the deviance does not increase; converged when a step is below 1e-10, or when
    three steps in a row lower the deviance by no more than its rounding error (a flat
    likelihood, e.g. most series with 0 or n events, whose maximum double precision cannot
    place more exactly).
    """
    at = np.asarray(start, dtype=float).copy()
    f_at = fn(at)
    H = hessian(fn, at, step=1e-3)
    converged = False
    stalled = 0
    it = 0
    for it in range(1, _NEWTON_MAXITER + 1):  # noqa: B007 - the count is reported
        f_old = f_at
        at, f_at, size = _line_search(fn, at, f_at, _direction(gradient(fn, at), H))
        stalled = stalled + 1 if f_old - f_at <= _NOISE * (1.0 + abs(f_at)) else 0
        if size < _NEWTON_TOL * (1.0 + float(np.max(np.abs(at)))) or stalled >= 3:
            converged = True
            break
        if size > 1e-3:
            H = hessian(fn, at, step=1e-3)
    at[0] = abs(at[0])
    return Optimum(at, f_at, hessian(fn, at), it, converged)


def beta_covariance(opt: Optimum) -> FloatArray:
    """``Var(beta) = [2 H^-1]_{beta,beta}`` (lme4 ``vcov.merMod`` with the Hessian).

    At ``theta = 0`` the cross derivatives vanish (D is even in theta) and ``[2 H_beta^-1]`` is
    used, which is the same matrix without dividing by a near-zero curvature in theta.
    """
    H = opt.hessian
    if opt.params[0] == 0.0 or abs(H[0, 0]) < 1e-8 * float(np.max(np.abs(np.diag(H)))):
        vb = 2.0 * np.linalg.inv(H[1:, 1:])
    else:
        vb = 2.0 * np.linalg.inv(H)[1:, 1:]
    out: FloatArray = (vb + vb.T) / 2.0
    return out
