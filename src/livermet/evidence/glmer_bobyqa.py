"""Powell's BOBYQA for one bounded variable, following the path of ``minqa::bobyqa`` exactly.

``lme4::glmer`` (1.1-31), which metafor's ``rma.glmm`` calls, fits its first stage by minimising
a deviance over one parameter ``theta >= 0`` with ``minqa::bobyqa(1, fn, lower = 0, upper = Inf,
control = list(iprint = 0))``. BOBYQA stops when its trust-region scale reaches ``rhoend``, so the
point it returns depends on the exact sequence of points it evaluates. This module reimplements
the method for **one variable only** (n = 1), with the settings minqa 1.2.5 uses by default, so
that it evaluates the same points in the same order and returns the same point (bit for bit when
the objective returns the same doubles).

What minqa 1.2.5 does around Powell's Fortran, reproduced here:

* defaults ``npt = 3`` (``max(n + 2, min(min(n + 2, 2n), (n + 1)(n + 2) / 2))``),
  ``rhobeg = min(0.95, 0.2 max|par|)``, ``rhoend = 1e-6 rhobeg``, ``maxfun = 10000``; if
  ``upper - lower < 2 rhobeg`` then ``rhobeg = 0.2 (upper - lower)`` (``rhoend`` keeps the value
  computed from the first ``rhobeg``, as in ``R/minqa.R``);
* the R wrapper evaluates ``fn`` once at the start (only to check the objective) and the C++
  wrapper once more at the returned point to report ``fval``; neither call is counted in
  ``feval``. :func:`bobyqa_1d` does not repeat those two calls (the function is deterministic):
  ``points`` lists the evaluations of the algorithm itself, and ``fval`` is the value at ``x``;
* a non-finite function value is replaced by the largest double, and the returned point is the
  last evaluated point when that is better than the best interpolation point (Powell's rule).

The Fortran's arithmetic order is kept wherever a rounding could change the path (sums start at
zero and add left to right, products associate left to right). With n = 1 and npt = 3 =
(n + 1)(n + 2) / 2 the model is the full quadratic through three points, ``ZMAT`` has one column,
the two-dimensional search of TRSBOX (its labels 100 to 150) cannot be reached, and the matrix
``BMAT`` is a column of ``npt + n = 4`` numbers.

RESCUE is not implemented. It is called only when a denominator of the updating formula fails
the test ``sigma > 0.5 tau^2``. With n = 1, four points (three interpolation points and the new
one) always admit a quadratic through them, so the extended interpolation matrix is singular and
``beta`` is zero in exact arithmetic; then ``sigma = alpha beta + tau^2 = tau^2`` and both tests
(``DENOM <= 0.5 VLAG(KNEW)^2`` and ``SCADEN <= 0.5 BIGLSQ``) pass unless rounding errors in
``beta`` are as large as the squared Lagrange values, which the trust-region steps (length at
least ``rho / 2``) do not produce. Should it happen, :class:`BobyqaRescueError` is raised instead
of silently leaving minqa's path.

References
----------
Powell, M. J. D. (2009). The BOBYQA algorithm for bound constrained optimization without
derivatives. Report DAMTP 2009/NA06, University of Cambridge.
Bates, D., Mullen, K. M., Nash, J. C. and Varadhan, R. (2022). minqa: Derivative-free
optimization algorithms by quadratic approximation. R package version 1.2.5.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from livermet.errors import InputError, LivermetError

NPT = 3  # interpolation points used by minqa's default for n = 1
MINQA_MAXFUN = 10000
BIG = sys.float_info.max  # minqa's calfun replaces a non-finite value by DBL_MAX

# Exit codes as minqa's R wrapper reports them (ierr), with its messages.
IERR_MESSAGES = {
    0: "Normal exit from bobyqa",
    1: "bobyqa -- maximum number of function evaluations exceeded",
    3: "bobyqa -- a trust region step failed to reduce q",
    5: "bobyqa detected too much cancellation in denominator",
}
_FORTRAN_TO_R_IERR = {0: 0, 390: 1, 430: 3, 320: 5}


class BobyqaRescueError(LivermetError):
    """BOBYQA needed its RESCUE procedure, which this one-variable version does not implement."""


@dataclass(frozen=True)
class BobyqaResult:
    """Outcome of :func:`bobyqa_1d`.

    Attributes
    ----------
    x : float
        The point returned (minqa's ``par``).
    fval : float
        The objective at ``x``.
    evaluations : int
        Number of evaluations by the algorithm (minqa's ``feval``).
    points : tuple of float
        Every evaluated point, in order.
    ierr : int
        minqa's exit code: 0 normal, 1 ``maxfun`` reached, 3 a trust-region step failed to
        reduce the model, 5 too much cancellation in a denominator.
    message : str
        minqa's message for ``ierr``.
    """

    x: float
    fval: float
    evaluations: int
    points: tuple[float, ...]
    ierr: int
    message: str


class _Stop(Exception):
    """Internal: leave the main iteration with a Fortran exit code."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__(code)


@dataclass
class _State:
    """The variables of Powell's BOBYQB for n = 1 (indices 0..2 are the interpolation points)."""

    fn: Callable[[float], float]
    xl: float
    xu: float
    rhobeg: float
    rhoend: float
    maxfun: int
    x: float  # the Fortran's X: the last point built for evaluation
    sl: float = 0.0
    su: float = 0.0
    xbase: float = 0.0
    xpt: list[float] = field(default_factory=lambda: [0.0] * NPT)
    fval: list[float] = field(default_factory=lambda: [0.0] * NPT)
    pq: list[float] = field(default_factory=lambda: [0.0] * NPT)
    bmat: list[float] = field(default_factory=lambda: [0.0] * (NPT + 1))
    zmat: list[float] = field(default_factory=lambda: [0.0] * NPT)
    vlag: list[float] = field(default_factory=lambda: [0.0] * (NPT + 1))
    wa: list[float] = field(default_factory=lambda: [0.0] * NPT)  # W(1..NPT) of BOBYQB
    wb: list[float] = field(default_factory=lambda: [0.0] * NPT)  # W(NPT+1..2 NPT) of BOBYQB
    hq: float = 0.0
    gopt: float = 0.0
    xopt: float = 0.0
    xoptsq: float = 0.0
    xnew: float = 0.0
    xalt: float = 0.0
    d: float = 0.0
    gnew: float = 0.0  # gradient of the model at the end of the TRSBOX step (W(1) in BOBYQB)
    nf: int = 0
    kopt: int = 0
    knew: int = 0
    kbase: int = 0
    rho: float = 0.0
    delta: float = 0.0
    dsq: float = 0.0
    dnorm: float = 0.0
    crvmin: float = 0.0
    nresc: int = 0
    ntrits: int = 0
    nfsav: int = 0
    itest: int = 0
    diffa: float = 0.0
    diffb: float = 0.0
    diffc: float = 0.0
    ratio: float = 0.0
    distsq: float = 0.0
    adelt: float = 0.0
    alpha: float = 0.0
    cauchy: float = 0.0
    beta: float = 0.0
    denom: float = 0.0
    fsave: float = 0.0
    f: float = 0.0
    fopt: float = 0.0
    vquad: float = 0.0
    diff: float = 0.0
    points: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)  # as fn returned them

    def clip(self, step: float) -> float:
        """Point ``xbase + step`` inside the bounds, snapped to a bound the step reaches."""
        value = min(max(self.xl, self.xbase + step), self.xu)
        if step == self.sl:
            value = self.xl
        if step == self.su:
            value = self.xu
        return value

    def calfun(self, x: float) -> float:
        """Evaluate the objective as minqa's ``calfun`` does (non-finite values become BIG)."""
        self.points.append(x)
        value = float(self.fn(x))
        self.values.append(value)
        return value if math.isfinite(value) else BIG


def _sq(value: float) -> float:
    """Square as Fortran's ``X**2`` compiles: one multiplication."""
    return value * value


# ---------------------------------------------------------------------------- initialisation
def _prelim(s: _State) -> None:
    """Evaluate the three initial points and build the first quadratic model (PRELIM)."""
    rhosq = s.rhobeg * s.rhobeg
    s.xbase = s.x
    stepa = stepb = 0.0
    fbeg = 0.0
    while True:
        nfm = s.nf
        s.nf += 1
        if nfm == 1:
            stepa = _prelim_first_step(s)
        elif nfm == 2:
            stepa, stepb = _prelim_second_step(s)
        s.x = s.clip(s.xpt[nfm])
        f = s.calfun(s.x)
        s.fval[nfm] = f
        if nfm == 0:
            fbeg = f
            s.kopt = 0
        elif f < s.fval[s.kopt]:
            s.kopt = nfm
        if nfm == 1:
            s.gopt = (f - fbeg) / stepa
        elif nfm == 2:
            _prelim_third_point(s, f, fbeg, stepa, stepb, rhosq)
        if not (s.nf < NPT and s.nf < s.maxfun):
            return


def _prelim_first_step(s: _State) -> float:
    """Place the second point RHOBEG above the start (below it on the upper bound)."""
    stepa = s.rhobeg
    if s.su == 0.0:
        stepa = -stepa
    s.xpt[1] = stepa
    return stepa


def _prelim_second_step(s: _State) -> tuple[float, float]:
    """Place the third point on the other side of the start, or further away from a bound."""
    stepa = s.xpt[1]
    stepb = -s.rhobeg
    if s.sl == 0.0:
        stepb = min(2.0 * s.rhobeg, s.su)
    if s.su == 0.0:
        stepb = max(-2.0 * s.rhobeg, s.sl)
    s.xpt[2] = stepb
    return stepa, stepb


def _prelim_third_point(
    s: _State, f: float, fbeg: float, stepa: float, stepb: float, rhosq: float
) -> None:
    """Second derivative, gradient and the matrices H after the third point (PRELIM)."""
    temp = (f - fbeg) / stepb
    diff = stepb - stepa
    s.hq = 2.0 * (temp - s.gopt) / diff
    s.gopt = (s.gopt * stepb - temp * stepa) / diff
    if stepa * stepb < 0.0 and f < s.fval[1]:
        s.fval[2] = s.fval[1]
        s.fval[1] = f
        if s.kopt == 2:
            s.kopt = 1
        s.xpt[1] = stepb
        s.xpt[2] = stepa
    s.bmat[0] = -(stepa + stepb) / (stepa * stepb)
    s.bmat[2] = -0.5 / s.xpt[1]
    s.bmat[1] = -s.bmat[0] - s.bmat[2]
    s.zmat[0] = math.sqrt(2.0) / (stepa * stepb)
    s.zmat[2] = math.sqrt(0.5) / rhosq
    s.zmat[1] = -s.zmat[0] - s.zmat[2]


# ---------------------------------------------------------------------------- TRSBOX (n = 1)
@dataclass
class _Trs:
    """Working variables of TRSBOX."""

    xbdi: float = 0.0
    nact: int = 0
    iterc: int = 0
    itermax: int = 0
    d: float = 0.0
    s: float = 0.0
    hs: float = 0.0
    gnew: float = 0.0
    delsq: float = 0.0
    qred: float = 0.0
    gredsq: float = 0.0
    crvmin: float = -1.0
    beta: float = 0.0


def _trs_hess_times(s: _State, v: float) -> float:
    """Product of the model's second derivative with ``v`` (HQ plus the implicit PQ part)."""
    hs = 0.0
    hs = hs + s.hq * v
    for k in range(NPT):
        if s.pq[k] != 0.0:
            temp = 0.0
            temp = temp + s.xpt[k] * v
            temp = temp * s.pq[k]
            hs = hs + temp * s.xpt[k]
    return hs


def _trs_bound_step(s: _State, t: _Trs, stplen: float) -> tuple[float, bool]:
    """Shorten the step at a bound; returns the length and whether a bound became active."""
    if t.s != 0.0:
        xsum = s.xopt + t.d
        temp = (s.su - xsum) / t.s if t.s > 0.0 else (s.sl - xsum) / t.s
        if temp < stplen:
            return temp, True
    return stplen, False


def _trs_cg_step(s: _State, t: _Trs, stepsq: float) -> str:
    """One truncated conjugate-gradient step of TRSBOX; returns the next stage."""
    resid = t.delsq
    ds = shs = 0.0
    if t.xbdi == 0.0:
        resid = resid - _sq(t.d)
        ds = ds + t.s * t.d
        shs = shs + t.s * t.hs
    if resid <= 0.0:
        return "boundary"
    temp = math.sqrt(stepsq * resid + ds * ds)
    blen = (temp - ds) / stepsq if ds < 0.0 else resid / (temp + ds)
    stplen = min(blen, t.gredsq / shs) if shs > 0.0 else blen
    stplen, iact = _trs_bound_step(s, t, stplen)
    sdec = 0.0
    ggsav = t.gredsq
    if stplen > 0.0:
        t.iterc += 1
        temp = shs / stepsq
        if not iact and temp > 0.0:
            t.crvmin = min(t.crvmin, temp)
            if t.crvmin == -1.0:
                t.crvmin = temp
        t.gredsq = 0.0
        t.gnew = t.gnew + stplen * t.hs
        if t.xbdi == 0.0:
            t.gredsq = t.gredsq + _sq(t.gnew)
        t.d = t.d + stplen * t.s
        sdec = max(stplen * (ggsav - 0.5 * stplen * shs), 0.0)
        t.qred = t.qred + sdec
    if iact:
        t.nact += 1
        t.xbdi = -1.0 if t.s < 0.0 else 1.0
        t.delsq = t.delsq - _sq(t.d)
        return "boundary" if t.delsq <= 0.0 else "restart"
    if stplen < blen:
        # ITERMAX is one step for one free variable, so a second conjugate direction is never
        # taken when n = 1; the general test is kept as Powell wrote it.
        if t.iterc == t.itermax or sdec <= 0.01 * t.qred:
            return "done"
        t.beta = t.gredsq / ggsav
        return "continue"
    return "boundary"


def _trs_start(s: _State) -> _Trs:
    """Start TRSBOX: a bound is active if ``xopt`` is on it and the gradient points outside."""
    t = _Trs(gnew=s.gopt, delsq=s.delta * s.delta)
    if s.xopt <= s.sl:
        if s.gopt >= 0.0:
            t.xbdi = -1.0
    elif s.xopt >= s.su and s.gopt <= 0.0:
        t.xbdi = 1.0
    if t.xbdi != 0.0:
        t.nact += 1
    return t


def _trsbox(s: _State) -> None:
    """Minimise the quadratic model in the trust region and the bounds (TRSBOX, n = 1).

    Sets ``xnew``, ``d``, ``dsq``, ``crvmin`` and ``gnew`` (the model gradient at the step's end).
    """
    t = _trs_start(s)
    while True:
        if t.xbdi != 0.0:
            t.s = 0.0
        elif t.beta == 0.0:
            t.s = -t.gnew
        else:
            t.s = t.beta * t.s - t.gnew
        stepsq = 0.0
        stepsq = stepsq + _sq(t.s)
        if stepsq == 0.0:
            break
        if t.beta == 0.0:
            t.gredsq = stepsq
            t.itermax = t.iterc + 1 - t.nact
        if t.gredsq * t.delsq <= 1.0e-4 * t.qred * t.qred:
            break
        t.hs = _trs_hess_times(s, t.s)
        stage = _trs_cg_step(s, t, stepsq)
        if stage == "restart":
            t.beta = 0.0
            continue
        if stage == "continue":
            continue
        if stage == "boundary":
            # Label 90: with n = 1 the number of active bounds is always >= n - 1, so the
            # two-dimensional search that follows in Powell's code is never entered.
            t.crvmin = 0.0
        break
    _trs_finish(s, t)


def _trs_finish(s: _State, t: _Trs) -> None:
    """Set the final point of TRSBOX inside the bounds (label 190)."""
    xnew = max(min(s.xopt + t.d, s.su), s.sl)
    if t.xbdi == -1.0:
        xnew = s.sl
    if t.xbdi == 1.0:
        xnew = s.su
    s.xnew = xnew
    s.d = xnew - s.xopt
    dsq = 0.0
    s.dsq = dsq + _sq(s.d)
    s.crvmin = t.crvmin
    s.gnew = t.gnew


# ---------------------------------------------------------------------------- ALTMOV (n = 1)
def _altmov_hcol(s: _State) -> tuple[list[float], float]:
    """Compute column KNEW of H and the gradient of the KNEW-th Lagrange function at ``xopt``."""
    zk = s.zmat[s.knew]
    hcol = [0.0 + zk * s.zmat[k] for k in range(NPT)]
    glag = s.bmat[s.knew]
    for k in range(NPT):
        temp = 0.0
        temp = temp + s.xpt[k] * s.xopt
        temp = hcol[k] * temp
        glag = glag + temp * s.xpt[k]
    return hcol, glag


def _altmov_line_bounds(s: _State, k: int) -> tuple[float, float, float]:
    """Bounds on the step factor along the line from ``xopt`` to point ``k``."""
    temp = s.xpt[k] - s.xopt
    distsq = 0.0
    distsq = distsq + temp * temp
    subd = s.adelt / math.sqrt(distsq)
    slbd = -subd
    sumin = min(1.0, subd)
    if temp > 0.0:
        if slbd * temp < s.sl - s.xopt:
            slbd = (s.sl - s.xopt) / temp
        if subd * temp > s.su - s.xopt:
            subd = max(sumin, (s.su - s.xopt) / temp)
    elif temp < 0.0:
        if slbd * temp > s.su - s.xopt:
            slbd = (s.su - s.xopt) / temp
        if subd * temp < s.sl - s.xopt:
            subd = max(sumin, (s.sl - s.xopt) / temp)
    return slbd, subd, distsq


def _altmov_line_step(
    k: int, knew: int, dderiv: float, slbd: float, subd: float
) -> tuple[float, float]:
    """Best step factor on one line and the Lagrange value it gives (ALTMOV, loop 80)."""
    if k == knew:
        diff = dderiv - 1.0
        step = slbd
        vlag = slbd * (dderiv - slbd * diff)
        temp = subd * (dderiv - subd * diff)
        if abs(temp) > abs(vlag):
            step = subd
            vlag = temp
        tempd = 0.5 * dderiv
        tempa = tempd - diff * slbd
        tempb = tempd - diff * subd
        if tempa * tempb < 0.0:
            temp = tempd * tempd / diff
            if abs(temp) > abs(vlag):
                step = tempd / diff
                vlag = temp
        return step, vlag
    step = slbd
    vlag = slbd * (1.0 - slbd)
    temp = subd * (1.0 - subd)
    if abs(temp) > abs(vlag):
        step = subd
        vlag = temp
    if subd > 0.5 and abs(vlag) < 0.25:
        step = 0.5
        vlag = 0.25
    return step, vlag * dderiv


def _altmov_free_step(
    s: _State, w: float, bigstp: float, step: float, glag: float
) -> tuple[float, float]:
    """Step of a free variable along minus the gradient, or the bound it was fixed at."""
    if w == bigstp:
        w = -step * glag
        return w, max(s.sl, min(s.su, s.xopt + w))
    if w == 0.0:
        return w, s.xopt
    return w, (s.sl if glag > 0.0 else s.su)


def _altmov_cauchy(s: _State, hcol: list[float], glag: float, iflag: int) -> tuple[float, float]:
    """Constrained Cauchy step for the Lagrange function (ALTMOV, labels 100 to 190).

    Returns the alternative point and the square of the Lagrange value there.
    """
    bigstp = s.adelt + s.adelt
    w = 0.0
    ggfree = 0.0
    tempa = min(s.xopt - s.sl, glag)
    tempb = max(s.xopt - s.su, glag)
    if tempa > 0.0 or tempb < 0.0:
        w = bigstp
        ggfree = ggfree + _sq(glag)
    if ggfree == 0.0:
        return math.nan, 0.0
    step = math.sqrt((s.adelt * s.adelt - 0.0) / ggfree)
    # With one variable the loop of label 120 runs once: either the step stays free or it is
    # fixed at a bound, after which no free variable remains.
    temp = s.xopt - step * glag
    if temp <= s.sl:
        w = s.sl - s.xopt
    elif temp >= s.su:
        w = s.su - s.xopt
    w, xalt = _altmov_free_step(s, w, bigstp, step, glag)
    gw = 0.0
    gw = gw + glag * w
    curv = 0.0
    for k in range(NPT):
        temp = 0.0
        temp = temp + s.xpt[k] * w
        curv = curv + hcol[k] * temp * temp
    if iflag == 1:
        curv = -curv
    if curv > -gw and curv < -(1.0 + math.sqrt(2.0)) * gw:
        scale = -gw / curv
        xalt = max(s.sl, min(s.su, s.xopt + scale * w))
        return xalt, _sq(0.5 * gw * scale)
    return xalt, _sq(gw + 0.5 * curv)


def _altmov(s: _State) -> None:
    """Choose a point that keeps the interpolation set well poised (ALTMOV, n = 1).

    Sets ``xnew`` (best point on the lines through ``xopt`` and the other points), ``xalt`` (a
    constrained Cauchy step of the Lagrange function of KNEW), ``alpha`` and ``cauchy``.
    """
    hcol, glag = _altmov_hcol(s)
    s.alpha = hcol[s.knew]
    ha = 0.5 * s.alpha
    presav = 0.0
    ksav = 0
    stpsav = 0.0
    for k in range(NPT):
        if k == s.kopt:
            continue
        dderiv = 0.0
        dderiv = dderiv + glag * (s.xpt[k] - s.xopt)
        slbd, subd, distsq = _altmov_line_bounds(s, k)
        step, vlag = _altmov_line_step(k, s.knew, dderiv, slbd, subd)
        temp = step * (1.0 - step) * distsq
        predsq = vlag * vlag * (vlag * vlag + ha * temp * temp)
        if predsq > presav:
            presav = predsq
            ksav = k
            stpsav = step
    # minqa 1.2.5 resets IBDSAV to zero here, so XNEW is only clipped to the bounds.
    temp = s.xopt + stpsav * (s.xpt[ksav] - s.xopt)
    s.xnew = max(s.sl, min(s.su, temp))
    xalt1, cauchy1 = _altmov_cauchy(s, hcol, glag, 0)
    if math.isnan(xalt1):  # GGFREE = 0 on the first pass: CAUCHY = 0 and XALT is left as it was
        s.cauchy = 0.0
        return
    xalt2, cauchy2 = _altmov_cauchy(s, hcol, -glag, 1)
    if math.isnan(xalt2):
        s.xalt = xalt1  # the second pass stopped at GGFREE = 0 after W(N+1) was saved
        s.cauchy = 0.0
        return
    s.xalt, s.cauchy = (xalt1, cauchy1) if cauchy1 > cauchy2 else (xalt2, cauchy2)


# ---------------------------------------------------------------------------- updates of H
def _update_h(s: _State) -> None:
    """Update ZMAT and BMAT when point KNEW is replaced (UPDATEBOBYQA, one ZMAT column)."""
    knew = s.knew
    w = [s.zmat[knew] * s.zmat[i] for i in range(NPT)]
    alpha = w[knew]
    tau = s.vlag[knew]
    s.vlag[knew] = s.vlag[knew] - 1.0
    temp = math.sqrt(s.denom)
    tempb = s.zmat[knew] / temp
    tempa = tau / temp
    for i in range(NPT):
        s.zmat[i] = tempa * s.zmat[i] - tempb * s.vlag[i]
    w.append(s.bmat[knew])
    jp = NPT
    tempa = (alpha * s.vlag[jp] - tau * w[jp]) / s.denom
    tempb = (-s.beta * w[jp] - tau * s.vlag[jp]) / s.denom
    for i in range(NPT + 1):
        s.bmat[i] = s.bmat[i] + tempa * s.vlag[i] + tempb * w[i]


def _shift_base(s: _State) -> None:
    """Move XBASE to the best point and revise BMAT, HQ and the points (BOBYQB, label 90)."""
    fracsq = 0.25 * s.xoptsq
    sumpq = 0.0
    ip = NPT
    for k in range(NPT):
        sumpq = sumpq + s.pq[k]
        total = -0.5 * s.xoptsq
        total = total + s.xpt[k] * s.xopt
        s.wb[k] = total
        temp = fracsq - 0.5 * total
        w1 = s.bmat[k]
        v1 = total * s.xpt[k] + temp * s.xopt
        s.bmat[ip] = s.bmat[ip] + w1 * v1 + v1 * w1
    sumz = sumw = 0.0
    for k in range(NPT):
        sumz = sumz + s.zmat[k]
        s.vlag[k] = s.wb[k] * s.zmat[k]
        sumw = sumw + s.vlag[k]
    total = (fracsq * sumz - 0.5 * sumw) * s.xopt
    for k in range(NPT):
        total = total + s.vlag[k] * s.xpt[k]
    for k in range(NPT):
        s.bmat[k] = s.bmat[k] + total * s.zmat[k]
    s.bmat[ip] = s.bmat[ip] + total * total
    w1 = -0.5 * sumpq * s.xopt
    for k in range(NPT):
        w1 = w1 + s.pq[k] * s.xpt[k]
        s.xpt[k] = s.xpt[k] - s.xopt
    s.hq = s.hq + w1 * s.xopt + s.xopt * w1
    s.xbase = s.xbase + s.xopt
    s.xnew = s.xnew - s.xopt
    s.sl = s.sl - s.xopt
    s.su = s.su - s.xopt
    s.xopt = 0.0
    s.xoptsq = 0.0


def _lagrange_values(s: _State) -> None:
    """Values of the Lagrange functions at ``xopt + d`` and the denominator parameter BETA."""
    d = s.d
    for k in range(NPT):
        suma = 0.0 + s.xpt[k] * d
        sumb = 0.0 + s.xpt[k] * s.xopt
        s.vlag[k] = 0.0 + s.bmat[k] * d
        s.wa[k] = suma * (0.5 * suma + sumb)
        s.wb[k] = suma
    beta = 0.0
    total = 0.0
    for k in range(NPT):
        total = total + s.zmat[k] * s.wa[k]
    beta = beta - total * total
    for k in range(NPT):
        s.vlag[k] = s.vlag[k] + total * s.zmat[k]
    dsq = 0.0 + _sq(d)
    total = 0.0
    for k in range(NPT):
        total = total + s.wa[k] * s.bmat[k]
    bsum = 0.0 + total * d
    total = total + s.bmat[NPT] * d
    s.vlag[NPT] = total
    bsum = bsum + total * d
    dx = 0.0 + d * s.xopt
    s.beta = dx * dx + dsq * (s.xoptsq + dx + dx + 0.5 * dsq) + beta - bsum
    s.vlag[s.kopt] = s.vlag[s.kopt] + 1.0


def _choose_knew(s: _State, centre: float, skip_kopt: bool) -> tuple[int, float, float, float]:
    """Choose the point to drop: largest weighted denominator (BOBYQB loops 350 and 460).

    Returns KNEW (-1 if none), its denominator, SCADEN and BIGLSQ.
    """
    delsq = s.delta * s.delta
    scaden = biglsq = 0.0
    knew = -1
    denom = s.denom
    for k in range(NPT):
        if skip_kopt and k == s.kopt:
            continue
        hdiag = 0.0 + _sq(s.zmat[k])
        den = s.beta * hdiag + _sq(s.vlag[k])
        distsq = 0.0 + _sq(s.xpt[k] - centre)
        temp = max(1.0, _sq(distsq / delsq))
        if temp * den > scaden:
            scaden = temp * den
            knew = k
            denom = den
        biglsq = max(biglsq, temp * _sq(s.vlag[k]))
    return knew, denom, scaden, biglsq


# ---------------------------------------------------------------------------- main iteration
def _rescue_or_stop(s: _State) -> str:
    """Denominator failure: minqa would call RESCUE after new evaluations, else stop (ierr 320)."""
    if s.nf > s.nresc:
        raise BobyqaRescueError(
            "BOBYQA's RESCUE step was required; it is not implemented for one variable "
            "(see the module docstring)"
        )
    raise _Stop(320)


def _stage_new_gradient(s: _State) -> str:
    """Label 20: gradient of the model at a new best point after a base change."""
    if s.kopt != s.kbase:
        s.gopt = s.gopt + s.hq * s.xopt
        if s.nf > NPT:
            for k in range(NPT):
                temp = 0.0 + s.xpt[k] * s.xopt
                temp = s.pq[k] * temp
                s.gopt = s.gopt + temp * s.xpt[k]
    return "trust_region"


def _stage_trust_region(s: _State) -> str:
    """Label 60: trust-region step, or the tests for a short step."""
    _trsbox(s)
    s.dnorm = min(s.delta, math.sqrt(s.dsq))
    if s.dnorm >= 0.5 * s.rho:
        s.ntrits += 1
        return "shift"
    s.ntrits = -1
    s.distsq = _sq(10.0 * s.rho)
    if s.nf <= s.nfsav + 2:
        return "far_point"
    errbig = max(s.diffa, s.diffb, s.diffc)
    frhosq = 0.125 * s.rho * s.rho
    if s.crvmin > 0.0 and errbig > frhosq * s.crvmin:
        return "far_point"
    bdtol = errbig / s.rho
    bdtest = bdtol
    if s.xnew == s.sl:
        bdtest = s.gnew
    if s.xnew == s.su:
        bdtest = -s.gnew
    if bdtest < bdtol:
        curv = s.hq
        for k in range(NPT):
            curv = curv + s.pq[k] * _sq(s.xpt[k])
        bdtest = bdtest + 0.5 * curv * s.rho
        if bdtest < bdtol:
            return "far_point"
    return "reduce_rho"


def _stage_shift(s: _State) -> str:
    """Label 90: move the base point when the step is small relative to ``xopt``."""
    if s.dsq <= 1.0e-3 * s.xoptsq:
        _shift_base(s)
    return "geometry" if s.ntrits == 0 else "denominators"


def _stage_geometry(s: _State) -> str:
    """Label 210: a step chosen to improve the interpolation set."""
    _altmov(s)
    s.d = s.xnew - s.xopt
    return "denominators"


def _stage_denominators(s: _State) -> str:
    """Label 230: Lagrange values, BETA and the choice of the point to replace."""
    _lagrange_values(s)
    if s.ntrits == 0:
        s.denom = _sq(s.vlag[s.knew]) + s.alpha * s.beta
        if s.denom < s.cauchy and s.cauchy > 0.0:
            s.xnew = s.xalt
            s.d = s.xnew - s.xopt
            s.cauchy = 0.0
            return "denominators"
        if s.denom <= 0.5 * _sq(s.vlag[s.knew]):
            return _rescue_or_stop(s)
        return "evaluate"
    knew, denom, scaden, biglsq = _choose_knew(s, s.xopt, skip_kopt=True)
    if scaden <= 0.5 * biglsq:
        return _rescue_or_stop(s)
    s.knew, s.denom = knew, denom
    return "evaluate"


def _stage_evaluate(s: _State) -> str:
    """Label 360: evaluate the objective at ``xbase + xnew``."""
    s.x = s.clip(s.xnew)
    if s.nf >= s.maxfun:
        raise _Stop(390)
    s.nf += 1
    s.f = s.calfun(s.x)
    if s.ntrits == -1:
        s.fsave = s.f
        raise _Stop(0)
    s.fopt = s.fval[s.kopt]
    vquad = 0.0
    vquad = vquad + s.d * s.gopt
    vquad = vquad + s.hq * (0.5 * (s.d * s.d))
    for k in range(NPT):
        vquad = vquad + 0.5 * s.pq[k] * _sq(s.wb[k])
    s.vquad = vquad
    s.diff = s.f - s.fopt - vquad
    s.diffc = s.diffb
    s.diffb = s.diffa
    s.diffa = abs(s.diff)
    if s.dnorm > s.rho:
        s.nfsav = s.nf
    if s.ntrits > 0:
        _update_radius(s)
    _update_model(s)
    if s.ntrits > 0:
        _gradient_test(s)
    if s.ntrits == 0 or s.f <= s.fopt + 0.1 * s.vquad:
        return "trust_region"
    s.distsq = max(_sq(2.0 * s.delta), _sq(10.0 * s.rho))
    return "far_point"


def _update_radius(s: _State) -> None:
    """Ratio test, new DELTA and, after a decrease, the point to replace (loops 440-460)."""
    if s.vquad >= 0.0:
        raise _Stop(430)
    s.ratio = (s.f - s.fopt) / s.vquad
    if s.ratio <= 0.1:
        s.delta = min(0.5 * s.delta, s.dnorm)
    elif s.ratio <= 0.7:
        s.delta = max(0.5 * s.delta, s.dnorm)
    else:
        s.delta = max(0.5 * s.delta, s.dnorm + s.dnorm)
    if s.delta <= 1.5 * s.rho:
        s.delta = s.rho
    if s.f < s.fopt:
        knew, denom, scaden, biglsq = _choose_knew(s, s.xnew, skip_kopt=False)
        if scaden > 0.5 * biglsq:
            s.knew, s.denom = knew, denom


def _update_model(s: _State) -> None:
    """Replace point KNEW by ``xnew`` in H, the quadratic model and the best point."""
    _update_h(s)
    knew = s.knew
    pqold = s.pq[knew]
    s.pq[knew] = 0.0
    temp = pqold * s.xpt[knew]
    s.hq = s.hq + temp * s.xpt[knew]
    temp = s.diff * s.zmat[knew]
    for k in range(NPT):
        s.pq[k] = s.pq[k] + temp * s.zmat[k]
    s.fval[knew] = s.f
    s.xpt[knew] = s.xnew
    w1 = s.bmat[knew]
    for k in range(NPT):
        suma = 0.0 + s.zmat[knew] * s.zmat[k]
        sumb = 0.0 + s.xpt[k] * s.xopt
        temp = suma * sumb
        w1 = w1 + temp * s.xpt[k]
    s.gopt = s.gopt + s.diff * w1
    if s.f < s.fopt:
        s.kopt = knew
        s.xopt = s.xnew
        s.xoptsq = 0.0 + _sq(s.xopt)
        s.gopt = s.gopt + s.hq * s.d
        for k in range(NPT):
            temp = 0.0 + s.xpt[k] * s.d
            temp = s.pq[k] * temp
            s.gopt = s.gopt + temp * s.xpt[k]


def _gradient_test(s: _State) -> None:
    """Replace the model by the least-Frobenius-norm interpolant after three poor gradients.

    With three points in one variable the quadratic model is the unique interpolant, so the two
    gradients agree up to rounding and the replacement is not expected to happen; it is kept so
    that the bookkeeping matches BOBYQB.
    """
    vl = [s.fval[k] - s.fval[s.kopt] for k in range(NPT)]
    total = 0.0
    for k in range(NPT):
        total = total + s.zmat[k] * vl[k]
    wpq = [0.0 + total * s.zmat[k] for k in range(NPT)]
    wx = [(0.0 + s.xpt[k] * s.xopt) * wpq[k] for k in range(NPT)]
    gint = 0.0
    for k in range(NPT):
        gint = gint + s.bmat[k] * vl[k] + s.xpt[k] * wx[k]
    if s.xopt == s.sl:
        gqsq = 0.0 + _sq(min(0.0, s.gopt))
        gisq = 0.0 + _sq(min(0.0, gint))
    elif s.xopt == s.su:
        gqsq = 0.0 + _sq(max(0.0, s.gopt))
        gisq = 0.0 + _sq(max(0.0, gint))
    else:
        gqsq = 0.0 + _sq(s.gopt)
        gisq = 0.0 + gint * gint
    s.vlag[:NPT] = vl
    s.vlag[NPT] = gint
    s.itest += 1
    if gqsq < 10.0 * gisq:
        s.itest = 0
    if s.itest >= 3:
        s.gopt = gint
        s.pq = wpq
        s.hq = 0.0
        s.itest = 0


def _stage_far_point(s: _State) -> str:
    """Label 650: if a point is far from ``xopt``, prepare a geometry step to replace it."""
    knew = -1
    for k in range(NPT):
        dist2 = 0.0 + _sq(s.xpt[k] - s.xopt)
        if dist2 > s.distsq:
            knew = k
            s.distsq = dist2
    if knew >= 0:
        s.knew = knew
        dist = math.sqrt(s.distsq)
        if s.ntrits == -1:
            s.delta = min(0.1 * s.delta, 0.5 * dist)
            if s.delta <= 1.5 * s.rho:
                s.delta = s.rho
        s.ntrits = 0
        s.adelt = max(min(0.1 * dist, s.delta), s.rho)
        s.dsq = s.adelt * s.adelt
        return "shift"
    if s.ntrits == -1:
        return "reduce_rho"
    if s.ratio > 0.0 or max(s.delta, s.dnorm) > s.rho:
        return "trust_region"
    return "reduce_rho"


def _stage_reduce_rho(s: _State) -> str:
    """Label 680: reduce RHO, or finish (after evaluating the last short step)."""
    if s.rho > s.rhoend:
        s.delta = 0.5 * s.rho
        ratio = s.rho / s.rhoend
        if ratio <= 16.0:
            s.rho = s.rhoend
        elif ratio <= 250.0:
            s.rho = math.sqrt(ratio) * s.rhoend
        else:
            s.rho = 0.1 * s.rho
        s.delta = max(s.delta, s.rho)
        s.ratio = ratio
        s.ntrits = 0
        s.nfsav = s.nf
        return "trust_region"
    if s.ntrits == -1:
        return "evaluate"
    raise _Stop(0)


_STAGES: dict[str, Callable[[_State], str]] = {
    "new_gradient": _stage_new_gradient,
    "trust_region": _stage_trust_region,
    "shift": _stage_shift,
    "geometry": _stage_geometry,
    "denominators": _stage_denominators,
    "evaluate": _stage_evaluate,
    "far_point": _stage_far_point,
    "reduce_rho": _stage_reduce_rho,
}


# ---------------------------------------------------------------------------- driver
def _start_point(
    x0: float, lower: float, upper: float, rhobeg: float
) -> tuple[float, float, float]:
    """Set the start and the bound distances as BOBYQA's entry does (moved off a near bound)."""
    width = upper - lower
    x = x0
    sl = lower - x
    su = upper - x
    if sl >= -rhobeg:
        if sl >= 0.0:
            x, sl, su = lower, 0.0, width
        else:
            x = lower + rhobeg
            sl, su = -rhobeg, max(upper - x, rhobeg)
    elif su <= rhobeg:
        if su <= 0.0:
            x, sl, su = upper, -width, 0.0
        else:
            x = upper - rhobeg
            sl, su = min(lower - x, -rhobeg), rhobeg
    return x, sl, su


def _run(s: _State) -> int:
    """Run BOBYQB from PRELIM to its exit; returns the Fortran exit code."""
    _prelim(s)
    s.xopt = s.xpt[s.kopt]
    s.xoptsq = 0.0 + s.xopt * s.xopt
    s.fsave = s.fval[0]
    if s.nf < NPT:
        return 390
    s.kbase = 0
    s.rho = s.rhobeg
    s.delta = s.rho
    s.nresc = s.nf
    s.nfsav = s.nf
    stage = "new_gradient"
    try:
        while True:
            stage = _STAGES[stage](s)
    except _Stop as stop:
        return stop.code


def _final_point(s: _State) -> tuple[float, float]:
    """Label 720: the best interpolation point unless the last evaluation was better."""
    if s.fval[s.kopt] <= s.fsave:
        return s.clip(s.xopt), s.fval[s.kopt]
    return s.x, s.f


def _check_inputs(x0: float, lower: float, upper: float) -> None:
    """Reject what minqa's R wrapper rejects."""
    if not math.isfinite(x0):
        raise InputError(f"must be a finite number, got {x0!r}", field="x0")
    if math.isnan(lower) or math.isnan(upper) or not lower < upper:
        raise InputError(f"must have lower < upper, got [{lower!r}, {upper!r}]", field="bounds")
    if not lower <= x0 <= upper:
        raise InputError(f"must lie in [{lower!r}, {upper!r}], got {x0!r}", field="x0")


def bobyqa_1d(
    fn: Callable[[float], float],
    x0: float,
    lower: float = 0.0,
    upper: float = math.inf,
    rhobeg: float | None = None,
    rhoend: float | None = None,
    maxfun: int | None = None,
) -> BobyqaResult:
    """Minimise ``fn`` on ``[lower, upper]`` by BOBYQA, as ``minqa::bobyqa`` does for one variable.

    Parameters
    ----------
    fn : callable
        Objective, a function of one float.
    x0 : float
        Starting point, inside the bounds.
    lower, upper : float
        Bounds (``upper`` may be infinite). lme4's stage 1 uses 0 and infinity.
    rhobeg, rhoend : float, optional
        Initial and final trust-region scale. Defaults as minqa: ``min(0.95, 0.2 |x0|)`` and
        ``1e-6 rhobeg``; ``rhobeg`` becomes ``0.2 (upper - lower)`` if the bounds are closer than
        ``2 rhobeg``.
    maxfun : int, optional
        Largest number of evaluations (minqa's default 10000).

    Returns
    -------
    BobyqaResult
        The point returned by minqa, the value there, the evaluations made and the exit code.

    Raises
    ------
    InputError
        For a start outside the bounds, empty bounds or a non-positive ``rhobeg``/``rhoend``.
    BobyqaRescueError
        If the path needs Powell's RESCUE procedure, which is not implemented.
    """
    _check_inputs(x0, lower, upper)
    rb = min(0.95, 0.2 * abs(x0)) if rhobeg is None else float(rhobeg)
    re = 1.0e-6 * rb if rhoend is None else float(rhoend)
    if not (0.0 < re <= rb):
        raise InputError(f"needs 0 < rhoend <= rhobeg, got {re!r} and {rb!r}", field="rhoend")
    if upper - lower < 2.0 * rb:
        rb = 0.2 * (upper - lower)
    mf = MINQA_MAXFUN if maxfun is None else int(maxfun)
    if mf < 1:
        raise InputError(f"must be a positive number of evaluations, got {mf!r}", field="maxfun")
    x, sl, su = _start_point(float(x0), lower, upper, rb)
    s = _State(fn=fn, xl=lower, xu=upper, rhobeg=rb, rhoend=re, maxfun=mf, x=x, sl=sl, su=su)
    code = _run(s)
    x_out, f_out = _final_point(s)
    # minqa reports fn(par) from a fresh call; reuse the latest evaluation at the same point.
    latest = {p: v for p, v in zip(s.points, s.values, strict=True)}
    f_out = latest[x_out] if x_out in latest else float(fn(x_out))
    ierr = _FORTRAN_TO_R_IERR[code]
    return BobyqaResult(
        x=x_out,
        fval=f_out,
        evaluations=s.nf,
        points=tuple(s.points),
        ierr=ierr,
        message=IERR_MESSAGES[ierr],
    )
