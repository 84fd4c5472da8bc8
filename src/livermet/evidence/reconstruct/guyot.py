"""Guyot's algorithm: individual patients from a digitised Kaplan-Meier curve and its risk table.

Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol
2012;12:9, doi 10.1186/1471-2288-12-9 (the algorithm of its appendix, as survHE's
``digitise()`` runs it). The method, its inputs and its limits are in docs/reconstruction.md.

Within each interval of the risk table ``[t_i, t_{i+1})`` the algorithm

1. guesses the number censored from the published numbers at risk and the curve's drop
   (``round(n_i * S(t_{i+1}) / S(t_i) - n_{i+1})``),
2. spreads the censorings evenly over the interval and counts them per digitised step (R's
   ``hist()`` with right-closed bins, reproduced in `_bin_counts`),
3. recovers the deaths at each digitised point from the curve's drop and the number at risk
   (``d = round(n * (1 - S / S_last))``), and
4. corrects the number censored by the difference between the number at risk it reaches at
   ``t_{i+1}`` and the published one, until they agree; a published number it cannot reach
   even without censoring is lowered to the one it reaches (``lowered`` in the result).

The last interval has no published number at its end: it gets the average censoring rate of
the earlier intervals, or, when the total number of events is known, the censoring that makes
the events add up to it. Every operation (rounding half to even, the order of the floating-point
operations) is R's, so that the reference of tests/evidence/data/reconstruct/ is reproduced row
for row.

Deliberate differences from survHE's R code, all in cases where R stops with an error, loops
for ever or produces negative counts (docs/reconstruction.md#method lists them): deaths are
never negative and never computed from a curve already at 0; an interval whose corrections go
round in a cycle is an `InputError`; when the correction loop stops on a censoring that leaves
a negative number at risk, no censoring is tried and the correction resumed; a total of events
that cannot be met stops the corrections (the result says how many events it has); a last
interval of one digitised point keeps the previous interval's censorings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = ["MAX_ITERATIONS", "GuyotTable", "bin_counts", "guyot", "ipd_rows"]

MAX_ITERATIONS = 10_000
"""Corrections of one interval's censoring before giving up (R has no limit); a safety net,
as the corrections either converge or revisit a number censored well before this."""

_FUZZ = 1e-7
"""R's ``hist(fuzz = 1e-7)``: breaks are moved by this fraction of a typical bin width."""


@dataclass(frozen=True)
class GuyotTable:
    """The algorithm's table, one row per digitised point used, and what it did to the risk table.

    Attributes
    ----------
    time, survival : ndarray
        The digitised points used (the curve's first ``upper[-1] + 1`` points).
    n_risk, n_event, n_censor : ndarray of int
        Numbers at risk, events and censorings at each point (survHE's ``KMdata``): censorings
        at row ``j`` happen between ``time[j]`` and ``time[j + 1]``.
    published : ndarray of int
        The risk table's numbers at risk, one per interval.
    reached : ndarray of int
        The numbers at risk the algorithm reached at each interval's first point; lower than
        ``published`` where the published number cannot be reached (``lowered``).
    lower, upper : ndarray of int
        0-based indexes of each interval's first and last digitised point.
    km : ndarray
        The reconstructed Kaplan-Meier estimate at each point.
    """

    time: FloatArray
    survival: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    published: IntArray
    reached: IntArray
    lower: IntArray
    upper: IntArray
    km: FloatArray

    @property
    def lowered(self) -> npt.NDArray[np.bool_]:
        """Intervals whose published number at risk the algorithm could not reach."""
        return np.asarray(self.reached < self.published)


def _median(h: FloatArray) -> float:
    """R's ``median()``: the middle value, or the mean of the two middle ones."""
    s = np.sort(h)
    m = s.size // 2
    return float(s[m]) if s.size % 2 else float((s[m - 1] + s[m]) / 2)


def _diddle(breaks: FloatArray, x: FloatArray) -> float:
    """R ``hist.default``'s shift of the breaks: 1e-7 of a typical bin width."""
    h = np.diff(breaks)
    if breaks.size > 5:
        return _FUZZ * _median(h)
    if breaks.size <= 3:
        return _FUZZ * float(x.max() - x.min())
    positive = h[h > 0]
    return _FUZZ * float(positive.min()) if positive.size else math.inf


def bin_counts(x: FloatArray, breaks: FloatArray) -> IntArray:
    """Count ``x`` in the right-closed bins of ``breaks`` as R's ``hist(x, breaks)$counts``.

    R's ``hist.default`` (R 4.2) moves the breaks by a small fuzz (the first one down, the others
    up), then counts ``x`` in ``(b_j, b_{j+1}]``, the first bin closed on the left too. Tied breaks
    (two digitised points at one time) make empty bins. Every ``x`` must lie within the breaks.

    Parameters
    ----------
    x : ndarray
        Values to count (here the censoring times spread over an interval).
    breaks : ndarray
        Ascending break points, at least two.

    Returns
    -------
    ndarray of int
        One count per bin, ``breaks.size - 1`` of them.
    """
    diddle = _diddle(breaks, x)
    fuzzy = breaks + np.r_[-diddle, np.full(breaks.size - 1, diddle)]
    counts = np.zeros(breaks.size - 1, dtype=np.int64)
    inside = (x >= fuzzy[0]) & (x <= fuzzy[-1])
    bins = np.maximum(np.searchsorted(fuzzy, x[inside], side="left") - 1, 0)
    np.add.at(counts, np.minimum(bins, counts.size - 1), 1)
    return counts


def _spread(t: FloatArray, first: int, last: int, n: int) -> IntArray:
    """Spread ``n`` censorings evenly over ``(t[first], t[last])``; count them per step."""
    t0, t1 = float(t[first]), float(t[last])
    times = np.array([t0 + j * (t1 - t0) / (n + 1) for j in range(1, n + 1)])
    return bin_counts(times, t[first : last + 1])


def _ratio(a: float, b: float) -> float:
    """Return ``a / b`` with IEEE semantics (R's): nan for 0/0, signed infinity for x/0."""
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    return a / b


@dataclass
class _State:
    """The algorithm's working vectors (survHE's ``n.hat``, ``d``, ``cen``, ``KM.hat``...)."""

    t: FloatArray
    s: FloatArray
    n_risk: list[int]
    lower: list[int]
    upper: list[int]
    n_hat: list[int] = field(default_factory=list)
    d: list[int] = field(default_factory=list)
    cen: list[int] = field(default_factory=list)
    km: list[float] = field(default_factory=list)
    n_censor: list[int] = field(default_factory=list)
    last_i: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        n_t = self.upper[-1] + 1
        self.n_hat = [self.n_risk[0] + 1] * (n_t + 1)
        self.d = [0] * n_t
        self.cen = [0] * n_t
        self.km = [1.0] * n_t
        self.n_censor = [0] * len(self.n_risk)
        self.last_i = [0] * len(self.n_risk)

    def deaths(self, k: int, last: int) -> int:
        """Deaths at point ``k`` that bring the KM estimate from ``km[last]`` down to ``s[k]``."""
        if self.km[last] == 0:
            return 0
        return max(0, round(self.n_hat[k] * (1 - (float(self.s[k]) / self.km[last]))))

    def step(self, k: int, last: int, *, first_point: bool) -> int:
        """Fill deaths and the KM estimate at point ``k``; return the new last point with deaths."""
        if first_point:
            self.d[k] = 0
            self.km[k] = 1.0
        else:
            self.d[k] = self.deaths(k, last)
            self.km[k] = self.km[last] * (1 - _ratio(self.d[k], self.n_hat[k]))
        return k if self.d[k] != 0 else last

    def set_censoring(self, i: int, first: int, last: int, end: int) -> None:
        """Spread interval ``i``'s censorings over points ``first..last`` (times up to ``end``)."""
        if self.n_censor[i] <= 0:
            self.cen[first : last + 1] = [0] * (last + 1 - first)
            self.n_censor[i] = 0
        elif last >= first:  # a last interval of one point has no step to censor in
            counts = _spread(self.t, first, end, self.n_censor[i])
            self.cen[first : last + 1] = [int(c) for c in counts]

    def walk(self, i: int, *, update_end: bool = True) -> int:
        """Deaths and numbers at risk over interval ``i``, from its published number at risk.

        Returns the last point with deaths (survHE's ``last``), where the next interval starts
        its Kaplan-Meier product.
        """
        lo, up = self.lower[i], self.upper[i]
        final = i == len(self.n_risk) - 1
        self.n_hat[lo] = self.n_risk[i]
        last = self.last_i[i]
        for k in range(lo, up + 1):
            last = self.step(k, last, first_point=i == 0 and k == lo and not final)
            if k == up and not update_end:
                continue
            self.n_hat[k + 1] = self.n_hat[k] - self.d[k] - self.cen[k]
            if final and self.n_hat[k + 1] < 0:  # no. at risk cannot be negative
                self.n_hat[k + 1] = 0
                self.cen[k] = self.n_hat[k] - self.d[k]
        return last


def _correct(st: _State, i: int, tried: set[int], last: int) -> int:
    """Correct interval ``i``'s censoring until the next number at risk is met (survHE's loop)."""
    lo, nxt, target = st.lower[i], st.lower[i + 1], st.n_risk[i + 1]
    while st.n_hat[nxt] > target or (st.n_hat[nxt] < target and st.n_censor[i] > 0):
        if st.n_censor[i] in tried or len(tried) >= MAX_ITERATIONS:
            raise InputError(
                f"the censoring between {st.t[lo]:g} and {st.t[nxt]:g} cannot be fitted to "
                f"{target} at risk at {st.t[nxt]:g} (the corrections go round in a cycle); "
                "check the curve and the numbers at risk there",
                f"risk table row {i + 2}",
            )
        tried.add(st.n_censor[i])  # the walk depends on n_censor alone: a repeat is a cycle
        st.set_censoring(i, lo, st.upper[i], nxt)
        last = st.walk(i)
        st.n_censor[i] += st.n_hat[nxt] - target
    return last


def _fit_interval(st: _State, i: int) -> None:
    """Fit the censoring of interval ``i`` (not the last) to the next published number at risk."""
    lo, nxt = st.lower[i], st.lower[i + 1]
    s0 = float(st.s[lo])
    ratio = st.n_risk[i] * float(st.s[nxt]) / s0 if s0 > 0 else 0.0
    st.n_censor[i] = round(ratio - st.n_risk[i + 1])
    tried: set[int] = set()
    last = _correct(st, i, tried, st.last_i[i])
    if st.n_hat[nxt] < 0:
        # survHE's loop can stop on a censoring that leaves fewer than no patients at risk (its
        # correction reaches 0 before it is tried): try no censoring, then correct again.
        st.n_censor[i] = 0
        st.set_censoring(i, lo, st.upper[i], nxt)
        last = st.walk(i)
        st.n_censor[i] += st.n_hat[nxt] - st.n_risk[i + 1]
        last = _correct(st, i, tried, last)
    if st.n_hat[nxt] < 0:
        raise InputError(
            f"the curve between {st.t[lo]:g} and {st.t[nxt]:g} leaves no patients at risk for "
            f"the {st.n_risk[i + 1]} published at {st.t[nxt]:g}",
            f"risk table row {i + 2}",
        )
    if st.n_hat[nxt] < st.n_risk[i + 1]:  # a published number the curve cannot reach: lowered
        st.n_risk[i + 1] = st.n_hat[nxt]
    st.last_i[i + 1] = last


def _last_interval(st: _State) -> None:
    """Censor the last interval at the earlier intervals' average rate; deaths from the curve."""
    n_int = len(st.n_risk)
    i, lo, up = n_int - 1, st.lower[-1], st.upper[-1]
    if n_int > 1:
        span = float(st.t[st.upper[-2]] - st.t[st.lower[0]])
        rate = sum(st.n_censor[: n_int - 1]) * float(st.t[up] - st.t[lo])
        st.n_censor[i] = min(round(_ratio(rate, span)) if span > 0 else 0, st.n_risk[i])
    else:
        st.n_censor[i] = 0
    st.set_censoring(i, lo, up - 1, up)
    st.walk(i)


def _total_events(st: _State, total: int) -> None:
    """Adjust the last interval's censoring until the events add up to ``total`` (if it can)."""
    n_int = len(st.n_risk)
    i, lo, up = n_int - 1, st.lower[-1], st.upper[-1]
    before = sum(st.d[: st.upper[-2] + 1]) if n_int > 1 else 0
    if n_int > 1 and before >= total:  # enough events already: none in the last interval
        st.d[lo : up + 1] = [0] * (up + 1 - lo)
        st.cen[lo:up] = [0] * (up - lo)
        st.n_hat[lo + 1 : up + 2] = [st.n_risk[i]] * (up + 1 - lo)
        return
    events = sum(st.d[: up + 1])
    tried: set[int] = set()  # the walk depends on n_censor alone: a repeat is a cycle
    while events > total or (events < total and st.n_censor[i] > 0):
        proposed = st.n_censor[i] + events - total
        if proposed in tried or proposed > st.n_risk[i] or len(tried) >= MAX_ITERATIONS:
            return  # cannot be met: more censored than at risk, or a cycle (R loops for ever)
        tried.add(proposed)
        st.n_censor[i] = proposed
        st.set_censoring(i, lo, up - 1, up)
        st.walk(i, update_end=False)
        events = sum(st.d[: up + 1])


def guyot(
    time: npt.ArrayLike,
    survival: npt.ArrayLike,
    n_risk: npt.ArrayLike,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    *,
    total_events: int | None = None,
) -> GuyotTable:
    """Run Guyot's algorithm on a clean curve and a risk table with its interval indexes.

    Parameters
    ----------
    time, survival : array_like
        The digitised curve: times ascending from 0, survival (a proportion) not increasing,
        the first point ``(0, 1)``. Checked by `livermet.evidence.reconstruct.clean_curve`.
    n_risk : array_like of int
        Published numbers at risk at the start of each interval (not increasing).
    lower, upper : array_like of int
        0-based index of the first and last digitised point of each interval; intervals are
        contiguous (``lower[i + 1] == upper[i] + 1``), ``lower[0] == 0``.
    total_events : int, optional
        The total number of events, when the paper reports it.

    Returns
    -------
    GuyotTable
        The numbers at risk, events and censorings at each digitised point.
    """
    st = _State(
        t=np.asarray(time, dtype=float),
        s=np.asarray(survival, dtype=float),
        n_risk=[int(n) for n in np.asarray(n_risk).tolist()],
        lower=[int(v) for v in np.asarray(lower).tolist()],
        upper=[int(v) for v in np.asarray(upper).tolist()],
    )
    published = np.array(st.n_risk, dtype=np.int64)
    for i in range(len(st.n_risk) - 1):
        _fit_interval(st, i)
    _last_interval(st)
    if total_events is not None:
        _total_events(st, int(total_events))
    n_t = st.upper[-1] + 1
    return GuyotTable(
        time=st.t[:n_t].copy(),
        survival=st.s[:n_t].copy(),
        n_risk=np.array(st.n_hat[:n_t], dtype=np.int64),
        n_event=np.array(st.d, dtype=np.int64),
        n_censor=np.array(st.cen, dtype=np.int64),
        published=published,
        reached=np.array(st.n_risk, dtype=np.int64),
        lower=np.array(st.lower, dtype=np.int64),
        upper=np.array(st.upper, dtype=np.int64),
        km=np.array(st.km, dtype=float),
    )


def ipd_rows(table: GuyotTable) -> tuple[FloatArray, IntArray]:
    """Turn the algorithm's table into one (time, event) row per patient, survHE's order.

    Events first (at their digitised time), then censorings (midway between the digitised
    point where they happen and the next one), then the patients still at risk at the curve's
    last time, censored there. The number of rows is the first published number at risk.

    Returns
    -------
    tuple of ndarray
        Times and event indicators (1 = event, 0 = censored).
    """
    t = table.time
    event_times = np.repeat(t, table.n_event)
    mids = (t[:-1] + t[1:]) / 2
    censor_times = np.repeat(mids, table.n_censor[:-1])
    remaining = max(0, int(table.published[0]) - event_times.size - censor_times.size)
    times = np.r_[event_times, censor_times, np.full(remaining, t[-1])]
    events = np.r_[
        np.ones(event_times.size, dtype=np.int64),
        np.zeros(censor_times.size + remaining, dtype=np.int64),
    ]
    return times.astype(float), events
