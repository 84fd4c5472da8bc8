"""The functions a researcher's task runs on one node: ask every organisation, combine.

Each central function writes a livermet request, creates one vantage6 subtask per round that
runs `v6_livermet.partial.partial` at every organisation, and combines the answers with the
central part of `livermet.federated`, the same estimator code as the pooled analysis. The
result is the JSON that ``livermet cohort km|cox|cuminc --format json`` prints for the pooled
cohort (without the notes on cases left out, which no organisation reports), plus a
``federated`` entry: the engine, the number of organisations and of round trips.

Disclosure: the analyses that send a table per distinct time (Kaplan-Meier, pooled log-rank,
cumulative incidence, Cox with a common baseline) send whole months by default, as the file
exchange does (``docs/federated.md#disclosure-control``); the result is then exact on the
coarsened times, the pooled analysis of the cohort with ⌈t⌉ times. ``exact_times=True`` sends
the times as they are. The stratified analyses send no time.

Minimum cell count: every central function takes ``min_cell`` (default
`livermet.federated.disclosure.MIN_CELL_DEFAULT`, 5) and refuses a result one of whose cells
totals fewer over all organisations (`livermet.federated.cells`: the patients and events overall
and of each group, the first events of each type, the patients of each Cox factor level), as the
file exchange does; the refusal (`livermet.federated.disclosure.Refusal`, field ``min_cell``)
says which cell and why, and fails the task. ``min_cell=0`` applies no rule. The rule is applied
to the totals, not per organisation, so an organisation with two patients can take part.

Cox regression is iterative: one subtask per evaluation of the partial likelihood (a describe
round, one per Newton step, a finish round), driven by `livermet.federated.CoxCentral`. With a
common baseline, ``concordance="exact"`` adds one subtask, the concordance round, and gives the
pooled fit's concordance (R's ``coxph``); the finish round then releases each event's time and
linear predictor (``docs/federated.md#the-exact-concordance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from livermet.analysis import CoxPH
from livermet.analysis._ci import ConfType
from livermet.analysis.cox import MAX_ITER, Ties
from livermet.analysis.km import KaplanMeier
from livermet.analysis.logrank import LogRankResult
from livermet.analysis.summary import DEFAULT_TIMES, cuminc_report, json_safe, km_report
from livermet.errors import InputError
from livermet.federated import (
    Aggregate,
    CoxAggregate,
    CoxCentral,
    CoxRequest,
    CumincAggregate,
    CumincRequest,
    LogRankStrataAggregate,
    LogRankStrataRequest,
    Request,
    SurvivalAggregate,
    SurvivalRequest,
    cumulative_incidence_central,
    kaplan_meier_by_group_central,
    kaplan_meier_central,
    logrank_central,
    logrank_strata_central,
)
from livermet.federated.cells import cox_step, cuminc_cells, km_cells, logrank_cells
from livermet.federated.cox import ConcordanceMode
from livermet.federated.disclosure import MIN_CELL_DEFAULT, check_cells
from pydantic import ValidationError

from v6_livermet._engine import Client, with_client
from v6_livermet.partial import Coarsen

__all__ = [
    "ask",
    "central_cox",
    "central_cuminc",
    "central_km",
    "central_logrank",
    "check_min_cell",
    "check_reference",
]

A = TypeVar("A", bound=Aggregate)

LOWER_MIN_CELL = "the central function's argument min_cell"
"""How a researcher sets the minimum cell count on vantage6 (named by a refusal)."""

PARTIAL = "partial"
"""Name of the function the organisations' nodes run (`v6_livermet.partial.partial`)."""


def check_min_cell(min_cell: object) -> int:
    """Return ``min_cell`` if it is a whole number >= 0, as the file exchange and Flower take it.

    Raises
    ------
    InputError
        A negative number (it would turn the rule off), a fraction, text or a boolean (field
        ``min_cell``).
    """
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 0:
        raise InputError(
            f"{min_cell!r} is not a whole number >= 0 (the smallest total of a released cell; "
            "0 or 1: no rule)",
            "min_cell",
        )
    return min_cell


def check_reference(reference: object) -> dict[str, str] | None:
    """Return ``reference`` if it is none or a mapping of covariate -> reference level (text).

    Raises
    ------
    InputError
        Anything else, e.g. ``"approach=open"`` for ``{"approach": "open"}`` (field
        ``reference``).
    """
    if reference is None:
        return None
    if not isinstance(reference, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in reference.items()
    ):
        raise InputError(
            f"{reference!r} is not a mapping of covariate to reference level, e.g. "
            '{"approach": "open"}',
            "reference",
        )
    return dict(reference)


def organizations_of(client: Client, organizations: Sequence[int] | None) -> list[int]:
    """Return the organisations to ask: those given, else every one of the collaboration."""
    if organizations is None:
        organizations = [int(org["id"]) for org in client.organization.list()]
    if not organizations:
        raise InputError("no organisation to ask", "organizations")
    return [int(org) for org in organizations]


def ask(
    client: Client,
    request: Request,
    organizations: Sequence[int],
    answer: type[A],
    coarsen: Coarsen = "month",
) -> list[A]:
    """Run ``request`` at every organisation in one subtask; return their validated answers.

    ``coarsen`` is passed to `v6_livermet.partial.partial`: times as whole months or exact.

    Raises
    ------
    InputError
        An organisation did not answer (its run failed: the node's log says why) or answered
        with something that is not a ``answer`` aggregate.
    """
    kind = type(request).__name__
    task = client.task.create(
        input_={
            "method": PARTIAL,
            "kwargs": {"request": request.model_dump(mode="json"), "coarsen": coarsen},
        },
        organizations=list(organizations),
        name=f"livermet {kind}",
        description=f"livermet.federated {kind}: each organisation's aggregate",
    )
    results = client.wait_for_results(task_id=task["id"])
    if len(results) != len(organizations):
        raise InputError(
            f"{len(results)} of {len(organizations)} organisations answered the {kind} "
            "(a failed run returns nothing: see the node's log)",
            "organizations",
        )
    try:
        return [answer.model_validate(result) for result in results]
    except ValidationError as exc:
        raise InputError(
            f"an organisation's answer is not a {answer.__name__}: {exc.errors()[0]['msg']}",
            "aggregate",
        ) from exc


def _coarsen(exact_times: bool) -> Coarsen:
    return "exact" if exact_times else "month"


def _federated(
    organizations: Sequence[int], round_trips: int, times: str | None, **more: Any
) -> dict[str, Any]:
    """Return the ``federated`` entry of a result (``times`` none: no time left the sites)."""
    entry: dict[str, Any] = {
        "engine": "vantage6",
        "organizations": len(organizations),
        "round_trips": round_trips,
    }
    if times is not None:
        entry["times"] = "exact" if times == "exact" else "whole months"
    return {"federated": entry | more}


@with_client
def central_km(
    client: Client,
    time: str,
    event: str,
    by: str | None = None,
    levels: Sequence[str] | None = None,
    times: Sequence[float] = DEFAULT_TIMES,
    rmst_horizon: float = 60.0,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    dropna: bool = False,
    exact_times: bool = False,
    min_cell: int = MIN_CELL_DEFAULT,
    organizations: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Return the Kaplan-Meier report of all organisations' patients (``livermet cohort km``).

    Survival, bounds and numbers at risk at ``times``, median with interval, RMST to
    ``rmst_horizon``; with ``by``, the same per group (in ``levels`` order) and the log-rank
    test. One round trip; each organisation reveals its table of events and censorings per
    distinct time and group (`livermet.federated.SurvivalAggregate`), in whole months unless
    ``exact_times``.
    """
    check_min_cell(min_cell)
    orgs = organizations_of(client, organizations)
    request = SurvivalRequest(time=time, event=event, by=by, dropna=dropna)
    answers = ask(client, request, orgs, SurvivalAggregate, _coarsen(exact_times))
    overall = kaplan_meier_central(request, answers, conf_type=conf_type, conf_level=conf_level)
    groups: dict[str, KaplanMeier] | None = None
    test: LogRankResult | None = None
    if by is not None:
        groups = kaplan_meier_by_group_central(
            request, answers, levels=levels, conf_type=conf_type, conf_level=conf_level
        )
        if len(groups) > 1:
            test = logrank_central(request, answers, levels=levels)
    check_cells(km_cells(overall, groups, by), min_cell, LOWER_MIN_CELL)
    report = km_report(
        overall,
        groups,
        test,
        time=time,
        event=event,
        by=by,
        times=[float(t) for t in times],
        rmst_horizon=rmst_horizon,
        conf_type=conf_type,
        conf_level=conf_level,
    )
    return dict(json_safe(report | _federated(orgs, 1, _coarsen(exact_times))))


@with_client
def central_logrank(
    client: Client,
    time: str,
    event: str,
    by: str,
    levels: Sequence[str] | None = None,
    stratified: bool = False,
    dropna: bool = False,
    exact_times: bool = False,
    min_cell: int = MIN_CELL_DEFAULT,
    organizations: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Return the log-rank test of the groups of ``by``, pooled or stratified by organisation.

    Pooled, each organisation reveals its table of events and censorings per distinct time and
    group (whole months unless ``exact_times``); stratified (R's ``survdiff(... +
    strata(site))``), only its observed and expected events per group and their covariance: no
    event time leaves the organisation.
    """
    check_min_cell(min_cell)
    orgs = organizations_of(client, organizations)
    if stratified:
        strata = LogRankStrataRequest(time=time, event=event, by=by, dropna=dropna)
        answers = ask(client, strata, orgs, LogRankStrataAggregate)
        test = logrank_strata_central(strata, answers, levels=levels)
    else:
        pooled = SurvivalRequest(time=time, event=event, by=by, dropna=dropna)
        tables = ask(client, pooled, orgs, SurvivalAggregate, _coarsen(exact_times))
        test = logrank_central(pooled, tables, levels=levels)
    check_cells(logrank_cells(test, by), min_cell, LOWER_MIN_CELL)
    times = None if stratified else _coarsen(exact_times)
    extra = _federated(orgs, 1, times, stratified_by_organization=stratified)
    return dict(json_safe(test.to_dict() | extra))


@with_client
def central_cox(
    client: Client,
    time: str,
    event: str,
    covariates: Sequence[str],
    levels: dict[str, list[str]] | None = None,
    reference: dict[str, str] | None = None,
    categorical: Sequence[str] = (),
    stratified: bool = False,
    concordance: ConcordanceMode = "within-sites",
    ties: Ties = "efron",
    conf_level: float = 0.95,
    dropna: bool = False,
    exact_times: bool = False,
    max_iter: int = MAX_ITER,
    min_cell: int = MIN_CELL_DEFAULT,
    organizations: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Return the Cox model of ``covariates`` fitted across organisations (``livermet cohort cox``).

    A common baseline hazard (``stratified`` false: each round, the organisations' risk-set
    sums at every event time, in whole months unless ``exact_times``) or one per organisation
    (R's ``+ strata(site)``: each round, an organisation's log-likelihood, score and information
    only). One subtask per round of
    `livermet.federated.CoxCentral`. With a common baseline the concordance is counted within
    organisations (pairs of patients of two organisations are not compared), unless
    ``concordance="exact"``: then one subtask more counts every pair, as the pooled fit, and
    each organisation reveals its events' times and linear predictors at the optimum (and
    receives those of all organisations' events, without the organisation). ``reference``
    names a factor's reference level (``{"approach": "laparoscopic"}``), as ``livermet cohort
    cox --reference``.
    """
    check_min_cell(min_cell)
    orgs = organizations_of(client, organizations)
    central = CoxCentral(
        time,
        event,
        covariates,
        levels=levels,
        reference=check_reference(reference),
        categorical=categorical,
        stratified=stratified,
        concordance=concordance,
        ties=ties,
        conf_level=conf_level,
        dropna=dropna,
        max_iter=max_iter,
    )
    step: CoxRequest | CoxPH = central.start()
    while not isinstance(step, CoxPH):
        answers = ask(client, step, orgs, CoxAggregate, _coarsen(exact_times))
        step = cox_step(central, step, answers, min_cell, LOWER_MIN_CELL)
    report = {"time_column": time, "event_column": event, **step.to_dict()}
    extra = _federated(
        orgs,
        central.round_trips,
        None if stratified else _coarsen(exact_times),
        stratified_by_organization=stratified,
        concordance=_concordance_label(stratified, concordance),
    )
    return dict(json_safe(report | extra))


def _concordance_label(stratified: bool, concordance: ConcordanceMode) -> str:
    """Return how the concordance of a Cox result was counted (the ``federated`` entry)."""
    if stratified:
        return "by organisation"
    return "all pairs" if concordance == "exact" else "within organisations"


@with_client
def central_cuminc(
    client: Client,
    time: str,
    event: str,
    competing: str | None = None,
    censored: Sequence[str] = ("censored", "none", "0"),
    event_types: Sequence[str] | None = None,
    times: Sequence[float] = DEFAULT_TIMES,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
    dropna: bool = False,
    exact_times: bool = False,
    min_cell: int = MIN_CELL_DEFAULT,
    organizations: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Return the Aalen-Johansen cumulative incidence report (``livermet cohort cuminc``).

    One round trip; each organisation reveals its table of first events by type and
    censorings per distinct time (`livermet.federated.CumincAggregate`), in whole months
    unless ``exact_times``.
    """
    check_min_cell(min_cell)
    orgs = organizations_of(client, organizations)
    request = CumincRequest(
        time=time,
        event=event,
        competing=competing,
        censored=list(censored),
        event_types=None if event_types is None else list(event_types),
        dropna=dropna,
    )
    answers = ask(client, request, orgs, CumincAggregate, _coarsen(exact_times))
    fit = cumulative_incidence_central(request, answers, conf_type=conf_type, conf_level=conf_level)
    check_cells(cuminc_cells(fit), min_cell, LOWER_MIN_CELL)
    report = cuminc_report(
        fit,
        time=time,
        event=event,
        competing=competing,
        times=[float(t) for t in times],
        conf_type=conf_type,
        conf_level=conf_level,
    )
    return dict(json_safe(report | _federated(orgs, 1, _coarsen(exact_times))))
