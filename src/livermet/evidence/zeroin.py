"""Brent's root finder with the stopping rule of R's ``uniroot``.

metafor solves the Paule-Mandel estimating equation and the Q-profile bounds with R's
``uniroot(f, interval, tol=.Machine$double.eps^0.25, maxiter)``. Reproducing metafor's *default*
output (which stops well before the exact root) needs the same sequence of iterates, so this
module implements Brent's (1973) method -- the combination of bisection, secant and inverse
quadratic interpolation of Dekker (1969) and Brent -- with the bookkeeping R uses: the function
values at both ends are given, the acceptable tolerance at ``b`` is ``2 eps |b| + tol / 2``, an
interpolated step is accepted only if it falls inside three quarters of the bracket and is smaller
than half the step before last, and at most ``maxiter`` new evaluations are made.

References
----------
Brent, R. P. (1973). *Algorithms for Minimization without Derivatives*, ch. 4. Prentice-Hall.
R Core Team. ``?uniroot`` (package stats).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

EPS = float(np.finfo(float).eps)
R_UNIROOT_TOL = EPS**0.25  # .Machine$double.eps^0.25, uniroot's default tolerance


@dataclass(frozen=True)
class RootResult:
    """Outcome of :func:`zeroin`: the root, the number of evaluations and whether it converged."""

    root: float
    iterations: int
    converged: bool
    estim_prec: float


def zeroin(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    f_lower: float | None = None,
    f_upper: float | None = None,
    tol: float = R_UNIROOT_TOL,
    maxiter: int = 1000,
) -> RootResult:
    """Find a root of ``f`` in ``[lower, upper]`` (the end values must differ in sign).

    Parameters
    ----------
    f : callable
        Continuous function of one float.
    lower, upper : float
        Bracket.
    f_lower, f_upper : float, optional
        ``f`` at the ends when already known (saves two evaluations, as ``uniroot`` does).
    tol : float
        Absolute tolerance (``uniroot``'s ``tol``).
    maxiter : int
        Maximum number of iterations.

    Returns
    -------
    RootResult

    Raises
    ------
    ValueError
        When the end values do not have opposite signs.
    """
    fa = f(lower) if f_lower is None else f_lower
    fb = f(upper) if f_upper is None else f_upper
    if fa * fb > 0:
        raise ValueError("f() values at end points not of opposite sign")
    a, b = float(lower), float(upper)
    c, fc = a, fa
    if fa == 0.0:
        return RootResult(a, 0, True, 0.0)
    if fb == 0.0:
        return RootResult(b, 0, True, 0.0)
    remaining = maxiter + 1
    while remaining > 0:
        remaining -= 1
        prev_step = b - a
        # keep b the best approximation, c on the other side of the root
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * EPS * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return RootResult(b, maxiter + 1 - remaining - 1, True, abs(c - b))
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:  # two distinct points: secant step
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:  # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0.0 else -tol_act
        a, fa = b, fb
        b = b + new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return RootResult(b, maxiter, False, abs(c - b))
