"""Cumulative incidence with competing risks: the Aalen-Johansen estimator, ties kept as ties.

Each patient starts event-free and leaves that state at most once, to the first event of one
of K types (e.g. recurrence, or death without recurrence), or is censored. At each distinct
time t_j with n_j event-free patients at risk and d_kj events of type k (d_j in all)

    P0(t_j) = P0(t_{j-1}) (1 - d_j / n_j)                 (Kaplan-Meier of any event)
    F_k(t_j) = F_k(t_{j-1}) + P0(t_{j-1}) d_kj / n_j       (cumulative incidence of type k)

so F_1 + ... + F_K + P0 = 1 at every time. This is R's ``survfit(Surv(time, factor(status))
~ 1)`` (``pstate``; R survival 3.5-3). Tied times of different event types are handled
together, exactly; lifelines' ``AalenJohansenFitter`` instead moves them apart by a random
jitter (its issues #1521, #629), so it is not used.

Standard errors are R's: the infinitesimal jackknife, sqrt(Σ_i U_i(t)²) with U_i(t) the
derivative of the estimate with respect to patient i's case weight (``survfitci.c``). R
updates U through every event time, O(n × times); here the same quantity is summed in closed
form (see `_ij_variance`), O(n log n). Intervals use R's multi-state default, ``"log"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from livermet.analysis._ci import ConfType, check_conf, confint
from livermet.analysis._data import (
    event_values,
    row_label,
    rows_to_use,
    show_value,
    time_values,
)
from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = ["EVENT_FREE", "CumulativeIncidence", "cumulative_incidence", "outcome_codes"]

EVENT_FREE = "event-free"
"""Name of the starting state (R calls it ``(s0)``)."""


def _ij_variance(
    n: FloatArray, n_events: FloatArray, n_censor: FloatArray, p0: FloatArray, cif: FloatArray
) -> FloatArray:
    """Return infinitesimal-jackknife variances of (P0, F_1..F_K) at every distinct time.

    Parameters
    ----------
    n : (m,) number at risk at each distinct time.
    n_events : (m, K) events of each type at each time; n_censor : (m,) censorings.
    p0 : (m,) event-free probability; cif : (m, K) cumulative incidences.

    Notes
    -----
    Patient i's influence U_i follows R's recursion at each event time t_j: U_i ← U_i H_j plus,
    while i is at risk, P0(t_{j-1}) (e_{s_i} - H_j[0]) / n_j, where H_j is the transition
    matrix at t_j and s_i the state i is in just after t_j. Solving the recursion:

    - every patient still followed after t_j has the same U = Z_j, with
      Z0_j = P0_j G_j, G_j = Σ_{l<=j} d_l / (n_l (n_l - d_l)) (Greenwood's sum), and
      Zk_j = Σ_{l<=j} P0_{l-1} (G_{l-1} - 1/n_l) d_kl / n_l;
    - a patient whose follow-up ends at t_J (event or censoring) then has
      U0(t) = q_i P0(t) and Uk(t) = Uk_i(t_J) + q_i (F_k(t) - F_k(t_J)) for t >= t_J, with
      q_i = G_J if censored and G_{J-1} - 1/n_J after an event.

    Σ_i U_i(t)² is then (still followed) · Z(t)² plus sums over the finished patients of
    (α_i + q_i F(t))². Patients ending at the same time with the same outcome share α_i and
    q_i, so the sums need only the counts per time and outcome: the table that sites send.
    """
    d = n_events.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_terms = np.where(n > d, d / (n * (n - d)), 0.0)
    g = np.cumsum(g_terms)
    g_prev = np.r_[0.0, g[:-1]]
    p0_prev = np.r_[1.0, p0[:-1]]
    share = n_events / n[:, None]  # d_kj / n_j
    zk = np.cumsum((p0_prev * (g_prev - 1.0 / n))[:, None] * share, axis=0)
    zk_prev = np.r_[np.zeros((1, cif.shape[1])), zk[:-1]]
    z0_prev = p0_prev * g_prev
    # a censored patient: q = G_j, alpha = Z_j - q F_j
    alpha_c = zk - g[:, None] * cif
    # an event of type k: q = G_{j-1} - 1/n_j, alpha = common + own e_k
    q_e = g_prev - 1.0 / n
    own = p0_prev / n
    common = zk_prev + z0_prev[:, None] * share - (p0_prev / n)[:, None] * share
    common -= q_e[:, None] * cif
    c = n_censor[:, None]
    s_qq = np.cumsum(n_censor * g**2 + d * q_e**2)
    s_aq = np.cumsum(
        c * alpha_c * g[:, None] + q_e[:, None] * (d[:, None] * common + n_events * own[:, None]),
        axis=0,
    )
    s_aa = np.cumsum(
        c * alpha_c**2
        + d[:, None] * common**2
        + n_events * (2.0 * common * own[:, None] + own[:, None] ** 2),
        axis=0,
    )
    ending = d + n_censor
    still = ending.sum() - np.cumsum(ending)  # time > t_j
    var0 = p0**2 * (still * g**2 + s_qq)
    vark = still[:, None] * zk**2 + s_aa + 2.0 * cif * s_aq + cif**2 * s_qq[:, None]
    return np.column_stack([var0, vark])


def _check_cif_table(
    time: Any, n_event: Any, n_censor: Any, n_types: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check a competing-risks table; return times, events (m, K) and censorings as floats."""
    t = np.asarray(time, dtype=float).ravel()
    d = np.asarray(n_event, dtype=float).reshape(t.size, -1) if t.size else np.zeros((0, 0))
    c = np.asarray(n_censor, dtype=float).ravel()
    if n_types == 0:
        raise InputError("give at least one event type", "event")
    if d.shape != (t.size, n_types) or c.size != t.size:
        raise InputError(f"the table must have {t.size} rows and {n_types} event types", "n_event")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0):
        raise InputError("times must be finite, >= 0, distinct and ascending", "time")
    for name, counts in (("n_event", d), ("n_censor", c)):
        if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts % 1 != 0):
            raise InputError("counts must be whole numbers >= 0", name)
    if d.sum() + c.sum() == 0:
        raise InputError("no patients to analyse", "time")
    return t, d, c


class CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of competing first events.

    Parameters
    ----------
    conf_type : {"log", "log-log", "plain"}
        Transform of the pointwise intervals; R's multi-state ``survfit`` uses ``"log"``.
    conf_level : float
        Coverage of the intervals.

    Attributes
    ----------
    states_ : list of str
        ``"event-free"`` then the event types, in order.
    time_ : ndarray
        Distinct observed times.
    n_risk_ : ndarray
        Patients still event-free and followed at each time (time >= t).
    n_event_ : ndarray, shape (times, K)
        Events of each type at each time; ``n_censor_`` the censorings.
    pstate_ : ndarray, shape (times, K + 1)
        Probability of each state just after each time (event-free, then each type's
        cumulative incidence); rows sum to 1.
    std_err_, lower_, upper_ : ndarray, shape (times, K + 1)
        Infinitesimal-jackknife standard errors and pointwise bounds; NaN where R gives NA
        (p = 0 with ``"log"`` or ``"log-log"``, p = 1 with ``"log-log"``). A probability of 0
        with standard error 0 has the plain interval [0, 0].
    """

    def __init__(self, conf_type: ConfType = "log", conf_level: float = 0.95) -> None:
        check_conf(conf_type, conf_level)
        self.conf_type: ConfType = conf_type
        self.conf_level = float(conf_level)

    def fit(self, time: Any, kind: Any, event_types: Sequence[str]) -> CumulativeIncidence:
        """Estimate from times and integer outcomes: 0 censored, k = 1..K the k-th event type.

        Returns
        -------
        CumulativeIncidence
            ``self``, fitted.
        """
        t = np.asarray(time, dtype=float).ravel()
        k = np.asarray(kind, dtype=np.int64).ravel()
        n_types = len(event_types)
        if t.size != k.size:
            raise InputError(f"{t.size} times but {k.size} outcomes", "event")
        if t.size == 0:
            raise InputError("no patients to analyse", "time")
        if n_types == 0:
            raise InputError("give at least one event type", "event")
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            raise InputError("times must be finite and >= 0", "time")
        if np.any((k < 0) | (k > n_types)):
            raise InputError(f"outcomes must be 0 (censored) to {n_types}", "event")
        times, inverse = np.unique(t, return_inverse=True)
        ending = np.bincount(inverse, minlength=times.size).astype(float)
        n_event = np.zeros((times.size, n_types))
        hit = k > 0
        np.add.at(n_event, (inverse[hit], k[hit] - 1), 1.0)
        return self.fit_table(times, n_event, ending - n_event.sum(axis=1), event_types)

    def fit_table(
        self, time: Any, n_event: Any, n_censor: Any, event_types: Sequence[str]
    ) -> CumulativeIncidence:
        """Estimate from a table of counts per distinct time (the pooled or summed one).

        Parameters
        ----------
        time : array_like
            Distinct times, ascending.
        n_event : array_like, shape (times, K)
            Events of each type at each time (columns in the order of ``event_types``).
        n_censor : array_like
            Censorings at each time. Tables of several sites summed time by time give the
            pooled estimate, standard errors included, exactly.

        Returns
        -------
        CumulativeIncidence
            ``self``, fitted.
        """
        times, n_event, n_censor = _check_cif_table(time, n_event, n_censor, len(event_types))
        d = n_event.sum(axis=1)
        ending = d + n_censor
        n_risk = np.cumsum(ending[::-1])[::-1]
        p0 = np.cumprod(1.0 - d / n_risk)
        p0_prev = np.r_[1.0, p0[:-1]]
        cif = np.cumsum(p0_prev[:, None] * n_event / n_risk[:, None], axis=0)
        var = _ij_variance(n_risk, n_event, n_censor, p0, cif)
        pstate = np.column_stack([p0, cif])
        std_err = np.sqrt(np.maximum(var, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            se_log = np.where(std_err == 0, 0.0, std_err / pstate)  # R: logse = FALSE
        lower, upper = confint(pstate, se_log, self.conf_type, self.conf_level)
        # R's survfit_confint at the extremes of an observed time: a plain interval of p = 0
        # with standard error 0 is [0, 0]; log(-log(p)) is undefined at p = 0 and p = 1 (NA)
        if self.conf_type == "plain":
            certain_zero = (pstate <= 0.0) & (std_err == 0.0)
            lower, upper = np.where(certain_zero, 0.0, lower), np.where(certain_zero, 0.0, upper)
        elif self.conf_type == "log-log":
            lower, upper = (
                np.where(pstate >= 1.0, np.nan, lower),
                np.where(pstate >= 1.0, np.nan, upper),
            )
        self.states_ = [EVENT_FREE, *map(str, event_types)]
        self.time_: FloatArray = times
        self.n_risk_: IntArray = n_risk.astype(np.int64)
        self.n_event_: IntArray = n_event.astype(np.int64)
        self.n_censor_: IntArray = n_censor.astype(np.int64)
        self.pstate_: FloatArray = pstate
        self.std_err_: FloatArray = std_err
        self.lower_: FloatArray = lower
        self.upper_: FloatArray = upper
        self.n_ = int(ending.sum())
        return self

    def at(self, times: Any) -> pd.DataFrame:
        """Return state probabilities with SEs and bounds at chosen times (long format).

        As R's ``summary(fit, times=, extend=TRUE)``: one row per (time, state) with
        ``probability``, ``std_err``, ``lower``, ``upper`` and ``n_risk`` (still event-free and
        followed at t). One deliberate difference: before the first observed time the state
        is known (event-free with probability 1), and the bounds are [1, 1] for the event-free
        state and [0, 0] for the others; R's ``survfit0`` fills [0, 0] for every state there.
        """
        req = np.sort(np.asarray(times, dtype=float).ravel())
        if req.size and (not np.all(np.isfinite(req)) or np.any(req < 0)):
            raise InputError("times must be finite and >= 0", "times")
        idx = np.searchsorted(self.time_, req, side="right") - 1
        n_risk = np.append(self.n_risk_, 0)[np.searchsorted(self.time_, req, side="left")]
        # before the first time everyone is event-free, with certainty
        start = np.zeros((1, len(self.states_)))
        start[0, 0] = 1.0

        def pick(values: FloatArray, start_value: FloatArray) -> FloatArray:
            return np.where((idx < 0)[:, None], start_value, values[np.maximum(idx, 0)])

        prob = pick(self.pstate_, start)
        se = pick(self.std_err_, np.zeros_like(start))
        low, high = pick(self.lower_, start), pick(self.upper_, start)
        rows = [
            {
                "time": float(time),
                "state": state,
                "probability": float(prob[r, s]),
                "std_err": float(se[r, s]),
                "lower": float(low[r, s]),
                "upper": float(high[r, s]),
                "n_risk": int(n_risk[r]),
            }
            for r, time in enumerate(req)
            for s, state in enumerate(self.states_)
        ]
        return pd.DataFrame(rows)

    def incidence(self, state: str) -> FloatArray:
        """Return the curve of one state (an event type, or ``"event-free"``) at ``time_``."""
        if state not in self.states_:
            raise InputError(f"unknown state {state!r}; states: {self.states_}", "state")
        return self.pstate_[:, self.states_.index(state)]


def outcome_codes(
    data: pd.DataFrame,
    event: str,
    rows: npt.NDArray[np.bool_],
    *,
    competing: str | None,
    censored: Sequence[str],
    event_types: Sequence[str] | None,
) -> tuple[IntArray, list[str]]:
    """Map the outcome column(s) to 0 (censored) / 1..K and the ordered event-type names."""
    positions = np.flatnonzero(rows)
    if competing is not None:
        main = event_values(data, event, rows)
        other = event_values(data, competing, rows)
        both = np.flatnonzero((main == 1) & (other == 1))
        if both.size:
            raise InputError(
                f"{row_label(data, int(positions[both[0]]))}: both the event and the competing "
                "event are 1; a first event has one type",
                competing,
            )
        return (main + 2 * other).astype(np.int64), [event, competing]
    text = data[event].astype(str).str.strip().to_numpy()[rows]
    censor_set = {str(c) for c in censored}
    if event_types is None:
        event_types = sorted({v for v in text if v not in censor_set})
        if not event_types:
            raise InputError(
                f"no first event among the {text.size} patients analysed (every one is "
                "censored): nothing to estimate",
                event,
            )
    names = [str(v) for v in event_types]
    clash = censor_set & set(names)
    if clash:
        raise InputError(f"{sorted(clash)[0]!r} is both a censoring code and an event type", event)
    lookup = {name: i + 1 for i, name in enumerate(names)} | {c: 0 for c in censor_set}
    codes = np.array([lookup.get(v, -1) for v in text], dtype=np.int64)
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        where = row_label(data, int(positions[bad[0]]))
        raise InputError(
            f"{where}: {show_value(text[bad[0]])} is not a known outcome "
            f"(censoring: {sorted(censor_set)}; event types: {names})",
            event,
        )
    return codes, names


def cumulative_incidence(
    data: pd.DataFrame,
    time: str,
    event: str,
    *,
    competing: str | None = None,
    censored: Sequence[str] = ("censored", "none", "0"),
    event_types: Sequence[str] | None = None,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
    dropna: bool = False,
) -> CumulativeIncidence:
    """Estimate the cumulative incidence of competing first events in a cohort table.

    Two codings of the outcome:

    - one column of outcome labels (``competing=None``): ``event`` holds, per patient, the type
      of the first event (e.g. ``recurrence`` / ``death``) or a censoring code (``censored``,
      by default ``censored``, ``none`` or ``0``). ``event_types`` fixes the order of the
      types (default: sorted); any other label is an error;
    - two 0/1 columns: ``event`` flags the event of interest and ``competing`` the competing
      event (never both 1 for the same patient); the types are named after the columns.

    ``time`` is the time to the first event or to the end of follow-up.
    """
    used = [time, event] if competing is None else [time, event, competing]
    rows = rows_to_use(data, used, dropna)
    t = time_values(data, time, rows)
    codes, names = outcome_codes(
        data, event, rows, competing=competing, censored=censored, event_types=event_types
    )
    return CumulativeIncidence(conf_type, conf_level).fit(t, codes, names)
