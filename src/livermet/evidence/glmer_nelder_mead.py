"""Nelder-Mead simplex search as lme4's ``Nelder_Mead`` runs it (glmer's second stage).

metafor's ``rma.glmm`` fits the binomial-normal model with ``lme4::glmer``, whose second stage
minimises the deviance over ``(theta, beta)`` with lme4's own Nelder-Mead (a C++ translation of
NLopt's ``nldrmd`` by S. G. Johnson, adapted by Bates, Maechler & Bolker). It stops when every
coordinate of the simplex lies within ``xt`` of the centroid, a few 1e-6 short of the optimum, so
reproducing metafor's numbers to 1e-6 needs the same sequence of points, not just any minimiser.
This module is our implementation of that variant:

* initial simplex ``x0`` and ``x0 + xst_i e_i``, a vertex beyond a bound moved onto the bound (or to
  the other side when the bound is within ``0.1 xst_i``);
* reflection (coefficient 1), expansion (2), inside/outside contraction (0.5) and shrinkage
  towards the best vertex (0.5), every new point pinned to the bounds (Richardson & Kuester 1973);
* an expansion is kept when it beats the worst vertex (not the reflected point), as in ``nldrmd``;
* stop when, for every coordinate, the largest distance of a vertex from the centroid of the
  vertices other than the worst is below ``xt_i`` (lme4 passes no function tolerance to the
  search, although its R wrapper documents ``FtolAbs``), when a new point coincides with the
  centroid or the vertex it replaces (relative 1e-13), or after ``maxfun`` evaluations;
* the result is the best point ever evaluated.

References
----------
Nelder, J. A. & Mead, R. (1965). A simplex method for function minimization. *Comput. J.* 7,
308-313. Johnson, S. G. The NLopt nonlinear-optimization package, ``nldrmd``. Bates, D.,
Maechler, M., Bolker, B. & Walker, S. lme4 1.1-31, ``Nelder_Mead`` (src/optimizer.cpp) and its
use in ``optwrap`` (steps ``xst = 0.2 (0.1, min(sd(beta), 10))``, ``xt = 5e-4 xst``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

ALPHA = 1.0  # reflection
GAMMA = 2.0  # expansion
BETA = 0.5  # contraction
DELTA = 0.5  # shrinkage
MAXFUN = 10_000  # lme4 Nelder_Mead(control = list(maxfun = 10000))
XTOL_REL = 1e-7  # nl_stop's xtol_rel
_CLOSE = 1e-13  # two coordinates closer than this (relative) are the same point


class _Stop(Exception):
    """Raised inside the search when it ends; carries the reason."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class NelderMeadResult:
    """The best point, its value, the number of evaluations and why the search stopped.

    ``status``: ``"xcvg"`` (simplex within ``xt``, or a degenerate new point) or ``"maxfun"``.
    """

    x: FloatArray
    fval: float
    evaluations: int
    status: str


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= _CLOSE * (abs(a) + abs(b))


class _Search:
    """State of one search: evaluations counted, best point kept, points pinned to the bounds."""

    def __init__(
        self,
        fn: Callable[[FloatArray], float],
        bounds: tuple[FloatArray, FloatArray],
        xt: FloatArray,
        maxfun: int,
    ) -> None:
        self.fn, self.maxfun = fn, maxfun
        self.lower, self.upper = bounds
        self.xt = xt
        self.evaluations = 0
        self.best_f = math.inf
        self.best_x = np.empty(0)

    def value(self, x: FloatArray) -> float:
        f = float(self.fn(x.copy()))
        self.evaluations += 1
        if f < self.best_f:
            self.best_f, self.best_x = f, x.copy()
        if self.evaluations > self.maxfun:
            raise _Stop("maxfun")
        return f

    def reflect(self, centre: FloatArray, scale: float, old: FloatArray) -> FloatArray:
        """``centre + scale (centre - old)`` pinned to the bounds; stop if it is degenerate."""
        new = np.minimum(np.maximum(centre + scale * (centre - old), self.lower), self.upper)
        same_centre = all(_close(float(a), float(b)) for a, b in zip(new, centre, strict=True))
        same_old = all(_close(float(a), float(b)) for a, b in zip(new, old, strict=True))
        if same_centre or same_old:
            raise _Stop("xcvg")
        return new


def initial_simplex(
    x0: FloatArray, lower: FloatArray, upper: FloatArray, xst: FloatArray
) -> FloatArray:
    """Vertices as columns: ``x0`` and ``x0 + xst_i e_i`` moved inside the bounds."""
    n = x0.size
    pts = np.repeat(x0[:, None], n + 1, axis=1)
    for i in range(n):
        lo, hi, x, step = float(lower[i]), float(upper[i]), float(x0[i]), abs(float(xst[i]))
        v = x + float(xst[i])
        if v > hi:
            v = hi if hi - x > step * 0.1 else x - step
        if v < lo:
            if x - lo > step * 0.1:
                v = lo
            else:
                v = x + step
                if v > hi:
                    v = 0.5 * ((hi if hi - x > x - lo else lo) + x)
        if _close(v, x):
            raise ValueError(f"cannot build a simplex around the start in coordinate {i}")
        pts[i, i + 1] = v
    return pts


def _centroid(pts: FloatArray, worst: int) -> FloatArray:
    n = pts.shape[0]
    total = pts[:, 0].copy()
    for j in range(1, n + 1):
        total = total + pts[:, j]
    out: FloatArray = (total - pts[:, worst]) / n
    return out


def _converged(pts: FloatArray, centre: FloatArray, xt: FloatArray) -> bool:
    spread = np.max(np.abs(pts - centre[:, None]), axis=1)
    return all(s < t or s < XTOL_REL * s * 0.5 or s == 0.0 for s, t in zip(spread, xt, strict=True))


def _step(search: _Search, pts: FloatArray, vals: FloatArray) -> bool:
    """One reflection with its expansion or contraction; True when the simplex must shrink."""
    lo, hi = int(np.argmin(vals)), int(np.argmax(vals))
    f_lo, f_hi = float(vals[lo]), float(vals[hi])
    centre = _centroid(pts, hi)
    if _converged(pts, centre, search.xt):
        raise _Stop("xcvg")
    reflected = search.reflect(centre, ALPHA, pts[:, hi])
    f_r = search.value(reflected)
    if f_r < f_lo:
        expanded = search.reflect(centre, GAMMA, pts[:, hi])
        f_e = search.value(expanded)
        if f_e < vals[hi]:
            pts[:, hi], vals[hi] = expanded, f_e
        else:
            pts[:, hi], vals[hi] = reflected, f_r
        return False
    if f_r < f_hi:
        pts[:, hi], vals[hi] = reflected, f_r
        return False
    contracted = search.reflect(centre, -BETA if f_hi <= f_r else BETA, pts[:, hi])
    f_c = search.value(contracted)
    if f_c < f_r and f_c < f_hi:
        pts[:, hi], vals[hi] = contracted, f_c
        return False
    for j in range(pts.shape[1]):
        if j != lo:
            pts[:, j] = search.reflect(pts[:, lo], -DELTA, pts[:, j])
    return True


def nelder_mead(
    fn: Callable[[FloatArray], float],
    x0: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    xst: FloatArray,
    xt: FloatArray,
    maxfun: int = MAXFUN,
) -> NelderMeadResult:
    """Minimise ``fn`` from ``x0`` within ``[lower, upper]`` (module docstring).

    ``xst``: initial steps; ``xt``: absolute tolerance per coordinate.
    """
    x0 = np.asarray(x0, dtype=float)
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if np.any(x0 < lower) or np.any(x0 > upper):
        raise ValueError("the start lies outside the bounds")
    search = _Search(fn, (lower, upper), np.asarray(xt, dtype=float), maxfun)
    pts = initial_simplex(x0, lower, upper, np.asarray(xst, dtype=float))
    status = "xcvg"
    try:
        shrink = True
        vals = np.empty(pts.shape[1])
        while True:
            if shrink:
                for j in range(pts.shape[1]):
                    vals[j] = search.value(pts[:, j])
            shrink = _step(search, pts, vals)
    except _Stop as stop:
        status = stop.status
    return NelderMeadResult(search.best_x, search.best_f, search.evaluations, status)
