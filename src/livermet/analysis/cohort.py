"""Which cases a cohort analysis uses, why the others are left out, and the endpoints.

A registry holds cases that cannot enter every analysis: a pre-operative case has no follow-up
after a liver resection yet (``os_months`` missing), a case may lack the approach or the grade.
An analysis of the registry leaves such cases out and says how many and why, rather than
failing (`select_complete`); a CSV file given on the command line is refused at its first
missing value unless incomplete rows are dropped explicitly (``--drop-missing``), and the
dropped rows are then counted the same way.

The endpoints are defined here once, for the CLI, the web pages and the analysis export:

- overall survival: ``os_months`` with ``death`` (1 died, 0 alive at last contact);
- event-free survival: ``efs_months`` with ``efs_event``, 1 when the first event after the
  liver resection is a recurrence or death (``first_event`` not ``censored``), 0 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from livermet.analysis._data import missing_mask, require_columns

__all__ = [
    "CENSORED",
    "ENDPOINTS",
    "CohortSelection",
    "efs_event_of",
    "missing_reason",
    "select_complete",
    "synthetic_label",
    "with_endpoints",
]

CENSORED = "censored"
"""The ``first_event`` label of a case with neither recurrence nor death."""

ENDPOINTS: dict[str, tuple[str, str]] = {
    "os": ("os_months", "death"),
    "efs": ("efs_months", "efs_event"),
}
"""Endpoint name -> (time column, 0/1 event column) of the registry's cohort table."""

_NO_FOLLOW_UP = "no follow-up after a liver resection yet, e.g. a pre-operative case"
_REASONS = {
    "os_months": _NO_FOLLOW_UP,
    "efs_months": _NO_FOLLOW_UP,
    "death": "vital status not recorded",
    "first_event": _NO_FOLLOW_UP,
    "efs_event": _NO_FOLLOW_UP,
    "approach": "approach of the liver resection not recorded",
    "timing": "timing (synchronous or metachronous) not recorded",
    "grade": "grade not known",
    "stage": "stage not known",
    "age": "age not recorded",
    "sex": "sex not recorded",
}


def missing_reason(column: str) -> str:
    """Return why a case lacking ``column`` is left out, in words."""
    return _REASONS.get(column, f"{column} missing")


def efs_event_of(first_event: object) -> int | None:
    """Return the event-free-survival event of one case (1, 0 or None).

    1 when ``first_event`` is a recurrence or death (anything but ``censored``), 0 when
    censored, None when ``first_event`` is missing (None, NaN or blank: no follow-up after a
    liver resection yet).
    """
    if first_event is None or first_event is pd.NA:
        return None
    if isinstance(first_event, float) and np.isnan(first_event):
        return None
    label = str(first_event).strip()
    if not label:
        return None
    return 0 if label == CENSORED else 1


def with_endpoints(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the cohort table with ``efs_event`` added by :func:`efs_event_of`.

    ``efs_event`` is missing where ``first_event`` is missing.
    """
    if "first_event" not in frame.columns or "efs_event" in frame.columns:
        return frame
    events = [efs_event_of(v) for v in frame["first_event"].tolist()]
    return frame.assign(efs_event=pd.array(events, dtype="Int64"))


@dataclass(frozen=True)
class CohortSelection:
    """The rows an analysis uses and, for the others, how many lack which column."""

    data: pd.DataFrame
    n_total: int
    excluded: dict[str, int] = field(default_factory=dict)  # column -> cases left out for it

    @property
    def n_used(self) -> int:
        """Number of cases the analysis uses (complete in the columns)."""
        return len(self.data)

    @property
    def n_excluded(self) -> int:
        """Number of cases left out for a missing value."""
        return self.n_total - self.n_used

    def to_dict(self) -> dict[str, Any]:
        """Return the totals and one entry per column that left cases out (JSON-ready)."""
        return {
            "n_total": self.n_total,
            "n_used": self.n_used,
            "n_excluded": self.n_excluded,
            "reasons": [
                {"column": col, "count": n, "reason": missing_reason(col)}
                for col, n in self.excluded.items()
            ],
        }

    def summary(self) -> str:
        """Return '3 of 304 cases left out: 3 without os_months (no follow-up ...)', or ''."""
        return summary_text(self.to_dict())


def summary_text(excluded: dict[str, Any] | None) -> str:
    """Return the sentence of a `CohortSelection.to_dict` (as found in an analysis report)."""
    if not excluded or not excluded.get("n_excluded"):
        return ""
    parts = [f"{r['count']} without {r['column']} ({r['reason']})" for r in excluded["reasons"]]
    return f"{excluded['n_excluded']} of {excluded['n_total']} cases left out: " + "; ".join(parts)


def select_complete(data: pd.DataFrame, columns: Sequence[str]) -> CohortSelection:
    """Return the rows complete in ``columns``, with the rows left out counted by column.

    Each other row is counted under its first missing column (in the order given, so the
    outcome's reason comes before a covariate's).
    """
    require_columns(data, columns)
    counted = np.zeros(len(data), dtype=bool)
    excluded: dict[str, int] = {}
    for col in dict.fromkeys(columns):
        blank = missing_mask(data, [col]) & ~counted
        if blank.any():
            excluded[col] = int(blank.sum())
            counted |= blank
    return CohortSelection(data[~counted], len(data), excluded)


def synthetic_label(data: pd.DataFrame) -> str | None:
    """Return the label of a table's synthetic cases.

    'synthetic data' when every case is synthetic, 'includes synthetic data (n of N)' when some
    are, None when none are (or the table has no ``synthetic`` column).
    """
    if "synthetic" not in data.columns or not len(data):
        return None
    flags = data["synthetic"].fillna(False).astype(bool)
    n = int(flags.sum())
    if n == 0:
        return None
    if n == len(data):
        return "synthetic data"
    return f"includes synthetic data ({n} of {len(data)} cases)"
