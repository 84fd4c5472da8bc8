"""What the Flower adapter sends and how: message names, JSON, the SecAgg+ table and its parameters.

Pure functions without Flower, so that they are tested (and type-checked) in the main
environment: the ClientApp and the ServerApp only move their outputs through Flower.

A request or an aggregate travels as its canonical JSON in a Flower ``ConfigRecord`` under the
key ``json``; a site that refuses a request answers ``error`` and ``field`` instead.

The table behind Kaplan-Meier and the log-rank test travels through SecAgg+ as one vector of
integers, laid out as ``[n, events(group, time)..., censorings(group, time)...]`` on a shape
(group labels, distinct times) that the sites revealed in clear first. Flower's SecAgg+ adds
``round((x + clip) * range / (2 clip))`` over sites modulo ``modulus``; with ``range = 2 clip`` a
quantum is 1, so an integer x is carried exactly (Flower's stochastic rounding leaves an exact
integer unchanged) as long as every count is at most ``clip`` and ``sites x range < modulus``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from livermet.analysis import CoxPH, KaplanMeier, LogRankResult
from livermet.errors import InputError
from livermet.federated import (
    Aggregate,
    CoxAggregate,
    CoxRequest,
    CumincAggregate,
    CumincRequest,
    LogRankStrataAggregate,
    LogRankStrataRequest,
    MetaAggregate,
    MetaRequest,
    SurvivalAggregate,
    SurvivalRequest,
    request_id,
)
from livermet.federated._messages import FloatArray, Message
from livermet.federated.disclosure import MIN_CELL_DEFAULT

__all__ = [
    "ANSWER",
    "SECAGG_CLIP",
    "SECAGG_MODULUS",
    "SECAGG_RANGE",
    "SHAPE",
    "FlowerAnalysis",
    "decode_aggregate",
    "decode_request",
    "exact_total",
    "results",
    "summed_aggregate",
    "table_vector",
]

ANSWER = "query.livermet"
"""Flower message type of a federated request answered in clear by `livermet.federated.respond`."""
SHAPE = "query.table_shape"
"""Flower message type asking a site for the shape (groups, distinct times) of its table."""

SECAGG_CLIP = 2**23
"""SecAgg+ clipping range: the largest count a site can send (8,388,608 patients)."""
SECAGG_RANGE = 2 * SECAGG_CLIP
"""SecAgg+ quantisation range, ``2 x clip``: one quantum is one patient, so counts stay exact."""
SECAGG_MODULUS = 2**32
"""SecAgg+ modulus of the masks (Flower's largest); allows up to 255 sites without overflow."""
MAX_SITES = SECAGG_MODULUS // SECAGG_RANGE - 1
"""Most sites whose shifted counts (each below ``SECAGG_RANGE``) add up below the modulus."""

_REQUESTS: dict[str, type[Message]] = {
    "survival_table": SurvivalRequest,
    "logrank_strata": LogRankStrataRequest,
    "cuminc": CumincRequest,
    "cox": CoxRequest,
    "meta_cox": MetaRequest,
}
_AGGREGATES: dict[str, type[Aggregate]] = {
    "survival_table": SurvivalAggregate,
    "logrank_strata": LogRankStrataAggregate,
    "cuminc": CumincAggregate,
    "cox": CoxAggregate,
    "meta_cox": MetaAggregate,
}


def _kind(text: str, kinds: Mapping[str, type[Any]], what: str) -> type[Any]:
    """Return the model class named by the ``analysis`` field of a JSON message."""
    try:
        analysis = json.loads(text).get("analysis")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise InputError(f"the {what} is not a JSON object", "analysis") from exc
    if analysis not in kinds:
        raise InputError(f"unknown kind of {what} {analysis!r}", "analysis")
    return kinds[analysis]


def decode_request(text: str) -> Message:
    """Return the request written in ``text`` (JSON), validated by its model."""
    model: type[Message] = _kind(text, _REQUESTS, "request")
    return model.model_validate_json(text)


def decode_aggregate(text: str) -> Aggregate:
    """Return the aggregate written in ``text`` (JSON), validated by its model."""
    model: type[Aggregate] = _kind(text, _AGGREGATES, "aggregate")
    return model.model_validate_json(text)


class FlowerAnalysis(BaseModel):
    """What the ServerApp runs: the columns of the analyses, how many sites, the minimum cell."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sites: int = Field(ge=2, le=MAX_SITES, description="SuperNodes to wait for (SecAgg+: >= 2).")
    time: str = Field(default="os_months", description="Column of follow-up time (months).")
    event: str = Field(default="death", description="Column of the 0/1 event indicator.")
    by: str = Field(default="approach", description="Grouping column of KM by group, log-rank.")
    levels: list[str] | None = Field(default=None, description="Order of the groups.")
    covariates: list[str] = Field(min_length=1, description="Cox covariate columns.")
    cox_levels: dict[str, list[str]] = Field(
        default={}, description="Level order of Cox factor covariates, reference first."
    )
    timeout: float = Field(default=120.0, gt=0, description="Seconds to wait for each reply.")
    concordance: Literal["within-sites", "exact"] = Field(
        default="within-sites",
        description="Cox concordance: counted within sites, or exact over all pairs (one round "
        "more; sites release their events' times and risk scores: docs/federated.md).",
    )
    min_cell: int = Field(
        default=MIN_CELL_DEFAULT,
        ge=0,
        description="Smallest total over all sites of a released cell (patients, events of a "
        "group or factor level); 0 or 1: no rule (docs/federated.md#disclosure-control).",
    )


def _check_counts(values: FloatArray) -> None:
    if values.size and values.max() > SECAGG_CLIP:
        raise InputError(
            f"a count of {int(values.max())} exceeds what SecAgg+ carries exactly ({SECAGG_CLIP})",
            "n",
        )


def table_vector(
    aggregate: SurvivalAggregate, groups: Sequence[str], grid: Sequence[float]
) -> FloatArray:
    """Return a site's table on the common shape as one vector ``[n, events..., censorings...]``.

    Events and censorings are laid out group by group (in ``groups`` order), each over ``grid``;
    groups and times the site lacks are 0. Values are whole numbers (float64, as Flower's
    parameters are).

    Raises
    ------
    InputError
        A group or time of the site that is not in the common shape, or a count above
        `SECAGG_CLIP`.
    """
    events = np.zeros((len(groups), len(grid)))
    censor = np.zeros((len(groups), len(grid)))
    column = {float(t): i for i, t in enumerate(grid)}
    missing = [t for t in aggregate.times if float(t) not in column]
    if missing:
        raise InputError(f"time {missing[0]} is not in the common table", "times")
    at = [column[float(t)] for t in aggregate.times]
    for label, e, c in zip(aggregate.groups, aggregate.n_event, aggregate.n_censor, strict=True):
        if label not in groups:
            raise InputError(f"group {label!r} is not in the common table {list(groups)}", "by")
        row = list(groups).index(label)
        events[row, at] = e
        censor[row, at] = c
    vector = np.concatenate([[float(aggregate.n)], events.ravel(), censor.ravel()])
    _check_counts(vector)
    return vector


def exact_total(mean: FloatArray, sites: int) -> FloatArray:
    """Return the integer total of the sites' vectors from Flower's SecAgg+ average.

    Flower's SecAgg+ workflow divides the exact integer total by the number of sites; the total
    is that average times the number of sites, rounded to the integer it must be.

    Raises
    ------
    InputError
        A total that is not within 1e-6 of an integer (the aggregation was not exact).
    """
    total: FloatArray = np.asarray(mean, dtype=float) * sites
    rounded: FloatArray = np.rint(total)
    if total.size and float(np.max(np.abs(total - rounded))) > 1e-6:
        raise InputError("the securely aggregated table is not a table of integers", "n_event")
    return rounded


def summed_aggregate(
    request: SurvivalRequest, total: FloatArray, groups: Sequence[str], grid: Sequence[float]
) -> SurvivalAggregate:
    """Return the summed table as one aggregate answering ``request`` (the central input)."""
    cells = len(groups) * len(grid)
    values = np.asarray(total, dtype=float)
    if values.size != 1 + 2 * cells:
        raise InputError(f"{values.size} values for a table of {cells} cells", "n_event")
    counts = values.astype(np.int64)
    events = counts[1 : 1 + cells].reshape(len(groups), len(grid))
    censor = counts[1 + cells :].reshape(len(groups), len(grid))
    return SurvivalAggregate(
        request_id=request_id(request),
        n=int(counts[0]),
        groups=list(groups),
        times=[float(t) for t in grid],
        n_event=events.tolist(),
        n_censor=censor.tolist(),
    )


def _curve(km: KaplanMeier) -> dict[str, Any]:
    def floats(values: FloatArray) -> list[float | None]:
        return [None if np.isnan(v) else float(v) for v in values]

    return {
        **km.summary(),
        "time": km.time_.tolist(),
        "n_risk": km.n_risk_.tolist(),
        "n_event": km.n_event_.tolist(),
        "n_censor": km.n_censor_.tolist(),
        "survival": floats(km.survival_),
        "lower": floats(km.lower_),
        "upper": floats(km.upper_),
    }


def results(
    km: KaplanMeier,
    by_group: Mapping[str, KaplanMeier],
    logrank: LogRankResult,
    cox: CoxPH,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the results of a Flower run as plain JSON-ready numbers (with ``details``)."""
    return {
        **details,
        "km": _curve(km),
        "km_by_group": {name: _curve(curve) for name, curve in by_group.items()},
        "logrank": logrank.to_dict(),
        "cox": {**cox.to_dict(), "coef": cox.coef_.tolist(), "vcov": cox.vcov_.tolist()},
    }
