"""The offline exchange: write a request, answer it at a site, combine the answers.

The three steps of ``livermet federated request | partial | combine`` (docs/federated.md) as
functions of files and tables, without the command line:

- `new_request`: the request file of an analysis (`Analysis`, `Disclosure`);
- `site_answer`: a site's aggregate file from its cohort table (the registry's
  ``cohort_frame``): the cases lacking what the analysis needs are left out and counted (as
  ``livermet cohort`` does on the registry), times are coarsened if the request says so, the
  site part of `livermet.federated` answers, and every number is listed in the release report;
- `combine`: the aggregate files of all sites → the report of ``livermet cohort`` for the
  analysis (the same dict, from the same code), after the minimum cell rule; for Cox, the
  rounds are replayed from all the files given and, when the fit has not converged, the next
  round's request file is returned instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from livermet.analysis.cohort import CohortSelection, select_complete, synthetic_label
from livermet.analysis.cox import CoxPH
from livermet.analysis.summary import (
    CoxAnalysis,
    CumincAnalysis,
    KMAnalysis,
    cuminc_report,
    json_safe,
    km_report,
)
from livermet.errors import InputError
from livermet.federated._messages import Aggregate, Message, request_id
from livermet.federated.cells import (
    cox_step,
    cuminc_cells,
    km_cells,
    logrank_cells,
    meta_cells,
)
from livermet.federated.cox import CoxAggregate, CoxCentral, CoxRequest
from livermet.federated.cuminc import CumincAggregate, CumincRequest, cumulative_incidence_central
from livermet.federated.disclosure import check_cells, coarsen_months, release_lines
from livermet.federated.exchange import (
    AggregateFile,
    Analysis,
    AnyRequest,
    CohortNotes,
    Disclosure,
    RequestFile,
    sealed,
)
from livermet.federated.meta import MetaAggregate, MetaRequest, meta_central
from livermet.federated.site import respond
from livermet.federated.survival import (
    LogRankStrataAggregate,
    LogRankStrataRequest,
    SurvivalAggregate,
    SurvivalRequest,
    kaplan_meier_by_group_central,
    kaplan_meier_central,
    logrank_central,
    logrank_strata_central,
)

__all__ = ["Answer", "Combined", "combine", "cox_central", "new_request", "site_answer"]

Answer = tuple[Path, AggregateFile]
"""An aggregate file and where it was read from (for messages)."""

R = TypeVar("R", bound=Message)
G = TypeVar("G", bound=Aggregate)


@dataclass
class Combined:
    """What `combine` gives: a result (report and fitted objects) or the next Cox request."""

    kind: str
    sites: list[str]
    report: dict[str, Any] | None = None
    result: KMAnalysis | CoxAnalysis | CumincAnalysis | None = None
    next_request: RequestFile | None = None
    notes: list[str] | None = None


# --- the request ----------------------------------------------------------------------------


def _check_analysis(a: Analysis) -> None:
    """Refuse options that do not fit the analysis (naming the option)."""
    if a.kind == "logrank" and a.by is None:
        raise InputError("the log-rank test compares groups: give --by", "by")
    if a.kind in {"cox", "meta"} and not a.covariates:
        raise InputError(f"a {a.kind} analysis needs --covariates", "covariates")
    if a.stratified and a.kind not in {"logrank", "cox"}:
        raise InputError("--stratified applies to logrank and cox", "stratified")
    if a.reference and a.kind != "cox":
        raise InputError("--reference applies to cox", "reference")
    if a.concordance == "exact" and (a.kind != "cox" or a.stratified):
        raise InputError(
            "--concordance exact applies to cox with a common baseline (stratified by site, "
            "the concordance is R's, within sites)",
            "concordance",
        )
    for name, level in a.reference.items():
        if name not in a.covariates:
            raise InputError(
                f"--reference {name}={level}: {name} is not one of the covariates "
                f"({', '.join(a.covariates)})",
                "reference",
            )
    if a.levels is not None and a.by is None:
        raise InputError("--levels needs --by", "levels")
    if any(t < 0 for t in a.times):
        raise InputError("report times must be numbers >= 0", "times")


def cox_central(a: Analysis) -> CoxCentral:
    """Return the coordinator of the Cox fit of ``a`` (the same for every round's replay)."""
    return CoxCentral(
        a.time,
        a.event,
        a.covariates,
        reference=a.reference,
        categorical=a.categorical,
        stratified=a.stratified,
        concordance=a.concordance,
        ties=a.ties,
        conf_level=a.conf_level,
    )


def _core_request(a: Analysis) -> AnyRequest:
    """Return the `livermet.federated` request every site answers for ``a`` (round 0)."""
    if a.kind == "cox":
        return cox_central(a).start()
    if a.kind == "meta":
        return MetaRequest(
            time=a.time,
            event=a.event,
            covariates=a.covariates,
            categorical=a.categorical,
            ties=a.ties,
        )
    if a.kind == "cuminc":
        return CumincRequest(
            time=a.time,
            event=a.event,
            competing=a.competing,
            censored=a.censored,
            event_types=a.event_types,
        )
    if a.kind == "logrank" and a.stratified:
        return LogRankStrataRequest(time=a.time, event=a.event, by=a.by or "")
    return SurvivalRequest(time=a.time, event=a.event, by=a.by)


def new_request(analysis: Analysis, disclosure: Disclosure, study: str = "") -> RequestFile:
    """Return the sealed request file of ``analysis`` under the rules of ``disclosure``."""
    _check_analysis(analysis)
    return sealed(
        RequestFile(
            study=study,
            analysis=analysis,
            disclosure=disclosure,
            request=_core_request(analysis),
        )
    )


# --- the site -------------------------------------------------------------------------------


def _release_header(request: RequestFile, site: str, coarsened: bool) -> list[str]:
    """Return the first lines of the release report: what is answered, and how."""
    a = request.analysis
    times = (
        "times sent as whole months (each time t rounded up to ⌈t⌉)"
        if coarsened
        else ("exact times" if a.sends_times() else "no time is sent")
    )
    return [
        f"Release report of site {site!r} for the request {request.sha256[:16]}... "
        f"({request.study or 'no title'}), {a.kind} round {request.round}.",
        f"Columns used: {', '.join(a.columns())}; {times}.",
        "Everything that leaves the site is listed below, field by field, with every number.",
    ]


def site_answer(frame: pd.DataFrame, request: RequestFile, site: str) -> AggregateFile:
    """Answer ``request`` from a site's cohort table; return the sealed aggregate file.

    Cases lacking a column the analysis needs are left out and counted by column (as
    ``livermet cohort`` does on the registry); with ``coarsen == "month"`` the time column is
    rounded up to whole months first for the analyses that send times.

    Raises
    ------
    InputError
        A column the site lacks, a bad value, or no patient to analyse.
    """
    a = request.analysis
    selection = select_complete(frame, a.columns())
    data = selection.data
    coarsened = request.disclosure.coarsen == "month" and a.sends_times()
    if coarsened:
        data = coarsen_months(data, a.time)
    aggregate = respond(data, request.request)
    synthetic = (
        int(data["synthetic"].fillna(False).astype(bool).sum()) if "synthetic" in data else 0
    )
    notes = CohortNotes(
        n_total=selection.n_total, excluded=selection.excluded, n_synthetic=synthetic
    )
    lines, count = release_lines(aggregate)
    header = _release_header(request, site, coarsened)
    header.append(
        f"Cases: {selection.n_used} used of {selection.n_total} "
        f"({selection.n_excluded} left out for a missing value); {count} numbers in all."
    )
    return sealed(
        AggregateFile(
            site=site,
            request=request,
            cohort=notes,
            aggregate=aggregate,
            release=header + lines,
        )
    )


# --- the coordinator ------------------------------------------------------------------------


def _check_same_study(answers: Sequence[Answer], iterative: bool) -> None:
    """Refuse files that answer another study, analysis or rules (or, one round, request)."""
    path0, first = answers[0]
    for path, answer in answers[1:]:
        r, r0 = answer.request, first.request
        same = (r.study, r.analysis, r.disclosure) == (r0.study, r0.analysis, r0.disclosure)
        if not same or (not iterative and r.sha256 != r0.sha256):
            raise InputError(
                f"answers another request ({r.sha256[:12]}..., not {r0.sha256[:12]}... of {path0})",
                str(path),
            )


def _check_sites(answers: Sequence[Answer], expected: list[str] | None, what: str) -> list[str]:
    """Refuse two answers of one site, or (a Cox round) a site missing; return the sites."""
    sites: list[str] = []
    for path, answer in answers:
        if answer.site in sites:
            raise InputError(f"a second answer of site {answer.site!r} to {what}", str(path))
        sites.append(answer.site)
    if expected is not None and sorted(sites) != sorted(expected):
        missing = sorted(set(expected) - set(sites))
        extra = sorted(set(sites) - set(expected))
        raise InputError(
            f"{what}: answers from {sorted(sites)}; missing {missing}, not expected {extra} "
            f"(every site of round 0 must answer every round)",
            "sites",
        )
    return sites


def _cohort_notes(report: dict[str, Any], answers: Sequence[Answer], n_used: int) -> None:
    """Write the sites' cases left out (summed) and the synthetic label into ``report``."""
    columns = answers[0][1].request.analysis.columns()
    n_total = sum(a.cohort.n_total for _, a in answers)
    excluded: dict[str, int] = {}
    for column in dict.fromkeys(columns):
        count = sum(a.cohort.excluded.get(column, 0) for _, a in answers)
        if count:
            excluded[column] = count
    used = pd.DataFrame(index=range(n_used))
    report["excluded"] = CohortSelection(used, n_total, excluded).to_dict()
    n_synthetic = sum(a.cohort.n_synthetic for _, a in answers)
    flags = pd.DataFrame({"synthetic": [True] * n_synthetic + [False] * (n_used - n_synthetic)})
    label = synthetic_label(flags)
    if label is not None:
        report["synthetic"] = label


def _km(answers: Sequence[Answer], a: Analysis, min_cell: int) -> Combined:
    """Combine Kaplan-Meier tables: the report of ``livermet cohort km``."""
    request = _request(answers, SurvivalRequest)
    aggregates = _typed(answers, SurvivalAggregate)
    overall = kaplan_meier_central(
        request, aggregates, conf_type=a.conf_type, conf_level=a.conf_level
    )
    groups = None
    test = None
    if a.by is not None:
        groups = kaplan_meier_by_group_central(
            request, aggregates, levels=a.levels, conf_type=a.conf_type, conf_level=a.conf_level
        )
        if len(groups) > 1:
            test = logrank_central(request, aggregates, levels=a.levels)
    check_cells(km_cells(overall, groups, a.by), min_cell)
    report = km_report(
        overall,
        groups,
        test,
        time=a.time,
        event=a.event,
        by=a.by,
        times=a.times,
        rmst_horizon=a.rmst_horizon,
        conf_type=a.conf_type,
        conf_level=a.conf_level,
    )
    _cohort_notes(report, answers, overall.n_)
    report = json_safe(report)
    return Combined(a.kind, [], report, KMAnalysis(overall, groups, test, report))


def _logrank_strata(answers: Sequence[Answer], a: Analysis, min_cell: int) -> Combined:
    """Combine (O, E, V) per group: the log-rank test stratified by site."""
    test = logrank_strata_central(
        _request(answers, LogRankStrataRequest),
        _typed(answers, LogRankStrataAggregate),
        levels=a.levels,
    )
    check_cells(logrank_cells(test, a.by), min_cell)
    report: dict[str, Any] = {
        "time_column": a.time,
        "event_column": a.event,
        "by": a.by,
        "strata": "site",
        "logrank": test.to_dict(),
    }
    _cohort_notes(report, answers, int(sum(test.n)))
    return Combined(a.kind, [], json_safe(report))


def _cuminc(answers: Sequence[Answer], a: Analysis, min_cell: int) -> Combined:
    """Combine tables of first events: the report of ``livermet cohort cuminc``."""
    fit = cumulative_incidence_central(
        _request(answers, CumincRequest),
        _typed(answers, CumincAggregate),
        conf_type=a.conf_type,
        conf_level=a.conf_level,
    )
    check_cells(cuminc_cells(fit), min_cell)
    report = cuminc_report(
        fit,
        time=a.time,
        event=a.event,
        competing=a.competing,
        times=a.times,
        conf_type=a.conf_type,
        conf_level=a.conf_level,
    )
    _cohort_notes(report, answers, fit.n_)
    report = json_safe(report)
    return Combined(a.kind, [], report, CumincAnalysis(fit, report))


def _meta(answers: Sequence[Answer], a: Analysis, min_cell: int) -> Combined:
    """Pool each term's per-site log hazard ratio by random-effects meta-analysis (rma)."""
    request = _request(answers, MetaRequest)
    aggregates = _typed(answers, MetaAggregate)
    check_cells(meta_cells(aggregates), min_cell)
    n = sum(x.n for x in aggregates)
    events = sum(x.events for x in aggregates)
    terms = list(dict.fromkeys(t for x in aggregates for t in x.terms))
    pooled: dict[str, Any] = {}
    for term in terms:
        fit = meta_central(request, aggregates, term)
        pooled[term] = {
            "k": fit.k,
            "coef": float(fit.beta),
            "se": float(fit.se),
            "hr": float(np.exp(fit.beta)),
            "hr_lower": float(np.exp(fit.ci_lb)),
            "hr_upper": float(np.exp(fit.ci_ub)),
            "p": float(fit.pval),
            "tau2": fit.tau2,
            "i2": fit.i2,
            "qe": fit.qe,
            "qe_p": fit.qe_p,
        }
    report: dict[str, Any] = {
        "time_column": a.time,
        "event_column": a.event,
        "method": "two-stage random-effects meta-analysis (REML) of per-site Cox fits",
        "n": n,
        "events": events,
        "terms": pooled,
        "sites": [
            {"site": s.site, "n": x.n, "events": x.events, "reason": x.reason}
            for (_, s), x in zip(answers, aggregates, strict=True)
        ],
    }
    _cohort_notes(report, answers, n)
    return Combined(a.kind, [], json_safe(report))


def _cox(answers: Sequence[Answer], a: Analysis, min_cell: int) -> Combined:
    """Replay the Cox rounds from all the files; the fit, or the next round's request."""
    rounds: dict[str, list[Answer]] = {}
    for answer in answers:
        rounds.setdefault(answer[1].aggregate.request_id, []).append(answer)
    central = cox_central(a)
    request: CoxRequest | CoxPH = central.start()
    sites: list[str] | None = None
    round0: list[Answer] = []
    while isinstance(request, CoxRequest):
        round_answers = rounds.pop(request_id(request), None)
        if round_answers is None:
            break
        round0 = round0 or round_answers
        sites = _check_sites(round_answers, sites, f"round {request.round}")
        request = cox_step(central, request, _typed(round_answers, CoxAggregate), min_cell)
    for stray in rounds.values():
        raise InputError(
            "answers no round of this Cox fit (a round of another run, or a stale file)",
            str(stray[0][0]),
        )
    if not round0:
        raise InputError("no answer to round 0 (describe) of this Cox fit", "aggregates")
    if isinstance(request, CoxRequest):
        first = answers[0][1].request
        next_file = sealed(
            first.model_copy(update={"round": request.round, "request": request, "sha256": ""})
        )
        return Combined(a.kind, sites or [], next_request=next_file)
    report = {"time_column": a.time, "event_column": a.event, **request.to_dict()}
    _cohort_notes(report, round0, request.n_)
    report = json_safe(report)
    notes = [f"{central.round_trips} round trips"]
    if a.stratified:
        notes.append("a baseline hazard per site (stratified by site)")
    elif a.concordance == "exact":
        notes.append("concordance over all pairs, as the pooled fit (the events' risk scores)")
    else:
        notes.append("concordance counted within sites (pairs of two sites are not compared)")
    return Combined(a.kind, sites or [], report, CoxAnalysis(request, report), notes=notes)


def _request(answers: Sequence[Answer], kind: type[R]) -> R:
    """Return the request the answers share, refusing one of another kind."""
    path, first = answers[0]
    request = first.request.request
    if not isinstance(request, kind):
        raise InputError(f"a {request.analysis} request where a {kind.__name__} belongs", str(path))
    return request


def _typed(answers: Sequence[Answer], kind: type[G]) -> list[G]:
    """Return the answers' aggregates, refusing one of another kind (naming its file)."""
    out: list[G] = []
    for path, answer in answers:
        if not isinstance(answer.aggregate, kind):
            raise InputError(
                f"a {answer.aggregate.analysis} aggregate where a {kind.__name__} belongs",
                str(path),
            )
        out.append(answer.aggregate)
    return out


_COMBINERS = {"km": _km, "rmst": _km, "logrank": _km, "cuminc": _cuminc, "meta": _meta}


def combine(answers: Sequence[Answer]) -> Combined:
    """Combine the sites' aggregate files into the analysis's report (or the next request).

    Raises
    ------
    InputError
        No file, files answering other requests, two answers of one site, a missing site in
        a Cox round, or a `Refusal` of the minimum cell rule.
    """
    if not answers:
        raise InputError("give the aggregate files of the sites", "aggregates")
    a = answers[0][1].request.analysis
    min_cell = answers[0][1].request.disclosure.min_cell
    _check_same_study(answers, iterative=a.kind == "cox")
    if a.kind == "cox":
        return _cox(answers, a, min_cell)
    sites = _check_sites(answers, None, "this request")
    if a.kind == "logrank" and a.stratified:
        combined = _logrank_strata(answers, a, min_cell)
    else:
        combined = _COMBINERS[a.kind](answers, a, min_cell)
    combined.sites = sites
    return combined
