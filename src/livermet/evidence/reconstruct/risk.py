"""The published risk table: checks, and the digitised points that fall in each of its intervals.

Guyot's algorithm works interval by interval, ``[t_i, t_{i+1})`` between two times of the risk
table; it needs the first and last digitised point of each (Guyot's ``lower`` and ``upper``).
They are given in Guyot's and survHE's format, or computed here from the times: the first
point at or after ``t_i``, the last before ``t_{i+1}`` (docs/reconstruction.md#inputs).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError
from livermet.evidence.reconstruct.clean import CleanCurve
from livermet.evidence.reconstruct.tables import RiskTableInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "END_TOLERANCE",
    "MISMATCH_CENSORED",
    "MISMATCH_PATIENTS",
    "MISMATCH_SPAN",
    "Intervals",
    "check_no_one_left",
    "check_risk_table",
    "check_units",
    "intervals",
    "unit_mismatch",
]

END_TOLERANCE = 0.01
"""A risk-table time after the curve's last point by at most this fraction of the curve's time
span is accepted (with a note): the last click falls a hair short of the curve's end. An
engineering default, not a published threshold."""

MISMATCH_SPAN = 0.25
MISMATCH_CENSORED = 0.5
MISMATCH_PATIENTS = 10
"""A risk table is refused as being in another unit than the curve when its last time is under
`MISMATCH_SPAN` (a quarter) of the curve's time span while its last published number at risk
is under `MISMATCH_CENSORED` (half) of what the curve leaves there (``n0 · S(t)``), and short
of it by at least `MISMATCH_PATIENTS` patients (so that a few patients of a small series do
not trigger it): more than half the survivors censored within the first quarter of follow-up.
Engineering defaults, not published thresholds: the pattern of a risk table in years read as
months (times 0 to 6 against a curve of 72 months)."""


@dataclass(frozen=True)
class Intervals:
    """The curve and risk table as the algorithm takes them.

    Attributes
    ----------
    time, survival : ndarray
        The curve, with a point added at the start of each interval that had none.
    risk_time : ndarray
        Times of the risk table rows used.
    n_risk : ndarray of int
        Published numbers at risk of those rows.
    lower, upper : ndarray of int
        0-based index of each interval's first and last point.
    notes : list of str
        What was added or left out, one sentence each.
    """

    time: FloatArray
    survival: FloatArray
    risk_time: FloatArray
    n_risk: IntArray
    lower: IntArray
    upper: IntArray
    notes: list[str]


def _where(table: RiskTableInput, j: int) -> str:
    return f"{table.source} line {int(table.lines[j])}"


def _check_counts(table: RiskTableInput) -> None:
    n = table.n_risk
    for j in range(n.size):
        if n[j] < 0 or n[j] != np.floor(n[j]):
            raise InputError(
                f"the number at risk must be a whole number >= 0, got {n[j]:g}", _where(table, j)
            )
        if j and n[j] > n[j - 1]:
            raise InputError(
                f"numbers at risk must not increase: {n[j - 1]:g} at {table.time[j - 1]:g}, "
                f"then {n[j]:g} at {table.time[j]:g}",
                _where(table, j),
            )
    if n[0] == 0:
        raise InputError("the first number at risk (the patients at time 0) is 0", _where(table, 0))


def check_risk_table(table: RiskTableInput, curve_end: float) -> list[str]:
    """Check a risk table against the curve it belongs to.

    Times at or after 0, strictly increasing, the first at 0 and none after the curve's last
    time ``curve_end`` (a time after it by at most `END_TOLERANCE` of ``curve_end`` is accepted,
    with a note); numbers at risk whole, >= 0, never increasing, the first above 0.

    Returns
    -------
    list of str
        Notes on what was accepted (a time a hair after the curve's end).

    Raises
    ------
    InputError
        Naming the risk table's line and what is expected.
    """
    t = table.time
    if t.size == 0:
        raise InputError("no rows in the risk table", table.source)
    notes: list[str] = []
    for j in range(t.size):
        if 0 <= t[j] - curve_end <= END_TOLERANCE * curve_end and t[j] > curve_end:
            notes.append(
                f"{_where(table, j)}: time {t[j]:g} is after the curve's last point "
                f"({curve_end:g}) by less than 1 % of the curve's time span; the curve's last "
                "value is taken there"
            )
        elif t[j] < 0 or t[j] > curve_end:
            raise InputError(
                f"time {t[j]:g} is outside the curve's range [0, {curve_end:g}] (same units as "
                "the curve); leave out the rows after the curve's last point",
                _where(table, j),
            )
        if j and t[j] <= t[j - 1]:
            raise InputError(f"times must increase: {t[j]:g} after {t[j - 1]:g}", _where(table, j))
    if t[0] != 0:
        raise InputError(
            f"the first row must be at time 0 (all patients at the start), got {t[0]:g}",
            _where(table, 0),
        )
    _check_counts(table)
    return notes


def _step_value(curve: CleanCurve, at: float) -> float:
    """Return the curve's value at ``at`` (the last point at or before it)."""
    k = int(np.searchsorted(curve.time, at, side="right")) - 1
    return float(curve.survival[max(k, 0)])


def unit_mismatch(table: RiskTableInput, curve: CleanCurve) -> str | None:
    """Return why the risk table looks to be in another unit than the curve, None if it does not.

    The rule of `MISMATCH_SPAN`, `MISMATCH_CENSORED` and `MISMATCH_PATIENTS`: the risk table
    ends early in the curve's span while its numbers at risk fall far faster than the curve.
    """
    span = float(curve.time[-1])
    if table.time.size < 2 or span <= 0:
        return None
    t_last, n0, n_last = float(table.time[-1]), float(table.n_risk[0]), float(table.n_risk[-1])
    expected = n0 * _step_value(curve, t_last)
    short = n_last < MISMATCH_CENSORED * expected and expected - n_last >= MISMATCH_PATIENTS
    if t_last < MISMATCH_SPAN * span and short:
        return (
            f"the risk table ends at {t_last:g} months, {100 * t_last / span:.0f} % of the "
            f"curve's span ({span:g} months), yet its numbers at risk fall from {n0:g} to "
            f"{n_last:g} where the curve leaves about {expected:.0f}: the two look to be in "
            "different units of time (years read as months?)"
        )
    return None


def check_units(table: RiskTableInput, curve: CleanCurve) -> None:
    """Refuse a risk table whose unit of time does not match the curve's.

    A curve whose header names years, weeks or days and a risk table whose time column names no
    unit (read as months) is refused rather than guessed: the risk table may be in either unit,
    and a wrong guess gives a silently wrong cohort. A risk table that `unit_mismatch` flags is
    refused too.

    Raises
    ------
    InputError
        Naming the risk table and the unit to give.
    """
    if curve.unit_named and curve.time_unit != "months" and not table.unit_named:
        unit = curve.time_unit
        raise InputError(
            f"the curve's times are in {unit} (its header says so) but the risk table's time "
            f"column names no unit, and would be read as months; name the unit in the risk "
            f"table's header (--risk-table), e.g. 'time ({unit})' or 'months'",
            table.source,
        )
    why = unit_mismatch(table, curve)
    if why is not None:
        raise InputError(
            f"{why}; check the risk table (--risk-table) and name the unit of time in both "
            "headers, e.g. 'time (years)'",
            table.source,
        )


def _given_indexes(
    table: RiskTableInput, lower: FloatArray, upper: FloatArray, n_points: int
) -> tuple[npt.NDArray[np.bool_], IntArray, IntArray, list[str]]:
    """Guyot's 1-based ``lower``/``upper`` as 0-based indexes, rows with ``upper == 0`` left out.

    Returns the rows kept, their first and last points, and notes on the rows left out.
    """
    lo, up = lower.copy(), upper.copy()
    if up[0] <= 0:
        raise InputError(
            "the first interval must hold digitised points (upper >= 1)", _where(table, 0)
        )
    notes = [
        f"risk table line {int(table.lines[j])} left out: no digitised point in its interval"
        for j in np.flatnonzero(up <= 0)
    ]
    keep = up > 0
    lo, up = lo[keep], up[keep]
    lo[0] = 1  # survHE: the first interval starts at the first point
    for j in range(lo.size):
        ok = lo[j] == np.floor(lo[j]) and up[j] == np.floor(up[j]) and 1 <= lo[j] <= up[j]
        if not ok or up[j] > n_points or (j and lo[j] != up[j - 1] + 1):
            raise InputError(
                f"lower/upper ({lo[j]:g}, {up[j]:g}) must be whole 1-based rows of the curve "
                f"(1 to {n_points}), lower <= upper, each interval starting after the previous",
                _where(table, int(np.flatnonzero(keep)[j])),
            )
    return keep, (lo - 1).astype(np.int64), (up - 1).astype(np.int64), notes


def _fill_empty(
    t: FloatArray, s: FloatArray, risk_time: FloatArray
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Add a point at each risk time whose interval has no digitised point (the step's value)."""
    notes: list[str] = []
    ends = np.r_[risk_time[1:], np.inf]
    for start, end in zip(risk_time, ends, strict=True):
        if np.any((t >= start) & (t < end)):
            continue
        at = int(np.searchsorted(t, start, side="left"))
        value = float(s[at - 1])
        t, s = np.insert(t, at, start), np.insert(s, at, value)
        notes.append(
            f"added the point ({start:g}, {value:g}): no digitised point between {start:g} and "
            f"{end:g}, so the curve's value there is the step before it"
        )
    return t, s, notes


def check_no_one_left(table: RiskTableInput, curve: CleanCurve) -> None:
    """Refuse a curve that goes on after the risk table's first row with no one at risk.

    With 0 at risk at ``t`` every patient's time is before ``t``, so the Kaplan-Meier curve
    ends before it: curve points after ``t`` mean a digitisation or transcription mistake (a
    point clicked past the curve's end, a row of the risk table misread).

    Raises
    ------
    InputError
        Naming the risk table's row and the first curve point after it.
    """
    zero = np.flatnonzero(table.n_risk == 0)
    if zero.size == 0:
        return
    j = int(zero[0])
    after = np.flatnonzero(curve.time > table.time[j])
    if after.size == 0:
        return
    k = int(after[0])
    line = int(curve.lines[k])
    point = f"{curve.source} line {line}" if line else f"{curve.source}, an added point"
    raise InputError(
        f"no one is at risk at {table.time[j]:g} months, but the curve continues after it: "
        f"({curve.time[k]:g}, {curve.survival[k]:g}) at {point}; check the digitisation (a "
        "point past the curve's end) or the risk table (a misread row)",
        _where(table, j),
    )


def _drop_final_zero(table: RiskTableInput, curve: CleanCurve) -> tuple[RiskTableInput, list[str]]:
    """Leave out a last row of 0 at risk at the time the curve drops to 0.

    A curve that reaches 0 at ``t`` says that every patient still at risk just before ``t``
    dies at ``t``; the risk table's 0 there counts the patients after those deaths. Kept as an
    interval's end it would turn the deaths into censorings, so the row is left out (with a
    note) and the drop reconstructed as deaths.
    """
    j = table.time.size - 1
    end = float(curve.time[-1])
    at_end = j > 0 and table.n_risk[j] == 0 and table.time[j] >= end
    drops = curve.survival[-1] == 0 and curve.survival[0] > 0
    if not (at_end and drops):
        return table, []
    keep = np.arange(table.time.size) != j
    shorter = replace(
        table,
        time=table.time[keep],
        n_risk=table.n_risk[keep],
        lines=table.lines[keep],
        lower=None if table.lower is None else table.lower[keep],
        upper=None if table.upper is None else table.upper[keep],
    )
    note = (
        f"{_where(table, j)} (0 at risk at {table.time[j]:g}) left out: the curve drops to 0 "
        "there, so the patients at risk just before it die then"
    )
    return shorter, [note]


def intervals(curve: CleanCurve, table: RiskTableInput) -> Intervals:
    """Match the risk table's intervals to the curve's points (after `check_risk_table`).

    Guyot's ``lower``/``upper`` are used when the table gives them and cleaning left the curve's
    rows as read; otherwise they are computed from the times, and a point is added at the start
    of an interval that has none (the step function's value there).
    """
    end_notes = check_risk_table(table, float(curve.time[-1]))
    check_units(table, curve)
    table, zero_notes = _drop_final_zero(table, curve)
    check_no_one_left(table, curve)
    n_risk = table.n_risk.astype(np.int64)
    if table.lower is not None and table.upper is not None and curve.rows_as_read:
        kept, lo, up, notes = _given_indexes(table, table.lower, table.upper, curve.time.size)
        return Intervals(
            curve.time,
            curve.survival,
            table.time[kept],
            n_risk[kept],
            lo,
            up,
            end_notes + zero_notes + notes,
        )
    notes = end_notes + zero_notes
    if table.lower is not None:
        notes.append("lower/upper of the risk table not used: cleaning changed the curve's rows")
    t, s, added = _fill_empty(curve.time, curve.survival, table.time)
    lo = np.searchsorted(t, table.time, side="left").astype(np.int64)
    up = np.r_[lo[1:] - 1, t.size - 1].astype(np.int64)
    return Intervals(t, s, table.time, n_risk, lo, up, notes + added)
