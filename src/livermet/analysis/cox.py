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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import linalg, stats

from livermet.analysis._ci import z_value
from livermet.analysis._data import event_values, rows_to_use, time_values
from livermet.analysis.concordance import Concordance, concordance
from livermet.analysis.design import design_matrix
from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
Ties = Literal["efron", "breslow"]

__all__ = ["CoxPH", "LikelihoodRatioTest", "cox_partial_likelihood"]


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """2 (loglik fitted - loglik null) against chi-square with df = number of terms."""

    chisq: float
    df: int
    p: float


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
    eta = x @ beta
    eta_max = float(eta.max()) if eta.size else 0.0
    w = np.exp(eta - eta_max)  # the shift cancels between numerator and risk-set sums
    order = np.argsort(time, kind="stable")
    t, e, xs, ws, es = time[order], event[order] > 0, x[order], w[order], (eta - eta_max)[order]
    p = x.shape[1]
    # risk-set sums at each subject's time: subjects with time >= t (reverse cumulative sums)
    s0 = np.cumsum(ws[::-1])[::-1]
    s1 = np.cumsum((ws[:, None] * xs)[::-1], axis=0)[::-1]
    s2 = np.cumsum((ws[:, None, None] * xs[:, :, None] * xs[:, None, :])[::-1], axis=0)[::-1]
    first = np.searchsorted(t, t, side="left")  # first subject of each time's risk set
    deaths = np.flatnonzero(e)
    if deaths.size == 0:
        raise InputError("no events: a Cox model needs at least one event", "event")
    dt = t[deaths]
    # group the deaths by time: index of the group, size d and rank l within the group
    starts = np.flatnonzero(np.r_[True, dt[1:] != dt[:-1]])
    group = np.cumsum(np.r_[True, dt[1:] != dt[:-1]]) - 1
    sizes = np.diff(np.r_[starts, deaths.size])
    rank = np.arange(deaths.size) - starts[group]
    frac = rank / sizes[group] if ties == "efron" else np.zeros(deaths.size)
    d0 = np.bincount(group, weights=ws[deaths])
    d1 = np.zeros((starts.size, p))
    d2 = np.zeros((starts.size, p, p))
    np.add.at(d1, group, ws[deaths, None] * xs[deaths])
    np.add.at(d2, group, ws[deaths, None, None] * xs[deaths, :, None] * xs[deaths, None, :])
    at = first[deaths]
    a0 = s0[at] - frac * d0[group]
    a1 = s1[at] - frac[:, None] * d1[group]
    a2 = s2[at] - frac[:, None, None] * d2[group]
    loglik = float(es[deaths].sum() - np.log(a0).sum())
    mean = a1 / a0[:, None]
    gradient = xs[deaths].sum(axis=0) - mean.sum(axis=0)
    information = (a2 / a0[:, None, None]).sum(axis=0) - np.einsum("ki,kj->ij", mean, mean)
    return loglik, gradient, information


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
        max_iter: int = 50,
    ) -> CoxPH:
        """Fit ``Surv(time, event) ~ covariates`` (factors coded as in `design_matrix`).

        Returns
        -------
        CoxPH
            ``self``, fitted.
        """
        if not covariates:
            raise InputError("give at least one covariate", "covariates")
        rows = rows_to_use(data, [time, event, *covariates], dropna)
        t = time_values(data, time, rows)
        e = event_values(data, event, rows).astype(float)
        design = design_matrix(data, covariates, levels=levels, categorical=categorical, rows=rows)
        self._fit_arrays(design.matrix, t, e, design.terms, max_iter)
        self.factors_ = design.factors
        self.covariates_ = list(covariates)
        return self

    def _fit_arrays(
        self, x: FloatArray, t: FloatArray, e: FloatArray, terms: list[str], max_iter: int
    ) -> None:
        if e.sum() == 0:
            raise InputError("no events: a Cox model needs at least one event", "event")
        xc = x - x.mean(axis=0)  # R centres too; it only helps the rounding
        constant = np.flatnonzero(np.ptp(x, axis=0) == 0)
        if constant.size:
            raise InputError("has the same value for every patient analysed", terms[constant[0]])
        rank = np.linalg.matrix_rank(xc)
        if rank < x.shape[1]:
            raise InputError(
                f"the covariates are collinear (design rank {rank} < {x.shape[1]} terms)",
                "covariates",
            )
        beta = np.zeros(x.shape[1])
        loglik0, grad, info = cox_partial_likelihood(beta, xc, t, e, self.ties)
        loglik = loglik0
        noise = 1e-12 * (1.0 + abs(loglik0))  # rounding of the log-likelihood itself
        iterations = 0
        for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
            step = linalg.solve(info, grad, assume_a="pos")
            new_beta = beta + step
            new_ll, new_grad, new_info = cox_partial_likelihood(new_beta, xc, t, e, self.ties)
            halvings = 0
            while (not np.isfinite(new_ll) or new_ll < loglik - noise) and halvings < 30:
                step /= 2.0  # as R: shorten a step that lowers the likelihood
                new_beta = beta + step
                new_ll, new_grad, new_info = cox_partial_likelihood(new_beta, xc, t, e, self.ties)
                halvings += 1
            beta, loglik, grad, info = new_beta, new_ll, new_grad, new_info
            if np.all(np.abs(step) <= 1e-10 * (1.0 + np.abs(beta))):
                break
        else:
            raise InputError(
                f"the Newton-Raphson iteration did not converge in {max_iter} steps (a covariate "
                "may separate the events perfectly)",
                "covariates",
            )
        vcov = linalg.inv(info)
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
        self.loglik_ = (float(loglik0), float(loglik))
        chisq = 2.0 * (loglik - loglik0)
        df = len(terms)
        self.lr_test_ = LikelihoodRatioTest(float(chisq), df, float(stats.chi2.sf(chisq, df)))
        self.concordance_: Concordance = concordance(t, e, x @ beta)
        self.n_ = int(t.size)
        self.events_ = int(e.sum())
        self.iterations_ = iterations

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
