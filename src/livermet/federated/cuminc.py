"""Aalen-Johansen cumulative incidence of competing first events across sites.

The estimator and its infinitesimal-jackknife standard errors are functions of the table, per
distinct time, of the events of each type and the censorings (`livermet.analysis.cuminc`,
``CumulativeIncidence.fit_table``). A site sends its table; the coordinator adds the tables
time by time and fits the sum: the pooled estimate, standard errors included, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, NonNegativeInt, model_validator

from livermet.analysis._ci import ConfType
from livermet.analysis._data import time_values
from livermet.analysis.cuminc import CumulativeIncidence, outcome_codes
from livermet.federated._messages import (
    Aggregate,
    Request,
    align,
    check_answers,
    check_table_shape,
    merge_levels,
    request_id,
    union_times,
    used_rows,
)

__all__ = ["CumincAggregate", "CumincRequest", "cuminc_site", "cumulative_incidence_central"]


class CumincRequest(Request):
    """Ask each site for its table of first events by type and censorings per distinct time.

    The outcome is coded as in `livermet.analysis.cumulative_incidence`: one column of labels
    (``competing`` none) or two 0/1 columns.
    """

    analysis: Literal["cuminc"] = Field(default="cuminc", description="Kind of request.")
    competing: str | None = Field(
        default=None, description="0/1 column of the competing event, or none (labels)."
    )
    censored: list[str] = Field(
        default=["censored", "none", "0"], description="Labels meaning censored."
    )
    event_types: list[str] | None = Field(
        default=None, description="Event types in order (default: the sorted labels seen)."
    )


class CumincAggregate(Aggregate):
    """A site's table: per distinct time, events of each type and censorings.

    Reveals every distinct time of the site with the number of first events of each type and
    of censorings at it.
    """

    analysis: Literal["cuminc"] = Field(default="cuminc", description="Kind of aggregate.")
    event_types: list[str] = Field(description="Event types the site codes, in its order.")
    times: list[float] = Field(description="Distinct times of the site, ascending.")
    n_event: list[list[NonNegativeInt]] = Field(
        description="Events, per type (outer) and time (inner)."
    )
    n_censor: list[NonNegativeInt] = Field(description="Censorings per time.")

    @model_validator(mode="after")
    def _shape(self) -> CumincAggregate:
        check_table_shape(self.times, self.event_types, [self.n_event])
        check_table_shape(self.times, ["censored"], [[self.n_censor]])
        return self


def _site_types(data: pd.DataFrame, request: CumincRequest, rows: np.ndarray) -> list[str]:
    """Return the event types a site codes: the requested ones, or the labels it has."""
    if request.event_types is not None or request.competing is not None:
        return list(request.event_types or [request.event, request.competing or ""])
    text = data[request.event].astype(str).str.strip().to_numpy()[rows]
    return sorted({v for v in text if v not in set(request.censored)})


def cuminc_site(data: pd.DataFrame, request: CumincRequest) -> CumincAggregate:
    """Return a site's table of first events by type and censorings per distinct time."""
    used = [request.time, request.event] + ([request.competing] if request.competing else [])
    rows = used_rows(data, used, request.dropna)
    t = time_values(data, request.time, rows)
    types = _site_types(data, request, rows)
    codes, names = outcome_codes(
        data,
        request.event,
        rows,
        competing=request.competing,
        censored=request.censored,
        event_types=types,
    )
    times, inverse = np.unique(t, return_inverse=True)
    counts = np.zeros((times.size, len(names) + 1))
    np.add.at(counts, (inverse, codes), 1.0)
    return CumincAggregate(
        request_id=request_id(request),
        n=int(t.size),
        event_types=names,
        times=[float(x) for x in times],
        n_event=counts[:, 1:].T.astype(int).tolist(),
        n_censor=counts[:, 0].astype(int).tolist(),
    )


def cumulative_incidence_central(
    request: CumincRequest,
    aggregates: Sequence[CumincAggregate],
    *,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
) -> CumulativeIncidence:
    """Return the Aalen-Johansen estimate of all sites' patients (equal to the pooled one)."""
    check_answers(request, aggregates)
    names = merge_levels(
        (a.event_types for a in aggregates), request.event_types, request.event, numeric_order=False
    )
    grid = union_times(a.times for a in aggregates)
    events = np.zeros((grid.size, len(names)))
    censor = np.zeros(grid.size)
    for a in aggregates:
        columns = [names.index(k) for k in a.event_types]
        if columns:
            events[:, columns] += align(a.times, grid, np.asarray(a.n_event, dtype=float).T)
        censor += align(a.times, grid, np.asarray(a.n_censor, dtype=float))[:, 0]
    return CumulativeIncidence(conf_type, conf_level).fit_table(grid, events, censor, names)
