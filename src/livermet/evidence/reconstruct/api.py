"""One call from a cleaned curve and a risk table to patients and diagnostics.

>>> import numpy as np
>>> from livermet.evidence.reconstruct import DigitisedCurve, RiskTableInput, clean_curve
>>> curve = clean_curve(DigitisedCurve.from_arrays([0, 2, 5, 8], [1, 0.8, 0.6, 0.6]))
>>> risk = RiskTableInput(np.array([0.0, 4.0]), np.array([10.0, 8.0]), np.array([1, 2]))
>>> result = reconstruct(curve, risk)
>>> result.ipd.shape[0], int(result.ipd["event"].sum())
(10, 4)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from livermet.errors import InputError
from livermet.evidence.reconstruct.clean import CleanCurve
from livermet.evidence.reconstruct.diagnostics import (
    CurveFit,
    curve_fit,
    fit_warnings,
    risk_table_check,
)
from livermet.evidence.reconstruct.guyot import GuyotTable, guyot, ipd_rows
from livermet.evidence.reconstruct.risk import Intervals, intervals
from livermet.evidence.reconstruct.tables import RiskTableInput

__all__ = ["Reconstruction", "reconstruct"]


@dataclass(frozen=True)
class Reconstruction:
    """Reconstructed patients, the algorithm's table and the fit diagnostics.

    Attributes
    ----------
    ipd : DataFrame
        One row per patient: ``time`` (months), ``event`` (1 event, 0 censored),
        and ``arm`` when a label was given. survHE's order: events, censorings, the rest.
    table : GuyotTable
        Numbers at risk, events and censorings at each digitised point.
    curve : CleanCurve
        The cleaned curve (what cleaning changed is in ``curve.notes()``).
    intervals : Intervals
        The curve and risk table as the algorithm took them.
    fit : CurveFit
        Reconstructed Kaplan-Meier against the digitised points.
    risk : DataFrame
        Published against reconstructed numbers at risk (`diagnostics.risk_table_check`).
    total_events : int or None
        The total number of events given, if any.
    arm : str or None
        The arm's label, if any.
    notes : list of str
        What reading and cleaning changed and what the algorithm adjusted.
    warnings : list of str
        Signs of a poor reconstruction (`diagnostics.fit_warnings`).
    time_unit : str
        The unit of time of the curve file; every time of the result is in months.
    """

    ipd: pd.DataFrame
    table: GuyotTable
    curve: CleanCurve
    intervals: Intervals
    fit: CurveFit
    risk: pd.DataFrame
    total_events: int | None = None
    arm: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def time_unit(self) -> str:
        """Return the unit of time of the curve file (the result's times are in months)."""
        return self.curve.time_unit

    def km_table(self) -> pd.DataFrame:
        """Return the algorithm's table as survHE writes it: time, n_risk, n_event, n_censored."""
        return pd.DataFrame(
            {
                "time": self.table.time,
                "n_risk": self.table.n_risk,
                "n_event": self.table.n_event,
                "n_censored": self.table.n_censor,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Diagnostics as plain data (what ``--format json`` prints)."""
        events = int(self.ipd["event"].sum())
        return {
            "arm": self.arm,
            "patients": int(self.ipd.shape[0]),
            "events": events,
            "censored": int(self.ipd.shape[0]) - events,
            "total_events_given": self.total_events,
            "time_unit": "months",
            "curve": {
                "source": self.curve.source,
                "time_unit_read": self.curve.time_unit,
                "points_used": int(self.intervals.time.size),
                "scale": self.curve.scale,
                "removed": self.curve.removed,
                "clipped_time": self.curve.clipped_time,
                "clipped_survival": self.curve.clipped_survival,
                "added_origin": self.curve.added_origin,
            },
            "fit": self.fit.to_dict(),
            "risk_table": [
                {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                for row in self.risk.to_dict("records")
            ],
            "lowered": bool(self.risk["lowered"].any()),
            "notes": self.notes,
            "warnings": self.warnings,
        }


def _check_total(total_events: int | None, n0: int, curve: CleanCurve) -> None:
    if total_events is None:
        return
    if int(total_events) != total_events or not 0 <= total_events <= n0:
        raise InputError(
            f"the total number of events must be a whole number from 0 to {n0} (the patients "
            f"at time 0), got {total_events}",
            "total_events",
        )
    low = float(curve.survival.min())
    if total_events == 0 and low < 1:
        raise InputError(
            f"0 events, but the curve drops to {low:g}: a Kaplan-Meier curve only drops at "
            "events; check the total number of events (--total-events)",
            "total_events",
        )


def reconstruct(
    curve: CleanCurve,
    risk_table: RiskTableInput,
    *,
    total_events: int | None = None,
    arm: str | None = None,
) -> Reconstruction:
    """Reconstruct individual patients from a cleaned curve and its published risk table.

    Parameters
    ----------
    curve : CleanCurve
        From `livermet.evidence.reconstruct.clean_curve`.
    risk_table : RiskTableInput
        From `livermet.evidence.reconstruct.read_risk_table` (or built from arrays): time 0
        first, times within the curve, numbers at risk not increasing.
    total_events : int, optional
        The total number of events, when the paper reports it.
    arm : str, optional
        A label added as column ``arm`` of the patients.

    Raises
    ------
    InputError
        A risk table that does not fit the curve (naming its line; among others, a row with no
        one at risk followed by curve points), a bad total of events (0 on a curve that
        drops), a blank arm label.
    """
    if arm is not None and not arm.strip():
        raise InputError("the arm's label is empty; give a name (--arm) or leave it out", "arm")
    iv = intervals(curve, risk_table)
    _check_total(total_events, int(iv.n_risk[0]), curve)
    table = guyot(iv.time, iv.survival, iv.n_risk, iv.lower, iv.upper, total_events=total_events)
    times, events = ipd_rows(table)
    ipd = pd.DataFrame({"time": times, "event": events})
    if arm is not None:
        ipd["arm"] = arm
    fit = curve_fit(times, events, curve.time, curve.survival)
    risk = risk_table_check(iv.risk_time, table.published, table.reached, times)
    notes = curve.notes() + list(risk_table.notes) + iv.notes
    for row in risk[risk["lowered"]].itertuples():
        notes.append(
            f"at {row.time:g} the published {row.published} at risk cannot be reached from the "
            f"curve; the algorithm lowered it to {row.algorithm}"
        )
    if total_events is not None and int(np.sum(events)) != total_events:
        notes.append(f"{int(np.sum(events))} events reconstructed, {total_events} reported")
    warnings = fit_warnings(fit)
    return Reconstruction(ipd, table, curve, iv, fit, risk, total_events, arm, notes, warnings)
