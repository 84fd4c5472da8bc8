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
   the pooled fit), unless the coordinator asks for the exact concordance
   (``concordance="exact"``), which costs one more round and releases the events' risk scores:

   - ``finish`` then returns, per event of the site, its (coarsened) time and its linear
     predictor η = xβ at the optimum (`EventScores`), instead of the pair counts;
   - ``concordance``: the coordinator sends every site the events of all sites (times and η,
     sorted, without the site), and each site returns three numbers: over every listed event
     i and every patient j of its own comparable with it (R's rule: t_j > t_i, or t_j = t_i
     with j censored), how many have η_j < η_i (concordant), η_j > η_i (discordant), η_j = η_i
     (tied). Summed over sites, these are the pooled counts; the pairs of events at one time
     (not comparable) are counted from the list. The concordance is then the pooled fit's
     (R's ``coxph`` concordance) exactly (docs/federated.md#the-exact-concordance).

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
from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from livermet.analysis._data import event_values, group_values, time_values
from livermet.analysis.concordance import Concordance, concordance, concordance_of_counts
from livermet.analysis.cox import (
    MAX_ITER,
    CoxNewton,
    CoxPH,
    Evaluation,
    RiskSetSums,
    Ties,
    add_evaluations,
    check_design,
    check_levels,
    efron_loglik,
    level_counts,
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
    "ConcordanceMode",
    "CoxAggregate",
    "CoxCentral",
    "CoxRequest",
    "EventScores",
    "Moments",
    "Sums",
    "cox_site",
    "cross_pairs",
    "linear_predictor",
]

Phase = Literal["describe", "evaluate", "finish", "concordance"]

ConcordanceMode = Literal["within-sites", "exact"]
"""How a common-baseline fit counts Harrell's C: pairs within sites, or all pairs (one round
more, the events' risk scores released; docs/federated.md#the-exact-concordance)."""


class EventScores(Message):
    """Events' times and linear predictors at the optimum, sorted by time, then η.

    One entry per event (patient with the event), no patient identity and no order of the
    site's table: a site's own events (``finish`` with the exact concordance) or those of all
    sites, without the site (``concordance`` request).
    """

    time: list[float] = Field(description="Time of each event (as analysed: coarsened or not).")
    eta: list[float] = Field(description="Linear predictor x·beta of each event at the optimum.")

    @model_validator(mode="after")
    def _same_length(self) -> EventScores:
        if len(self.time) != len(self.eta):
            raise ValueError(
                f"{len(self.time)} event times and {len(self.eta)} linear predictors: one each"
            )
        return self


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
    concordance: ConcordanceMode = Field(
        default="within-sites",
        description="Harrell's C of a common-baseline fit: pairs within sites, or all (exact).",
    )
    events: EventScores | None = Field(
        default=None,
        description="concordance: the events of all sites (time, linear predictor), sorted.",
    )

    @model_serializer(mode="wrap")
    def _omit_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # Without the exact concordance the JSON stays as requests written before these fields
        # existed, so their request ids (and the checksums of files holding them) still match.
        data: dict[str, object] = handler(self)
        if data.get("concordance") == "within-sites":
            data.pop("concordance", None)
        if data.get("events") is None:
            data.pop("events", None)
        return data


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
    evaluation the sums, cross-products and ranges of the terms; finish, pair counts of the
    site's own patients, or (exact concordance) each event's time and linear predictor;
    concordance, three pair counts.
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
        description=(
            "finish: concordant, discordant, tied-risk and tied-time pairs of the site's own "
            "patients; concordance: concordant, discordant and tied-risk pairs of a listed "
            "event and a patient of the site comparable with it."
        ),
    )
    scores: EventScores | None = Field(
        default=None,
        description="finish (exact concordance): the site's events' times and linear predictors.",
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
    eta = linear_predictor(x, np.asarray(request.beta, dtype=float))
    if phase == "concordance":
        if request.events is None:
            raise InputError("a concordance request needs the events of all sites", "events")
        return CoxAggregate(phase=phase, pairs=list(cross_pairs(t, e, eta, request.events)), **base)
    if request.concordance == "exact" and not request.stratified:
        died = e > 0
        order = np.lexsort((eta[died], t[died]))
        scores = EventScores(time=t[died][order].tolist(), eta=eta[died][order].tolist())
        return CoxAggregate(phase=phase, scores=scores, **base)
    c = concordance(t, e, eta)
    pairs = [c.concordant, c.discordant, c.tied_risk, c.tied_time]
    return CoxAggregate(phase=phase, pairs=pairs, **base)


def linear_predictor(x: FloatArray, beta: FloatArray) -> FloatArray:
    """Return η = xβ, term by term, so that equal rows give equal η at every site.

    Summing the terms in one fixed order makes η a function of the row alone (a matrix product
    may round a row differently by its place in the matrix), so ties in η between patients of
    two sites are ties, as in the pooled table.
    """
    eta = np.zeros(x.shape[0])
    for k in range(x.shape[1]):
        eta = eta + x[:, k] * beta[k]
    return eta


class _Counter:
    """Counts per rank with prefix sums in O(log n) (a binary indexed tree)."""

    def __init__(self, size: int) -> None:
        self.tree = [0] * (size + 1)

    def add(self, rank: int) -> None:
        i = rank + 1
        while i < len(self.tree):
            self.tree[i] += 1
            i += i & -i

    def below(self, rank: int) -> int:
        """Return how many added ranks are < ``rank``."""
        total = 0
        while rank > 0:
            total += self.tree[rank]
            rank -= rank & -rank
        return total


def cross_pairs(
    time: FloatArray, event: FloatArray, eta: FloatArray, events: EventScores
) -> tuple[int, int, int]:
    """Count the pairs of a listed event and a patient here who is comparable with it.

    Patient j is comparable with an event at t_i when t_j > t_i, or t_j = t_i and j is censored
    (censoring at t after the events at t: R's ``concordance``, as
    `livermet.analysis.concordance.concordance`); an event is never comparable with itself or
    with another event at its time. The pair is concordant when η_j < η_i (the patient who died
    first had the higher risk), discordant when η_j > η_i, tied when equal.

    Parameters
    ----------
    time, event, eta : (n,) the site's times, 0/1 events and linear predictors.
    events : the listed events (of all sites, the site's own among them).

    Returns
    -------
    tuple of int
        Concordant, discordant and tied-risk pair counts.
    """
    listed_t = np.asarray(events.time, dtype=float)
    listed_eta = np.asarray(events.eta, dtype=float)
    _, ranks = np.unique(np.concatenate([eta, listed_eta]), return_inverse=True)
    own_rank, listed_rank = ranks[: eta.size].tolist(), ranks[eta.size :].tolist()
    entry = np.lexsort((event > 0, -time)).tolist()  # latest first, censored first at ties
    own_t, own_dead = time.tolist(), (event > 0).tolist()
    counter = _Counter(int(ranks.max()) + 2 if ranks.size else 1)
    inserted = concordant = discordant = tied = 0
    for i in np.argsort(-listed_t, kind="stable").tolist():
        ti = listed_t[i]
        while inserted < len(entry):
            j = entry[inserted]
            if own_t[j] < ti or (own_t[j] == ti and own_dead[j]):
                break
            counter.add(own_rank[j])
            inserted += 1
        r = listed_rank[i]
        below = counter.below(r)
        same = counter.below(r + 1) - below
        concordant += below
        tied += same
        discordant += inserted - below - same
    return concordant, discordant, tied


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
    concordance : {"within-sites", "exact"}
        Common baseline: count Harrell's C within sites (default; no more is released), or
        over all pairs, as the pooled fit, in one more round that releases each event's time
        and linear predictor (docs/federated.md#the-exact-concordance). Stratified, the
        concordance is R's within strata already; ``"exact"`` is refused there.
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
        concordance: ConcordanceMode = "within-sites",
        ties: Ties = "efron",
        conf_level: float = 0.95,
        dropna: bool = False,
        max_iter: int = MAX_ITER,
    ) -> None:
        if not covariates:
            raise InputError("give at least one covariate", "covariates")
        if concordance not in ("within-sites", "exact"):
            raise InputError(f"unknown {concordance!r}; use within-sites or exact", "concordance")
        if concordance == "exact" and stratified:
            raise InputError(
                "stratified by site, the concordance is counted within sites, as R's "
                "coxph(... + strata(site)): the exact concordance is for a common baseline",
                "concordance",
            )
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
        CoxNewton(len(covariates), max_iter)  # refuses a max_iter that is not a count >= 1
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
            concordance=concordance,
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
        if self.request.phase == "concordance":
            return self._fit(self._all_pairs(aggregates))
        if self.request.concordance == "exact":
            return self._next("concordance", events=self._scores(aggregates))
        return self._fit(self._within_sites(aggregates))

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
        self.newton = CoxNewton(len(self.terms), self.max_iter, self.terms)
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

    def _check_levels(self, total: FloatArray, aggregates: Sequence[CoxAggregate]) -> None:
        """Refuse a factor level without patients, or (common baseline) without events.

        ``total`` is the sum of each term over all sites (from the moments): for a level's
        0/1 term, its patients. With a common baseline the deaths' sums of the terms at β = 0
        (the risk-set sums' ``xd``, uncentred at the first evaluation) give each level's
        events, as the pooled fit counts them (`livermet.analysis.cox.check_levels`).
        Stratified, no site sends its events per level; a level without events is then caught
        by the Newton iteration (singular information or no convergence).
        """
        levels = self.factors  # as the terms name them (TRUE, not True)
        patients = level_counts(levels, self.terms, total, self.n)
        events = {name: [1.0] * len(lv) for name, lv in levels.items()}
        sums = [a.sums for a in aggregates if a.sums is not None]
        if not self.request.stratified and len(sums) == len(aggregates):
            p = len(self.terms)
            deaths = np.sum([np.asarray(s.xd, dtype=float).reshape(-1, p) for s in sums], (0, 1))
            events = level_counts(levels, self.terms, deaths, self.events)
        check_levels(levels, patients, events)

    def _check_moments(self, aggregates: Sequence[CoxAggregate]) -> list[float]:
        """Refuse empty levels, constant or collinear terms; return the pooled means (centre)."""
        moments = [a.moments for a in aggregates if a.moments is not None]
        if len(moments) != len(aggregates):
            raise InputError("an aggregate lacks the moments of the terms", "moments")
        total = np.sum([m.sum_x for m in moments], axis=0)
        self._check_levels(total, aggregates)
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

    def _within_sites(self, aggregates: Sequence[CoxAggregate]) -> Concordance:
        """Return the sum of the sites' own pair counts (finish)."""
        total: Concordance = concordance_of_counts(0, 0, 0, 0)
        for a in aggregates:
            if a.pairs is None or len(a.pairs) != 4 or min(a.pairs) < 0:
                raise InputError("an aggregate lacks its four pair counts (each >= 0)", "pairs")
            total = total + concordance_of_counts(*a.pairs)
        return total

    def _scores(self, aggregates: Sequence[CoxAggregate]) -> EventScores:
        """Check the sites' events (finish, exact concordance); return them merged and sorted."""
        grid = np.asarray(self.request.event_times or [], dtype=float)
        times: list[float] = []
        etas: list[float] = []
        for position, a in enumerate(aggregates, start=1):
            if a.scores is None or len(a.scores.time) != a.events:
                raise InputError(
                    f"aggregate {position} does not give the time and linear predictor of each "
                    f"of its {a.events} events",
                    "scores",
                )
            t = np.asarray(a.scores.time, dtype=float)
            if not np.all(np.isin(t, grid)) or not np.all(np.isfinite(a.scores.eta)):
                raise InputError(
                    f"aggregate {position} gives an event time that is not one of the event "
                    "times of the fit, or a linear predictor that is not a finite number",
                    "scores",
                )
            times += a.scores.time
            etas += a.scores.eta
        if len(times) != self.events:
            raise InputError(
                f"the sites give {len(times)} events; the fit has {self.events}", "scores"
            )
        order = np.lexsort((np.asarray(etas), np.asarray(times)))
        return EventScores(
            time=[times[i] for i in order.tolist()], eta=[etas[i] for i in order.tolist()]
        )

    def _all_pairs(self, aggregates: Sequence[CoxAggregate]) -> Concordance:
        """Return the pooled pair counts from the sites' counts against the listed events."""
        assert self.request.events is not None
        listed = len(self.request.events.time)
        counts = np.zeros(3, dtype=np.int64)
        for position, a in enumerate(aggregates, start=1):
            pairs = a.pairs
            if pairs is None or len(pairs) != 3 or min(pairs) < 0 or sum(pairs) > listed * a.n:
                raise InputError(
                    f"aggregate {position} does not give three pair counts (each >= 0, at most "
                    f"{listed} events x {a.n} patients in all)",
                    "pairs",
                )
            counts += np.asarray(pairs, dtype=np.int64)
        _, per_time = np.unique(np.asarray(self.request.events.time), return_counts=True)
        tied_time = int(np.sum(per_time * (per_time - 1) // 2))
        return concordance_of_counts(int(counts[0]), int(counts[1]), int(counts[2]), tied_time)

    def _fit(self, total: Concordance) -> CoxPH:
        assert self.newton is not None
        self.model.set_fit(self.newton, self.terms, total, self.n, self.events)
        self.model.factors_ = self.factors
        self.model.covariates_ = list(self.request.covariates)
        return self.model
