"""Disclosure control: coarsened times, minimum cells, release reports.

Three rules (docs/federated.md#disclosure-control):

- **Coarsened times.** The analyses that send a table per distinct time (Kaplan-Meier,
  log-rank, RMST, cumulative incidence, Cox with a common baseline) send whole months by
  default: a follow-up time t (months) becomes ⌈t⌉, the month it falls in (0 stays 0), at the
  site, before anything is computed (`coarsen_months`). The result is then exact on the
  coarsened times: it equals the pooled analysis of the coarsened cohort. The stratified methods
  (log-rank and Cox stratified by site) and the two-stage meta-analysis send no time at all
  and are not coarsened.
- **Minimum cell count on totals.** The coordinator refuses a result any of whose cells (the
  patients and the events of a group, an event type or a factor level) total fewer than
  `MIN_CELL_DEFAULT` over all sites (`check_cells`; the cells of each analysis are listed by
  `livermet.federated.cells`). The rule is applied to the totals, not per site, so that a
  hospital with two patients can take part; the file exchange, the Flower coordinator and the
  vantage6 central functions all apply it.
- **Release report.** Every number of an aggregate is listed with what it is
  (`release_lines`), for a person to read before the file leaves the site.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from livermet.errors import InputError

__all__ = [
    "LOWER_MIN_CELL",
    "MIN_CELL_DEFAULT",
    "Refusal",
    "check_cells",
    "coarsen_months",
    "release_lines",
]

MIN_CELL_DEFAULT = 5
"""Smallest total count of a cell the coordinator releases (engineering default).

Five is the usual minimum of the distributed networks' small-cell rules: OHDSI's
``minCellCount`` is commonly set to 5 in network studies, and statistical disclosure practice
(e.g. the UK ONS and NHS Digital small-number suppression of counts below 5) uses the same
threshold; DataSHIELD's default ``nfilter.tab`` is 3 (docs/federated.md#disclosure-control).
It is an engineering default, not a legal rule: a consortium sets its own with
``livermet federated request --min-cell``.
"""


LOWER_MIN_CELL = "'livermet federated request --min-cell'"
"""How a consortium sets the minimum in the file exchange (named by a refusal's message)."""


class Refusal(InputError):
    """A result the coordinator will not release: a cell total below the minimum."""


def coarsen_months(data: pd.DataFrame, column: str) -> pd.DataFrame:
    """Return ``data`` with the times of ``column`` rounded up to whole months (⌈t⌉).

    A time in (k-1, k] months becomes k (so "by month k" is counted exactly); 0 stays 0; a
    missing time stays missing. Times are first rounded to 1e-9 so that a time computed as
    12.000000000001 from dates stays 12. A column that is not numeric is left to the analysis
    to refuse, naming the row.
    """
    if column not in data.columns:
        return data
    values = pd.to_numeric(data[column], errors="coerce")
    if values.notna().sum() != data[column].notna().sum():
        return data
    coarse = np.ceil(np.round(values.to_numpy(dtype=float), 9))
    return data.assign(**{column: coarse})


def check_cells(cells: Mapping[str, float], minimum: int, lower_with: str = LOWER_MIN_CELL) -> None:
    """Refuse a result one of whose cells totals fewer than ``minimum`` over all sites.

    Parameters
    ----------
    cells : mapping
        Description of each cell (``"patients with approach = open"``) -> its total.
    minimum : int
        The request's minimum cell count (0 or 1: no rule). A total of 0 (no event in a
        group) identifies nobody and is not refused.
    lower_with : str
        How the consortium sets the minimum, named by the message: the file exchange's option
        (default), the Flower analysis spec's ``min_cell`` or the vantage6 argument ``min_cell``.

    Raises
    ------
    Refusal
        Naming the first cell below the minimum, its total and why (field ``min_cell``).
    """
    for name, total in cells.items():
        if 0 < total < minimum:
            raise Refusal(
                f"refused: {int(total)} {name} in total over all sites, fewer than the minimum "
                f"cell count {minimum} of the request; a result from so few patients or events "
                f"could identify them (a consortium may lower the minimum with {lower_with})",
                "min_cell",
            )


def _describe(value: Any) -> str:
    """Return a value as the release report prints it (lists in full, floats as in the JSON)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_describe(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in value.items()) + "}"
    return str(value)


def _count_numbers(value: Any) -> int:
    """Return how many numbers a value holds (lists counted element by element)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return 0
    if isinstance(value, int | float):
        return 1
    if isinstance(value, list):
        return sum(_count_numbers(v) for v in value)
    if isinstance(value, dict):
        return sum(_count_numbers(v) for v in value.values())
    return 0


def _model_lines(model: BaseModel, prefix: str) -> Iterable[tuple[str, int]]:
    """Yield one line per field of ``model`` (nested models field by field) and its numbers."""
    fields = type(model).model_fields
    for name, info in fields.items():
        value = getattr(model, name)
        if value is None or name in {"version", "analysis", "request_id"}:
            continue
        if isinstance(value, BaseModel):
            yield from _model_lines(value, f"{prefix}{name}.")
            continue
        plain = value.model_dump() if isinstance(value, BaseModel) else value
        count = _count_numbers(plain)
        numbers = f"{count} number{'s' * (count != 1)}"
        yield f"{prefix}{name} — {info.description} ({numbers}): {_describe(plain)}", count


def release_lines(model: BaseModel) -> tuple[list[str], int]:
    """Return the release report of an aggregate: one line per field, and the count of numbers.

    Each line names the field, says what it is (the field's documentation) and lists every
    number it holds, so that a person can read all that leaves the site.
    """
    lines: list[str] = []
    total = 0
    for line, count in _model_lines(model, ""):
        lines.append(line)
        total += count
    return lines, total
