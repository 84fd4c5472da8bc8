"""Kaplan-Meier, RMST and log-rank across sites from per-time tables of counts.

Every one of these estimators is a function of the table, per distinct time and group, of the
events and censorings there (``docs`` of `livermet.analysis.km`, ``logrank``, ``rmst``). A site
sends its table (`SurvivalAggregate`); the coordinator adds the tables time by time and runs
the pooled estimator on the sum, so the result is the pooled one exactly: the same
`KaplanMeier`, `LogRankResult` and `RMST` objects, computed by the same code.

The stratified log-rank test (strata = sites) needs no event time at all: each site sends
observed and expected events per group and their covariance (`LogRankStrataAggregate`), and
the coordinator adds them, as R's ``survdiff(... + strata(site))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, NonNegativeInt, model_validator

from livermet.analysis._ci import ConfType
from livermet.analysis._data import event_values, group_values, time_values
from livermet.analysis.km import KaplanMeier
from livermet.analysis.logrank import (
    LogRankParts,
    LogRankResult,
    group_table,
    logrank_parts,
    logrank_result,
)
from livermet.analysis.rmst import RMST
from livermet.errors import InputError
from livermet.federated._messages import (
    Aggregate,
    FloatArray,
    Request,
    align,
    check_answers,
    check_table_shape,
    merge_levels,
    request_id,
    union_times,
    used_rows,
)

__all__ = [
    "LogRankStrataAggregate",
    "LogRankStrataRequest",
    "SurvivalAggregate",
    "SurvivalRequest",
    "kaplan_meier_by_group_central",
    "kaplan_meier_central",
    "logrank_central",
    "logrank_strata_central",
    "logrank_strata_site",
    "restricted_mean_central",
    "survival_site",
]

ALL = "all"
"""Group label of a table without ``by``: every patient of the site."""


class SurvivalRequest(Request):
    """Ask each site for its table of events and censorings per distinct time (and group)."""

    analysis: Literal["survival_table"] = Field(
        default="survival_table", description="Kind of request."
    )
    by: str | None = Field(
        default=None, description="Grouping column (e.g. approach), or none for one table."
    )


class SurvivalAggregate(Aggregate):
    """A site's table: per group and distinct time, the events and the censorings.

    Reveals to the coordinator every distinct follow-up time of the site with the number of
    events and censorings at it, per group (coarsen times before if that is too much).
    """

    analysis: Literal["survival_table"] = Field(
        default="survival_table", description="Kind of aggregate."
    )
    groups: list[str] = Field(description="Group labels present at the site (``all`` if no by).")
    times: list[float] = Field(description="Distinct follow-up times of the site, ascending.")
    n_event: list[list[NonNegativeInt]] = Field(
        description="Events, per group (outer) and time (inner)."
    )
    n_censor: list[list[NonNegativeInt]] = Field(
        description="Censorings, per group (outer) and time (inner)."
    )

    @model_validator(mode="after")
    def _shape(self) -> SurvivalAggregate:
        check_table_shape(self.times, self.groups, [self.n_event, self.n_censor])
        return self


def survival_site(data: pd.DataFrame, request: SurvivalRequest) -> SurvivalAggregate:
    """Return a site's table of events and censorings per distinct time and group.

    Parameters
    ----------
    data : DataFrame
        The site's cohort table, one row per patient (as `livermet.analysis` takes it).
    request : SurvivalRequest
        Columns to use.
    """
    columns = [request.time, request.event] + ([request.by] if request.by else [])
    rows = used_rows(data, columns, request.dropna)
    t = time_values(data, request.time, rows)
    e = event_values(data, request.event, rows)
    if request.by is None:
        codes, names = np.zeros(t.size, dtype=np.int64), [ALL]
    else:
        codes, names = group_values(data, request.by, None, rows)
    times, ending, deaths = group_table(t, e, codes, len(names))
    return SurvivalAggregate(
        request_id=request_id(request),
        n=int(t.size),
        groups=names,
        times=[float(x) for x in times],
        n_event=deaths.T.astype(int).tolist(),
        n_censor=(ending - deaths).T.astype(int).tolist(),
    )


def _pooled(
    request: SurvivalRequest,
    aggregates: Sequence[SurvivalAggregate],
    levels: Sequence[str] | None,
) -> tuple[FloatArray, list[str], FloatArray, FloatArray]:
    """Return the summed table: times, groups, events (times, groups), censorings."""
    check_answers(request, aggregates)
    names = merge_levels((a.groups for a in aggregates), levels, request.by or "by")
    grid = union_times(a.times for a in aggregates)
    events = np.zeros((grid.size, len(names)))
    censor = np.zeros((grid.size, len(names)))
    for a in aggregates:
        columns = [names.index(g) for g in a.groups]
        events[:, columns] += align(a.times, grid, np.asarray(a.n_event, dtype=float).T)
        censor[:, columns] += align(a.times, grid, np.asarray(a.n_censor, dtype=float).T)
    return grid, names, events, censor


def _curve(
    times: FloatArray,
    events: FloatArray,
    censor: FloatArray,
    conf_type: ConfType,
    conf_level: float,
    label: str,
) -> KaplanMeier:
    """Fit the curve of a summed table, without the times where nobody ends."""
    keep = events + censor > 0
    return KaplanMeier(conf_type, conf_level, label).fit_table(
        times[keep], events[keep], censor[keep]
    )


def kaplan_meier_central(
    request: SurvivalRequest,
    aggregates: Sequence[SurvivalAggregate],
    *,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    label: str = "all",
) -> KaplanMeier:
    """Return the Kaplan-Meier curve of all sites' patients (equal to the pooled curve)."""
    times, _, events, censor = _pooled(request, aggregates, None)
    return _curve(times, events.sum(axis=1), censor.sum(axis=1), conf_type, conf_level, label)


def kaplan_meier_by_group_central(
    request: SurvivalRequest,
    aggregates: Sequence[SurvivalAggregate],
    *,
    levels: Sequence[str] | None = None,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
) -> dict[str, KaplanMeier]:
    """Return one pooled Kaplan-Meier curve per group, in level order.

    The order is ``levels``, else the sorted labels (numbers by value), as the pooled
    `livermet.analysis.kaplan_meier_by_group`.
    """
    if request.by is None:
        raise InputError("the request has no grouping column (by)", "by")
    times, names, events, censor = _pooled(request, aggregates, levels)
    return {
        name: _curve(times, events[:, g], censor[:, g], conf_type, conf_level, name)
        for g, name in enumerate(names)
    }


def restricted_mean_central(
    request: SurvivalRequest,
    aggregates: Sequence[SurvivalAggregate],
    horizon: float,
    *,
    conf_level: float = 0.95,
) -> RMST:
    """Return the RMST to ``horizon`` with R's standard error, from the pooled curve."""
    return kaplan_meier_central(request, aggregates, conf_level=conf_level).rmst(horizon)


def logrank_central(
    request: SurvivalRequest,
    aggregates: Sequence[SurvivalAggregate],
    *,
    levels: Sequence[str] | None = None,
) -> LogRankResult:
    """Return the log-rank test of the groups on all sites' patients (the pooled test)."""
    if request.by is None:
        raise InputError("the request has no grouping column (by)", "by")
    _, names, events, censor = _pooled(request, aggregates, levels)
    if len(names) < 2:
        raise InputError("the log-rank test needs at least two groups", "by")
    n = (events + censor).sum(axis=0)
    return logrank_result(logrank_parts(events + censor, events), n.astype(int).tolist(), names)


class LogRankStrataRequest(Request):
    """Ask each site for its part of the log-rank test stratified by site."""

    analysis: Literal["logrank_strata"] = Field(
        default="logrank_strata", description="Kind of request."
    )
    by: str = Field(description="Grouping column compared (e.g. approach).")


class LogRankStrataAggregate(Aggregate):
    """A site's part of the stratified log-rank test: no event time leaves the site.

    Reveals per group the number of patients and of events, the expected number of events and
    the covariance of observed minus expected.
    """

    analysis: Literal["logrank_strata"] = Field(
        default="logrank_strata", description="Kind of aggregate."
    )
    groups: list[str] = Field(description="Group labels present at the site.")
    n_group: list[NonNegativeInt] = Field(description="Patients per group.")
    observed: list[float] = Field(description="Observed events O per group.")
    expected: list[float] = Field(description="Expected events E per group under no difference.")
    variance: list[list[float]] = Field(
        description="Covariance matrix V of O - E, groups x groups."
    )


def logrank_strata_site(
    data: pd.DataFrame, request: LogRankStrataRequest
) -> LogRankStrataAggregate:
    """Return a site's observed and expected events per group and their covariance."""
    rows = used_rows(data, [request.time, request.event, request.by], request.dropna)
    t = time_values(data, request.time, rows)
    e = event_values(data, request.event, rows)
    codes, names = group_values(data, request.by, None, rows)
    _, ending, deaths = group_table(t, e, codes, len(names))
    parts = logrank_parts(ending, deaths)
    return LogRankStrataAggregate(
        request_id=request_id(request),
        n=int(t.size),
        groups=names,
        n_group=np.bincount(codes, minlength=len(names)).tolist(),
        observed=parts.observed.tolist(),
        expected=parts.expected.tolist(),
        variance=parts.variance.tolist(),
    )


def logrank_strata_central(
    request: LogRankStrataRequest,
    aggregates: Sequence[LogRankStrataAggregate],
    *,
    levels: Sequence[str] | None = None,
) -> LogRankResult:
    """Return the log-rank test stratified by site (R's ``survdiff(... + strata(site))``)."""
    check_answers(request, aggregates)
    names = merge_levels((a.groups for a in aggregates), levels, request.by)
    k = len(names)
    if k < 2:
        raise InputError("the log-rank test needs at least two groups", "by")
    total = LogRankParts(np.zeros(k), np.zeros(k), np.zeros((k, k)))
    n = np.zeros(k, dtype=np.int64)
    for a in aggregates:
        at = np.array([names.index(g) for g in a.groups], dtype=np.int64)
        part = LogRankParts(np.zeros(k), np.zeros(k), np.zeros((k, k)))
        part.observed[at] = a.observed
        part.expected[at] = a.expected
        part.variance[np.ix_(at, at)] = np.asarray(a.variance, dtype=float).reshape(at.size, -1)
        total = total + part
        n[at] += a.n_group
    return logrank_result(total, n.tolist(), names)
