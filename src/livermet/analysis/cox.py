"""Cox proportional hazards regression with Efron (or Breslow) ties, as R's ``coxph``.

Newton-Raphson on the partial log-likelihood, with step halving when a step lowers it, from
β = 0 (R survival 3.5-3, ``coxph.fit``/``coxfit6.c``), iterated until the Newton step is below
1e-10 (relative), past R's stopping rule (relative change of the log-likelihood <= 1e-9), so
the answer is the optimum itself. Standard errors come from the inverse information at the
optimum; intervals and p-values are Wald's, as ``summary(coxph(...))`` prints them.

Efron's approximation for d tied events at time t: the l-th of them (l = 0..d-1) sees the
risk set with a fraction l/d of the tied events' risk removed (Efron 1977; Therneau &
Grambsch 2000, section 3.3). lifelines' ``CoxPHFitter`` uses the same likelihood but stops
earlier by default (its coefficients differ from R's by about 2e-6 relative on the registry
reference cohort), hence this small implementation.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import linalg, stats

from livermet.analysis._ci import z_value
from livermet.analysis._data import event_values, group_values, rows_to_use, time_values
from livermet.analysis.concordance import Concordance, concordance
from livermet.analysis.design import design_matrix
from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
Ties = Literal["efron", "breslow"]

__all__ = [
    "MAX_ITER",
    "CoxNewton",
    "CoxPH",
    "Evaluation",
    "LikelihoodRatioTest",
    "RiskSetSums",
    "add_evaluations",
    "check_design",
    "check_levels",
    "cox_partial_likelihood",
    "efron_loglik",
    "level_counts",
    "risk_set_sums",
]

MAX_ITER = 50
"""Most Newton-Raphson steps of a Cox fit, pooled or federated (one round trip per step there).

R's ``coxph.control`` (survival 3.5-3) allows 20 iterations, counting step halvings; with
halvings not counted and a stopping rule stricter than R's (module docstring) 50 steps leave
room to spare: the reference cohort's fit (tests/analysis/data/cohort.csv) takes 5. A
federated fit takes one round trip per step, so this also caps its rounds
(docs/federated.md#cox-by-rounds).
"""

REMEDY = "merge the level with another, or drop the covariate"
"""What to do when a factor level makes a Cox coefficient infinite or unidentifiable."""


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """2 (loglik fitted - loglik null) against chi-square with df = number of terms."""

    chisq: float
    df: int
    p: float


@dataclass(frozen=True)
class RiskSetSums:
    """Sums over the risk set and the deaths at each event time: all a Cox fit needs of data.

    For the linear predictor η = xβ (minus ``offset``), at each event time t (ascending):
    ``d`` deaths; ``s0``, ``s1``, ``s2`` the sums of e^η, x e^η and x xᵀ e^η over the risk set
    (time >= t); ``e0``, ``e1``, ``e2`` the same sums over that time's deaths; ``xd`` the sum of
    x over the deaths. Sums of several sites on the same times, added, are the pooled sums
    (Therneau & Grambsch 2000, section 3.3; ``refs/federated/federated-cox-check.R``).
    """

    d: FloatArray
    s0: FloatArray
    s1: FloatArray
    s2: FloatArray
    e0: FloatArray
    e1: FloatArray
    e2: FloatArray
    xd: FloatArray
    offset: float = 0.0

    def __add__(self, other: RiskSetSums) -> RiskSetSums:
        """Return the sums of two sets of patients on the same event times."""
        if self.offset != other.offset or self.s1.shape != other.s1.shape:
            raise InputError("risk-set sums of different times, terms or offsets", "sums")
        return RiskSetSums(
            self.d + other.d,
            self.s0 + other.s0,
            self.s1 + other.s1,
            self.s2 + other.s2,
            self.e0 + other.e0,
            self.e1 + other.e1,
            self.e2 + other.e2,
            self.xd + other.xd,
            self.offset,
        )


def risk_set_sums(
    beta: FloatArray,
    x: FloatArray,
    time: FloatArray,
    event: FloatArray,
    event_times: FloatArray | None = None,
    offset: float = 0.0,
) -> RiskSetSums:
    """Return the `RiskSetSums` of patients at ``event_times`` (default: their own).

    Parameters
    ----------
    beta : (p,) coefficients.
    x : (n, p) covariates; time, event : (n,) follow-up times and 0/1 events.
    event_times : (m,) distinct times, ascending, that include every event time of these
        patients (for a site: the event times of all sites).
    offset : subtracted from η before exponentiating (guards against overflow; it cancels).
    """
    died = event > 0
    grid = np.unique(time[died]) if event_times is None else np.asarray(event_times, float)
    p = x.shape[1]
    w = np.exp(x @ beta - offset)
    order = np.argsort(time, kind="stable")
    ts, xs, ws = time[order], x[order], w[order]
    wx = ws[:, None] * xs
    wxx = wx[:, :, None] * xs[:, None, :]
    # risk-set sums at each grid time: subjects with time >= t (reverse cumulative sums)
    first = np.searchsorted(ts, grid, side="left")
    s0 = np.r_[np.cumsum(ws[::-1])[::-1], 0.0][first]
    s1 = np.concatenate([np.cumsum(wx[::-1], axis=0)[::-1], np.zeros((1, p))])[first]
    s2 = np.concatenate([np.cumsum(wxx[::-1], axis=0)[::-1], np.zeros((1, p, p))])[first]
    at = np.searchsorted(grid, time[died])
    if np.any(at >= grid.size) or np.any(grid[np.minimum(at, grid.size - 1)] != time[died]):
        raise InputError("an event time is missing from the event times requested", "time")
    m = grid.size
    e1 = np.zeros((m, p))
    e2 = np.zeros((m, p, p))
    xd = np.zeros((m, p))
    np.add.at(e1, at, w[died, None] * x[died])
    np.add.at(e2, at, w[died, None, None] * x[died, :, None] * x[died, None, :])
    np.add.at(xd, at, x[died])
    d = np.bincount(at, minlength=m).astype(float)
    e0 = np.bincount(at, weights=w[died], minlength=m).astype(float)
    return RiskSetSums(d, s0, s1, s2, e0, e1, e2, xd, float(offset))


def efron_loglik(
    sums: RiskSetSums, beta: FloatArray, ties: Ties = "efron"
) -> tuple[float, FloatArray, FloatArray]:
    """Return the partial log-likelihood, its gradient and the information from the sums.

    Efron: the l-th of d tied deaths (l = 0..d-1) sees the risk set less l/d of the deaths'
    risk; Breslow: the whole risk set. Times with no death contribute nothing.
    """
    p = beta.size
    keep = sums.d > 0
    counts = sums.d[keep].astype(np.int64)
    if counts.size == 0:
        return 0.0, np.zeros(p), np.zeros((p, p))
    group = np.repeat(np.arange(counts.size), counts)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.arange(group.size) - starts[group]
    frac = rank / counts[group] if ties == "efron" else np.zeros(group.size)
    a0 = sums.s0[keep][group] - frac * sums.e0[keep][group]
    a1 = sums.s1[keep][group] - frac[:, None] * sums.e1[keep][group]
    a2 = sums.s2[keep][group] - frac[:, None, None] * sums.e2[keep][group]
    xd = sums.xd[keep].sum(axis=0)
    loglik = float(xd @ beta - sums.offset * group.size - np.log(a0).sum())
    mean = a1 / a0[:, None]
    gradient = xd - mean.sum(axis=0)
    information = (a2 / a0[:, None, None]).sum(axis=0) - np.einsum("ki,kj->ij", mean, mean)
    return loglik, gradient, information


def cox_partial_likelihood(
    beta: FloatArray, x: FloatArray, time: FloatArray, event: FloatArray, ties: Ties = "efron"
) -> tuple[float, FloatArray, FloatArray]:
    """Return the partial log-likelihood, its gradient and the information matrix.

    The information matrix is minus the Hessian.

    Parameters
    ----------
    beta : (p,) coefficients.
    x : (n, p) covariates (centring them changes nothing but the rounding).
    time, event : (n,) follow-up times and 0/1 event indicators.
    ties : "efron" or "breslow".
    """
    if not np.any(event > 0):
        raise InputError("no events: a Cox model needs at least one event", "event")
    eta = x @ beta
    offset = float(eta.max()) if eta.size else 0.0
    return efron_loglik(risk_set_sums(beta, x, time, event, offset=offset), beta, ties)


Evaluation = tuple[float, FloatArray, FloatArray]


def add_evaluations(parts: Sequence[Evaluation]) -> Evaluation:
    """Return the sum of (log-likelihood, gradient, information) of strata (sites)."""
    loglik = float(sum(part[0] for part in parts))
    gradient = np.sum([part[1] for part in parts], axis=0)
    information = np.sum([part[2] for part in parts], axis=0)
    return loglik, gradient, information


def check_design(spread: FloatArray, centred_cross: FloatArray, terms: Sequence[str]) -> None:
    """Refuse a constant term or collinear terms.

    Parameters
    ----------
    spread : (p,) max - min of each term over the patients analysed.
    centred_cross : the centred design matrix (n, p), or its cross-product (p, p): the rank is
        the same.
    terms : term names, for the message.
    """
    constant = np.flatnonzero(spread == 0)
    if constant.size:
        raise InputError("has the same value for every patient analysed", terms[constant[0]])
    rank = np.linalg.matrix_rank(centred_cross)
    if rank < len(terms):
        raise InputError(
            f"the covariates are collinear (design rank {rank} < {len(terms)} terms)",
            "covariates",
        )


def level_counts(
    factors: Mapping[str, Sequence[str]],
    terms: Sequence[str],
    term_sums: FloatArray,
    total: float,
) -> dict[str, list[float]]:
    """Return, per factor, a count per level (reference first) from sums of its 0/1 terms.

    Parameters
    ----------
    factors : factor -> its levels, reference first (as R prints them).
    terms : design-matrix column names (``<factor><level>`` for each non-reference level).
    term_sums : (p,) sum of each term over the patients counted (all, or those with the event).
    total : how many patients were counted; the reference level has the rest.
    """
    out: dict[str, list[float]] = {}
    for name, levels in factors.items():
        index = [list(terms).index(f"{name}{level}") for level in levels[1:]]
        counts = [float(term_sums[i]) for i in index]
        out[name] = [float(total) - sum(counts), *counts]
    return out


def _shown(levels: Sequence[str], most: int = 12) -> str:
    """Return levels for a message: all, or the first ``most`` and how many in all."""
    if len(levels) <= most:
        return ", ".join(levels)
    return f"{', '.join(levels[:most])}, ... ({len(levels)} levels)"


def check_levels(
    factors: Mapping[str, Sequence[str]],
    patients: Mapping[str, Sequence[float]],
    events: Mapping[str, Sequence[float]],
) -> None:
    """Refuse a factor with a level that no patient has, or whose patients have no event.

    A level without patients gives a column of zeros (its coefficient is not identifiable);
    a level without events makes the partial likelihood monotone, so its coefficient (or, for
    the reference level, every other level's) is infinite: R's ``coxph`` warns "Loglik
    converged before variable ...; coefficient may be infinite" (survival's ``coxph.fit``;
    monotone likelihood: Heinze & Schemper 2001, Biometrics 57:114-119). Either way the fit
    means nothing, so it is refused before it starts, naming the factor, the levels and the
    remedy.

    Parameters
    ----------
    factors : factor -> its levels, reference first.
    patients, events : factor -> patients (events) with each level, in the same order.

    Raises
    ------
    InputError
        Field: the factor.
    """
    for name, levels in factors.items():
        empty = [lv for lv, n in zip(levels, patients[name], strict=True) if round(n) == 0]
        if empty:
            raise InputError(
                f"no patient analysed has the level(s) {_shown(empty)} (levels: "
                f"{_shown(levels)}): {REMEDY}",
                name,
            )
        silent = [lv for lv, d in zip(levels, events[name], strict=True) if round(d) == 0]
        if silent:
            raise InputError(
                f"the patients with level(s) {_shown(silent)} have no event, so the hazard "
                f"ratio of {'that level' if len(silent) == 1 else 'those levels'} is infinite "
                f"or zero (levels: {_shown(levels)}): {REMEDY}",
                name,
            )


def singular_terms(information: FloatArray, terms: Sequence[str]) -> list[str]:
    """Return the terms that carry the (near-)null direction of a singular information matrix.

    A term whose own information vanished (its coefficient ran off to infinity), else the
    eigenvector of the smallest eigenvalue of the information scaled to unit diagonal: the
    terms whose combination the data do not determine.
    """
    diag = np.clip(np.diag(information), 0.0, None)
    collapsed = np.flatnonzero(diag <= 1e-10 * max(float(diag.max(initial=0.0)), 1e-300))
    if collapsed.size:  # a term whose information vanished: its coefficient ran away
        return [terms[int(i)] for i in collapsed]
    scale = np.sqrt(diag)
    scale[scale == 0] = 1.0
    values, vectors = np.linalg.eigh(information / np.outer(scale, scale))
    weight = np.abs(vectors[:, int(np.argmin(values))])
    return [terms[int(i)] for i in np.flatnonzero(weight >= 0.25 * weight.max())]


class CoxNewton:
    """Newton-Raphson on a Cox partial likelihood, one evaluation at a time.

    As R's ``coxph.fit``: from β = 0, a step that lowers the log-likelihood is halved; the
    iteration stops when the step is below 1e-10 (relative). The caller evaluates the
    log-likelihood, gradient and information at `beta` (on pooled data, or summed over sites:
    one round trip each) and hands them to `tell` until `done`.
    """

    def __init__(
        self, n_terms: int, max_iter: int = MAX_ITER, terms: Sequence[str] | None = None
    ) -> None:
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
            raise InputError(f"{max_iter!r} is not a whole number of steps >= 1", "max_iter")
        self.terms = list(terms) if terms is not None else [f"term {i + 1}" for i in range(n_terms)]
        self.beta: FloatArray = np.zeros(n_terms)
        self.max_iter = max_iter
        self.iterations = 0
        self.evaluations = 0
        self.done = False
        self.loglik0 = float("nan")
        self.noise = 0.0
        self.current: tuple[FloatArray, float, FloatArray, FloatArray] | None = None
        self._step: FloatArray = np.zeros(n_terms)
        self._halvings = 0

    def tell(self, loglik: float, gradient: FloatArray, information: FloatArray) -> None:
        """Take the evaluation at `beta`; set the next `beta` or `done`."""
        self.evaluations += 1
        if self.current is None:
            self.loglik0 = float(loglik)
            self.noise = 1e-12 * (1.0 + abs(loglik))  # rounding of the log-likelihood itself
            self.current = (self.beta, float(loglik), gradient, information)
            self._propose()
            return
        worse = not np.isfinite(loglik) or loglik < self.current[1] - self.noise
        if worse and self._halvings < 30:
            self._step = self._step / 2.0  # as R: shorten a step that lowers the likelihood
            self._halvings += 1
            self.beta = self.current[0] + self._step
            return
        previous = self.current[1]
        self.current = (self.beta, float(loglik), gradient, information)
        if np.all(np.abs(self._step) <= 1e-10 * (1.0 + np.abs(self.beta))):
            self.done = True
            return
        self._propose(previous)

    def _propose(self, previous: float | None = None) -> None:
        assert self.current is not None
        if self.iterations >= self.max_iter:
            growing = self._growing(np.abs(self._step) > 1e-6 * (1.0 + np.abs(self.beta)))
            raise InputError(
                f"the Newton-Raphson iteration did not converge in {self.max_iter} steps (the "
                f"coefficient(s) of {growing} still move: a level or a covariate may separate "
                f"the events perfectly); {REMEDY}",
                "covariates",
            )
        self.iterations += 1
        beta, loglik = self.current[0], self.current[1]
        self._step = self._solve(self.current[3], self.current[2])
        self._halvings = 0
        self.beta = beta + self._step
        if previous is not None and abs(loglik - previous) <= 1e-9 * abs(loglik):
            self._refuse_runaway(beta)

    def _growing(self, moving: npt.NDArray[np.bool_]) -> str:
        return ", ".join(t for t, m in zip(self.terms, moving, strict=True) if m) or "all terms"

    def _refuse_runaway(self, beta: FloatArray) -> None:
        """Refuse coefficients that still take whole steps once the log-likelihood converged.

        R's ``coxph.fit`` stops when the log-likelihood changes by at most 1e-9 (relative) and
        then flags a coefficient whose next Newton step is still large as possibly infinite
        ("Loglik converged before variable ..."; survival's ``coxph.fit``, ``toler.inf``): a
        monotone likelihood (Heinze & Schemper 2001, Biometrics 57:114-119). On a converging fit the
        next step is then far below 1% of the coefficient.
        """
        runaway = np.abs(self._step) > 0.01 * (1.0 + np.abs(beta))
        if np.any(runaway):
            raise InputError(
                f"the log-likelihood converged at Newton step {self.iterations} while the "
                f"coefficient(s) of {self._growing(runaway)} keep growing, so they may be "
                "infinite (as R's coxph warns: a level without events, or a covariate that "
                f"separates the events); {REMEDY}",
                "covariates",
            )

    def _solve(self, information: FloatArray, gradient: FloatArray) -> FloatArray:
        """Return the Newton step; refuse a singular information matrix, naming its terms."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", linalg.LinAlgWarning)
                step: FloatArray = linalg.solve(information, gradient, assume_a="pos")
        except (np.linalg.LinAlgError, linalg.LinAlgWarning, ValueError):
            step = np.full(gradient.shape, np.nan)
        if np.all(np.isfinite(step)):
            return step
        raise InputError(
            f"the information matrix is singular at Newton step {self.iterations}: the "
            f"coefficient(s) of {', '.join(singular_terms(information, self.terms))} are not "
            "determined by the data (collinear terms, or a coefficient going to infinity: a "
            f"level or a covariate value that separates the events); {REMEDY}",
            "covariates",
        )

    def run(self, evaluate: Callable[[FloatArray], Evaluation]) -> CoxNewton:
        """Iterate to the optimum with ``evaluate(beta) -> (loglik, gradient, information)``."""
        while not self.done:
            self.tell(*evaluate(self.beta))
        return self


class CoxPH:
    """Cox proportional hazards model fitted to a cohort table.

    Parameters
    ----------
    ties : {"efron", "breslow"}
        Handling of tied event times; R's default and the registry's is ``"efron"``.
    conf_level : float
        Coverage of the hazard-ratio intervals.

    Attributes
    ----------
    terms_ : list of str
        Design-matrix columns in R's naming (``approachlaparoscopic``, ``age``).
    factors_ : dict
        Levels of each factor covariate, reference first.
    coef_, se_, z_, p_ : ndarray
        Log hazard ratios, standard errors, Wald z and two-sided p-values.
    hr_, hr_lower_, hr_upper_ : ndarray
        exp(coef) and its Wald interval.
    loglik_ : tuple of float
        Partial log-likelihood at β = 0 and at the fit (R's ``fit$loglik``).
    lr_test_ : LikelihoodRatioTest
    concordance_ : Concordance
        Harrell's C of the linear predictor (R's ``fit$concordance``).
    vcov_ : ndarray
        Inverse information matrix.
    n_, events_, iterations_ : int
    """

    def __init__(self, ties: Ties = "efron", conf_level: float = 0.95) -> None:
        if ties not in ("efron", "breslow"):
            raise InputError(f"unknown {ties!r}; use efron or breslow", "ties")
        if not 0.0 < conf_level < 1.0:
            raise InputError(f"{conf_level!r} must be between 0 and 1", "conf_level")
        self.ties: Ties = ties
        self.conf_level = float(conf_level)

    def fit(
        self,
        data: pd.DataFrame,
        time: str,
        event: str,
        covariates: Sequence[str],
        *,
        levels: Mapping[str, Sequence[Any]] | None = None,
        categorical: Sequence[str] = (),
        dropna: bool = False,
        max_iter: int = MAX_ITER,
        strata: str | None = None,
    ) -> CoxPH:
        """Fit ``Surv(time, event) ~ covariates`` (factors coded as in `design_matrix`).

        ``strata`` names a column (e.g. the site) whose values each get their own baseline
        hazard, as R's ``+ strata(column)``; the concordance is then counted within strata.

        Returns
        -------
        CoxPH
            ``self``, fitted.
        """
        if not covariates:
            raise InputError("give at least one covariate", "covariates")
        used = [time, event, *covariates] + ([] if strata is None else [strata])
        rows = rows_to_use(data, used, dropna)
        t = time_values(data, time, rows)
        e = event_values(data, event, rows).astype(float)
        design = design_matrix(data, covariates, levels=levels, categorical=categorical, rows=rows)
        layers = None if strata is None else group_values(data, strata, None, rows)[0]
        if e.sum() > 0:
            x, terms = design.matrix, design.terms
            check_levels(
                design.factors,
                level_counts(design.factors, terms, x.sum(axis=0), t.size),
                level_counts(design.factors, terms, x[e > 0].sum(axis=0), e.sum()),
            )
        self._fit_arrays(design.matrix, t, e, design.terms, max_iter, layers)
        self.factors_ = design.factors
        self.covariates_ = list(covariates)
        return self

    def _fit_arrays(
        self,
        x: FloatArray,
        t: FloatArray,
        e: FloatArray,
        terms: list[str],
        max_iter: int,
        layers: npt.NDArray[np.int64] | None = None,
    ) -> None:
        if e.sum() == 0:
            raise InputError("no events: a Cox model needs at least one event", "event")
        check_design(np.ptp(x, axis=0), x - x.mean(axis=0), terms)
        xc = x - x.mean(axis=0)  # R centres too; it only helps the rounding
        groups = (
            [np.ones(t.size, dtype=bool)]
            if layers is None
            else [layers == v for v in np.unique(layers)]
        )
        parts = [(xc[g], t[g], e[g]) for g in groups if e[g].sum() > 0]

        def evaluate(beta: FloatArray) -> Evaluation:
            return add_evaluations(
                [cox_partial_likelihood(beta, *part, self.ties) for part in parts]
            )

        newton = CoxNewton(x.shape[1], max_iter, terms).run(evaluate)
        score = x @ newton.beta
        total = concordance(t[groups[0]], e[groups[0]], score[groups[0]])
        for g in groups[1:]:
            total = total + concordance(t[g], e[g], score[g])
        self.set_fit(newton, terms, total, int(t.size), int(e.sum()))

    def set_fit(
        self, newton: CoxNewton, terms: Sequence[str], concordance: Concordance, n: int, events: int
    ) -> None:
        """Set the fitted attributes from a converged `CoxNewton` (pooled or federated).

        Parameters
        ----------
        newton : CoxNewton
            Done, with the optimum and the information there.
        terms : sequence of str
            Design-matrix column names.
        concordance : Concordance
            Harrell's C of the linear predictor.
        n, events : int
            Patients and events analysed.
        """
        assert newton.done and newton.current is not None
        beta, loglik, _, info = newton.current
        try:
            vcov = linalg.inv(info)
        except (np.linalg.LinAlgError, ValueError):
            vcov = np.full(info.shape, np.nan)
        if not np.all(np.isfinite(vcov)):
            raise InputError(
                "the information matrix is singular at the optimum: the coefficient(s) of "
                f"{', '.join(singular_terms(info, terms))} are not determined by the data; "
                f"{REMEDY}",
                "covariates",
            )
        se = np.sqrt(np.diag(vcov))
        z = beta / se
        zq = z_value(self.conf_level)
        self.terms_ = list(terms)
        self.coef_: FloatArray = beta
        self.se_: FloatArray = se
        self.z_: FloatArray = z
        self.p_: FloatArray = 2.0 * stats.norm.sf(np.abs(z))
        self.hr_: FloatArray = np.exp(beta)
        self.hr_lower_: FloatArray = np.exp(beta - zq * se)
        self.hr_upper_: FloatArray = np.exp(beta + zq * se)
        self.vcov_: FloatArray = vcov
        self.loglik_ = (float(newton.loglik0), float(loglik))
        chisq = 2.0 * (loglik - newton.loglik0)
        df = len(self.terms_)
        self.lr_test_ = LikelihoodRatioTest(float(chisq), df, float(stats.chi2.sf(chisq, df)))
        self.concordance_: Concordance = concordance
        self.n_ = n
        self.events_ = events
        self.iterations_ = newton.iterations

    @property
    def summary_(self) -> pd.DataFrame:
        """One row per term: coef, se, hr, hr_lower, hr_upper, z, p (as R's summary)."""
        return pd.DataFrame(
            {
                "coef": self.coef_,
                "se": self.se_,
                "hr": self.hr_,
                "hr_lower": self.hr_lower_,
                "hr_upper": self.hr_upper_,
                "z": self.z_,
                "p": self.p_,
            },
            index=pd.Index(self.terms_, name="term"),
        )

    def term_label(self, term: str) -> str:
        """Return a term in words.

        'approach: open vs laparoscopic' (a factor level against its reference level), 'age (per
        unit)' (a numeric covariate).
        """
        for cov, levels in self.factors_.items():
            for level in levels[1:]:
                if term == f"{cov}{level}":
                    return f"{cov}: {level} vs {levels[0]}"
        return f"{term} (per unit)"

    def to_dict(self) -> dict[str, Any]:
        """Return the fit as plain numbers for JSON output."""
        return {
            "n": self.n_,
            "events": self.events_,
            "ties": self.ties,
            "conf_level": self.conf_level,
            "terms": [
                {
                    "term": term,
                    "label": self.term_label(str(term)),
                    **{k: float(v) for k, v in row.items()},
                }
                for term, row in self.summary_.iterrows()
            ],
            "reference_levels": {k: v[0] for k, v in self.factors_.items()},
            "loglik": {"null": self.loglik_[0], "fitted": self.loglik_[1]},
            "lr_test": {"chisq": self.lr_test_.chisq, "df": self.lr_test_.df, "p": self.lr_test_.p},
            "concordance": self.concordance_.concordance,
            "iterations": self.iterations_,
        }
