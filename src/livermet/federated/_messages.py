"""The common shape of federated requests and aggregates: versioned, validated, JSON-ready.

A request is what the coordinator asks every site; an aggregate is a site's answer. Both are
pydantic models that refuse unknown fields, carry a format ``version`` and serialise to JSON
without loss (floats are written with enough digits to read back the same number). Every
aggregate names the request it answers by `request_id`, the SHA-256 of the request's
canonical JSON, so an answer to another request is refused before it is combined.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from livermet.analysis._data import rows_to_use
from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]

FORMAT_VERSION: Literal[1] = 1
"""Version of the request and aggregate formats; a site or coordinator refuses another one."""

__all__ = [
    "FORMAT_VERSION",
    "Aggregate",
    "Message",
    "Request",
    "align",
    "check_answers",
    "check_site_rows",
    "check_table_shape",
    "merge_levels",
    "request_id",
    "union_times",
    "used_rows",
]


class Message(BaseModel):
    """Base of every request and aggregate: frozen, no unknown field, a format version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = Field(
        default=FORMAT_VERSION, description="Format version of the message (1)."
    )


class Request(Message):
    """Base of the requests the coordinator sends to every site."""

    time: str = Field(description="Column of follow-up time (months, >= 0).")
    event: str = Field(description="Column of the event indicator (0/1) or outcome label.")
    dropna: bool = Field(
        default=False,
        description="Leave out a site's incomplete rows instead of refusing its table.",
    )


class Aggregate(Message):
    """Base of the aggregates a site returns."""

    request_id: str = Field(description="SHA-256 of the canonical JSON of the request answered.")
    n: int = Field(ge=0, description="Patients of the site that the analysis uses.")


def check_table_shape(
    times: Sequence[float], columns: Sequence[str], counts: Sequence[Sequence[Sequence[int]]]
) -> None:
    """Refuse a table whose times are not ascending or whose count lists do not fit them.

    Parameters
    ----------
    times : distinct times, ascending.
    columns : labels of the outer lists (groups or event types).
    counts : tables of counts, each with one list per label and one count per time.
    """
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise ValueError("times must be distinct and ascending")
    for table in counts:
        if len(table) != len(columns) or any(len(row) != len(times) for row in table):
            raise ValueError(
                f"counts must be {len(columns)} lists of {len(times)} (one per label and time)"
            )


def request_id(request: Message) -> str:
    """Return the SHA-256 (hex) of a request's canonical JSON: what its answers must name."""
    text = request.model_dump_json()
    return hashlib.sha256(text.encode()).hexdigest()


def check_answers(request: Message, aggregates: Sequence[Aggregate]) -> None:
    """Refuse an empty list of answers or an answer to another request.

    Raises
    ------
    InputError
        No aggregate, or one whose ``request_id`` is not this request's (field
        ``request_id``, naming the position of the aggregate in the list, 1 first).
    """
    if not aggregates:
        raise InputError("no site answered: give at least one aggregate", "aggregates")
    expected = request_id(request)
    for position, aggregate in enumerate(aggregates, start=1):
        if aggregate.request_id != expected:
            raise InputError(
                f"aggregate {position} answers another request ({aggregate.request_id[:12]}..., "
                f"expected {expected[:12]}...)",
                "request_id",
            )


def check_site_rows(n: int, field: str) -> None:
    """Refuse a site with no patient to analyse (naming the time column as the field)."""
    if n == 0:
        raise InputError(
            "the site has no patients to analyse (its table is empty, or every row was left "
            "out as incomplete)",
            field,
        )


def _level_key(label: str) -> tuple[int, float, str]:
    """Sort numbers by value and text alphabetically, as R's ``factor()`` of either."""
    try:
        number = float(label)
    except ValueError:
        return (1, 0.0, label)
    return (0, number, label) if math.isfinite(number) else (1, 0.0, label)


def merge_levels(
    site_levels: Iterable[Sequence[str]],
    requested: Sequence[str] | None,
    field: str,
    *,
    numeric_order: bool = True,
) -> list[str]:
    """Return the levels of a grouping over all sites, in the order the pooled analysis uses.

    The order is ``requested`` when given (then every level seen must be in it; levels no site
    has are dropped, as the pooled analysis drops them), else the sorted union: numbers by
    value, text alphabetically (``numeric_order=False``: all alphabetically).
    """
    seen = {str(level) for levels in site_levels for level in levels}
    if requested is not None:
        names = [str(level) for level in requested]
        unknown = sorted(seen - set(names))
        if unknown:
            raise InputError(f"{unknown[0]!r} is not one of the levels {names}", field)
        return [name for name in names if name in seen]
    return sorted(seen, key=_level_key) if numeric_order else sorted(seen)


def align(
    times: Sequence[float], grid: FloatArray, values: Sequence[Sequence[float]] | FloatArray
) -> FloatArray:
    """Place a site's rows (one per time of ``times``) on the rows of the global ``grid``.

    ``values`` is (len(times), k); rows of the grid the site lacks are 0.
    """
    out = np.zeros((grid.size, np.asarray(values, dtype=float).reshape(len(times), -1).shape[1]))
    if len(times):
        rows = np.searchsorted(grid, np.asarray(times, dtype=float))
        out[rows] = np.asarray(values, dtype=float).reshape(len(times), -1)
    return out


def union_times(time_lists: Iterable[Sequence[float]]) -> FloatArray:
    """Return the sorted distinct times of all sites."""
    arrays = [np.asarray(t, dtype=float) for t in time_lists]
    return np.unique(np.concatenate(arrays)) if arrays else np.zeros(0)


def used_rows(data: pd.DataFrame, columns: Sequence[str], dropna: bool) -> npt.NDArray[np.bool_]:
    """Return the rows a site uses (all, or the complete ones), refusing a site with none."""
    rows = rows_to_use(data, columns, dropna)
    check_site_rows(int(rows.sum()), columns[0])
    return rows
