"""Kaplan-Meier survival with Greenwood variance, pointwise intervals, median and its interval.

Matches R survival 3.5-3: ``survfit(Surv(time, event) ~ 1, conf.type=...)`` for the curve,
``summary(fit, times=, extend=TRUE)`` for values at chosen times and ``summary(fit)$table`` for
the median, its interval and the restricted mean (`livermet.analysis.rmst`).

Example
-------
>>> km = KaplanMeier().fit([5, 8, 8, 12, 20], [1, 1, 0, 1, 0])
>>> round(float(km.at([10])["survival"].iloc[0]), 3)
0.6
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from livermet.analysis._ci import ConfType, check_conf, confint
from livermet.analysis._data import (
    event_values,
    group_values,
    rows_to_use,
    time_values,
)
from livermet.analysis.rmst import RMST, restricted_mean
from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "KaplanMeier",
    "MedianSurvival",
    "after_follow_up_note",
    "check_table",
    "curve_within_follow_up",
    "event_table",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "report_within_follow_up",
    "rmst_note",
    "within_follow_up",
]

_TOL = math.sqrt(np.finfo(float).eps)  # R's all.equal tolerance, used by its median rule


@dataclass(frozen=True)
class MedianSurvival:
    """Median survival time and its confidence interval (None when not reached)."""

    estimate: float | None
    lower: float | None
    upper: float | None

    def to_dict(self) -> dict[str, float | None]:
        """Return the median and its interval as a plain dict."""
        return asdict(self)


def _first_below_half(y: FloatArray, x: FloatArray) -> float | None:
    """Return R's ``minmin`` (print.survfit.R): the first x where y <= 0.5.

    ``minmin`` is in survmean of print.survfit.R. If the curve sits at exactly 0.5 (within
    sqrt(machine eps)) on a flat stretch, the answer is the midpoint between the start of that
    stretch and the next drop, the usual rule for the median of a step function.
    """
    keep = ~np.isnan(y) & (y < 0.5 + _TOL)
    if not keep.any():
        return None
    xs, ys = x[keep], y[keep]
    lower = ys < ys[0]
    if abs(ys[0] - 0.5) < _TOL and lower.any():
        return float((xs[0] + xs[np.argmax(lower)]) / 2.0)
    return float(xs[0])


def event_table(time: FloatArray, event: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the distinct times and the events and censorings at each (the KM table).

    Parameters
    ----------
    time, event : ndarray
        Follow-up times (>= 0) and 0/1 event indicators, one per patient.

    Returns
    -------
    tuple of ndarray
        Distinct times ascending, number of events and number of censorings at each.
    """
    times, inverse = np.unique(time, return_inverse=True)
    n_event = np.bincount(inverse, weights=event, minlength=times.size).astype(float)
    n_all = np.bincount(inverse, minlength=times.size).astype(float)
    return times, n_event, n_all - n_event


def check_table(
    time: Any, n_event: Any, n_censor: Any
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check a table of counts per distinct time; return times, events and patients ending.

    Raises
    ------
    InputError
        Times not distinct and ascending, or not finite and >= 0; counts negative or not whole
        numbers; arrays of different lengths; no patient at all.
    """
    t = np.asarray(time, dtype=float).ravel()
    d = np.asarray(n_event, dtype=float).ravel()
    c = np.asarray(n_censor, dtype=float).ravel()
    if not t.size == d.size == c.size:
        raise InputError(f"{t.size} times but {d.size} event and {c.size} censoring counts", "time")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0):
        raise InputError("times must be finite, >= 0, distinct and ascending", "time")
    for name, counts in (("n_event", d), ("n_censor", c)):
        if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts % 1 != 0):
            raise InputError("counts must be whole numbers >= 0", name)
    if (d + c).sum() == 0:
        raise InputError("no patients to analyse", "time")
    return t, d, d + c


class KaplanMeier:
    """Kaplan-Meier estimator of the survival function (right-censored data).

    Parameters
    ----------
    conf_type : {"log-log", "log", "plain"}
        Transform for the pointwise intervals. R's ``survfit`` defaults to ``"log"``; the
        registry's reference analysis (and lifelines) use ``"log-log"``, the default here.
    conf_level : float
        Coverage of the intervals, 0.95 by default.
    label : str
        Name of the curve (the group), used in tables and plots.

    Attributes
    ----------
    time_ : ndarray
        Distinct observed times (events and censorings), ascending, as R's ``fit$time``.
    n_risk_, n_event_, n_censor_ : ndarray
        Number at risk (time >= t), events and censorings at each time.
    survival_ : ndarray
        S(t) just after each time.
    se_log_ : ndarray
        Greenwood standard error of log S(t) (R's ``fit$std.err``); ``std_err_`` is that of
        S(t) (what R's ``summary`` prints).
    lower_, upper_ : ndarray
        Pointwise confidence bounds; NaN where R gives NA: S(t) = 0 (a log transform, or a
        plain interval with an infinite standard error), and with ``"log-log"`` S(t) = 1 at an
        observed time (censorings before the first event).
    n_, events_ : int
        Number of patients and of events.
    """

    def __init__(
        self, conf_type: ConfType = "log-log", conf_level: float = 0.95, label: str = "all"
    ) -> None:
        check_conf(conf_type, conf_level)
        self.conf_type: ConfType = conf_type
        self.conf_level = float(conf_level)
        self.label = label

    def fit(self, time: Any, event: Any) -> KaplanMeier:
        """Estimate S(t) from follow-up times and event indicators (1 event, 0 censored).

        Returns
        -------
        KaplanMeier
            ``self``, fitted.
        """
        t = np.asarray(time, dtype=float).ravel()
        e = np.asarray(event, dtype=float).ravel()
        if t.size != e.size:
            raise InputError(f"{t.size} times but {e.size} event indicators", "event")
        if t.size == 0:
            raise InputError("no patients to analyse", "time")
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            raise InputError("times must be finite and >= 0", "time")
        if not np.all((e == 0) | (e == 1)):
            raise InputError("event indicators must be 0 or 1", "event")
        times, n_event, n_censor = event_table(t, e)
        return self.fit_table(times, n_event, n_censor)

    def fit_table(self, time: Any, n_event: Any, n_censor: Any) -> KaplanMeier:
        """Estimate S(t) from a table of counts per distinct time (the pooled or summed one).

        Parameters
        ----------
        time : array_like
            Distinct times, ascending (months, or the unit of the data).
        n_event, n_censor : array_like
            Number of events and of censorings at each time. The number at risk at a time is
            the sum of both over that time and the later ones, so tables of several sites
            summed time by time give the pooled estimate exactly.

        Returns
        -------
        KaplanMeier
            ``self``, fitted.
        """
        times, n_event, n_all = check_table(time, n_event, n_censor)
        # at risk at t = still followed at t: those whose time is >= t
        n_risk = np.cumsum(n_all[::-1])[::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(n_event > 0, 1.0 - n_event / n_risk, 1.0)
            terms = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
        self.time_: FloatArray = times
        self.n_risk_: IntArray = n_risk.astype(np.int64)
        self.n_event_: IntArray = n_event.astype(np.int64)
        self.n_censor_: IntArray = (n_all - n_event).astype(np.int64)
        self.survival_: FloatArray = np.cumprod(factor, dtype=np.float64)
        self.se_log_: FloatArray = np.sqrt(np.cumsum(terms))  # inf once everyone has died
        with np.errstate(invalid="ignore"):
            self.std_err_: FloatArray = np.where(
                self.survival_ > 0, self.se_log_ * self.survival_, np.nan
            )
        lower, upper = confint(self.survival_, self.se_log_, self.conf_type, self.conf_level)
        if self.conf_type == "log-log":
            # R: log(-log(1)) is undefined, so NA where S(t) = 1 at an observed time (censorings
            # before the first event); before the first observed time `at` reports [1, 1] as R
            unknown = self.survival_ >= 1.0
            lower, upper = np.where(unknown, np.nan, lower), np.where(unknown, np.nan, upper)
        self.lower_: FloatArray = lower
        self.upper_: FloatArray = upper
        self.n_ = int(n_all.sum())
        self.events_ = int(n_event.sum())
        return self

    def _index(self, times: FloatArray) -> IntArray:
        """Return the position of the last observed time <= each time (-1 before the first)."""
        return np.searchsorted(self.time_, times, side="right") - 1

    def at(self, times: Sequence[float] | Any) -> pd.DataFrame:
        """Return survival, its SE and bounds, and numbers at risk at chosen times.

        As R's ``summary(fit, times=, extend=TRUE)``: one row per requested time, sorted; S is
        the value of the step function at t, ``n_risk`` the patients still followed at t
        (time >= t; 0 after the last time), ``n_event`` the events in (previous requested
        time, t].
        """
        req = np.asarray(times, dtype=float).ravel()
        if req.size and (not np.all(np.isfinite(req)) or np.any(req < 0)):
            raise InputError("times must be finite and >= 0", "times")
        order = np.sort(req)
        idx = self._index(order)
        before = idx < 0
        safe = np.maximum(idx, 0)
        surv = np.where(before, 1.0, self.survival_[safe])
        after = np.searchsorted(self.time_, order, side="left")  # first time >= t
        n_risk = np.append(self.n_risk_, 0)[after]
        cum_events = np.concatenate([[0], np.cumsum(self.n_event_)])[idx + 1]
        return pd.DataFrame(
            {
                "time": order,
                "n_risk": n_risk.astype(np.int64),
                "n_event": np.diff(np.concatenate([[0], cum_events])).astype(np.int64),
                "survival": surv,
                "std_err": np.where(before, 0.0, self.std_err_[safe]),
                "lower": np.where(before, 1.0, self.lower_[safe]),
                "upper": np.where(before, 1.0, self.upper_[safe]),
            }
        )

    def survival_at(self, times: Any) -> FloatArray:
        """Return S(t) at the given times (1 before the first observed time)."""
        idx = self._index(np.asarray(times, dtype=float))
        return np.where(idx < 0, 1.0, self.survival_[np.maximum(idx, 0)])

    @property
    def median_(self) -> MedianSurvival:
        """Median survival and its interval, as R's ``summary(fit)$table``.

        The median is the first time S(t) <= 0.5; the lower (upper) confidence limit is the
        first time the lower (upper) pointwise bound is <= 0.5; a limit the curve never
        reaches is None.
        """
        x = np.concatenate([[0.0], self.time_])  # R adds time 0 (survfit0) before this
        return MedianSurvival(
            _first_below_half(np.concatenate([[1.0], self.survival_]), x),
            _first_below_half(np.concatenate([[1.0], self.lower_]), x),
            _first_below_half(np.concatenate([[1.0], self.upper_]), x),
        )

    def rmst(self, horizon: float) -> RMST:
        """Return the restricted mean survival time to ``horizon`` with R's standard error."""
        return restricted_mean(
            self.time_,
            self.survival_,
            self.n_risk_,
            self.n_event_,
            horizon,
            conf_level=self.conf_level,
        )

    def summary(self) -> dict[str, Any]:
        """Return the counts and the median as a plain dict."""
        return {
            "label": self.label,
            "n": self.n_,
            "events": self.events_,
            "median": self.median_.to_dict(),
            "conf_type": self.conf_type,
            "conf_level": self.conf_level,
        }


def kaplan_meier(
    data: pd.DataFrame,
    time: str,
    event: str,
    *,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    dropna: bool = False,
    label: str = "all",
) -> KaplanMeier:
    """Fit the Kaplan-Meier curve of a cohort table.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    time, event : str
        Columns of follow-up time (>= 0) and event indicator (0/1).
    dropna : bool
        Leave out rows with a missing time or event instead of refusing the table.
    """
    rows = rows_to_use(data, [time, event], dropna)
    return KaplanMeier(conf_type, conf_level, label).fit(
        time_values(data, time, rows), event_values(data, event, rows)
    )


def kaplan_meier_by_group(
    data: pd.DataFrame,
    time: str,
    event: str,
    by: str,
    *,
    levels: Sequence[Any] | None = None,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    dropna: bool = False,
) -> dict[str, KaplanMeier]:
    """Fit one Kaplan-Meier curve per group of column ``by``, in level order.

    The order is ``levels``, else the categories of a Categorical column, else the sorted
    distinct values (R's ``factor()``).
    """
    rows = rows_to_use(data, [time, event, by], dropna)
    t = time_values(data, time, rows)
    e = event_values(data, event, rows)
    codes, names = group_values(data, by, levels, rows)
    return {
        name: KaplanMeier(conf_type, conf_level, label=name).fit(t[codes == i], e[codes == i])
        for i, name in enumerate(names)
    }


def after_follow_up_note(label: str, last_time: float, times: Sequence[float]) -> str:
    """Return the note of a curve's report times after its last follow-up (not reported)."""
    shown = ", ".join(f"{t:g}" for t in times)
    return (
        f"{label}: no estimate at {shown} months: after the last follow-up at {last_time:g} "
        "months the curve is unknown (R's summary(fit, times=) leaves such times out)"
    )


def within_follow_up(
    rows: Sequence[dict[str, Any]], last_time: float, label: str
) -> tuple[list[dict[str, Any]], str | None]:
    """Blank the estimates of report rows after a curve's last observed time.

    A Kaplan-Meier curve is known up to its last observed time (event or censoring); after it,
    R's ``summary(fit, times=)`` (``extend=FALSE``, its default) reports nothing, while
    `KaplanMeier.at` follows ``extend=TRUE`` and carries the last value forward with 0 at
    risk. Report rows (dicts with ``time`` and some of ``survival``, ``std_err``, ``lower``,
    ``upper``) after ``last_time`` keep their time and number at risk, and their estimates
    become None.

    Returns
    -------
    tuple
        The rows (copies) and the note naming the blanked times (`after_follow_up_note`),
        None when every time is within the follow-up.
    """
    out: list[dict[str, Any]] = []
    blanked: list[float] = []
    for row in rows:
        copy = dict(row)
        if float(copy["time"]) > last_time:
            blanked.append(float(copy["time"]))
            for key in ("survival", "std_err", "lower", "upper"):
                if key in copy:
                    copy[key] = None
        out.append(copy)
    return out, (after_follow_up_note(label, last_time, blanked) if blanked else None)


def rmst_note(label: str, last_time: float, horizon: float) -> str | None:
    """Return the note of an RMST horizon after a curve's last follow-up (None within it).

    The estimate is still reported, as R's ``print.survfit(fit, rmean=)`` does (it extends
    the curve flat from the last observed time to the horizon and footnotes only the upper
    limit): the note says that the area after ``last_time`` is the last value carried
    forward, not an estimate from patients at risk.
    """
    if horizon <= last_time:
        return None
    return (
        f"{label}: the RMST horizon {horizon:g} months is after the last follow-up at "
        f"{last_time:g} months: the curve is carried flat from {last_time:g} to {horizon:g} "
        "(as R's print.survfit(rmean=)), a part no patient at risk supports; a horizon "
        f"<= {last_time:g} months avoids it"
    )


def curve_within_follow_up(curve: Mapping[str, Any], km: KaplanMeier, label: str) -> dict[str, Any]:
    """Return a curve's report with `within_follow_up` and `rmst_note` applied.

    ``curve`` is a report of one curve (``at`` rows, optionally ``rmst`` with its
    ``horizon``); the result adds ``last_time`` and the notes under ``notes``.
    """
    last = float(km.time_[-1])
    rows, note = within_follow_up(curve.get("at") or [], last, label)
    rmst = curve.get("rmst")
    notes = [note, rmst_note(label, last, float(rmst["horizon"])) if rmst else None]
    return {
        **curve,
        "at": rows,
        "last_time": last,
        "notes": [*(curve.get("notes") or []), *(n for n in notes if n)],
    }


def report_within_follow_up(
    report: Mapping[str, Any],
    overall: KaplanMeier,
    groups: Mapping[str, KaplanMeier] | None,
    overall_label: str = "all patients",
) -> dict[str, Any]:
    """Return a Kaplan-Meier report (``overall``, ``groups``) with `curve_within_follow_up`."""
    out = {**report, "overall": curve_within_follow_up(report["overall"], overall, overall_label)}
    if groups is not None and report.get("groups"):
        by = report.get("by")
        out["groups"] = {
            name: curve_within_follow_up(curve, groups[name], f"{by} = {name}")
            for name, curve in report["groups"].items()
        }
    return out
