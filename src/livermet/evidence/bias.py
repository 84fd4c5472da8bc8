"""Small-study effects: Egger-type regression test and trim-and-fill.

Regression test (metafor ``regtest``, default ``model="rma", predictor="sei"``): the standard
error ``sqrt(v_i)`` is added as a moderator to the same model (same estimator, test and
control); its test statistic and p-value test funnel-plot asymmetry and the intercept is the
"limit estimate" (the effect of a study with SE 0). ``model="lm"`` is the classic Egger test:
weighted least squares ``y ~ sei`` with weights ``1/v`` and a multiplicative dispersion, t_{k-2}.

Trim-and-fill (Duval & Tweedie 2000; metafor ``trimfill.rma.uni``): the side with the missing
studies is the opposite of the sign of the ``sei`` slope; with the data flipped so that
suppression is on the left and sorted by ``y``, repeat until k0 is stable: fit the model to the
``k - k0`` smallest values, rank ``|y_i - mu|`` (ties first), and estimate
``k0 = max(0, round((4 S_r - k(k+1)) / (2k - 1)))`` (L0, ``S_r`` = sum of the positive signed
ranks), or ``R0 = gamma* - 1`` (length of the rightmost run of positive ranks), or
``Q0 = k - 1/2 - sqrt(2k² - 4 S_r + 1/4)``. The k0 most extreme studies are mirrored about mu
(``2 mu - y``, same variance) and the model is refitted to the filled data.

As metafor 3.8-1, the trim-and-fill fits use metafor's default iteration settings whatever the
model's (``control="metafor"``); pass ``control=None`` to use the model's own.

References
----------
Egger, M., Davey Smith, G., Schneider, M. & Minder, C. (1997). Bias in meta-analysis detected by
a simple, graphical test. *BMJ* 315, 629-634. Duval, S. & Tweedie, R. (2000). Trim and fill: a
simple funnel-plot-based method of testing and adjusting for publication bias in meta-analysis.
*Biometrics* 56, 455-463. metafor ``?regtest``, ``?trimfill``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from livermet.errors import InputError

from .control import Control

if TYPE_CHECKING:
    from .rma import RMAResult

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_ESTIMATORS = ("L0", "R0", "Q0")
_PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")


@dataclass(frozen=True)
class RegtestResult:
    """Regression test for funnel-plot asymmetry.

    Attributes
    ----------
    zval, pval : float
        Test statistic (z, or t for t-type tests and ``model="lm"``) and p-value of the
        predictor's coefficient.
    ddf : int or None
        Degrees of freedom of a t statistic.
    limit_est, ci_lb, ci_ub : float or None
        Limit estimate (intercept) with its interval (predictors sei, vi, ninv, sqrtninv).
    model, predictor : str
    fit : RMAResult or None
        The fitted regression model (``model="rma"``).
    """

    zval: float
    pval: float
    ddf: int | None
    limit_est: float | None
    ci_lb: float | None
    ci_ub: float | None
    model: str
    predictor: str
    fit: Any = None

    est = property(lambda self: self.limit_est, doc="Alias of ``limit_est`` (metafor name).")
    limit_estimate = property(lambda self: self.limit_est, doc="Alias of ``limit_est``.")


def regtest(fit: RMAResult, model: str = "rma", predictor: str = "sei") -> RegtestResult:
    """Egger-type regression test (see module docstring).

    Parameters
    ----------
    fit : RMAResult
        The model to test (moderators are kept; the predictor is added).
    model : {"rma", "lm"}
        Mixed-effects meta-regression (default) or weighted regression with a dispersion
        (classic Egger).
    predictor : {"sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv"}
        The precision measure added as moderator.
    """
    if predictor not in _PREDICTORS:
        raise InputError(f"predictor must be one of {_PREDICTORS}", "predictor")
    if model not in ("rma", "lm"):
        raise InputError("model must be 'rma' or 'lm'", "model")
    if predictor == "sei":
        z = np.sqrt(fit.vi)
    elif predictor == "vi":
        z = fit.vi.copy()
    else:
        if fit.ni is None:
            raise InputError("no sample sizes available for this predictor", "ni")
        n = fit.ni
        z = {"ni": n, "ninv": 1 / n, "sqrtni": np.sqrt(n), "sqrtninv": 1 / np.sqrt(n)}[predictor]
    X = np.column_stack([fit.X, z])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputError("model matrix not of full rank after adding the predictor", "predictor")
    p = fit.p
    limit_ok = predictor in ("sei", "vi", "ninv", "sqrtninv") and fit.int_only
    if model == "rma":
        reg = fit.refit(fit.yi, fit.vi, X)  # same method, test, level, control and fixed tau²
        c = reg.coefs
        return RegtestResult(
            zval=float(c.zval[p]),
            pval=float(c.pval[p]),
            ddf=c.ddf,
            limit_est=float(c.beta[0]) if limit_ok else None,
            ci_lb=float(c.ci_lb[0]) if limit_ok else None,
            ci_ub=float(c.ci_ub[0]) if limit_ok else None,
            model=model,
            predictor=predictor,
            fit=reg,
        )
    # weighted least squares with multiplicative dispersion
    w = 1.0 / fit.vi
    k = fit.k
    xtw = (X * w[:, None]).T
    cov = np.linalg.inv(xtw @ X)
    b = cov @ (xtw @ fit.yi)
    df = k - X.shape[1]
    sigma2 = float(np.sum(w * (fit.yi - X @ b) ** 2)) / df
    se = np.sqrt(np.diag(cov) * sigma2)
    t = b / se
    crit = float(stats.t.isf((1 - fit.level) / 2, df))
    return RegtestResult(
        zval=float(t[p]),
        pval=float(2 * stats.t.sf(abs(t[p]), df)),
        ddf=df,
        limit_est=float(b[0]) if limit_ok else None,
        ci_lb=float(b[0] - crit * se[0]) if limit_ok else None,
        ci_ub=float(b[0] + crit * se[0]) if limit_ok else None,
        model=model,
        predictor=predictor,
    )


@dataclass(frozen=True)
class TrimfillResult:
    """Trim-and-fill result: the number of imputed studies and the model fitted to the filled data.

    Attributes
    ----------
    k0 : int
        Estimated number of missing studies.
    se_k0 : float
        Its standard error (NaN where the formula's variance is negative, as metafor).
    side : {"left", "right"}
        Side on which studies were imputed.
    estimator : str
        "L0", "R0" or "Q0".
    fit : RMAResult
        Model fitted to the observed plus imputed studies (the original model when k0 = 0).
    yi, vi : ndarray
        The filled data (observed first).
    fill : ndarray of bool
        Which entries of ``yi`` were imputed.
    p_k0 : float or None
        p-value of the R0 test of k0 = 0.
    """

    k0: int
    se_k0: float
    side: str
    estimator: str
    fit: RMAResult
    yi: FloatArray
    vi: FloatArray
    fill: npt.NDArray[np.bool_]
    p_k0: float | None

    @property
    def beta(self) -> float:
        """Pooled estimate after filling."""
        return float(self.fit.coefs.beta[0])

    @property
    def se(self) -> float:
        """Its standard error."""
        return float(self.fit.coefs.se[0])

    @property
    def ci_lb(self) -> float:
        """Lower confidence bound after filling."""
        return float(self.fit.coefs.ci_lb[0])

    @property
    def ci_ub(self) -> float:
        """Upper confidence bound after filling."""
        return float(self.fit.coefs.ci_ub[0])

    @property
    def tau2(self) -> float:
        """tau² after filling."""
        return self.fit.tau2


def _q0_radicand(k: int, sr: float) -> float:
    """``2k² - 4 S_r + 1/4``, the argument of the Q0 estimator's square root; refuse it < 0.

    It is negative when the positive signed ranks sum to more than about k²/2 (most of the
    large deviations on one side), and Q0 is then undefined; metafor 3.8-1 stops with "missing
    value where TRUE/FALSE needed".
    """
    arg = 2.0 * k**2 - 4.0 * sr + 0.25
    if arg < 0:
        raise InputError(
            "the Q0 estimator of the number of missing studies is undefined for these data: "
            f"its square root has a negative argument (2k² - 4 S_r + 1/4 = {arg:g} with k = {k} "
            f"studies and sum of positive signed ranks S_r = {sr:g}); metafor's trimfill stops "
            "with an error here too. Use estimator 'L0' (the default) or 'R0'",
            "estimator",
        )
    return arg


def trimfill(
    fit: RMAResult,
    side: str | None = None,
    estimator: str = "L0",
    maxiter: int = 100,
    control: Control | str | None = "metafor",
) -> TrimfillResult:
    """Duval & Tweedie trim-and-fill (see module docstring).

    Parameters
    ----------
    fit : RMAResult
        A model without moderators.
    side : {"left", "right"}, optional
        Side of the missing studies (default: estimated from the Egger-type slope).
    estimator : {"L0", "R0", "Q0"}
        Estimator of the number of missing studies.
    maxiter : int
        Maximum number of trim iterations.
    control : Control, str or None
        Iteration settings of the refits; "metafor" (default) as metafor 3.8-1, None for the
        model's own.

    Raises
    ------
    InputError
        A model with moderators, an unknown estimator or side, no convergence, or Q0 undefined
        for the data (its square root has a negative argument; metafor stops too).
    """
    if not fit.int_only:
        raise InputError("trim-and-fill is only available for models without moderators", "mods")
    if estimator not in _ESTIMATORS:
        raise InputError("estimator must be L0, R0 or Q0", "estimator")
    con = fit.control if control is None else control
    side = _missing_side(fit, side, con)
    flipped = -fit.yi if side == "right" else fit.yi.copy()
    ix = np.argsort(flipped, kind="stable")
    trim = _trim(fit, flipped[ix], fit.vi[ix], estimator, maxiter, con)
    new, y_fill, v_fill, fill = _filled(fit, side, trim, con)
    return TrimfillResult(
        k0=trim.k0,
        se_k0=trim.se_k0,
        side=side,
        estimator=estimator,
        fit=new,
        yi=y_fill,
        vi=v_fill,
        fill=fill,
        p_k0=_r0_p_value(trim.k0) if estimator == "R0" else None,
    )


def _working_beta(
    fit: RMAResult, y: FloatArray, v: FloatArray, con: Control | str, X: FloatArray | None = None
) -> FloatArray:
    """Return the coefficients of a trim-and-fill working model fitted to ``y``, ``v``.

    The working models use the fit's estimator with tau² estimated (even when the fit's was
    fixed), the z test and ``con``; one study left untrimmed is its own estimate (metafor fits
    it with tau² = 0).
    """
    if y.size == 1 and X is None:
        return np.array([y[0]])
    return fit.refit(y, v, X, test="z", control=con, measure="GEN", keep_tau2=False).coefs.beta


def _missing_side(fit: RMAResult, side: str | None, con: Control | str) -> str:
    """Return the side of the missing studies: given, or opposite the sign of the ``sei`` slope."""
    if side is None:
        if np.ptp(fit.vi) == 0:
            # Equal standard errors: the sei slope is not estimable (metafor 3.8-1 stops here
            # with "missing value where TRUE/FALSE needed").
            raise InputError(
                "cannot estimate the side of the missing studies when all sampling variances "
                "are equal; give side='left' or side='right'",
                "side",
            )
        X = np.column_stack([np.ones(fit.k), np.sqrt(fit.vi)])
        slope = _working_beta(fit, fit.yi, fit.vi, con, X)
        return "right" if slope[1] < 0 else "left"
    if side not in ("left", "right"):
        raise InputError("side must be 'left' or 'right'", "side")
    return side


@dataclass(frozen=True)
class _Trim:
    """State of the trim iterations: the data (flipped and sorted) and the last estimates."""

    y: FloatArray
    v: FloatArray
    k0: int
    se_k0: float
    beta: float
    centred: FloatArray


def _trim(
    fit: RMAResult,
    y: FloatArray,
    v: FloatArray,
    estimator: str,
    maxiter: int,
    con: Control | str,
) -> _Trim:
    """Iterate trim (fit the ``k - k0`` smallest) and estimate k0 until k0 is stable."""
    k = y.size
    k0, k0_prev, it = 0, -1, 0
    se_k0 = math.nan
    beta = 0.0
    yc = y
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > maxiter:
            raise InputError("trim-and-fill did not converge", "maxiter")
        beta = float(_working_beta(fit, y[: k - k0], v[: k - k0], con)[0])
        yc = y - beta
        k0f, se_k0 = _K0_ESTIMATORS[estimator](_signed_ranks(yc), k)
        k0 = max(0, int(np.round(k0f)))
        se_k0 = se_k0 if math.isnan(se_k0) else max(0.0, se_k0)
    return _Trim(y=y, v=v, k0=k0, se_k0=se_k0, beta=beta, centred=yc)


def _signed_ranks(yc: FloatArray) -> FloatArray:
    """Return the ranks of ``|yc|`` (ties in order of appearance) with the signs of ``yc``."""
    k = yc.size
    ranks = np.empty(k)
    ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)
    out: FloatArray = np.sign(yc) * ranks
    return out


def _k0_r0(signed: FloatArray, k: int) -> tuple[float, float]:
    """Return R0 (length of the rightmost run of positive ranks, minus 1) and its SE."""
    neg = signed[signed < 0]
    k0f = float(k - (np.max(-neg) if neg.size else 0) - 1)
    return k0f, math.sqrt(2 * max(0.0, k0f) + 2)


def _var_sr(k: int, k0f: float) -> float:
    """Return the variance of ``S_r``, the sum of positive signed ranks, given k0."""
    return (
        k * (k + 1) * (2 * k + 1)
        + 10 * k0f**3
        + 27 * k0f**2
        + 17 * k0f
        - 18 * k * k0f**2
        - 18 * k * k0f
        + 6 * k**2 * k0f
    ) / 24


def _k0_l0(signed: FloatArray, k: int) -> tuple[float, float]:
    """Return L0 ``(4 S_r - k(k+1)) / (2k - 1)`` and its SE (NaN for a negative variance).

    Duval & Tweedie (2000); docs/evidence.md#small-study-effects.
    """
    sr = float(np.sum(signed[signed > 0]))
    k0f = (4 * sr - k * (k + 1)) / (2 * k - 1)
    var_sr = _var_sr(k, k0f)
    # as R: the square root of a negative variance is NaN (metafor returns se.k0 = NaN)
    with np.errstate(invalid="ignore", divide="ignore"):
        se_k0 = float(4 * np.sqrt(var_sr) / (2 * k - 1))
    return k0f, se_k0


def _k0_q0(signed: FloatArray, k: int) -> tuple[float, float]:
    """Return Q0 ``k - 1/2 - sqrt(2k² - 4 S_r + 1/4)`` and its SE (NaN where undefined)."""
    sr = float(np.sum(signed[signed > 0]))
    k0f = k - 0.5 - math.sqrt(_q0_radicand(k, sr))
    var_sr = _var_sr(k, k0f)
    with np.errstate(invalid="ignore", divide="ignore"):
        den = np.sqrt(np.float64((k - 0.5) ** 2 - k0f * (2 * k - k0f - 1)))
        se_k0 = float(2 * np.sqrt(var_sr) / den)
    return k0f, se_k0


_K0_ESTIMATORS = {"L0": _k0_l0, "R0": _k0_r0, "Q0": _k0_q0}


def _r0_p_value(k0: int) -> float:
    """Return the p-value of the R0 test of k0 = 0."""
    m = np.arange(-1, k0)
    return float(1 - np.sum([math.comb(int(j) + 1, int(j) + 1) * 0.5 ** (j + 2) for j in m]))


def _filled(
    fit: RMAResult, side: str, trim: _Trim, con: Control | str
) -> tuple[RMAResult, FloatArray, FloatArray, BoolArray]:
    """Return the model refitted to the filled data, the data and the imputed-study flags.

    The k0 most extreme studies are mirrored about the pooled estimate (same variance); with
    k0 = 0 the original model and data are returned.
    """
    k, k0 = fit.k, trim.k0
    if k0 == 0:
        return fit, fit.yi, fit.vi, np.zeros(k, bool)
    dev = trim.centred - trim.beta
    yc_b = -dev if side == "right" else dev
    y_fill = np.concatenate([fit.yi, -yc_b[k - k0 :]])
    v_fill = np.concatenate([fit.vi, trim.v[k - k0 :]])
    new = fit.refit(y_fill, v_fill, test="z", control=con, measure="GEN", keep_tau2=False)
    return new, y_fill, v_fill, np.r_[np.zeros(k, bool), np.ones(k0, bool)]
