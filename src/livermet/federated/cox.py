"""Cox regression (Efron ties) across sites: a common baseline, or one baseline per site.

The coordinator drives R's Newton-Raphson (`livermet.analysis.cox.CoxNewton`, the same object
the pooled fit uses) and each evaluation of the partial likelihood is one round trip:

1. ``describe``: each site says how many patients and events it has, the levels of each
   factor covariate present, and (common baseline only) its distinct event times; the
   coordinator fixes the factor levels of all sites, the terms and the event-time grid.
2. ``evaluate`` at β, once per Newton step (and step halving):

   - common baseline: the site's `RiskSetSums` at every event time of the grid, which the
     coordinator adds and turns into the Efron log-likelihood, score and information
     (`livermet.analysis.cox.efron_loglik`, as R's ``coxph(ties="efron")``);
   - stratified by site (a baseline hazard per hospital, R's ``+ strata(site)``): the site's own
     log-likelihood, score and information; no event time leaves the site.

   The first evaluation (β = 0) also returns the sums of the terms and of their products and
   their ranges, from which the coordinator refuses a constant or collinear term and centres
   the terms for the next evaluations (centring changes nothing but the rounding).
3. ``finish`` at the optimum: each site counts the concordant, discordant and tied pairs of
   its own patients (Harrell's C). Stratified, this is R's concordance exactly; with a common
   baseline it is the concordance within sites, since pairs of patients of two sites cannot be
   compared without their linear predictors (the one number of the result that differs from
   the pooled fit).

Example
-------
>>> central = CoxCentral("os_months", "death", ["age"])       # doctest: +SKIP
>>> request = central.start()                                 # doctest: +SKIP
>>> while not isinstance(request, CoxPH):                     # doctest: +SKIP
...     request = central.step([cox_site(d, request) for d in sites])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from livermet.analysis._data import event_values, group_values, time_values
from livermet.analysis.concordance import Concordance, concordance, concordance_of_counts
from livermet.analysis.cox import (
    CoxNewton,
    CoxPH,
    Evaluation,
    RiskSetSums,
    Ties,
    add_evaluations,
    check_design,
    efron_loglik,
    risk_set_sums,
)
from livermet.analysis.design import design_matrix, factor_terms, is_factor, shown_levels
from livermet.errors import InputError
from livermet.federated._messages import (
    Aggregate,
    FloatArray,
    Message,
    Request,
    check_answers,
    merge_levels,
    request_id,
    union_times,
    used_rows,
)

__all__ = [
    "CoxAggregate",
    "CoxCentral",
    "CoxRequest",
    "Moments",
    "Sums",
    "cox_site",
]

Phase = Literal["describe", "evaluate", "finish"]


class CoxRequest(Request):
    """One round of the Cox protocol, the same for every site."""

    analysis: Literal["cox"] = Field(default="cox", description="Kind of request.")
    phase: Phase = Field(description="describe, evaluate (at beta) or finish (at the optimum).")
    covariates: list[str] = Field(min_length=1, description="Covariate columns.")
    categorical: list[str] = Field(default=[], description="Numeric columns to treat as factors.")
    levels: dict[str, list[str]] = Field(
        default={},
        description="Factor levels, reference first: the user's (describe) or all (later).",
    )
    stratified: bool = Field(default=False, description="A baseline hazard per site.")
    ties: Literal["efron", "breslow"] = Field(default="efron", description="Handling of ties.")
    round: int = Field(default=0, ge=0, description="Round number (0 describe, then 1, 2, ...).")
    beta: list[float] | None = Field(default=None, description="Coefficients, one per term.")
    centre: list[float] | None = Field(
        default=None, description="Values subtracted from the terms (pooled means), or none."
    )
    event_times: list[float] | None = Field(
        default=None, description="Distinct event times of all sites (common baseline)."
    )


class Sums(Message):
    """Risk-set sums at each event time of the grid (`livermet.analysis.cox.RiskSetSums`)."""

    d: list[float] = Field(description="Deaths at each time.")
    s0: list[float] = Field(description="Sum of exp(x·beta) over the risk set (time >= t).")
    s1: list[list[float]] = Field(description="Sum of x exp(x·beta) over the risk set.")
    s2: list[list[list[float]]] = Field(description="Sum of x xᵀ exp(x·beta) over the risk set.")
    e0: list[float] = Field(description="Sum of exp(x·beta) over the deaths at t.")
    e1: list[list[float]] = Field(description="Sum of x exp(x·beta) over the deaths at t.")
    e2: list[list[list[float]]] = Field(description="Sum of x xᵀ exp(x·beta) over the deaths.")
    xd: list[list[float]] = Field(description="Sum of x over the deaths at t.")

    def to_sums(self) -> RiskSetSums:
        """Return the sums as arrays."""
        p = len(self.s1[0]) if self.s1 else 0
        m = len(self.d)

        def arr(values: object, *shape: int) -> FloatArray:
            return np.asarray(values, dtype=float).reshape(m, *shape)

        return RiskSetSums(
            arr(self.d),
            arr(self.s0),
            arr(self.s1, p),
            arr(self.s2, p, p),
            arr(self.e0),
            arr(self.e1, p),
            arr(self.e2, p, p),
            arr(self.xd, p),
        )


class Moments(Message):
    """Sums of the (uncentred) terms, their products and their ranges at a site."""

    sum_x: list[float] = Field(description="Sum of each term.")
    sum_xx: list[list[float]] = Field(description="Sum of the products of each pair of terms.")
    min_x: list[float] = Field(description="Smallest value of each term.")
    max_x: list[float] = Field(description="Largest value of each term.")


class CoxAggregate(Aggregate):
    """A site's answer to one round of the Cox protocol (fields by phase; others none).

    Reveals: describe, the number of patients and events, the factor levels present and (common
    baseline) the distinct event times; evaluate, the sums above per event time (common
    baseline) or one log-likelihood, score and information (stratified), and at the first
    evaluation the sums, cross-products and ranges of the terms; finish, pair counts.
    """

    analysis: Literal["cox"] = Field(default="cox", description="Kind of aggregate.")
    phase: Phase = Field(description="Phase of the request answered.")
    events: int = Field(ge=0, description="Events among the site's patients used.")
    factors: dict[str, list[str]] | None = Field(
        default=None, description="describe: levels of each factor covariate at the site."
    )
    event_times: list[float] | None = Field(
        default=None, description="describe (common baseline): the site's distinct event times."
    )
    sums: Sums | None = Field(default=None, description="evaluate (common baseline): sums.")
    loglik: float | None = Field(default=None, description="evaluate (stratified): log-lik.")
    gradient: list[float] | None = Field(default=None, description="evaluate (stratified): score.")
    information: list[list[float]] | None = Field(
        default=None, description="evaluate (stratified): information matrix."
    )
    moments: Moments | None = Field(default=None, description="first evaluate: term moments.")
    pairs: list[int] | None = Field(
        default=None,
        description="finish: concordant, discordant, tied-risk and tied-time pair counts.",
    )


def _site_factors(
    data: pd.DataFrame, request: CoxRequest, rows: np.ndarray
) -> dict[str, list[str]]:
    """Return the levels present at the site of each factor covariate."""
    declared = [*request.categorical, *request.levels]
    out: dict[str, list[str]] = {}
    for name in request.covariates:
        if is_factor(data, name, declared):
            order = request.levels.get(name)
            if order is None and pd.api.types.is_bool_dtype(data[name]):
                order = ["False", "True"]
            out[name] = group_values(data, name, order, rows)[1]
    return out


def _moments(x: FloatArray) -> Moments:
    return Moments(
        sum_x=x.sum(axis=0).tolist(),
        sum_xx=(x.T @ x).tolist(),
        min_x=x.min(axis=0).tolist(),
        max_x=x.max(axis=0).tolist(),
    )


def _evaluate(
    x: FloatArray, t: FloatArray, e: FloatArray, request: CoxRequest
) -> dict[str, object]:
    """Return the evaluate fields of a site's answer at the request's beta."""
    beta = np.asarray(request.beta, dtype=float)
    centre = np.zeros(beta.size) if request.centre is None else np.asarray(request.centre)
    xc = x - centre
    out: dict[str, object] = {} if request.centre is not None else {"moments": _moments(x)}
    if request.stratified:
        eta = xc @ beta
        offset = float(eta.max())
        loglik, grad, info = efron_loglik(
            risk_set_sums(beta, xc, t, e, offset=offset), beta, request.ties
        )
        return out | {"loglik": loglik, "gradient": grad.tolist(), "information": info.tolist()}
    grid = np.asarray(request.event_times, dtype=float)
    s = risk_set_sums(beta, xc, t, e, grid)
    sums = Sums(
        d=s.d.tolist(),
        s0=s.s0.tolist(),
        s1=s.s1.tolist(),
        s2=s.s2.tolist(),
        e0=s.e0.tolist(),
        e1=s.e1.tolist(),
        e2=s.e2.tolist(),
        xd=s.xd.tolist(),
    )
    return out | {"sums": sums}


def cox_site(data: pd.DataFrame, request: CoxRequest) -> CoxAggregate:
    """Answer one round of the Cox protocol from the site's cohort table.

    Parameters
    ----------
    data : DataFrame
        The site's cohort table, one row per patient.
    request : CoxRequest
        The round, as the coordinator's `CoxCentral` wrote it.
    """
    rows = used_rows(data, [request.time, request.event, *request.covariates], request.dropna)
    t = time_values(data, request.time, rows)
    e = event_values(data, request.event, rows).astype(float)
    base = {"request_id": request_id(request), "n": int(t.size), "events": int(e.sum())}
    phase = request.phase
    if phase == "describe":
        times = None if request.stratified else np.unique(t[e > 0]).tolist()
        return CoxAggregate(
            phase=phase,
            factors=_site_factors(data, request, rows),
            event_times=times,
            **base,
        )
    if request.beta is None:
        raise InputError(f"a {phase} request needs coefficients", "beta")
    design = design_matrix(
        data,
        request.covariates,
        levels=request.levels,
        categorical=request.categorical,
        rows=rows,
        keep_empty_levels=True,
    )
    x = design.matrix
    if len(request.beta) != x.shape[1]:
        raise InputError(f"{len(request.beta)} coefficients for {x.shape[1]} terms", "beta")
    if phase == "evaluate":
        return CoxAggregate(phase=phase, **base, **_evaluate(x, t, e, request))
    c = concordance(t, e, x @ np.asarray(request.beta, dtype=float))
    pairs = [c.concordant, c.discordant, c.tied_risk, c.tied_time]
    return CoxAggregate(phase=phase, pairs=pairs, **base)


class CoxCentral:
    """The coordinator of a federated Cox fit: `start`, then `step` until it returns a fit.

    Parameters
    ----------
    time, event : str
        Columns of follow-up time and 0/1 event.
    covariates : sequence of str
        Covariate columns (factors coded as `livermet.analysis.design_matrix` codes them).
    levels : mapping, optional
        Level order of factor covariates (reference first); default, the sorted levels of all
        sites (numbers by value), as the pooled fit's R ``factor()`` default.
    reference : mapping, optional
        Reference level of a factor covariate (the other levels keep their order), as
        ``livermet cohort cox --reference``; the column is then a factor, as there. Checked
        against the levels of all sites after the describe round.
    categorical : sequence of str
        Numeric columns to treat as factors.
    stratified : bool
        A baseline hazard per site (R's ``+ strata(site)``) instead of a common one.
    ties, conf_level, dropna, max_iter
        As `livermet.analysis.CoxPH`.
    """

    def __init__(
        self,
        time: str,
        event: str,
        covariates: Sequence[str],
        *,
        levels: Mapping[str, Sequence[str]] | None = None,
        reference: Mapping[str, str] | None = None,
        categorical: Sequence[str] = (),
        stratified: bool = False,
        ties: Ties = "efron",
        conf_level: float = 0.95,
        dropna: bool = False,
        max_iter: int = 50,
    ) -> None:
        if not covariates:
            raise InputError("give at least one covariate", "covariates")
        self.reference = {str(k): str(v) for k, v in (reference or {}).items()}
        for name in self.reference:
            if name not in covariates:
                raise InputError(
                    f"a reference level is given for {name!r}, which is not a covariate "
                    f"({', '.join(covariates)})",
                    "reference",
                )
        categorical = [*categorical, *(c for c in self.reference if c not in categorical)]
        self.model = CoxPH(ties=ties, conf_level=conf_level)
        self.max_iter = max_iter
        self.request = CoxRequest(
            time=time,
            event=event,
            dropna=dropna,
            phase="describe",
            covariates=list(covariates),
            categorical=list(categorical),
            levels={k: [str(v) for v in vs] for k, vs in (levels or {}).items()},
            stratified=stratified,
            ties=ties,
        )
        self.round_trips = 0
        self.terms: list[str] = []
        self.factors: dict[str, list[str]] = {}
        self.n = 0
        self.events = 0
        self.newton: CoxNewton | None = None

    def start(self) -> CoxRequest:
        """Return the first request (describe)."""
        return self.request

    def step(self, aggregates: Sequence[CoxAggregate]) -> CoxRequest | CoxPH:
        """Take every site's answer to the last request; return the next request or the fit."""
        check_answers(self.request, aggregates)
        self.round_trips += 1
        if any(a.phase != self.request.phase for a in aggregates):
            raise InputError(
                f"an aggregate does not answer the {self.request.phase} phase", "phase"
            )
        if self.request.phase == "describe":
            return self._described(aggregates)
        if self.request.phase == "evaluate":
            return self._evaluated(aggregates)
        return self._finished(aggregates)

    def _next(self, phase: Phase, **fields: object) -> CoxRequest:
        self.request = self.request.model_copy(
            update={"phase": phase, "round": self.request.round + 1, **fields}
        )
        return self.request

    def _described(self, aggregates: Sequence[CoxAggregate]) -> CoxRequest:
        self.n = sum(a.n for a in aggregates)
        self.events = sum(a.events for a in aggregates)
        if self.events == 0:
            raise InputError("no events: a Cox model needs at least one event", self.request.event)
        factors: dict[str, list[str]] = {}
        for name in self.request.covariates:
            seen = [a.factors[name] for a in aggregates if a.factors and name in a.factors]
            if not seen:
                continue
            if len(seen) < len(aggregates):
                raise InputError("is a factor at some sites and numeric at others", name)
            factors[name] = self._with_reference(
                name, merge_levels(seen, self.request.levels.get(name), name)
            )
            if len(factors[name]) < 2:
                raise InputError(
                    f"has a single value ({factors[name][0]}) among the patients analysed; a "
                    "factor needs at least two levels",
                    name,
                )
        self.factors = {k: shown_levels(v) for k, v in factors.items()}
        self.terms = [
            term
            for name in self.request.covariates
            for term in (factor_terms(name, factors[name]) if name in factors else [name])
        ]
        self.newton = CoxNewton(len(self.terms), self.max_iter)
        grid = None
        if not self.request.stratified:
            grid = union_times(a.event_times or [] for a in aggregates).tolist()
        return self._next(
            "evaluate", levels=factors, beta=self.newton.beta.tolist(), event_times=grid
        )

    def _with_reference(self, name: str, levels: list[str]) -> list[str]:
        """Return ``levels`` with the requested reference level of ``name`` first."""
        ref = self.reference.get(name)
        if ref is None:
            return levels
        if ref not in levels:
            raise InputError(
                f"the reference level {ref!r} of {name} does not occur among the patients "
                f"analysed at any site (levels: {', '.join(levels)})",
                "reference",
            )
        return [ref, *(level for level in levels if level != ref)]

    def _check_moments(self, aggregates: Sequence[CoxAggregate]) -> list[float]:
        """Refuse constant or collinear terms; return the pooled means (the centre)."""
        moments = [a.moments for a in aggregates if a.moments is not None]
        if len(moments) != len(aggregates):
            raise InputError("an aggregate lacks the moments of the terms", "moments")
        total = np.sum([m.sum_x for m in moments], axis=0)
        cross = np.sum([m.sum_xx for m in moments], axis=0)
        spread = np.max([m.max_x for m in moments], axis=0) - np.min(
            [m.min_x for m in moments], axis=0
        )
        mean = total / self.n
        check_design(spread, cross - self.n * np.outer(mean, mean), self.terms)
        return [float(v) for v in mean]

    def _evaluation(self, aggregates: Sequence[CoxAggregate]) -> Evaluation:
        beta = np.asarray(self.request.beta, dtype=float)
        if self.request.stratified:
            parts: list[Evaluation] = []
            for a in aggregates:
                if a.loglik is None or a.gradient is None or a.information is None:
                    raise InputError("an aggregate lacks its log-likelihood", "loglik")
                p = beta.size
                info = np.asarray(a.information, dtype=float).reshape(p, p)
                parts.append((a.loglik, np.asarray(a.gradient, dtype=float), info))
            return add_evaluations(parts)
        sums = [a.sums.to_sums() for a in aggregates if a.sums is not None]
        if len(sums) != len(aggregates):
            raise InputError("an aggregate lacks its risk-set sums", "sums")
        total = sums[0]
        for s in sums[1:]:
            total = total + s
        return efron_loglik(total, beta, self.request.ties)

    def _evaluated(self, aggregates: Sequence[CoxAggregate]) -> CoxRequest:
        assert self.newton is not None
        update: dict[str, object] = {}
        if self.request.centre is None:
            update["centre"] = self._check_moments(aggregates)
        self.newton.tell(*self._evaluation(aggregates))
        phase: Phase = "finish" if self.newton.done else "evaluate"
        return self._next(phase, beta=self.newton.beta.tolist(), **update)

    def _finished(self, aggregates: Sequence[CoxAggregate]) -> CoxPH:
        assert self.newton is not None
        total: Concordance = concordance_of_counts(0, 0, 0, 0)
        for a in aggregates:
            if a.pairs is None or len(a.pairs) != 4:
                raise InputError("an aggregate lacks its four pair counts", "pairs")
            total = total + concordance_of_counts(*a.pairs)
        self.model.set_fit(self.newton, self.terms, total, self.n, self.events)
        self.model.factors_ = self.factors
        self.model.covariates_ = list(self.request.covariates)
        return self.model
