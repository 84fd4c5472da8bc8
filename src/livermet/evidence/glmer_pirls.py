"""lme4's glmer deviance functions for the binomial-normal model, evaluation for evaluation.

metafor's ``rma.glmm(measure="PLO", method="ML")`` fits
``glmer(cbind(xi, ni - xi) ~ 0 + X + (1 | study), family = binomial, nAGQ = nAGQ)``. glmer's
optimisers (bobyqa over ``theta``, then Nelder-Mead over ``(theta, beta)``) stop short of the
optimum, so the point they return depends on the exact deviance VALUES lme4 computes, including
the imprecision of its penalised iteratively reweighted least squares (PIRLS). This module
reproduces lme4 1.1-31 (src/external.cpp, predModule.cpp, respModule.cpp, glmFamily.cpp;
R/modular.R, R/lmer.R) for this model, where every series has one observation and one scalar
random intercept (``Z = I``, ``Lambda = theta I``), so the sparse Cholesky factor ``L`` of
``Lambda' Z' W Z Lambda + I`` is diagonal, ``L_ii = sqrt(1 + (theta sqrt(w_i))^2)``.

What lme4 does and this module repeats:

* PIRLS (``pwrssUpdate``) iterates until the relative change of the penalised deviance
  ``resDev + |u|^2`` is below ``tolPwrss = 1e-7`` (``glmerControl()``), halving steps (at most 20)
  when it increases. Each iteration factorises ``L`` (and, for stage 1, the fixed-effects factor
  ``RX`` from the Schur complement) with the working weights of the CURRENT mean, then updates the
  mean; so ``log det L^2`` and the quadrature scale ``1 / L_ii`` belong to the penultimate iterate.
* State carries over between evaluations: ``u`` (``delu``), ``beta`` (``delb``) and the factors
  stay; the mean is reset to ``lp0`` at the start of every evaluation. ``lp0`` is the linear
  predictor after the initial PIRLS run from ``mustart`` (``mkGlmerDevfun``) and is recomputed
  when stage 2 starts (``updateGlmerDevfun``).
* Stage 1 (``nAGQ = 0``): ``f(theta)``, PIRLS over ``u`` and ``beta`` jointly, value
  ``ldL2 + |u|^2 + aic`` (``glmResp::Laplace``), with binomial ``aic`` as lme4's ``glmFamily``
  (R's ``dbinom`` on the rounded counts, including the binomial coefficient).
* Stage 2 (``nAGQ >= 1``): ``f(theta, beta)``, PIRLS over ``u`` only with offset ``X beta``;
  ``nAGQ = 1`` is the same Laplace value, ``nAGQ > 1`` is ``glmerAGQ`` with lme4's ``GHrule``
  nodes (a stored table in lme4: fastGHQuad's rules rescaled to the standard normal density,
  not exactly symmetric, the middle node of odd rules not exactly 0; stored to the bit in
  ``data/lme4-ghrules.json``, rules 1 to 100 as in lme4).
* Sums run left to right as in lme4 (Eigen is compiled there with ``EIGEN_DONT_VECTORIZE``),
  ``exp``/``log`` come from the C library (Python's ``math``, as R), and every operation keeps
  lme4's order where the rounding differs.

References
----------
Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models
using lme4. *J. Stat. Softw.* 67(1), 1-48 (PIRLS, section 5.4 of the package vignette "lmer").
lme4 1.1-31 source, commit 1de5c0af (2022-10-31). Loader, C. (2000). Fast and accurate
computation of binomial probabilities (R's ``dbinom``; ``stirlerr``, ``bd0``).
"""

from __future__ import annotations

import functools
import json
import math
from importlib.resources import files

import numpy as np
import numpy.typing as npt

from ..errors import InputError

FloatArray = npt.NDArray[np.float64]

TOL_PWRSS = 1e-7  # glmerControl()$tolPwrss
MAXIT = 100  # mkGlmerDevfun(maxit = 100L)
MAX_STEP_HALVINGS = 20  # pwrssUpdate: maxstephalfit
THETA_START = 1.0  # mkReTrms: theta starts at 1 for a scalar random intercept
_EPS = float(np.finfo(float).eps)  # glmFamily.cpp bounds mu, mu.eta and the variance by it
_SQRT_2PI = math.sqrt(2.0 * math.pi)  # external.cpp: std::sqrt(2. * M_PI)
_LN_SQRT_2PI = 0.918938533204672741780329736406  # Rmath M_LN_SQRT_2PI
_LN_2PI = 1.837877066409345483560659472811  # Rmath M_LN_2PI
_DBL_MIN = 2.2250738585072014e-308

# R nmath/stirlerr.c (R 4.2): log(n!) - log(sqrt(2 pi n) (n/e)^n) at n = 0, 1, ..., 15
# (the integer entries of R's table ``sferr_halves``; n = 0 is R's placeholder).
_STIRLERR_INT = (
    0.0,
    0.0810614667953272582196702,
    0.0413406959554092940938221,
    0.02767792568499833914878929,
    0.02079067210376509311152277,
    0.01664469118982119216319487,
    0.01387612882307074799874573,
    0.01189670994589177009505572,
    0.010411265261972096497478567,
    0.009255462182712732917728637,
    0.008330563433362871256469318,
    0.007573675487951840794972024,
    0.006942840107209529865664152,
    0.006408994188004207068439631,
    0.005951370112758847735624416,
    0.005554733551962801371038690,
)
_S0 = 0.083333333333333333333  # 1/12
_S1 = 0.00277777777777777777778  # 1/360
_S2 = 0.00079365079365079365079365  # 1/1260
_S3 = 0.000595238095238095238095238  # 1/1680
_S4 = 0.0008417508417508417508417508  # 1/1188

GHRULES_FILE = ("evidence", "data", "lme4-ghrules.json")
"""lme4 1.1-31's ``GHrule(k)``, k = 1..100: the nodes ``z`` and weights ``w`` (``w`` sums to 1) of
the k-point Gauss-Hermite rule for the standard normal density, exactly as lme4's sysdata.rda
``fgq_rules`` (fastGHQuad's rules rescaled; lme4 R/GHrule.R, commit 1de5c0af). Written with
``%.17g`` by ``lme4-ghrules.R`` beside it; checked bit for bit against R (pirls-traces.json)."""
MAX_NAGQ = 100  # GHrule: stopifnot(ord < 101L); glmer's stage 2 (updateGlmerDevfun) has no 25 cap


@functools.cache
def _gh_rules() -> dict[int, tuple[tuple[float, ...], tuple[float, ...]]]:
    """Read lme4's 100 rules from the package data (once, on first use)."""
    data = json.loads(files("livermet").joinpath(*GHRULES_FILE).read_text(encoding="utf-8"))
    return {
        int(rule["n"]): (tuple(float(v) for v in rule["z"]), tuple(float(v) for v in rule["w"]))
        for rule in data["rules"]
    }


def gh_rule(nagq: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return lme4's ``GHrule(nagq)``: nodes, weights, ``dnorm(z, log = TRUE)`` (nagq 1-100)."""
    rules = _gh_rules()
    if isinstance(nagq, bool) or nagq not in rules:
        raise InputError(f"nAGQ must be an integer from 1 to {MAX_NAGQ}, got {nagq}", "nAGQ")
    z, w = rules[nagq]
    zz = np.array(z)
    # R dnorm4(x, 0, 1, log = TRUE): -(M_LN_SQRT_2PI + 0.5 * x * x + log(sigma)), x = |x|
    ldnorm = np.array([-(_LN_SQRT_2PI + 0.5 * abs(v) * abs(v) + 0.0) for v in z])
    return zz, np.array(w), ldnorm


def _ieee_ratio(num: float, den: float) -> float:
    """``num / den`` with C's IEEE rules: ``x / 0`` is ±inf and ``0 / 0`` NaN (never converged)."""
    if den != 0.0:
        return num / den
    return math.nan if num == 0.0 or math.isnan(num) else math.copysign(math.inf, num)


def _seq_sum(values: FloatArray) -> float:
    """Left-to-right sum starting from the first element (Eigen's unvectorised ``sum()``)."""
    return float(np.cumsum(values)[-1]) if values.size else 0.0


def _exp1(v: float) -> float:
    """C's ``exp``: ``inf`` on overflow (``math.exp`` raises), as lme4's ``plogis`` needs."""
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _log1(v: float) -> float:
    """C's ``log``: ``-inf`` at 0 and NaN below (``math.log`` raises)."""
    if v > 0.0:
        return math.log(v)
    return -math.inf if v == 0.0 else math.nan


def _exp(values: FloatArray) -> FloatArray:
    return np.array([_exp1(v) for v in values.tolist()])


def _log(values: FloatArray) -> FloatArray:
    return np.array([_log1(v) for v in values.tolist()])


def _logit_inv(eta: FloatArray) -> FloatArray:
    """Inverse logit as glmFamily: R's ``plogis`` 1 / (1 + exp(-eta)) bounded to [eps, 1-eps]."""
    mu = 1.0 / (1.0 + _exp(-eta))
    out: FloatArray = np.maximum(_EPS, np.minimum(1.0 - _EPS, mu))
    return out


def _logit_mu_eta(eta: FloatArray) -> FloatArray:
    """Return d mu / d eta as glmFamily: R's ``dlogis`` e / ((1 f) f), e = exp(-|eta|), f = 1+e."""
    e = _exp(-np.abs(eta))
    f = 1.0 + e
    out: FloatArray = np.maximum(_EPS, e / (1.0 * f * f))
    return out


def _y_log_y(y: FloatArray, mu: FloatArray) -> FloatArray:
    v = y / mu
    logs = np.array([math.log(t) if t != 0.0 else 0.0 for t in v.tolist()])
    out: FloatArray = y * logs
    return out


def _stirlerr(n: float) -> float:
    """R 4.2 ``stirlerr`` for integer ``n``: stored values up to 15, series beyond."""
    if n <= 15.0:
        return _STIRLERR_INT[int(n)]
    nn = n * n
    if n > 500:
        return (_S0 - _S1 / nn) / n
    if n > 80:
        return (_S0 - (_S1 - _S2 / nn) / nn) / n
    if n > 35:
        return (_S0 - (_S1 - (_S2 - _S3 / nn) / nn) / nn) / n
    return (_S0 - (_S1 - (_S2 - (_S3 - _S4 / nn) / nn) / nn) / nn) / n


def _bd0(x: float, np_: float) -> float:
    """R 4.2 ``bd0(x, np) = x log(x / np) + np - x``, by its series when x is near np."""
    if abs(x - np_) < 0.1 * (x + np_):
        v = (x - np_) / (x + np_)
        s = (x - np_) * v
        if abs(s) < _DBL_MIN:
            return s
        ej = 2 * x * v
        v *= v
        for j in range(1, 1000):
            ej *= v
            s1 = s + ej / ((j << 1) + 1)
            if s1 == s:
                return s1
            s = s1
    return x * math.log(x / np_) + np_ - x


def log_dbinom(x: float, n: float, p: float) -> float:
    """R 4.2 ``dbinom(x, n, p, log = TRUE)`` (Loader's saddle-point algorithm, ``dbinom_raw``).

    ``x`` and ``n`` are integer-valued (0 <= x <= n); ``0 <= p <= 1``.
    """
    q = 1.0 - p
    if p == 0:
        return 0.0 if x == 0 else -math.inf
    if q == 0:
        return 0.0 if x == n else -math.inf
    if x == 0:
        if n == 0:
            return 0.0
        return -_bd0(n, n * q) - n * p if p < 0.1 else n * math.log(q)
    if x == n:
        return -_bd0(n, n * p) - n * q if q < 0.1 else n * math.log(p)
    if x < 0 or x > n:
        return -math.inf
    lc = _stirlerr(n) - _stirlerr(x) - _stirlerr(n - x) - _bd0(x, n * p) - _bd0(n - x, n * q)
    lf = _LN_2PI + math.log(x) + math.log1p(-x / n)
    return lc - 0.5 * lf


def _lower_solve(chol: FloatArray, rhs: FloatArray) -> FloatArray:
    """Forward substitution with the lower factor, column by column (Eigen's vector solve)."""
    x = rhs.copy()
    for i in range(x.size):
        x[i] = x[i] / chol[i, i]
        for k in range(i + 1, x.size):
            x[k] = x[k] - x[i] * chol[k, i]
    return x


def _upper_solve(chol: FloatArray, rhs: FloatArray) -> FloatArray:
    """Back substitution with ``chol'`` (row-major upper), as Eigen's ``matrixU().solve``."""
    x = rhs.copy()
    p = x.size
    for i in range(p - 1, -1, -1):
        if i < p - 1:
            x[i] = x[i] - _seq_sum(chol[i + 1 :, i] * x[i + 1 :])
        x[i] = x[i] / chol[i, i]
    return x


def _cholesky(a: FloatArray) -> FloatArray:
    """Eigen's unblocked ``LLT`` (lower factor) of a small symmetric positive-definite matrix."""
    p = a.shape[0]
    m = np.tril(a)
    for k in range(p):
        x = m[k, k]
        if k > 0:
            x = x - _seq_sum(m[k, :k] * m[k, :k])
        if not x > 0.0:
            raise InputError(
                "the fixed-effects cross-product is not positive definite "
                "(collinear or constant moderators)",
                "mods",
            )
        m[k, k] = x = math.sqrt(x)
        for i in range(k + 1, p):
            r = m[i, k]
            for j in range(k):
                r = r + m[i, j] * (-m[k, j])
            m[i, k] = r / x
    return m


def _crossprod(a: FloatArray, b: FloatArray) -> FloatArray:
    """Compute ``a' b``, each entry summed down the rows from 0 (Eigen's scalar GEMM kernel)."""
    out = np.empty((a.shape[1], b.shape[1]))
    for j in range(a.shape[1]):
        for k in range(b.shape[1]):
            out[j, k] = 0.0 + _seq_sum(a[:, j] * b[:, k])
    return out


def _matvec(a: FloatArray, v: FloatArray) -> FloatArray:
    """Compute ``a v`` column by column from 0 (Eigen's gemv; R's reference BLAS dgemv)."""
    out = np.zeros(a.shape[0])
    for j in range(a.shape[1]):
        out = out + a[:, j] * v[j]
    return out


def _tmatvec(a: FloatArray, v: FloatArray) -> FloatArray:
    """Compute ``a' v``, each entry a left-to-right dot product from 0 (Eigen's gemv)."""
    return np.array([0.0 + _seq_sum(a[:, j] * v) for j in range(a.shape[1])])


class GlmerDevfun:
    """The state of lme4's ``glmer`` deviance function for the binomial-normal model.

    ``GlmerDevfun(xi, ni, X)`` is ``mkGlmerDevfun`` with ``nAGQ = 0`` (the initial PIRLS run at
    ``theta = 1`` from ``mustart``). Call :meth:`stage1` for glmer's first optimisation over
    ``theta``, then :meth:`start_stage2` (``updateGlmerDevfun``) and :meth:`stage2` over
    ``(theta, beta)``. Within a stage a value depends only on its argument (every call restarts
    PIRLS from ``lp0``; only a NaN first step would halve towards the previous call's ``u``);
    stage 2's values depend on the LAST stage-1 call, whose state sets stage 2's ``lp0``. glmer's
    ``optwrap`` re-evaluates the optimum after each optimiser, so stage 2 starts from there.

    Parameters
    ----------
    events, totals
        Events ``x_i`` and sizes ``n_i`` per series (integer counts, ``0 <= x_i <= n_i``).
    design
        Fixed-effects design ``X`` (one row per series), as passed to glmer.
    """

    def __init__(self, events: FloatArray, totals: FloatArray, design: FloatArray) -> None:
        x = np.asarray(events, dtype=float)
        n = np.asarray(totals, dtype=float)
        xm = np.asarray(design, dtype=float)
        if xm.ndim != 2 or xm.shape[0] != x.size or n.size != x.size or x.size == 0:
            raise InputError("one design row and one size per series are needed", "X")
        if np.any(n <= 0) or np.any(x < 0) or np.any(x > n) or np.any(x != np.rint(x)):
            raise InputError("events must be whole counts between 0 and the series size", "xi")
        self._x_mat = xm
        # binomial()$initialize for cbind(x, n - x): y = x / n, weights = n, mustart
        self._y = x / n
        if np.unique(self._y).size < 2:
            # lme4 checkResponse (check.response.not.const = "stop"): glmer refuses
            raise InputError("Response is constant: every series has the same proportion x/n", "xi")
        self._wt = n.copy()
        mustart = (n * self._y + 0.5) / (n + 1.0)
        self._offset = np.zeros(x.size)
        self._eta = self._offset + _log(mustart / (1.0 - mustart))  # stats logit_link
        self._mu = _logit_inv(self._eta)
        # glmFamily aic: m = n (any n > 1) else the weights; counts rounded (nearbyint)
        m = n if np.any(n > 1) else self._wt
        self._aic_y = np.rint(m * self._y)
        self._aic_m = np.rint(m)
        q, p = x.size, xm.shape[1]
        self.theta = THETA_START
        self._u0 = np.zeros(q)
        self._delu = np.zeros(q)
        self._beta0 = np.zeros(p)
        self._delb = np.zeros(p)
        self._ldiag = np.ones(q)
        self._ldl2 = 0.0
        self._rx = np.eye(p)
        self._nagq = 0
        self._gq: tuple[FloatArray, FloatArray, FloatArray] | None = None
        self._base_offset = self._offset.copy()
        self.step_halvings = 0  # PIRLS iterations that needed step halving (diagnostic)
        self._pwrss(u_only=False)  # mkGlmerDevfun: glmerLaplace from mustart (nAGQinit = 0)
        self.lp0 = self._lin_pred()

    # ---- response module (glmResp) -------------------------------------------------------
    def _update_mu(self, gamma: FloatArray) -> None:
        self._eta = self._offset + gamma
        self._mu = _logit_inv(self._eta)

    def _dev_resid(self) -> FloatArray:
        y, mu = self._y, self._mu
        out: FloatArray = 2.0 * self._wt * (_y_log_y(y, mu) + _y_log_y(1.0 - y, 1.0 - mu))
        return out

    def _aic(self) -> float:
        ans = 0.0
        for yy, m, wt, mu in zip(
            self._aic_y.tolist(),
            self._aic_m.tolist(),
            self._wt.tolist(),
            self._mu.tolist(),
            strict=True,
        ):
            ans += (0.0 if m <= 0.0 else wt / m) * log_dbinom(yy, m, mu)
        return -2.0 * ans

    # ---- predictor module (merPredD) -----------------------------------------------------
    def _u(self) -> FloatArray:
        out: FloatArray = self._u0 + 1.0 * self._delu
        return out

    def _sqr_l(self) -> float:
        u = self._u()
        return _seq_sum(u * u)

    def _lin_pred(self) -> FloatArray:
        beta = self._beta0 + 1.0 * self._delb
        b = 0.0 + self.theta * self._u()
        out: FloatArray = _matvec(self._x_mat, beta) + b
        return out

    def _wrk_iter(self, u_only: bool) -> float:
        """One PIRLS iteration (``internal_glmerWrkIter``); returns the penalised deviance."""
        mu, eta = self._mu, self._eta
        mu_eta = _logit_mu_eta(eta)
        variance = np.maximum(_EPS, mu * (1.0 - mu))
        sw = mu_eta * np.sqrt(self._wt / variance)  # sqrtWrkWt
        wtres = ((eta - self._offset) + (self._y - mu) / mu_eta) * sw  # wtWrkResp
        lamtut = 0.0 + self.theta * sw
        self._ldiag = np.sqrt(lamtut * lamtut + 1.0)
        ldiag = self._ldiag
        self._ldl2 = _seq_sum(np.concatenate(([0.0], _log(ldiag * ldiag))))
        v = sw[:, None] * self._x_mat
        rzx = (0.0 + lamtut[:, None] * v) / ldiag[:, None]
        vtv = _crossprod(v, v)
        self._rx = _cholesky(vtv + -1.0 * _crossprod(rzx, rzx))
        vtr = _tmatvec(v, wtres)
        utr = lamtut * wtres
        cu = (utr - self._u0) / ldiag
        if u_only:
            self._delb = np.zeros_like(self._delb)
            self._delu = cu / ldiag
        else:
            rhs = vtr - _tmatvec(rzx, cu)
            self._delb = _upper_solve(self._rx, _lower_solve(self._rx, rhs))
            self._delu = (cu + _matvec(rzx, -1.0 * self._delb)) / ldiag
        self._update_mu(self._lin_pred())
        return _seq_sum(self._dev_resid()) + self._sqr_l()

    def _pwrss(self, u_only: bool) -> None:
        """``pwrssUpdate``: PIRLS to relative change ``tolPwrss``, with step halving."""
        old = float(np.finfo(float).max)
        for _ in range(MAXIT):
            old_delu, old_delb = self._delu.copy(), self._delb.copy()
            pdev = self._wrk_iter(u_only)
            if abs(_ieee_ratio(old - pdev, pdev)) < TOL_PWRSS:
                return
            if math.isnan(pdev) or pdev > old:
                pdev = self._halve_steps(old, pdev, old_delu, old_delb, u_only)
            old = pdev
        raise InputError("PIRLS did not converge in 100 iterations (pwrssUpdate)", "xi")

    def _halve_steps(
        self, old: float, pdev: float, old_delu: FloatArray, old_delb: FloatArray, u_only: bool
    ) -> float:
        self.step_halvings += 1
        for _ in range(MAX_STEP_HALVINGS):
            if not (math.isnan(pdev) or pdev > old):
                break
            self._delu = (old_delu + self._delu) / 2.0
            if not u_only:
                self._delb = (old_delb + self._delb) / 2.0
            self._update_mu(self._lin_pred())
            pdev = _seq_sum(self._dev_resid()) + self._sqr_l()
        if math.isnan(pdev) or pdev - old > TOL_PWRSS:
            raise InputError("PIRLS step halvings failed to reduce the deviance", "xi")
        return pdev

    def _laplace(self) -> float:
        return self._ldl2 + self._sqr_l() + self._aic()

    def _agq(self) -> float:
        """``glmerAGQ``: adaptive Gauss-Hermite quadrature around the conditional modes."""
        assert self._gq is not None
        z, w, ldnorm = self._gq
        devc0 = self._u() ** 2 + self._dev_resid()
        sd = 1.0 / self._ldiag
        mult = np.zeros(devc0.size)
        for zk, wk, lk in zip(z.tolist(), w.tolist(), ldnorm.tolist(), strict=True):
            if zk == 0:
                mult = mult + wk
                continue
            self._u0 = zk * sd
            self._update_mu(self._lin_pred())
            devc = self._u() ** 2 + self._dev_resid()
            mult = mult + _exp(-0.5 * (devc - devc0) - lk) * wk / _SQRT_2PI
        self._u0 = np.zeros(devc0.size)
        self._update_mu(self._lin_pred())
        prod = float(np.cumprod(mult)[-1])
        return _seq_sum(devc0) + self._ldl2 - 2.0 * math.log(prod)

    # ---- the two deviance functions ------------------------------------------------------
    def stage1(self, theta: float) -> float:
        """Return glmer's ``nAGQ = 0`` deviance at ``theta`` (PIRLS over ``u`` and ``beta``)."""
        if self._nagq != 0:
            raise InputError("stage 1 is over once stage 2 has started", "theta")
        self._update_mu(self.lp0)
        self.theta = float(theta)
        self._pwrss(u_only=False)
        return self._laplace()

    def start_stage2(self, nagq: int) -> None:
        """``updateGlmerDevfun``: keep the state, recompute ``lp0``, set the quadrature rule."""
        if self._nagq != 0:
            raise InputError("stage 2 has already started", "nAGQ")
        self._gq = gh_rule(nagq)
        self._nagq = nagq
        self.lp0 = self._lin_pred()
        self._base_offset = self._offset.copy()

    def stage2(self, pars: FloatArray) -> float:
        """Return glmer's ``nAGQ >= 1`` deviance at ``pars = (theta, beta...)`` (PIRLS on u)."""
        if self._nagq == 0:
            raise InputError("call start_stage2 before stage 2 evaluations", "nAGQ")
        par = np.asarray(pars, dtype=float)
        self._offset = self._base_offset.copy()
        self._update_mu(self.lp0)
        self.theta = float(par[0])
        self._offset = self._base_offset + _matvec(self._x_mat, par[1:])
        self._pwrss(u_only=True)
        return self._laplace() if self._nagq == 1 else self._agq()

    # ---- accessors -----------------------------------------------------------------------
    @property
    def delb(self) -> FloatArray:
        """``pp$delb``: beta of the last stage-1 evaluation (glmer's stage-2 start)."""
        return self._delb.copy()

    @property
    def delu(self) -> FloatArray:
        """``pp$delu``: the spherical random effects ``u`` of the last evaluation."""
        return self._delu.copy()

    @property
    def ldl2(self) -> float:
        """``pp$ldL2()``: log det of ``L L'`` from the last PIRLS factorisation."""
        return self._ldl2

    def unsc(self) -> FloatArray:
        """``pp$unsc()``: ``RX^-1 RX^-T`` at the current state (lme4's fallback ``vcov``)."""
        inv = self._rx_inverse()
        out: FloatArray = inv @ inv.T
        return out

    def unsc_diag(self) -> FloatArray:
        """``diag(pp$unsc())``: diagonal of ``RX^-1 RX^-T`` (unscaled covariance of beta)."""
        inv = self._rx_inverse()
        return np.array([0.0 + _seq_sum(inv[j, :] * inv[j, :]) for j in range(inv.shape[0])])

    def _rx_inverse(self) -> FloatArray:
        rx = self._rx
        p = rx.shape[0]
        inv = np.zeros((p, p))
        recip = [1.0 / rx[i, i] for i in range(p)]
        for j in range(p):
            col = np.zeros(p)
            col[j] = 1.0
            for i in range(p - 1, -1, -1):
                b = 0.0
                for s in range(i + 1, p):
                    b += rx[s, i] * col[s]
                col[i] = (col[i] - b) * recip[i]
            inv[:, j] = col
        return inv
