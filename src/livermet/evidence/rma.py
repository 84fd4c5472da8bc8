"""Random-effects meta-analysis and meta-regression (metafor's ``rma.uni``).

Model: ``y_i = x_i' beta + u_i + e_i`` with ``u_i ~ N(0, tau²)`` and ``e_i ~ N(0, v_i)``. tau² is
estimated by one of the estimators in :mod:`.estimators`; beta by weighted least squares with
weights ``1/(v_i + tau²)``; tests and intervals in :mod:`.inference`.

Heterogeneity (metafor ``?print.rma.uni``): ``QE = y' P0 y`` with ``P0`` at tau² = 0 (Cochran's
Q, df k - p); "typical" within-study variance ``vt = (k - p) / tr(P0)`` (Higgins & Thompson 2002);
for random-effects models ``I² = 100 tau² / (tau² + vt)`` and ``H² = (tau² + vt) / vt``; for the
equal-effects model ``I² = max(0, 100 (QE - (k - p)) / QE)`` and ``H² = QE / (k - p)``.
Meta-regression: pseudo ``R² = max(0, 100 (tau²_RE - tau²) / tau²_RE)`` from the intercept-only
fit with the same estimator; for the equal-effects model, as metafor 3.8-1, ``R² = max(0, 100
adjusted R²)`` of the weighted least-squares regression of y on the moderators (weights 1/v_i;
``summary(lm(yi ~ X, weights = 1/vi))$adj.r.squared``), 0 if all y_i are equal.

References
----------
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. *JSS* 36(3).
Higgins, J. P. T. & Thompson, S. G. (2002). Quantifying heterogeneity in a meta-analysis.
*Stat. Med.* 21, 1539-1558. Raudenbush, S. W. (2009). Analyzing effect sizes: random-effects
models. In *The Handbook of Research Synthesis and Meta-Analysis*.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from livermet.errors import InputError

from . import kernel
from .control import Control, resolve_control
from .design import as_mods, as_vector, drop_missing, model_matrix
from .escalc import EscalcResult
from .estimators import Tau2Estimate, canonical_method, estimate_tau2
from .inference import TESTS, Coefficients, critical_value, fixed_effects
from .transforms import Transform, resolve_transform
from .zeroin import R_UNIROOT_TOL

if TYPE_CHECKING:
    from .bias import RegtestResult, TrimfillResult
    from .confint import HeterogeneityCI
    from .diagnostics import CaseDeletion, InfluenceResult
    from .gosh import GoshResult

FloatArray = npt.NDArray[np.float64]
Number = float | FloatArray


def _out(arr: FloatArray, scalar: bool) -> Number:
    return float(arr[0]) if scalar else arr


@dataclass(frozen=True)
class Prediction:
    """Predicted (pooled) values with confidence and prediction intervals.

    Scalars for a model without moderators, arrays otherwise. ``se`` is NaN after a
    back-transformation (as metafor).
    """

    pred: Number
    se: Number
    ci_lb: Number
    ci_ub: Number
    pi_lb: Number
    pi_ub: Number
    transf: str | None = None


@dataclass(frozen=True)
class RMAResult:
    """A fitted (mixed-effects) meta-analysis model; see :func:`rma`.

    Coefficient attributes (``beta se zval pval ci_lb ci_ub``) are floats for a model without
    moderators and arrays (intercept first) otherwise; ``vb`` is their covariance matrix.
    Heterogeneity: ``tau2 se_tau2 qe qe_p i2 h2``; omnibus test of the moderators:
    ``qm qm_p qm_df`` (chi² for test="z", F otherwise); ``r2`` R² in % (meta-regression
    with an intercept; pseudo R² of tau², or for EE the weighted adjusted R², as metafor).
    """

    yi: FloatArray
    vi: FloatArray
    X: FloatArray
    method: str
    test: str
    level: float
    control: Control
    coefs: Coefficients
    tau2: float
    se_tau2: float
    qe: float
    qe_p: float
    i2: float
    h2: float
    vt: float
    r2: float | None
    ll: float
    iterations: int
    int_only: bool
    has_intercept: bool
    btt: tuple[int, ...]
    tau2_fixed: bool = False
    measure: str = "GEN"
    ni: FloatArray | None = None
    scalar: bool = True
    omitted: npt.NDArray[np.bool_] | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ coefficients
    @property
    def k(self) -> int:
        """Number of studies in the fit."""
        return int(self.yi.size)

    @property
    def p(self) -> int:
        """Number of coefficients."""
        return int(self.X.shape[1])

    @property
    def beta(self) -> Number:
        """Estimate(s): the pooled effect, or intercept and slopes."""
        return _out(self.coefs.beta, self.scalar)

    @property
    def se(self) -> Number:
        """Standard error(s) (Knapp-Hartung adjusted for test="knha")."""
        return _out(self.coefs.se, self.scalar)

    @property
    def zval(self) -> Number:
        """Test statistic(s) (z or t)."""
        return _out(self.coefs.zval, self.scalar)

    @property
    def pval(self) -> Number:
        """Two-sided p-value(s)."""
        return _out(self.coefs.pval, self.scalar)

    @property
    def ci_lb(self) -> Number:
        """Lower confidence bound(s)."""
        return _out(self.coefs.ci_lb, self.scalar)

    @property
    def ci_ub(self) -> Number:
        """Upper confidence bound(s)."""
        return _out(self.coefs.ci_ub, self.scalar)

    @property
    def vb(self) -> FloatArray:
        """Covariance matrix of the coefficients."""
        return self.coefs.vb

    @property
    def s2w(self) -> float:
        """Knapp-Hartung scale factor (1 for z and t tests)."""
        return self.coefs.s2w

    @property
    def ddf(self) -> int | None:
        """Degrees of freedom of the t/F tests (None for z)."""
        return self.coefs.ddf

    @property
    def qm(self) -> float:
        """Omnibus test of the coefficients in ``btt`` (Q_M, or F for t-type tests)."""
        return self.coefs.qm

    @property
    def qm_p(self) -> float:
        """p-value of the omnibus test."""
        return self.coefs.qm_p

    @property
    def qm_df(self) -> tuple[int, int | None]:
        """Degrees of freedom of the omnibus test."""
        return self.coefs.qm_df

    @property
    def knha_adhoc(self) -> bool:
        """Whether the Knapp-Hartung ad hoc correction (s² >= 1) is in use."""
        return self.test == "adhoc"

    @property
    def df(self) -> int:
        """Residual degrees of freedom k - p."""
        return self.k - self.p

    @property
    def tau(self) -> float:
        """Square root of tau²."""
        return math.sqrt(self.tau2)

    @property
    def weights(self) -> FloatArray:
        """Percentage weights ``100 w_i / sum(w)``, ``w = 1/(v + tau²)``."""
        w = 1.0 / (self.vi + self.tau2)
        out: FloatArray = 100.0 * w / w.sum()
        return out

    # metafor-style aliases
    QE = property(lambda self: self.qe, doc="Alias of ``qe``.")
    QEp = property(lambda self: self.qe_p, doc="Alias of ``qe_p``.")
    I2 = property(lambda self: self.i2, doc="Alias of ``i2``.")
    H2 = property(lambda self: self.h2, doc="Alias of ``h2``.")
    QM = property(lambda self: self.qm, doc="Alias of ``qm``.")
    QMp = property(lambda self: self.qm_p, doc="Alias of ``qm_p``.")
    qe_pval = property(lambda self: self.qe_p, doc="Alias of ``qe_p``.")

    # ------------------------------------------------------------------ refits
    def refit(
        self,
        yi: FloatArray,
        vi: FloatArray,
        X: FloatArray | None = None,
        *,
        method: str | None = None,
        test: str | None = None,
        level: float | None = None,
        control: Control | str | Mapping[str, Any] | None = None,
        ni: FloatArray | None = None,
        measure: str | None = None,
        keep_tau2: bool = True,
    ) -> RMAResult:
        """Fit the same kind of model (method, test, level, control) to other data.

        Parameters
        ----------
        yi, vi : ndarray
            Estimates and sampling variances of the new data.
        X : ndarray, optional
            Full model matrix (intercept column included); default intercept only.
        method, test, level, control, measure : optional
            Override this model's settings (None keeps them).
        ni : ndarray, optional
            Study sizes of the new data.
        keep_tau2 : bool
            Whether a fixed tau² stays fixed (default); False estimates tau² with ``method``.
        """
        mods = None if X is None else X
        return rma(
            yi,
            vi,
            mods=mods,
            intercept=X is None,
            method=method or self.method,
            test=test or self.test,
            level=self.level if level is None else level,
            control=self.control if control is None else control,
            ni=ni,
            measure=self.measure if measure is None else measure,
            tau2=self.tau2 if (self.tau2_fixed and keep_tau2) else None,
        )

    # ------------------------------------------------------------------ prediction
    def predict(
        self,
        newmods: Any = None,
        transf: str | Transform | None = None,
        targs: Mapping[str, Any] | None = None,
        level: float | None = None,
        intercept: bool = True,
        pi_type: str = "default",
    ) -> Prediction:
        """Predicted values with confidence and prediction intervals (metafor ``predict.rma``).

        ``PI = pred +- crit sqrt(SE(pred)² + tau²)`` with ``crit`` from N(0, 1) for test="z" and
        from t_{k-p} otherwise (then with the Knapp-Hartung SE); ``pi_type="riley"`` uses
        t_{k-p-1} (Riley et al. 2011).

        Parameters
        ----------
        newmods : array_like, optional
            Moderator values (without the intercept column) at which to predict; default the
            pooled estimate (no moderators) or the fitted values (meta-regression).
        transf : str or callable, optional
            Back-transformation: ``"ilogit"``, ``"exp"``, ``"iarcsin"``/``"isqrt_sin"``,
            ``"ipft_hm"``/``"ift_hm"``, ``"auto"`` (by measure) or a function.
        targs : mapping, optional
            ``{"ni": ...}`` for ``"ipft_hm"`` (default: the fit's study sizes).
        level : float, optional
            Confidence level (default: the fit's).
        intercept : bool
            Whether ``newmods`` rows get the intercept.
        pi_type : {"default", "riley"}
            Prediction interval type.
        """
        lev = self.level if level is None else _level(level)
        if newmods is None:
            Xn = np.ones((1, 1)) if self.int_only else self.X
        else:
            nm = np.asarray(newmods, dtype=float)
            q = self.p - (1 if self.has_intercept and intercept else 0)
            if nm.ndim == 0 or (nm.ndim == 1 and q != 1):
                nm = nm.reshape(1, -1)
            elif nm.ndim == 1:
                nm = nm[:, None]
            if nm.shape[1] != q:
                raise InputError(f"newmods needs {q} column(s)", "newmods")
            Xn = (
                np.column_stack([np.ones(nm.shape[0]), nm])
                if (self.has_intercept and intercept)
                else nm
            )
        pred = Xn @ self.coefs.beta
        vpred = np.einsum("ij,jk,ik->i", Xn, self.coefs.vb, Xn)
        se = np.sqrt(np.where(vpred < 0, np.nan, vpred))
        crit = critical_value(self.test, lev, self.ddf)
        ci_lb, ci_ub = pred - crit * se, pred + crit * se
        if pi_type == "riley":
            pcrit = float(stats.t.isf((1 - lev) / 2, max(1, self.k - self.p - 1)))
        else:
            pcrit = crit
        pse = np.sqrt(vpred + self.tau2)
        pi_lb, pi_ub = pred - pcrit * pse, pred + pcrit * pse
        fn = resolve_transform(transf, targs, self.ni, self.measure)
        if fn is not None:
            pred, ci_lb, ci_ub, pi_lb, pi_ub = (
                np.asarray(fn(a), float) for a in (pred, ci_lb, ci_ub, pi_lb, pi_ub)
            )
            se = np.full_like(pred, np.nan)
            ci_lb, ci_ub = np.minimum(ci_lb, ci_ub), np.maximum(ci_lb, ci_ub)
            pi_lb, pi_ub = np.minimum(pi_lb, pi_ub), np.maximum(pi_lb, pi_ub)
        scalar = Xn.shape[0] == 1 and (self.int_only or newmods is not None)
        name = transf if (transf is None or isinstance(transf, str)) else "custom"
        return Prediction(
            _out(pred, scalar),
            _out(se, scalar),
            _out(ci_lb, scalar),
            _out(ci_ub, scalar),
            _out(pi_lb, scalar),
            _out(pi_ub, scalar),
            name,
        )

    def fitted(self) -> FloatArray:
        """Fitted values ``X beta``."""
        out: FloatArray = self.X @ self.coefs.beta
        return out

    def residuals(self) -> FloatArray:
        """Raw residuals ``y - X beta``."""
        return self.yi - self.fitted()

    def blup(self) -> FloatArray:
        """Best linear unbiased predictions of the true effects (fixed part + random effect)."""
        lam = self.tau2 / (self.tau2 + self.vi)
        out: FloatArray = self.fitted() + lam * self.residuals()
        return out

    # ------------------------------------------------------------------ delegated analyses
    def confint_tau2(
        self,
        level: float | None = None,
        tol: float = R_UNIROOT_TOL,
        maxiter: int = 1000,
        tau2_min: float | None = None,
        tau2_max: float | None = None,
    ) -> tuple[float, float]:
        """Q-profile confidence interval of tau² (see :func:`.confint.confint_tau2`)."""
        ci = self.confint(level, tol=tol, maxiter=maxiter, tau2_min=tau2_min, tau2_max=tau2_max)
        return (ci.tau2_lb, ci.tau2_ub)

    def confint(
        self,
        level: float | None = None,
        tol: float = R_UNIROOT_TOL,
        maxiter: int = 1000,
        tau2_min: float | None = None,
        tau2_max: float | None = None,
    ) -> HeterogeneityCI:
        """Q-profile intervals of tau², tau, I² and H² (see :func:`.confint.confint_tau2`)."""
        from .confint import confint_tau2

        return confint_tau2(
            self,
            level=level,
            tol=tol,
            maxiter=maxiter,
            tau2_min=tau2_min,
            tau2_max=tau2_max,
        )

    def leave1out(
        self,
        transf: str | Transform | None = None,
        targs: Mapping[str, Any] | None = None,
    ) -> CaseDeletion:
        """Leave-one-out refits (see :func:`.diagnostics.leave1out`)."""
        from .diagnostics import leave1out

        return leave1out(self, transf=transf, targs=targs)

    def cumul(
        self,
        order: npt.ArrayLike | None = None,
        decreasing: bool = False,
        transf: str | Transform | None = None,
        targs: Mapping[str, Any] | None = None,
    ) -> CaseDeletion:
        """Cumulative meta-analysis (see :func:`.diagnostics.cumul`)."""
        from .diagnostics import cumul

        return cumul(self, order=order, decreasing=decreasing, transf=transf, targs=targs)

    def influence(self) -> InfluenceResult:
        """Case-deletion influence diagnostics (see :func:`.diagnostics.influence`)."""
        from .diagnostics import influence

        return influence(self)

    def regtest(self, model: str = "rma", predictor: str = "sei") -> RegtestResult:
        """Egger-type regression test (see :func:`.bias.regtest`)."""
        from .bias import regtest

        return regtest(self, model=model, predictor=predictor)

    def trimfill(
        self,
        side: str | None = None,
        estimator: str = "L0",
        maxiter: int = 100,
        control: Control | str | None = "metafor",
    ) -> TrimfillResult:
        """Trim-and-fill (see :func:`.bias.trimfill`)."""
        from .bias import trimfill

        return trimfill(self, side=side, estimator=estimator, maxiter=maxiter, control=control)

    def gosh(
        self,
        subsets: int | None = None,
        max_subsets: int = 1_000_000,
        seed: Any = None,
        chunk_size: int = 1 << 14,
        n_jobs: int | None = None,
    ) -> GoshResult:
        """GOSH: fits to all (or sampled) subsets (see :func:`.gosh.gosh`)."""
        from .gosh import gosh

        return gosh(
            self,
            subsets=subsets,
            max_subsets=max_subsets,
            seed=seed,
            chunk_size=chunk_size,
            n_jobs=n_jobs,
        )

    def summary(self) -> str:
        """Return a short text summary in the spirit of metafor's print method."""
        lines = [
            f"{'Equal' if self.method == 'EE' else 'Random'}-effects model (k = {self.k}; "
            f"tau^2 estimator: {self.method}; test: {self.test})",
            f"tau^2 = {self.tau2:.4f} (SE = {self.se_tau2:.4f}); I^2 = {self.i2:.2f}%; "
            f"H^2 = {self.h2:.2f}",
            f"Q({self.df}) = {self.qe:.4f}, p = {self.qe_p:.4g}",
        ]
        for j in range(self.p):
            c = self.coefs
            lines.append(
                f"b[{j}] = {c.beta[j]:.4f} (SE {c.se[j]:.4f}), {self.test} = {c.zval[j]:.4f}, "
                f"p = {c.pval[j]:.4g}, CI [{c.ci_lb[j]:.4f}, {c.ci_ub[j]:.4f}]"
            )
        return "\n".join(lines)


def _level(level: float) -> float:
    lev = float(level)
    if lev > 1:
        lev /= 100.0
    if not 0 < lev < 1:
        raise InputError("level must be in (0, 1) or (0, 100)", "level")
    return lev


def _test_name(test: str, knha_adhoc: bool) -> str:
    t = str(test).lower()
    if t == "hksj":
        t = "knha"
    if t not in TESTS:
        raise InputError(f"unknown test {test!r}; use z, t, knha or adhoc", "test")
    if knha_adhoc:
        if t not in ("knha", "adhoc"):
            raise InputError("knha_adhoc=True needs test='knha'", "knha_adhoc")
        t = "adhoc"
    return t


def heterogeneity(
    yi: FloatArray, vi: FloatArray, X: FloatArray, tau2: float, is_ee: bool
) -> tuple[float, float, float, float, float]:
    """``(QE, QE p-value, I², H², vt)`` as metafor (see module docstring)."""
    het = kernel.heterogeneity(kernel.design(yi, vi, X=X), np.array([float(tau2)]), is_ee)
    return (
        float(het.qe[0]),
        float(het.qe_p[0]),
        float(het.i2[0]),
        float(het.h2[0]),
        float(het.vt[0]),
    )


def _r2_equal_effects(
    y: FloatArray, v: FloatArray, X: FloatArray, beta: FloatArray
) -> float | None:
    """Return metafor's equal-effects meta-regression R²: ``max(0, 100 adj. R²)`` of the WLS fit.

    ``beta`` is the equal-effects estimate, i.e. the weighted least-squares fit of y on X with
    weights 1/v. As R's ``summary.lm``: ``R² = MSS / (MSS + RSS)`` with the weighted sums of
    squares about the weighted mean, adjusted by ``(k - 1) / (k - p)``. None when k = p (no
    residual degrees of freedom: R's adjusted R² is then undefined).
    """
    k, p = X.shape
    if bool(np.all(y == y[0])):  # metafor: identical(var(yi), 0)
        return 0.0
    if k <= p:
        return None
    w = 1.0 / v
    fitted = X @ beta
    mss = float(np.sum(w * (fitted - np.sum(w * fitted) / np.sum(w)) ** 2))
    rss = float(np.sum(w * (y - fitted) ** 2))
    adj = 1.0 - (1.0 - mss / (mss + rss)) * float(k - 1) / float(k - p)
    return max(0.0, 100.0 * adj)


def _observations(
    yi: Any, vi: Any, sei: Any, ni: Any, measure: str | None
) -> tuple[FloatArray, FloatArray, FloatArray | None, str | None]:
    """Return ``(y, v, ni, measure)``: the estimates with checked variances (``vi`` or ``sei²``).

    An :class:`EscalcResult` as ``yi`` supplies ``vi``, ``ni`` and ``measure`` where not given;
    study sizes of the wrong length are ignored.
    """
    if isinstance(yi, EscalcResult):
        es = yi
        yi, vi = es.yi, es.vi if vi is None else vi
        ni = es.ni if ni is None else ni
        measure = es.measure if measure is None else measure
    y = as_vector(yi, "yi")
    if vi is None:
        if sei is None:
            raise InputError("give vi (sampling variances) or sei", "vi")
        v = as_vector(sei, "sei") ** 2
    else:
        v = as_vector(vi, "vi")
    if v.size != y.size:
        raise InputError(f"vi has {v.size} values but yi has {y.size}", "vi")
    if np.any(v < 0):
        raise InputError("sampling variances must be >= 0", "vi")
    n_arr = None if ni is None else as_vector(ni, "ni")
    if n_arr is not None and n_arr.size != y.size:
        n_arr = None
    return y, v, n_arr, measure


def _check_estimable(k: int, p: int, v: FloatArray, meth: str, fixed_tau2: float | None) -> None:
    """Refuse a model that cannot be fitted: too few studies, or zero variances at tau² = 0.

    Too few: none at all, one for an estimated tau², or fewer studies than parameters to
    estimate (the coefficients, and tau² when it is estimated). ``fixed_tau2`` is the fixed
    tau² of a random-effects model (None when tau² is estimated or the model is EE).
    """
    fixed = fixed_tau2 is not None
    estimated = meth != "EE" and not fixed
    if k == 0:
        raise InputError("no studies to analyse", "yi")
    if estimated and k < 2:
        raise InputError("a random-effects model needs k >= 2 studies", "yi")
    if (not estimated and p > k) or (estimated and p + 1 > k):
        raise InputError("more parameters to estimate than studies", "mods")
    if np.any(v == 0) and (meth == "EE" or fixed_tau2 == 0):
        raise InputError("sampling variances of 0 need tau2 > 0", "vi")


def _omnibus_coefficients(btt: Sequence[int] | None, p: int, has_int: bool) -> list[int]:
    """Return the coefficients in the omnibus test: ``btt``, or all but the intercept."""
    if btt is None:
        return list(range(1, p)) if (has_int and p > 1) else list(range(p))
    bt = sorted({int(b) for b in btt})
    if not bt or min(bt) < 0 or max(bt) >= p:
        raise InputError(f"btt must index coefficients 0..{p - 1}", "btt")
    return bt


def _r2(
    y: FloatArray,
    v: FloatArray,
    X: FloatArray,
    beta: FloatArray,
    t2: float,
    meth: str,
    con: Control,
    fixed: bool,
) -> float | None:
    """Return R² in % of a meta-regression with an intercept (see the module docstring).

    Equal effects: :func:`_r2_equal_effects`; random effects: the pseudo R² from the
    intercept-only tau² with the same estimator (0 when that fit fails or tau² is 0); None for
    a fixed tau².
    """
    if meth == "EE":
        return _r2_equal_effects(y, v, X, beta)
    if fixed:
        return None
    try:
        t2_re = estimate_tau2(y, v, np.ones((y.size, 1)), meth, con).tau2
    except InputError:
        t2_re = math.nan
    return 0.0 if t2_re == 0 else max(0.0, 100.0 * (t2_re - t2) / t2_re)


def _log_likelihood(y: FloatArray, v: FloatArray, fitted: FloatArray, t2: float) -> float:
    """Return the (unrestricted) log-likelihood of the model at tau² = ``t2``."""
    k = y.size
    w = 1.0 / (v + t2)
    resid = y - fitted
    return float(
        -0.5 * k * math.log(2 * math.pi) - 0.5 * np.sum(np.log(v + t2)) - 0.5 * np.sum(w * resid**2)
    )


def rma(
    yi: Any,
    vi: Any = None,
    *,
    sei: Any = None,
    mods: Any = None,
    intercept: bool = True,
    method: str = "REML",
    test: str = "z",
    knha_adhoc: bool = False,
    level: float = 95,
    btt: Sequence[int] | None = None,
    control: Control | str | Mapping[str, Any] | None = None,
    tau2: float | None = None,
    ni: Any = None,
    measure: str | None = None,
) -> RMAResult:
    """Fit an equal-, random- or mixed-effects meta-analysis model (metafor ``rma.uni``).

    Parameters
    ----------
    yi : array_like or EscalcResult
        Estimates (an :class:`EscalcResult` also supplies ``vi``, ``ni`` and ``measure``).
    vi, sei : array_like
        Sampling variances (or standard errors).
    mods : array_like, optional
        Moderators, k x q (a vector is one moderator); an intercept is added unless
        ``intercept=False``.
    method : str
        tau² estimator: EE (alias FE), DL, HE, HS, HSk, SJ, ML, REML (default), EB, PM.
    test : {"z", "t", "knha", "adhoc"}
        Inference for the coefficients; ``"knha"`` = Hartung-Knapp-Sidik-Jonkman;
        ``knha_adhoc=True`` (or ``test="adhoc"``) applies the ad hoc correction ``s² >= 1``.
    level : float
        Confidence level, 95 or 0.95.
    btt : sequence of int, optional
        Coefficients (0-based) in the omnibus test (default: all but the intercept).
    control : None, "tight", "metafor" or mapping
        Iteration settings (:mod:`.control`); the default converges to the optimum, "metafor"
        reproduces metafor 3.8-1's default early stopping.
    tau2 : float, optional
        Fix tau² at this value instead of estimating it.
    ni : array_like, optional
        Study sizes (for the PFT back-transform).
    measure : str, optional
        Label of the outcome measure (for ``predict(transf="auto")``).

    Returns
    -------
    RMAResult

    Raises
    ------
    InputError
        Bad input (negative variances, k < 2 for a random-effects model, unknown method/test,
        more coefficients than studies), or an estimator that does not converge.
    """
    y, v, n_arr, measure = _observations(yi, vi, sei, ni, measure)
    M = as_mods(mods, y.size)
    y, v, M, n_arr, ok = drop_missing(y, v, M, n_arr)
    meth = canonical_method(method)
    tst = _test_name(test, knha_adhoc)
    lev = _level(level)
    con = resolve_control(control)
    k = y.size
    X, has_int = model_matrix(M, k, intercept)
    p = X.shape[1]
    int_only = p == 1 and has_int
    fixed = tau2 is not None and meth != "EE"
    _check_estimable(k, p, v, meth, tau2 if fixed else None)
    if k == 1 and tst != "z":
        warnings.warn("k = 1: using test='z' (as metafor)", UserWarning, stacklevel=2)
        tst = "z"
    est = Tau2Estimate(float(tau2 or 0.0), math.nan) if fixed else estimate_tau2(y, v, X, meth, con)
    t2 = est.tau2
    if meth == "EE" and tst in ("knha", "adhoc"):
        warnings.warn(
            "the Knapp-Hartung method is meant for random-effects models", UserWarning, stacklevel=2
        )
    bt = _omnibus_coefficients(btt, p, has_int)
    coefs = fixed_effects(y, v, X, t2, tst, lev, bt)
    qe, qe_p, i2, h2, vt = heterogeneity(y, v, X, t2, meth == "EE")
    r2 = None
    if not int_only and has_int:
        r2 = _r2(y, v, X, coefs.beta, t2, meth, con, fixed)
    ll = _log_likelihood(y, v, X @ coefs.beta, t2)
    scalar = M is None and int_only
    return RMAResult(
        yi=y,
        vi=v,
        X=X,
        method=meth,
        test=tst,
        level=lev,
        control=con,
        coefs=coefs,
        tau2=t2,
        se_tau2=est.se_tau2,
        qe=qe,
        qe_p=qe_p,
        i2=i2,
        h2=h2,
        vt=vt,
        r2=r2,
        ll=ll,
        iterations=est.iterations,
        int_only=int_only,
        has_intercept=has_int,
        btt=tuple(bt),
        tau2_fixed=fixed,
        measure=measure or "GEN",
        ni=n_arr,
        scalar=scalar,
        omitted=~ok if not np.all(ok) else None,
    )
