"""Brent's root finder with the stopping rule of R's ``uniroot``.

metafor solves the Paule-Mandel estimating equation and the Q-profile bounds with R's
``uniroot(f, interval, tol=.Machine$double.eps^0.25, maxiter)``. Reproducing metafor's *default*
output (which stops well before the exact root) needs the same sequence of iterates, so this
module implements Brent's (1973) method -- the combination of bisection, secant and inverse
quadratic interpolation of Dekker (1969) and Brent -- with the bookkeeping R uses: the function
values at both ends are given, the acceptable tolerance at ``b`` is ``2 eps |b| + tol / 2``, an
interpolated step is accepted only if it falls inside three quarters of the bracket and is smaller
than half the step before last, and at most ``maxiter`` new evaluations are made.

:func:`zeroin_batch` runs the method on m problems at once (every problem's iterates are those of
its own scalar run: the same IEEE operations, selected element-wise); :func:`zeroin` is its
one-problem case.

References
----------
Brent, R. P. (1973). *Algorithms for Minimization without Derivatives*, ch. 4. Prentice-Hall.
R Core Team. ``?uniroot`` (package stats).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BatchFn = Callable[[IntArray, FloatArray], FloatArray]
EPS = float(np.finfo(float).eps)
R_UNIROOT_TOL = EPS**0.25  # .Machine$double.eps^0.25, uniroot's default tolerance


@dataclass(frozen=True)
class RootResult:
    """Outcome of :func:`zeroin`: the root, the number of evaluations and whether it converged."""

    root: float
    iterations: int
    converged: bool
    estim_prec: float


@dataclass(frozen=True)
class BatchRoots:
    """Outcome of :func:`zeroin_batch`: one entry per problem."""

    root: FloatArray
    iterations: IntArray
    converged: npt.NDArray[np.bool_]
    estim_prec: FloatArray


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

    def fb(_idx: IntArray, x: FloatArray) -> FloatArray:
        return np.array([f(float(x[0]))])

    res = zeroin_batch(
        fb,
        np.array([lower], float),
        np.array([upper], float),
        None if f_lower is None else np.array([f_lower], float),
        None if f_upper is None else np.array([f_upper], float),
        tol,
        maxiter,
    )
    return RootResult(
        float(res.root[0]), int(res.iterations[0]), bool(res.converged[0]), float(res.estim_prec[0])
    )


class _Brent:
    """State of m Brent iterations: ``b`` the best point, ``c`` on the other side of the root."""

    def __init__(self, a: FloatArray, b: FloatArray, fa: FloatArray, fb: FloatArray) -> None:
        self.a, self.b, self.c = a.copy(), b.copy(), a.copy()
        self.fa, self.fb, self.fc = fa.copy(), fb.copy(), fa.copy()

    def take(self, keep: npt.NDArray[np.bool_]) -> None:
        for name in ("a", "b", "c", "fa", "fb", "fc"):
            setattr(self, name, getattr(self, name)[keep])

    def swap(self) -> None:
        """Make ``b`` the point with the smaller |f|."""
        s = np.abs(self.fc) < np.abs(self.fb)
        a, b, c, fa, fb, fc = self.a, self.b, self.c, self.fa, self.fb, self.fc
        self.a, self.b, self.c = np.where(s, b, a), np.where(s, c, b), np.where(s, b, c)
        self.fa, self.fb, self.fc = np.where(s, fb, fa), np.where(s, fc, fb), np.where(s, fb, fc)

    def step(self, prev_step: FloatArray, tol_act: FloatArray) -> FloatArray:
        """Bisection step, replaced by secant/inverse quadratic interpolation where accepted."""
        a, b, c, fa, fb, fc = self.a, self.b, self.c, self.fa, self.fb, self.fc
        new_step = (c - b) / 2.0
        cb = c - b
        with np.errstate(all="ignore"):
            t1s = fb / fa
            q0, t1, t2 = fa / fc, fb / fc, fb / fa
            p = np.where(a == c, cb * t1s, t2 * (cb * q0 * (q0 - t1) - (b - a) * (t1 - 1.0)))
            q = np.where(a == c, 1.0 - t1s, (q0 - 1.0) * (t1 - 1.0) * (t2 - 1.0))
            q = np.where(p > 0.0, -q, q)
            p = np.abs(p)
            ok = (p < (0.75 * cb * q - np.abs(tol_act * q) / 2.0)) & (
                p < np.abs(prev_step * q / 2.0)
            )
            interp = (np.abs(prev_step) >= tol_act) & (np.abs(fa) > np.abs(fb)) & ok
            new_step = np.where(interp, p / q, new_step)
        small = np.abs(new_step) < tol_act
        out: FloatArray = np.where(small, np.where(new_step > 0.0, tol_act, -tol_act), new_step)
        return out

    def advance(self, new_step: FloatArray, fnew: FloatArray) -> None:
        self.a, self.fa = self.b, self.fb
        self.b = self.b + new_step
        self.fb = fnew
        same = ((fnew > 0) & (self.fc > 0)) | ((fnew < 0) & (self.fc < 0))
        self.c = np.where(same, self.a, self.c)
        self.fc = np.where(same, self.fa, self.fc)


def zeroin_batch(
    f: BatchFn,
    lower: FloatArray,
    upper: FloatArray,
    f_lower: FloatArray | None = None,
    f_upper: FloatArray | None = None,
    tol: float = R_UNIROOT_TOL,
    maxiter: int = 1000,
) -> BatchRoots:
    """:func:`zeroin` for m problems at once.

    ``f(idx, x)`` evaluates problems ``idx`` (indices into the m problems) at the points ``x``.
    Each problem follows exactly the iterates of its own scalar run.
    """
    lower = np.asarray(lower, float)
    upper = np.asarray(upper, float)
    m = lower.size
    every = np.arange(m)
    fa = f(every, lower) if f_lower is None else np.asarray(f_lower, float)
    fb = f(every, upper) if f_upper is None else np.asarray(f_upper, float)
    if np.any(fa * fb > 0):
        raise ValueError("f() values at end points not of opposite sign")
    root = np.where(fa == 0.0, lower, upper)
    iters = np.zeros(m, dtype=np.int64)
    conv = (fa == 0.0) | (fb == 0.0)
    prec = np.zeros(m)
    act = np.flatnonzero(~conv)
    st = _Brent(lower[act], upper[act], fa[act], fb[act])
    remaining = maxiter + 1
    while act.size and remaining > 0:
        remaining -= 1
        prev_step = st.b - st.a
        st.swap()
        tol_act = 2.0 * EPS * np.abs(st.b) + tol / 2.0
        done = (np.abs((st.c - st.b) / 2.0) <= tol_act) | (st.fb == 0.0)
        if np.any(done):
            idx = act[done]
            root[idx], iters[idx], conv[idx] = st.b[done], maxiter - remaining, True
            prec[idx] = np.abs(st.c - st.b)[done]
            keep = ~done
            act, prev_step, tol_act = act[keep], prev_step[keep], tol_act[keep]
            st.take(keep)
            if not act.size:
                break
        new_step = st.step(prev_step, tol_act)
        st.advance(new_step, f(act, st.b + new_step))
    root[act], iters[act], prec[act] = st.b, maxiter, np.abs(st.c - st.b)
    return BatchRoots(root, iters, conv, prec)
