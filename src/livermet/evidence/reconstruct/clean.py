"""Cleaning a digitised curve before Guyot's algorithm, with a report of every change.

A digitisation (WebPlotDigitizer, DigitizeIt) gives points in the order they were clicked,
with the small errors of a hand on a mouse: times a little below 0, survival a little above 1
or a little higher than the point before it. Guyot's algorithm needs a curve that starts at
``(0, 1)`` and never goes up (docs/reconstruction.md#cleaning). The steps, in order:

1. percent to proportion (automatically when the largest survival value is above 1.5, or as
   the caller says; a scale the values contradict is refused: "proportion" with a largest
   value above 1.5, "percent" with every value at most 1);
2. survival `SURVIVAL_TOLERANCE` (5 percentage points) or more outside [0, 1] refused,
   naming the line; smaller excursions (digitising noise) set to 1 or 0, with a note naming
   the lines;
3. points at time 0 or before (times below 0 are digitising noise) dropped, with a note naming
   their lines, and the curve started at ``(0, 1)``: Guyot's algorithm assumes ``S(0) = 1``,
   and a point read a hair below 1 at time 0 would otherwise make deaths at time 0. A point
   read exactly ``(0, 1)`` is kept;
4. points sorted by time, and at one time from the highest survival down (a vertical drop);
5. points that go up removed: the fewest points whose removal leaves survival never
   increasing (a longest non-increasing subsequence; among equally long ones, the earlier
   points are kept), each removed point reported with its line, in the file's own units; or,
   when removing is not allowed (``drop_increasing=False``), an error naming the first point
   that goes up;
6. ``(0, 1)`` added in front when the curve does not start there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError
from livermet.evidence.reconstruct.tables import MONTHS_PER_UNIT, DigitisedCurve

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Scale = Literal["auto", "percent", "proportion"]

__all__ = [
    "PERCENT_THRESHOLD",
    "SURVIVAL_TOLERANCE",
    "CleanCurve",
    "Scale",
    "clean_curve",
    "longest_non_increasing",
]

PERCENT_THRESHOLD = 1.5
"""Survival read as percent when its largest value is above this (a proportion is at most 1;
digitising noise above 1 stays well below 1.5, a percent curve starts near 100)."""

SURVIVAL_TOLERANCE = 0.05
"""How far outside [0, 1] (proportion; 5 percentage points on a percent scale) a survival value
is refused: a value less far out is clipped as digitising noise, one this far or farther is
refused. An engineering
default, not a published threshold (Guyot et al. 2012 set none): a careful click on the top
or bottom of a printed axis misses it by a point or two of percent, while -5 % or 130 % is a
misread axis or a wrong column."""


@dataclass(frozen=True)
class CleanCurve:
    """A digitised curve ready for Guyot's algorithm, and what cleaning did to it.

    Attributes
    ----------
    time, survival : ndarray
        Times ascending from 0 and survival (proportion) never increasing, from ``(0, 1)``.
    rows : ndarray of int
        For each point, its 1-based position among the points read (0 for an added point).
    lines : ndarray of int
        For each point, its file line (0 for an added point).
    scale : str
        ``percent`` or ``proportion``: how survival was read.
    removed : list of dict
        Points removed because they went up: ``line`` (int), ``time`` (months),
        ``time_read`` (the file's unit) and ``survival`` (as read).
    clipped_time, clipped_survival : int
        Points whose time was below 0, whose survival was above 1 or below 0.
    clipped_lines : tuple of int
        File lines of the survival values clipped.
    dropped_start : list of dict
        Points at time 0 or before dropped (``line``, ``time_read``, ``survival`` as read):
        the curve starts at ``(0, 1)``.
    added_origin : bool
        Whether ``(0, 1)`` was added in front.
    reordered : bool
        Whether sorting changed the order of the points.
    source : str
        The file's name, for messages.
    time_unit : str
        The unit of time of the file (``time`` is in months, converted when it was not).
    read_notes : tuple of str
        What reading the file did (a unit converted, a header not recognised).
    unit_named : bool
        Whether the file's time header named its unit.
    """

    time: FloatArray
    survival: FloatArray
    rows: IntArray
    lines: IntArray
    scale: str
    removed: list[dict[str, float | int]] = field(default_factory=list)
    clipped_time: int = 0
    clipped_survival: int = 0
    clipped_lines: tuple[int, ...] = ()
    dropped_start: list[dict[str, float | int]] = field(default_factory=list)
    added_origin: bool = False
    reordered: bool = False
    source: str = "curve"
    time_unit: str = "months"
    read_notes: tuple[str, ...] = ()
    unit_named: bool = False

    @property
    def rows_as_read(self) -> bool:
        """Whether the points are the rows read, in their order (Guyot's indexes still apply)."""
        return not (self.removed or self.added_origin or self.reordered or self.dropped_start)

    def _point(self, time_read: float, survival: float) -> str:
        """Return a point as the file gives it: time in the file's unit, survival as read."""
        pct = " %" if self.scale == "percent" else ""
        return f"({time_read:g} {self.time_unit}, {survival:g}{pct})"

    def notes(self) -> list[str]:
        """Return what cleaning changed, one sentence each (empty when nothing)."""
        out: list[str] = list(self.read_notes)
        if self.scale == "percent":
            out.append("survival read as percent and divided by 100")
        if self.clipped_survival:
            out.append(
                f"{self.clipped_survival} survival value(s) slightly outside [0, 1] (digitising "
                f"noise) set to 1 or 0: line(s) {_lines(self.clipped_lines)}"
            )
        if self.dropped_start:
            shown = ", ".join(
                f"line {int(r['line'])} {self._point(r['time_read'], r['survival'])}"
                for r in self.dropped_start
            )
            out.append(
                f"dropped {len(self.dropped_start)} point(s) at time 0 or before ({shown}): the "
                "curve starts at (0, 1), as Guyot's algorithm assumes S(0) = 1"
            )
        if self.reordered:
            out.append("points sorted by time")
        for r in self.removed:
            out.append(
                f"removed the point of line {int(r['line'])} "
                f"{self._point(r['time_read'], r['survival'])}: survival goes up there"
            )
        if self.added_origin:
            out.append("added the point (0, 1) in front")
        return out


def longest_non_increasing(values: npt.ArrayLike) -> IntArray:
    """Indexes of a longest subsequence of ``values`` that never increases.

    Among the longest, the one that keeps the earliest points (lexicographically smallest
    indexes). Quadratic in the number of points, which is a few hundred for a digitised curve.

    Examples
    --------
    >>> longest_non_increasing([0.9, 0.8, 0.85, 0.7]).tolist()
    [0, 1, 3]
    """
    v = np.asarray(values, dtype=float)
    n = v.size
    longest = np.ones(n, dtype=np.int64)  # longest run starting at each point
    for i in range(n - 2, -1, -1):
        after = longest[i + 1 :][v[i + 1 :] <= v[i]]
        if after.size:
            longest[i] = 1 + int(after.max())
    keep: list[int] = []
    need = int(longest.max()) if n else 0
    for i in range(n):
        if longest[i] == need and (not keep or v[i] <= v[keep[-1]]):
            keep.append(i)
            need -= 1
    return np.array(keep, dtype=np.int64)


def _scale_of(survival: FloatArray, scale: Scale, source: str) -> str:
    """Return how survival is given; refuse a scale that its values contradict."""
    top = float(survival.max())
    if scale == "auto":
        return "percent" if top > PERCENT_THRESHOLD else "proportion"
    if scale not in ("percent", "proportion"):
        raise InputError(f"unknown scale {scale!r}; use auto, percent or proportion", "scale")
    if scale == "proportion" and top > PERCENT_THRESHOLD:
        raise InputError(
            f"survival values look like percent (max {top:g}), not proportions; read them as "
            "percent (--percent, or leave the scale to be detected)",
            source,
        )
    if scale == "percent" and top <= 1.0:
        raise InputError(
            f"survival values look like proportions (max {top:g}, none above 1), not percent; "
            "read them as proportions (--proportion, or leave the scale to be detected)",
            source,
        )
    return scale


def _lines(lines: tuple[int, ...] | list[int], shown: int = 5) -> str:
    """Return file lines as text, the first ``shown`` of them and how many more."""
    text = ", ".join(str(n) for n in lines[:shown])
    return text + (f" and {len(lines) - shown} more" if len(lines) > shown else "")


def _check_range(s_read: FloatArray, curve: DigitisedCurve, unit: str) -> None:
    """Refuse survival `SURVIVAL_TOLERANCE` or more outside [0, 1], naming the first line."""
    far = np.flatnonzero((s_read >= 1 + SURVIVAL_TOLERANCE) | (s_read <= -SURVIVAL_TOLERANCE))
    if far.size == 0:
        return
    j = int(far[0])
    if unit == "percent":
        value, allowed = f"{curve.survival[j]:g} %", "above -5 % and below 105 %"
    else:
        value, allowed = f"{curve.survival[j]:g}", "above -0.05 and below 1.05"
    raise InputError(
        f"survival {value} is outside [0, 1] by more than digitising noise (accepted "
        f"{allowed}, clipped to [0, 1]); check the axis calibration and the survival column",
        f"{curve.source} line {int(curve.lines[j])}",
    )


def _first_rise(s: FloatArray) -> int | None:
    """Index of the first point whose survival is above the one before it."""
    rises = np.flatnonzero(np.diff(s) > 0)
    return int(rises[0]) + 1 if rises.size else None


def clean_curve(
    curve: DigitisedCurve, *, scale: Scale = "auto", drop_increasing: bool = True
) -> CleanCurve:
    """Clean a digitised curve (the steps of the module's docstring).

    Parameters
    ----------
    curve : DigitisedCurve
        Points as read (`livermet.evidence.reconstruct.read_curve`).
    scale : {"auto", "percent", "proportion"}
        How survival is given; ``auto`` reads percent when the largest value is above 1.5.
        ``proportion`` with a value above 1.5, or ``percent`` with no value above 1, is refused.
    drop_increasing : bool
        Remove points where survival goes up (default); when False such a point is an error.

    Raises
    ------
    InputError
        A point that goes up when ``drop_increasing`` is False, naming its file line; a scale
        that the values contradict; survival `SURVIVAL_TOLERANCE` or more outside [0, 1],
        naming its line.
    """
    unit = _scale_of(curve.survival, scale, curve.source)
    s_read = curve.survival / 100.0 if unit == "percent" else curve.survival.astype(float)
    _check_range(s_read, curve, unit)
    t_read = curve.time / MONTHS_PER_UNIT.get(curve.time_unit, 1.0)
    t = curve.time.astype(float)
    s = np.clip(s_read, 0.0, 1.0)
    origin = (t == 0) & (s == 1)
    start = np.flatnonzero((t <= 0) & ~origin)
    dropped_start: list[dict[str, float | int]] = [
        {
            "line": int(curve.lines[j]),
            "time_read": float(t_read[j]),
            "survival": float(curve.survival[j]),
        }
        for j in start
    ]
    kept = np.setdiff1d(np.arange(t.size), start)
    order = kept[np.lexsort((-s[kept], t[kept]))]  # by time, then from the highest survival down
    t, s = t[order], s[order]
    rows = np.arange(1, curve.time.size + 1, dtype=np.int64)[order]
    lines = curve.lines[order]
    rise = _first_rise(s)
    if rise is not None and not drop_increasing:
        raise InputError(
            f"survival goes up from {s[rise - 1]:g} to {s[rise]:g} at time {t[rise]:g}; "
            "a Kaplan-Meier curve never increases (remove the point or allow cleaning)",
            f"{curve.source} line {int(lines[rise])}",
        )
    keep = longest_non_increasing(s)
    dropped = np.setdiff1d(np.arange(s.size), keep)
    removed: list[dict[str, float | int]] = [
        {
            "line": int(lines[j]),
            "time": float(curve.time[order[j]]),
            "time_read": float(t_read[order[j]]),
            "survival": float(curve.survival[order[j]]),
        }
        for j in dropped
    ]
    t, s, rows, lines = t[keep], s[keep], rows[keep], lines[keep]
    added = t.size == 0 or not (t[0] == 0 and s[0] == 1)
    if added:
        t, s = np.r_[0.0, t], np.r_[1.0, s]
        rows, lines = np.r_[0, rows], np.r_[0, lines]
    clipped = (s_read > 1) | (s_read < 0)
    return CleanCurve(
        time=t,
        survival=s,
        rows=rows.astype(np.int64),
        lines=lines.astype(np.int64),
        scale=unit,
        removed=removed,
        clipped_time=int((curve.time < 0).sum()),
        clipped_survival=int(clipped.sum()),
        clipped_lines=tuple(int(n) for n in curve.lines[clipped]),
        dropped_start=dropped_start,
        added_origin=added,
        reordered=bool(np.any(order != np.arange(order.size))),
        source=curve.source,
        time_unit=curve.time_unit,
        read_notes=curve.notes,
        unit_named=curve.unit_named,
    )
