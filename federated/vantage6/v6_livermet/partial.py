"""The function every organisation's node runs: its aggregate for a livermet request.

The node hands the algorithm its database as a DataFrame (vantage6 reads the CSV file, Excel
sheet or SQL query of the node's configuration): the site's cohort table, one row per patient,
e.g. ``livermet registry export --format analysis`` (``docs/analysis-export.md``). The answer
is what `livermet.federated.respond` returns, as JSON: only the sums its model documents, no
patient record.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from livermet.errors import InputError
from livermet.federated import (
    CoxRequest,
    CumincRequest,
    LogRankStrataRequest,
    MetaRequest,
    SurvivalRequest,
    respond,
)
from livermet.federated.disclosure import coarsen_months
from pydantic import Field, TypeAdapter, ValidationError

from v6_livermet._engine import with_data

__all__ = ["Coarsen", "partial", "read_request", "sends_times"]

Coarsen = Literal["month", "exact"]
"""Times sent as whole months (⌈t⌉, the default of the file exchange too) or exact."""

AnyRequest = Annotated[
    SurvivalRequest | LogRankStrataRequest | CumincRequest | CoxRequest | MetaRequest,
    Field(discriminator="analysis"),
]
_REQUEST = TypeAdapter(AnyRequest)


def read_request(request: dict[str, Any]) -> AnyRequest:
    """Return the livermet request that a task's input carries, validated.

    Raises
    ------
    InputError
        Not a livermet request (unknown kind, unknown or missing field, wrong version), naming
        the first field at fault.
    """
    try:
        return _REQUEST.validate_python(request)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "request"
        raise InputError(f"not a livermet request: {first['msg']}", where) from exc


def sends_times(request: AnyRequest) -> bool:
    """Return whether the answer is a table per distinct time (what coarsening protects).

    The stratified analyses (log-rank and Cox stratified by site) and the two-stage
    meta-analysis send no time and are not coarsened (docs/federated.md#disclosure-control).
    """
    if isinstance(request, CoxRequest):
        return not request.stratified
    return isinstance(request, SurvivalRequest | CumincRequest)


@with_data
def partial(
    frame: pd.DataFrame, request: dict[str, Any], coarsen: Coarsen = "month"
) -> dict[str, Any]:
    """Return this organisation's aggregate answering ``request`` (JSON-ready).

    Parameters
    ----------
    frame : DataFrame
        The node's cohort table (given by vantage6's ``@data`` decorator).
    request : dict
        A livermet request as JSON, written by one of the central functions.
    coarsen : {"month", "exact"}
        ``month`` (default): for the analyses that send a table per distinct time, the times
        are rounded up to whole months first (`livermet.federated.disclosure.coarsen_months`),
        so the result is exact on the coarsened times; ``exact``: the times as they are.

    Raises
    ------
    InputError
        A malformed request, a column the site lacks, a bad value or a site with no patient to
        analyse (`livermet.federated.respond`).
    """
    if coarsen not in ("month", "exact"):
        raise InputError(f"{coarsen!r} is not month or exact", "coarsen")
    parsed = read_request(request)
    if coarsen == "month" and sends_times(parsed):
        frame = coarsen_months(frame, parsed.time)
    return respond(frame, parsed).model_dump(mode="json")
