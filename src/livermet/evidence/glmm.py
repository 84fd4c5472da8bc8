"""The binomial-normal random-effects model for proportions (metafor ``rma.glmm(measure="PLO")``).

``x_i ~ Bin(n_i, pi_i)``, ``logit(pi_i) = x_i' beta + u_i``, ``u_i ~ N(0, tau²)``, fitted by maximum
likelihood with the marginal likelihood integrated by adaptive Gauss-Hermite quadrature
(``nagq = 7`` points, metafor 3.8-1's default, which hands the model to ``lme4::glmer``) or by the
Laplace approximation (``nagq = 1``). Unlike the normal-normal model of :func:`.rma.rma` on
logits, it uses the exact binomial likelihood of each series: no continuity correction for 0 or n
events and no weights from estimated variances (Stijnen, Hamza & Özdemir 2010).

Reported as metafor: ``beta`` with ``se`` (from the Hessian of the deviance, as lme4's
``vcov``), z (or t) tests and intervals, ``tau2``, the omnibus test ``QM`` of the moderators,
prediction intervals ``pred ± crit sqrt(SE² + tau²)``, the Wald and likelihood-ratio tests for
heterogeneity ``QE.Wld`` and ``QE.LRT`` on ``k - p`` degrees of freedom (fixed-effects logistic
model against the saturated model, :mod:`.glmm_glm`), and ``I²``/``H²`` from tau² and the typical
within-study variance of the logits (``vi`` of ``escalc("PLO")`` with 1/2 added to series with
0 or n events, as metafor). Methods: docs/evidence.md#binomial-normal-glmm.

References
----------
Stijnen, T., Hamza, T. H. & Özdemir, P. (2010). Random effects meta-analysis of event outcome in
the framework of the generalized linear mixed model with applications in sparse data. *Stat.
Med.* 29, 3046-3067. doi:10.1002/sim.3964. Viechtbauer, W. (2010). Conducting meta-analyses in R
with the metafor package. *JSS* 36(3). doi:10.18637/jss.v036.i03. metafor ``?rma.glmm``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import expit

from livermet.errors import InputError, LivermetError

from .design import as_mods, as_vector, model_matrix
from .escalc import escalc
from .glmer_path import BOUNDARY_TOL, fit_as_glmer, scale_as_metafor
from .glmm_fit import Objective, Optimum, beta_covariance, minimise, objective
from .glmm_glm import fixed_effects_glm, saturated_glm, wald_heterogeneity
from .glmm_quad import conditional_modes, deviance_residuals
from .heterogeneity import i2_h2, typical_variance

FloatArray = npt.NDArray[np.float64]

NAGQ_DEFAULT = 7
"""Quadrature points: metafor 3.8-1 ``rma.glmm(nAGQ = 7)`` (``?rma.glmm``)."""
OPTIMIZERS = ("metafor", "converged")
"""``metafor``: glmer's default path, which stops a few 1e-6 short of the maximum but gives
metafor's numbers to the last printed digit (:mod:`.glmer_path`); ``converged``: Newton steps to
the maximum itself (:mod:`.glmm_fit`)."""
OPTIMIZER_DEFAULT = "metafor"
GLMM_TESTS = ("z", "t")


@dataclass(frozen=True)
class GLMMPrediction:
    """Predicted logits (or proportions after ``transf="ilogit"``) with CI and PI."""

    pred: FloatArray
    se: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    pi_lb: FloatArray
    pi_ub: FloatArray
    transf: str | None = None


@dataclass(frozen=True)
class GLMMResult:
    """A fitted binomial-normal model; see :func:`rma_glmm`. Arrays: intercept first.

    ``ll`` is the maximised (quadrature) log-likelihood with the binomial coefficients;
    ``ll_metafor`` is what metafor 3.8-1 reports as ``fit.stats["ll", "ML"]``: the saturated
    model's log-likelihood minus half lme4's ``deviance()``, which for a GLMM is the conditional
    deviance (deviance residuals at the conditional modes), not the marginal one.

    ``warnings``: what the fit warned about (also issued as Python ``UserWarning``): metafor
    cannot fit the data with its defaults and the estimates are the converged maximum, lme4's
    Hessian is not positive definite, the fit did not converge. Empty when none.
    """

    xi: FloatArray
    ni: FloatArray
    X: FloatArray
    nagq: int
    test: str
    level: float
    beta: FloatArray
    vb: FloatArray
    tau2: float
    qe_wld: float
    qe_wld_p: float
    qe_lrt: float
    qe_lrt_p: float
    qm: float
    qm_p: float
    btt: tuple[int, ...]
    i2: float
    h2: float
    vt: float
    ll: float
    ll_metafor: float
    ll_fe: float
    ll_saturated: float
    iterations: int
    converged: bool
    has_intercept: bool
    names: tuple[str, ...]
    optimizer: str = OPTIMIZER_DEFAULT
    warnings: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        """Number of series."""
        return int(self.xi.size)

    @property
    def p(self) -> int:
        """Number of coefficients."""
        return int(self.X.shape[1])

    @property
    def qe_df(self) -> int:
        """Degrees of freedom of the heterogeneity tests, ``k - p``."""
        return self.k - self.p

    @property
    def ddf(self) -> int | None:
        """Degrees of freedom of the t tests (None for z)."""
        return None if self.test == "z" else self.k - self.p

    @property
    def crit(self) -> float:
        """Critical value of the intervals (normal, or t with k - p df)."""
        q = 1.0 - (1.0 - self.level) / 2.0
        ddf = self.ddf
        return float(stats.norm.ppf(q) if ddf is None else stats.t.ppf(q, ddf))

    @property
    def se(self) -> FloatArray:
        """Standard errors of the coefficients."""
        d = np.diag(self.vb)
        out: FloatArray = np.sqrt(np.where(d >= 0, d, np.nan))
        return out

    @property
    def zval(self) -> FloatArray:
        """Test statistics (z or t)."""
        out: FloatArray = self.beta / self.se
        return out

    @property
    def pval(self) -> FloatArray:
        """Two-sided p-values."""
        z = np.abs(self.zval)
        ddf = self.ddf
        out: FloatArray = 2.0 * (stats.norm.sf(z) if ddf is None else stats.t.sf(z, ddf))
        return out

    @property
    def ci_lb(self) -> FloatArray:
        """Lower confidence bounds."""
        out: FloatArray = self.beta - self.crit * self.se
        return out

    @property
    def ci_ub(self) -> FloatArray:
        """Upper confidence bounds."""
        out: FloatArray = self.beta + self.crit * self.se
        return out

    @property
    def tau(self) -> float:
        """Square root of tau²."""
        return math.sqrt(self.tau2)

    @property
    def int_only(self) -> bool:
        """Whether the model has no moderators."""
        return self.p == 1 and self.has_intercept

    def predict(
        self, newmods: Any = None, transf: str | None = None, intercept: bool = True
    ) -> GLMMPrediction:
        """Predicted values with confidence and prediction intervals (metafor ``predict.rma``).

        Parameters
        ----------
        newmods : array_like, optional
            Moderator values (without the intercept) to predict at; default the pooled estimate
            (no moderators) or the fitted values of the series.
        transf : {None, "ilogit"}
            ``"ilogit"`` back-transforms to proportions.
        intercept : bool
            Whether ``newmods`` rows get the intercept.
        """
        Xn = self._newdata(newmods, intercept)
        pred = Xn @ self.beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", Xn, self.vb, Xn))
        c = self.crit
        pse = np.sqrt(se * se + self.tau2)
        out = [pred, pred - c * se, pred + c * se, pred - c * pse, pred + c * pse]
        if transf is None:
            return GLMMPrediction(out[0], se, out[1], out[2], out[3], out[4])
        if transf != "ilogit":
            raise InputError(f"unknown transformation {transf!r}; use 'ilogit'", "transf")
        b = [np.asarray(expit(a), dtype=float) for a in out]
        return GLMMPrediction(b[0], np.full_like(se, np.nan), b[1], b[2], b[3], b[4], "ilogit")

    def _newdata(self, newmods: Any, intercept: bool) -> FloatArray:
        if newmods is None:
            return np.ones((1, 1)) if self.int_only else self.X
        nm = np.asarray(newmods, dtype=float)
        q = self.p - (1 if self.has_intercept and intercept else 0)
        nm = (
            nm.reshape(1, -1)
            if nm.ndim <= 1 and q != 1
            else nm.reshape(-1, 1)
            if nm.ndim <= 1
            else nm
        )
        if nm.shape[1] != q:
            raise InputError(f"newmods needs {q} column(s)", "newmods")
        if self.has_intercept and intercept:
            return np.column_stack([np.ones(nm.shape[0]), nm])
        return nm

    def summary(self) -> str:
        """Return a short text summary in the spirit of metafor's print method."""
        how = "Laplace" if self.nagq == 1 else f"adaptive Gauss-Hermite, {self.nagq} points"
        lines = [
            f"Random-effects model (k = {self.k}; binomial-normal, ML; {how}; test: {self.test})",
            optimizer_note(self.optimizer, self.warnings),
            f"tau^2 = {self.tau2:.4f}; I^2 = {self.i2:.2f}%; H^2 = {self.h2:.2f}",
            f"Wld({self.qe_df}) = {self.qe_wld:.4f}, p = {self.qe_wld_p:.4g}; "
            f"LRT({self.qe_df}) = {self.qe_lrt:.4f}, p = {self.qe_lrt_p:.4g}",
        ]
        se, z, pv, lo, hi = self.se, self.zval, self.pval, self.ci_lb, self.ci_ub
        for j, name in enumerate(self.names):
            lines.append(
                f"{name}: {self.beta[j]:.4f} (SE {se[j]:.4f}), {self.test} = {z[j]:.4f}, "
                f"p = {pv[j]:.4g}, CI [{lo[j]:.4f}, {hi[j]:.4f}]"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Return the fit as JSON-ready values (logit scale; the pooled proportion if no mods)."""
        data: dict[str, Any] = {
            "model": "binomial-normal GLMM (ML)",
            "measure": "PLO",
            "nagq": self.nagq,
            "approximation": "Laplace" if self.nagq == 1 else "adaptive Gauss-Hermite",
            "test": self.test,
            "level": self.level,
            "k": self.k,
            "coefficients": [
                {
                    "name": nm,
                    "estimate": float(b),
                    "se": float(s),
                    "zval": float(z),
                    "pval": float(p),
                    "ci_lb": float(lo),
                    "ci_ub": float(hi),
                }
                for nm, b, s, z, p, lo, hi in zip(
                    self.names,
                    self.beta,
                    self.se,
                    self.zval,
                    self.pval,
                    self.ci_lb,
                    self.ci_ub,
                    strict=True,
                )
            ],
            "tau2": self.tau2,
            "i2": self.i2,
            "h2": self.h2,
            "qe_wld": self.qe_wld,
            "qe_wld_p": self.qe_wld_p,
            "qe_lrt": self.qe_lrt,
            "qe_lrt_p": self.qe_lrt_p,
            "qe_df": self.qe_df,
            "qm": self.qm,
            "qm_p": self.qm_p,
            "loglik": self.ll,
            "loglik_metafor": self.ll_metafor,
            "converged": self.converged,
            "optimizer": self.optimizer,
            "warnings": list(self.warnings),
        }
        if self.int_only:
            logit, prop = self.predict(), self.predict(transf="ilogit")
            data["pooled_logit"] = _interval_dict(logit)
            data["pooled_proportion"] = _interval_dict(prop)
        return data

    # metafor-style aliases
    QE_Wld = property(lambda self: self.qe_wld, doc="Alias of ``qe_wld``.")
    QEp_Wld = property(lambda self: self.qe_wld_p, doc="Alias of ``qe_wld_p``.")
    QE_LRT = property(lambda self: self.qe_lrt, doc="Alias of ``qe_lrt``.")
    QEp_LRT = property(lambda self: self.qe_lrt_p, doc="Alias of ``qe_lrt_p``.")


def _interval_dict(pr: GLMMPrediction) -> dict[str, float]:
    return {
        "estimate": float(pr.pred[0]),
        "ci_lb": float(pr.ci_lb[0]),
        "ci_ub": float(pr.ci_ub[0]),
        "pi_lb": float(pr.pi_lb[0]),
        "pi_ub": float(pr.pi_ub[0]),
    }


# ---------------------------------------------------------------------------------------- input
def _counts(xi: Any, ni: Any) -> tuple[FloatArray, FloatArray]:
    """Events and totals as whole numbers, ``0 <= x <= n``, ``n >= 1``; InputError otherwise."""
    x, n = as_vector(xi, "xi"), as_vector(ni, "ni")
    if x.size != n.size:
        raise InputError(f"{x.size} event counts for {n.size} series", "xi")
    for arr, name, what in ((x, "xi", "events"), (n, "ni", "patients")):
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{what} must be given for every series (no missing values)", name)
        bad = np.flatnonzero(arr != np.round(arr))
        if bad.size:
            raise InputError(
                f"{what} must be whole patients (series {bad[0] + 1}: {arr[bad[0]]:g}); a "
                "binomial model counts patients, so round S·n first",
                name,
            )
    if np.any(x < 0):
        raise InputError(f"events must be >= 0 (series {np.flatnonzero(x < 0)[0] + 1})", "xi")
    if np.any(n < 1):
        raise InputError(f"patients must be >= 1 (series {np.flatnonzero(n < 1)[0] + 1})", "ni")
    if np.any(x > n):
        i = int(np.flatnonzero(x > n)[0])
        raise InputError(f"events {x[i]:g} exceed patients {n[i]:g} (series {i + 1})", "xi")
    if np.all(x == 0) or np.all(x == n):
        raise InputError(
            "every series has 0 events (or every patient an event): the pooled logit is infinite",
            "xi",
        )
    return x, n


def _options(nagq: int, test: str, level: float) -> tuple[int, str, float]:
    if isinstance(nagq, bool) or int(nagq) != nagq or not 1 <= int(nagq) <= 100:
        raise InputError(
            f"nagq must be a whole number from 1 (Laplace) to 100, got {nagq!r}", "nagq"
        )
    t = str(test).lower()
    if t not in GLMM_TESTS:
        raise InputError(f"the binomial-normal GLMM supports tests z and t, not {test!r}", "test")
    lev = float(level) / 100.0 if float(level) > 1 else float(level)
    if not 0 < lev < 1:
        raise InputError("level must be in (0, 1) or (0, 100)", "level")
    return int(nagq), t, lev


def _scaling(X: FloatArray, has_intercept: bool) -> FloatArray:
    """Return the matrix M of metafor's ``scaleX``: ``beta = M beta_scaled``.

    Moderators other than 0/1 dummies are centred and divided by their standard deviation for the
    fit; M undoes it.
    """
    p = X.shape[1]
    M = np.eye(p)
    if not has_intercept or p == 1:
        return M
    for j in range(1, p):
        col = X[:, j]
        if np.all((np.abs(col) < DUMMY_TOL) | (np.abs(col - 1.0) < DUMMY_TOL)):
            continue
        mean, sd = float(col.mean()), float(col.std(ddof=1))
        if sd > 0:
            M[j, j] = 1.0 / sd
            M[0, j] = -mean / sd
    return M


DUMMY_TOL = 1e-8
"""A column whose values are all within this of 0 or 1 is a dummy, not scaled (metafor
``.is.dummy``)."""
EVTOL = 1e-7
"""Smallest eigenvalue of X'X accepted (metafor 3.8-1 ``rma.glmm(control = list(evtol))``)."""


def _check_full_rank(X: FloatArray) -> None:
    """Refuse a design metafor refuses ("Model matrix not of full rank. Cannot fit model.")."""
    smallest = float(np.linalg.eigvalsh(X.T @ X).min())
    if smallest <= EVTOL:
        raise InputError(
            "the moderators are not of full rank (collinear with each other or the intercept, "
            f"or too small in scale: smallest eigenvalue of X'X {smallest:.3g}, must exceed "
            f"{EVTOL:g} as in metafor); drop or rescale a moderator",
            "mods",
        )


def _btt(btt: Sequence[int] | None, p: int, has_intercept: bool) -> tuple[int, ...]:
    if btt is None:
        return tuple(range(1 if (has_intercept and p > 1) else 0, p))
    idx = tuple(int(b) for b in btt)
    if not idx or any(not 0 <= b < p for b in idx):
        raise InputError(f"btt must index coefficients 0..{p - 1}", "btt")
    return idx


def _omnibus(
    beta: FloatArray, vb: FloatArray, btt: tuple[int, ...], ddf: int | None
) -> tuple[float, float]:
    b = beta[list(btt)]
    qm = float(b @ np.linalg.solve(vb[np.ix_(btt, btt)], b))
    m = len(btt)
    if ddf is None:
        return qm, float(stats.chi2.sf(qm, m))
    return qm / m, float(stats.f.sf(qm / m, m, ddf)) if ddf > 0 else math.nan


def _chi2_sf(q: float, df: int) -> float:
    return float(stats.chi2.sf(q, df)) if df > 0 else 1.0


# ---------------------------------------------------------------------------------------- fit
def rma_glmm(
    xi: Any,
    ni: Any,
    mods: Any = None,
    *,
    intercept: bool = True,
    nagq: int = NAGQ_DEFAULT,
    test: str = "z",
    level: float = 95,
    btt: Sequence[int] | None = None,
    mod_names: Sequence[str] | None = None,
    optimizer: str = OPTIMIZER_DEFAULT,
) -> GLMMResult:
    """Fit the binomial-normal model to ``xi`` events of ``ni`` patients (metafor ``rma.glmm``).

    Parameters
    ----------
    xi, ni : array_like
        Events and patients per series: whole numbers with ``0 <= xi <= ni``.
    mods : array_like, optional
        Moderators, one column each (code a factor as 0/1 dummy columns).
    intercept : bool
        Whether the model has an intercept (default True).
    nagq : int
        Quadrature points, 1 to 100 (lme4's ``GHrule``): 7 (metafor's default, adaptive
        Gauss-Hermite) or 1 (Laplace).
    test : {"z", "t"}
        Normal or t (k - p df) tests and intervals.
    level : float
        Confidence level (0.95 or 95).
    btt : sequence of int, optional
        Coefficients in the omnibus test (default: all but the intercept, or the intercept alone).
    mod_names : sequence of str, optional
        Names of the moderator columns (for summaries).
    optimizer : {"metafor", "converged"}
        ``metafor`` (default) repeats glmer's default optimisers and gives metafor's numbers;
        ``converged`` goes on to the maximum of the likelihood (they differ by a few 1e-6).

    Raises
    ------
    InputError
        Events not whole, negative or above n; fewer series than parameters; bad options.
    """
    x, n = _counts(xi, ni)
    nagq, test, lev = _options(nagq, test, level)
    optimizer = check_optimizer(optimizer)
    X, has_int = model_matrix(as_mods(mods, x.size), x.size, intercept)
    k, p = X.shape
    if p + 1 > k:
        raise InputError(f"{k} series cannot estimate {p} coefficient(s) and tau²", "xi")
    _check_full_rank(X)
    M = _scaling(X, has_int)
    # X beta = Xs beta_scaled with beta = M beta_scaled; Xs rounded as R's scale(), because the
    # last bit of the design changes glmer's path on ill-conditioned moderators
    Xs = scale_as_metafor(X) if has_int and p > 1 else X
    notes: list[str] = []
    opt, optimizer = _fit(x, n, Xs, nagq, optimizer, notes)
    if not opt.converged:
        steps = "Newton steps" if optimizer == "converged" else "Nelder-Mead evaluations"
        _warn(
            notes,
            f"the GLMM fit did not converge in {opt.iterations} {steps}; the likelihood is "
            "flat (e.g. most series with 0 or n events): treat the estimates with caution",
            stacklevel=2,
        )
    beta = M @ opt.params[1:]
    vb = M @ _beta_covariance(opt, optimizer, notes) @ M.T
    fit = _result(x, n, X, has_int, nagq, test, lev, opt, beta, vb, btt, mod_names)
    return replace(fit, optimizer=optimizer, warnings=tuple(notes))


def _warn(notes: list[str], message: str, stacklevel: int) -> None:
    """Record ``message`` on the result (``GLMMResult.warnings``) and issue it as a UserWarning.

    ``stacklevel`` counts from the caller of ``_warn`` (1 = that caller), as for
    :func:`warnings.warn`.
    """
    notes.append(message)
    warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)


OPTIMIZER_TEXT = {
    "metafor": "optimiser: as metafor/lme4 (glmer's defaults stop a few 1e-6 short of the maximum)",
    "converged": "optimiser: converged to the maximum (may differ from metafor by a few 1e-6)",
}
FALLBACK_TEXT = "optimiser: converged to the maximum (metafor cannot fit these data)"
FALLBACK_PREFIX = "metafor cannot fit these data"


def optimizer_note(optimizer: str, notes: Sequence[str] = ()) -> str:
    """Return the line that says how the fit was optimised (and why, after a fallback)."""
    if optimizer == "converged" and any(n.startswith(FALLBACK_PREFIX) for n in notes):
        return FALLBACK_TEXT
    return OPTIMIZER_TEXT[optimizer]


def check_optimizer(optimizer: str) -> str:
    """Return the optimiser name in lower case, or raise naming the choices."""
    name = str(optimizer).strip().lower()
    if name not in OPTIMIZERS:
        raise InputError(
            f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}", "optimizer"
        )
    return name


def _beta_covariance(opt: Optimum, optimizer: str, notes: list[str]) -> FloatArray:
    """``Var(beta)``: lme4's ``vcov`` (2 H^-1, beta block) on glmer's path, else ours."""
    if optimizer != "metafor":
        return beta_covariance(opt)
    try:
        inv = np.linalg.inv(opt.hessian)[1:, 1:]
        vb: FloatArray = inv + inv.T
        usable = bool(np.all(np.isfinite(vb)) and float(np.linalg.eigvalsh(vb).min()) > 0)
    except np.linalg.LinAlgError:
        usable = False
    if usable:
        return vb
    unsc = getattr(opt, "unsc", None)
    if unsc is None:
        return beta_covariance(opt)
    _warn(
        notes,
        "the finite-difference Hessian is not positive definite: Var(beta) is taken from the "
        "penalised IRLS factor instead, as lme4's vcov does (metafor prints the same warning)",
        stacklevel=3,
    )
    out: FloatArray = np.asarray(unsc, dtype=float)
    return out


def _fit(
    x: FloatArray, n: FloatArray, Xs: FloatArray, nagq: int, optimizer: str, notes: list[str]
) -> tuple[Optimum, str]:
    """Fit on glmer's path; if lme4 would fail there, warn (into ``notes``) and converge."""
    if optimizer == "metafor":
        try:
            return fit_as_glmer(x, n, Xs, nagq), optimizer
        except (LivermetError, ArithmeticError, ValueError, np.linalg.LinAlgError) as err:
            reason = err.message if isinstance(err, LivermetError) else type(err).__name__
            _warn(
                notes,
                f"metafor cannot fit these data with its defaults (lme4: {reason}; R stops with "
                "'Cannot fit ML model'); the estimates are the converged maximum instead",
                stacklevel=3,
            )
    return _converge(x, n, Xs, nagq), "converged"


def _converge(x: FloatArray, n: FloatArray, Xs: FloatArray, nagq: int) -> Optimum:
    """Start at the fixed-effects logistic fit and a DerSimonian-Laird tau on the logits."""
    beta0, _ = fixed_effects_glm(x, n, Xs)
    es = escalc("PLO", xi=x, ni=n)
    w = 1.0 / es.vi
    xtw = Xs.T * w
    coef = np.linalg.solve(xtw @ Xs, xtw @ es.yi)
    q = float(np.sum(w * (es.yi - Xs @ coef) ** 2))
    tr_p = float(w.sum() - np.trace(np.linalg.solve(xtw @ Xs, xtw @ (Xs * w[:, None]))))
    k, p = Xs.shape
    theta0 = max(0.1, math.sqrt(max(0.0, (q - (k - p)) / tr_p)))
    fn = objective(x, n, Xs, nagq)
    opt = minimise(fn, np.concatenate([[theta0], beta0]))
    return _onto_boundary(fn, opt)


def _onto_boundary(fn: Objective, opt: Optimum) -> Optimum:
    """Set a theta within `BOUNDARY_TOL` of 0 to 0 when that does not raise the deviance.

    Newton's steps end ~1e-12 from a maximum on the boundary tau² = 0 (D is even in theta, flat
    there); 0 is the estimate (as lme4's ``check.boundary``), not 3e-23.
    """
    theta = float(opt.params[0])
    if theta == 0.0 or theta >= BOUNDARY_TOL:
        return opt
    at = opt.params.copy()
    at[0] = 0.0
    d0 = fn(at)
    if d0 > opt.deviance:
        return opt
    return replace(opt, params=at, deviance=d0)


def _result(
    x: FloatArray,
    n: FloatArray,
    X: FloatArray,
    has_int: bool,
    nagq: int,
    test: str,
    lev: float,
    opt: Optimum,
    beta: FloatArray,
    vb: FloatArray,
    btt: Sequence[int] | None,
    mod_names: Sequence[str] | None,
) -> GLMMResult:
    k, p = X.shape
    sat = saturated_glm(x, n)
    _, ll_fe = fixed_effects_glm(x, n, X)
    qe_wld = wald_heterogeneity(sat, X)
    qe_lrt = max(0.0, -2.0 * (ll_fe - sat.loglik))
    tau2 = float(opt.params[0] ** 2)
    vt = _typical_variance(x, n, X)
    i2, h2 = i2_h2(qe_wld, k - p, tau2, vt, equal_effects=False)
    b = _btt(btt, p, has_int)
    ddf = None if test == "z" else k - p
    qm, qm_p = _omnibus(beta, vb, b, ddf)
    return GLMMResult(
        xi=x,
        ni=n,
        X=X,
        nagq=nagq,
        test=test,
        level=lev,
        beta=beta,
        vb=vb,
        tau2=tau2,
        qe_wld=qe_wld,
        qe_wld_p=_chi2_sf(qe_wld, k - p),
        qe_lrt=qe_lrt,
        qe_lrt_p=_chi2_sf(qe_lrt, k - p),
        qm=qm,
        qm_p=qm_p,
        btt=b,
        i2=float(i2),
        h2=float(h2),
        vt=vt,
        ll=sat.loglik - opt.deviance / 2.0,
        ll_metafor=sat.loglik - _conditional_deviance(x, n, X, beta, tau2) / 2.0,
        ll_fe=ll_fe,
        ll_saturated=sat.loglik,
        iterations=opt.iterations,
        converged=opt.converged,
        has_intercept=has_int,
        names=_names(p, has_int, mod_names),
    )


def _conditional_deviance(
    x: FloatArray, n: FloatArray, X: FloatArray, beta: FloatArray, tau2: float
) -> float:
    """Sum of the deviance residuals at the conditional modes (lme4 ``deviance()`` of a GLMM)."""
    offset = X @ beta
    theta = math.sqrt(tau2)
    u0, _ = conditional_modes(x, n, offset, theta)
    return float(deviance_residuals(x, n, offset + theta * u0).sum())


def _typical_variance(x: FloatArray, n: FloatArray, X: FloatArray) -> float:
    """``vt = (k - p) / tr(P)`` with the logit variances of ``escalc("PLO")`` (1/2 added to 0/n)."""
    es = escalc("PLO", xi=x, ni=n)
    w = 1.0 / es.vi
    xtw = X.T * w
    tr_p = float(w.sum() - np.trace(np.linalg.solve(xtw @ X, xtw @ (X * w[:, None]))))
    return float(typical_variance(X.shape[0] - X.shape[1], tr_p))


def _names(p: int, has_int: bool, mod_names: Sequence[str] | None) -> tuple[str, ...]:
    q = p - (1 if has_int else 0)
    mods = list(mod_names) if mod_names is not None else [f"mod{j + 1}" for j in range(q)]
    if len(mods) != q:
        raise InputError(f"{len(mods)} names for {q} moderator column(s)", "mod_names")
    return tuple((["intrcpt"] if has_int else []) + mods)
