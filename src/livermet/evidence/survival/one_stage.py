"""One-stage pooling of series reconstructed as individual patients (docs/literature-ipd.md).

The patients reconstructed from the published Kaplan-Meier curves (Guyot, Ades, Ouwens &
Welton 2012, BMC Med Res Methodol 12:9, doi 10.1186/1471-2288-12-9; `livermet.evidence.ipd`)
are analysed as one cohort with the registry's R-parity tested tools
(`livermet.analysis.km`, `.cox`, `.logrank`, `.rmst`):

- Kaplan-Meier per series and of all patients stacked ("pooled": it ignores differences
  between series, which the between-series log-rank test and the RMST heterogeneity show):
  numbers at risk, median with its interval, S at 12/36/60 months;
- the log-rank test of the series against each other (do their curves differ?);
- when the files carry an ``arm`` column, the treatment effect: Cox model ``arm`` stratified by
  series (each series its own baseline hazard) and the stratified log-rank test. Without arms
  there is no covariate: every series is one arm, and a Cox model stratified by series has
  nothing to estimate, so none is fitted (the reason is in the output);
- the restricted mean survival time (RMST) of each series to a common horizon, pooled by a
  random-effects meta-analysis (`livermet.evidence.rma`, REML by default);
- for each series, its reported median (``mst_months``) against the median of its own
  reconstructed curve (`median_verdict`), its number of patients against the published n
  (``n_source``/``n_table``, `count_check`), its deaths against the published total
  (provenance ``total_events``, `deaths_check`), and its times against the time unit its
  published figures imply (`unit_note`). A difference is a note, not a refusal: a curve may
  describe a subset of the series (one arm, the R0 patients).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from livermet.analysis.cox import CoxPH
from livermet.analysis.km import KaplanMeier
from livermet.analysis.logrank import logrank_test
from livermet.errors import InputError

from .series import SINGLE_SERIES_NOTE, TIME_COLUMNS, numeric_column, series_ids

__all__ = [
    "MEDIAN_TOLERANCE_MONTHS",
    "RISK_TIMES",
    "RMST_MAX_HORIZON",
    "SUMMARY_TIMES",
    "YEARS_SUSPECT_MONTHS",
    "MedianCheck",
    "OneStageResult",
    "count_check",
    "deaths_check",
    "median_verdict",
    "one_stage_pooling",
    "reconstructed_section",
    "rmst_horizon",
    "text_lines",
    "unit_note",
]

SUMMARY_TIMES = (12.0, 36.0, 60.0)
"""Months at which S(t) is reported: those of the dataset's ``os1``/``os3``/``os5``."""

RISK_TIMES = (0.0, 12.0, 24.0, 36.0, 48.0, 60.0)
"""Months of the numbers-at-risk table (yearly to 5 years, as the papers print them)."""

RMST_MAX_HORIZON = 60.0
"""Longest default RMST horizon (months): 5 years, the dataset's longest summary point
(``os5``). The default horizon is the shorter of this and the shortest follow-up of a
series (`rmst_horizon`), so that every series' curve is observed up to it."""

MEDIAN_TOLERANCE_MONTHS = 1.0
"""Largest difference (months) between a reported median and the reconstructed one still
called consistent. Source: the accuracy asked of a reconstruction in this project, published
medians reproduced within one month (docs/literature-ipd.md#median-check; the checks of
``livermet evidence reconstruct`` on published two-arm curves), in line with Guyot et al.
2012, who found the accuracy of reconstructed medians excellent. Most papers of the dataset
also print medians rounded to whole months."""

YEARS_SUSPECT_MONTHS = 15.0
"""Largest reconstructed time (months) under which a series' times look like years.

Not a clinical constant: a unit check (docs/literature-ipd.md#checks-of-a-series). A series
whose every time is at most 15 while its paper reports survival at 3 or 5 years, or a median
beyond 15 months, was almost surely digitised with the x axis in years (15 years is longer
than any follow-up of the dataset; 15 months is shorter than the 3-year point)."""

SUBSET_NOTE = (
    "not a refusal: a published curve may describe a subset of the series (one arm, the R0 "
    "patients, a histology) or a wider population; check the figure digitised"
)
"""Why a count that differs from the published one is a note (`count_check`, `deaths_check`)."""

_ROUNDING = 1e-9  # the printed medians are decimal numbers; ignore float rounding at the limit


@dataclass(frozen=True)
class MedianCheck:
    """A series' reported median checked against its reconstructed curve.

    Attributes
    ----------
    verdict : str
        ``consistent``, ``inconsistent``, ``undetermined`` (the curve ends above 50 % before the
        reported median) or ``not reported``.
    reason : str
        The numbers behind the verdict, in words.
    difference : float | None
        Reconstructed minus reported median (months), when both exist.
    """

    verdict: str
    reason: str
    difference: float | None


def median_verdict(
    reported: float | None,
    reconstructed: float | None,
    last_time: float,
    *,
    tolerance: float = MEDIAN_TOLERANCE_MONTHS,
) -> MedianCheck:
    """Compare a series' reported median with the median of its reconstructed curve.

    Consistent when they differ by at most ``tolerance`` months (`MEDIAN_TOLERANCE_MONTHS`).
    When the curve never falls to 50 % it still tells something: its median is beyond
    ``last_time``, so a reported median more than ``tolerance`` before ``last_time`` is
    inconsistent; otherwise the verdict is ``undetermined``.

    Parameters
    ----------
    reported : float or None
        The printed median (months); None or NaN when not reported.
    reconstructed : float or None
        Median of the reconstructed Kaplan-Meier curve (None: not reached).
    last_time : float
        Last observed time of the reconstructed series (months).
    tolerance : float
        Months of difference still called consistent (>= 0).

    Returns
    -------
    MedianCheck
    """
    if not math.isfinite(tolerance) or tolerance < 0:
        raise InputError(f"{tolerance!r} must be a number of months >= 0", "tolerance")
    if reported is None or not math.isfinite(reported):
        return MedianCheck("not reported", "the paper gives no median", None)
    if reconstructed is None:
        gap = last_time - reported
        if gap > tolerance + _ROUNDING:
            return MedianCheck(
                "inconsistent",
                f"reported median {reported:g} months, but the reconstructed curve stays above "
                f"50 % until its last time, {last_time:.1f} months",
                None,
            )
        return MedianCheck(
            "undetermined",
            f"the reconstructed curve ends at {last_time:.1f} months above 50 %, before the "
            f"reported median {reported:g} months could be checked",
            None,
        )
    difference = reconstructed - reported
    words = (
        f"reported {reported:g} months, reconstructed {reconstructed:.1f} months "
        f"(difference {difference:+.1f}, tolerance {tolerance:g})"
    )
    if abs(difference) <= tolerance + _ROUNDING:
        return MedianCheck("consistent", words, difference)
    return MedianCheck("inconsistent", words, difference)


def _whole(value: Any) -> int | None:
    """Return a published count as int (None when missing or not finite)."""
    if value is None:
        return None
    number = float(value)
    return round(number) if math.isfinite(number) else None


def count_check(
    reconstructed: int, n_table: float | None, n_source: float | None
) -> dict[str, Any]:
    """Compare a series' reconstructed number of patients with its published n.

    Parameters
    ----------
    reconstructed : int
        Patients in the reconstructed file.
    n_table : float or None
        n as printed in the case report's Table 1 (``literature.csv`` ``n_table``).
    n_source : float or None
        n of the source paper where known (``n_source``).

    Returns
    -------
    dict
        ``verdict`` (``consistent``, ``differs`` or ``not reported``), ``matches`` (the
        columns equal to the reconstructed n, e.g. ``["n_source"]``; empty otherwise),
        ``reconstructed``, ``n_table``, ``n_source`` and ``reason`` in words.
    """
    published = {"n_table": _whole(n_table), "n_source": _whole(n_source)}
    given = {k: v for k, v in published.items() if v is not None}
    out: dict[str, Any] = {"reconstructed": reconstructed, **published, "matches": []}
    if not given:
        return {**out, "verdict": "not reported", "reason": "the series table gives no n"}
    matches = [k for k, v in given.items() if v == reconstructed]
    printed = ", ".join(f"{k} {v}" for k, v in given.items())
    if matches:
        words = f"{reconstructed} reconstructed patients = {' and '.join(matches)} ({printed})"
        return {**out, "verdict": "consistent", "matches": matches, "reason": words}
    words = (
        f"{reconstructed} reconstructed patients, but the series table gives {printed}; "
        f"{SUBSET_NOTE}"
    )
    return {**out, "verdict": "differs", "reason": words}


def deaths_check(reconstructed: int, total_events: int | None) -> dict[str, Any] | None:
    """Compare a series' reconstructed deaths with the published total (None when unknown).

    Parameters
    ----------
    reconstructed : int
        Deaths (events) in the reconstructed file.
    total_events : int or None
        The published total of deaths (provenance ``total_events``); None: not published.

    Returns
    -------
    dict or None
        ``verdict`` (``consistent`` or ``differs``), ``reconstructed``, ``published`` and
        ``reason``; None without a published total.
    """
    if total_events is None:
        return None
    out = {"reconstructed": reconstructed, "published": int(total_events)}
    if reconstructed == int(total_events):
        words = f"{reconstructed} deaths reconstructed = {int(total_events)} published"
        return {**out, "verdict": "consistent", "reason": words}
    words = (
        f"{reconstructed} deaths reconstructed, {int(total_events)} published "
        f"(provenance total_events); {SUBSET_NOTE}"
    )
    return {**out, "verdict": "differs", "reason": words}


def unit_note(max_time: float, reported: Mapping[str, Any]) -> str | None:
    """Return a note when a series' times look like years rather than months (else None).

    The times look like years when all are at most `YEARS_SUSPECT_MONTHS` while the paper
    reports survival at 3 or 5 years (``os3``/``os5``) or a median beyond 15 months.

    Parameters
    ----------
    max_time : float
        Largest reconstructed time of the series.
    reported : mapping
        The series' reported figures: ``median`` (months), ``os3``, ``os5`` (None if absent).

    Returns
    -------
    str or None
    """
    if max_time > YEARS_SUSPECT_MONTHS:
        return None
    years = [col[2] for col in ("os3", "os5") if _present(reported, col)]
    reasons = [f"survival at {' and '.join(years)} years"] if years else []
    median = reported.get("median")
    if median is not None and math.isfinite(median) and median > YEARS_SUSPECT_MONTHS:
        reasons.append(f"a median of {median:g} months")
    if not reasons:
        return None
    return (
        f"every reconstructed time is at most {max_time:g} while the paper reports "
        f"{' and '.join(reasons)}: times must be months (were years given? multiply by 12)"
    )


def _present(reported: Mapping[str, Any], column: str) -> bool:
    """Tell whether a reported figure is given (not None, finite)."""
    value = reported.get(column)
    return value is not None and math.isfinite(float(value))


def rmst_horizon(last_times: Iterable[float], maximum: float = RMST_MAX_HORIZON) -> float:
    """Return the default common RMST horizon: min(``maximum``, shortest last follow-up).

    Parameters
    ----------
    last_times : iterable of float
        Last observed time (months) of each series.
    maximum : float
        Upper limit (`RMST_MAX_HORIZON`, 60 months).

    Returns
    -------
    float
        Months (> 0).
    """
    times = [float(t) for t in last_times]
    horizon = min([maximum, *times])
    if not horizon > 0:
        raise InputError("a series has no follow-up beyond time 0: no RMST horizon", "time")
    return horizon


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass
class OneStageResult:
    """Everything `one_stage_pooling` computes, as plain data (``to_dict`` for JSON).

    Attributes
    ----------
    series : list of dict
        Per series: id, label, n, events, provenance, median (estimate/lower/upper), survival
        at `SUMMARY_TIMES`, numbers at risk at `RISK_TIMES`, RMST, reported figures and the
        median check.
    pooled : dict
        Kaplan-Meier of all patients stacked, same keys as a series (no provenance).
    between_series : dict or None
        Log-rank test of the series against each other (None with one series).
    arm_effect : dict
        ``fitted`` (bool) and either the Cox model and stratified log-rank, or ``reason``.
    rmst : dict
        ``horizon``, the random-effects pooled RMST (``pooled``, or ``reason`` when not
        estimable), and the series left out with their reasons.
    notes : list of str
        Caveats for the reader.
    """

    series: list[dict[str, Any]]
    pooled: dict[str, Any]
    between_series: dict[str, Any] | None
    arm_effect: dict[str, Any]
    rmst: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as the ``reconstructed`` section of ``evidence survival``."""
        return {
            "available": True,
            "series": self.series,
            "pooled": self.pooled,
            "between_series_logrank": self.between_series,
            "arm_effect": self.arm_effect,
            "rmst": self.rmst,
            "notes": self.notes,
        }


# --------------------------------------------------------------------------------------------
# Kaplan-Meier summaries
# --------------------------------------------------------------------------------------------


def _number(x: Any) -> float | None:
    """Return a finite float, or None for NaN/missing."""
    value = float(x)
    return value if math.isfinite(value) else None


def km_summary(km: KaplanMeier) -> dict[str, Any]:
    """Return a curve's n, events, median, S at `SUMMARY_TIMES` and numbers at risk.

    Parameters
    ----------
    km : KaplanMeier
        A fitted curve.

    Returns
    -------
    dict
        ``n``, ``events``, ``last_time``, ``median`` {estimate, lower, upper} (None: not
        reached), ``survival`` [{time, survival, lower, upper, n_risk}] (None after the last
        observed time, where the curve is unknown), ``at_risk`` [{time, n_risk}].
    """
    last = float(km.time_[-1])
    table = km.at(list(SUMMARY_TIMES))
    survival = []
    for row in table.to_dict("records"):
        observed = row["time"] <= last
        survival.append(
            {
                "time": row["time"],
                "survival": _number(row["survival"]) if observed else None,
                "lower": _number(row["lower"]) if observed else None,
                "upper": _number(row["upper"]) if observed else None,
                "n_risk": int(row["n_risk"]),
            }
        )
    at_risk = km.at(list(RISK_TIMES))
    return {
        "n": km.n_,
        "events": km.events_,
        "last_time": last,
        "median": km.median_.to_dict(),
        "survival": survival,
        "at_risk": [
            {"time": float(t), "n_risk": int(n)}
            for t, n in zip(at_risk["time"], at_risk["n_risk"], strict=True)
        ],
    }


# --------------------------------------------------------------------------------------------
# Comparisons between series and arms
# --------------------------------------------------------------------------------------------


def _between_series(ipd: pd.DataFrame, order: Sequence[str]) -> dict[str, Any] | None:
    """Return the log-rank test of the series against each other (None with one series)."""
    if len(order) < 2:
        return None
    test = logrank_test(ipd, "time", "event", "series", levels=list(order))
    return test.to_dict()


def arm_effect(ipd: pd.DataFrame, conf_level: float = 0.95) -> dict[str, Any]:
    """Return the treatment effect of ``arm`` stratified by series, or why there is none.

    Only series with two or more arms inform the effect (within a series of one arm, the arm
    is confounded with the series' own baseline hazard); the others are left out and listed.
    The reference arm is the first in sorted order (R's ``factor()``).

    Parameters
    ----------
    ipd : DataFrame
        ``series``, ``time``, ``event`` and optionally ``arm`` (missing for series without).
    conf_level : float
        Coverage of the hazard ratios' intervals.

    Returns
    -------
    dict
        ``fitted`` False and ``reason``; or ``fitted`` True, ``series`` used, ``left_out``,
        ``levels``, ``cox`` (`CoxPH.to_dict`, Efron ties, ``strata(series)``) and
        ``logrank`` (stratified by series).
    """
    if "arm" not in ipd.columns or ipd["arm"].isna().all():
        compare = (
            "the series are compared by the between-series log-rank test instead"
            if ipd["series"].nunique() > 1
            else "with one series there is no other series to compare it with"
        )
        return {
            "fitted": False,
            "reason": "each series is a single arm (no 'arm' column): a Cox model stratified "
            f"by series has no covariate to estimate; {compare}",
        }
    arms = ipd.dropna(subset=["arm"])
    counts = arms.groupby("series", sort=False)["arm"].nunique()
    used = [str(s) for s, k in counts.items() if k >= 2]
    left_out = sorted(set(map(str, ipd["series"])) - set(used))
    if not used:
        return {
            "fitted": False,
            "reason": "no series has two or more arms: within a series of one arm the arm "
            "cannot be told apart from the series",
            "left_out": left_out,
        }
    data = arms[arms["series"].isin(used)].reset_index(drop=True)
    data = data.assign(arm=data["arm"].astype(str), series=data["series"].astype(str))
    levels = sorted(data["arm"].unique())
    cox = CoxPH(conf_level=conf_level).fit(
        data, "time", "event", ["arm"], levels={"arm": levels}, categorical=["arm"], strata="series"
    )
    logrank = logrank_test(data, "time", "event", "arm", levels=levels, strata="series")
    return {
        "fitted": True,
        "series": used,
        "left_out": left_out,
        "levels": levels,
        "reference": levels[0],
        "cox": cox.to_dict(),
        "logrank": logrank.to_dict(),
    }


# --------------------------------------------------------------------------------------------
# RMST
# --------------------------------------------------------------------------------------------


def _pool_rmst(
    curves: Mapping[str, KaplanMeier], horizon: float, method: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Return each series' RMST to ``horizon`` and their random-effects pool (or the reason)."""
    from livermet.evidence.rma import rma

    rows: list[dict[str, Any]] = []
    left_out: list[dict[str, str]] = []
    for ident, km in curves.items():
        if float(km.time_[-1]) < horizon:
            left_out.append({"id": ident, "reason": "follow-up ends before the horizon"})
            rows.append({"id": ident, "rmst": None})
            continue
        value = km.rmst(horizon)
        rows.append({"id": ident, "rmst": value.to_dict()})
        if not value.std_err > 0:
            left_out.append({"id": ident, "reason": "no event before the horizon: SE 0"})
    usable = [r for r in rows if r["rmst"] is not None and r["rmst"]["std_err"] > 0]
    section: dict[str, Any] = {"horizon": horizon, "method": method, "left_out": left_out}
    if len(usable) < 2:
        section["pooled"] = None
        section["reason"] = f"{len(usable)} series with an RMST and a standard error > 0: need 2"
        return rows, section
    fit = rma(
        [r["rmst"]["estimate"] for r in usable],
        sei=[r["rmst"]["std_err"] for r in usable],
        method=method,
    )
    pred = fit.predict()
    section["pooled"] = {
        "k": fit.k,
        "estimate": float(fit.beta),
        "se": float(fit.se),
        "ci_lb": float(fit.ci_lb),
        "ci_ub": float(fit.ci_ub),
        "pi_lb": float(pred.pi_lb),
        "pi_ub": float(pred.pi_ub),
        "tau2": fit.tau2,
        "i2": fit.i2,
        "qe": fit.qe,
        "qe_p": fit.qe_p,
        "ids": [r["id"] for r in usable],
    }
    return rows, section


# --------------------------------------------------------------------------------------------
# Main entry
# --------------------------------------------------------------------------------------------


def _reported(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Return each series' reported median and S at 1/3/5 years (percent), by id."""
    from .consistency import check_consistency

    ids = series_ids(table)
    medians = numeric_column(table, "mst_months")
    percents = {col: numeric_column(table, col) for col in TIME_COLUMNS.values()}
    counts = {col: numeric_column(table, col) for col in ("n_table", "n_source")}
    flags = check_consistency(table)
    flagged = dict(zip(map(str, flags["id"]), flags["reason"], strict=True))
    return {
        ident: {
            "median": _number(medians[i]),
            **{col: _number(values[i]) for col, values in percents.items()},
            **{col: _number(values[i]) for col, values in counts.items()},
            "summary_contradiction": flagged.get(ident) or None,
        }
        for i, ident in enumerate(ids)
    }


def _labels(table: pd.DataFrame) -> dict[str, str]:
    """Return the readers' name of every series (author and year) by id."""
    from livermet.evidence.dataset import series_label

    return {str(r["id"]): series_label(r, short=True) for r in table.to_dict("records")}


def _series_entry(
    ident: str,
    km: KaplanMeier,
    reported: Mapping[str, Any],
    provenance: Mapping[str, Any] | None,
    tolerance: float,
) -> dict[str, Any]:
    """Return one series' block: its curve summary, provenance, reported figures and check."""
    summary = km_summary(km)
    check = median_verdict(
        reported.get("median"),
        summary["median"]["estimate"],
        summary["last_time"],
        tolerance=tolerance,
    )
    entry: dict[str, Any] = {"id": ident, **summary, "reported": dict(reported)}
    entry["median_check"] = {
        "verdict": check.verdict,
        "reason": check.reason,
        "difference": check.difference,
        "tolerance": tolerance,
    }
    entry["n_check"] = count_check(km.n_, reported.get("n_table"), reported.get("n_source"))
    note = unit_note(float(km.time_.max()), reported)
    if note is not None:
        entry["unit_note"] = note
    if provenance is not None:
        entry["provenance"] = dict(provenance)
        deaths = deaths_check(km.events_, provenance.get("total_events"))
        if deaths is not None:
            entry["deaths_check"] = deaths
            if deaths["verdict"] != "consistent":
                entry["provenance_note"] = (
                    f"{km.events_} events reconstructed, {deaths['published']} published"
                )
    return entry


def _provenance_by_id(provenance: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """Return provenance rows as plain dicts by series id (``total_events`` int or None)."""
    if provenance is None or provenance.empty:
        return {}
    out = {}
    for record in provenance.to_dict("records"):
        row = {str(k): v for k, v in record.items()}
        total = row.get("total_events")
        row["total_events"] = None if total is None or pd.isna(total) else int(total)
        row["risk_table"] = bool(row.get("risk_table"))
        out[str(row["series"])] = {k: v for k, v in row.items() if k != "series"}
    return out


def one_stage_pooling(
    ipd: pd.DataFrame,
    table: pd.DataFrame,
    *,
    provenance: pd.DataFrame | None = None,
    horizon: float | None = None,
    method: str = "REML",
    tolerance: float = MEDIAN_TOLERANCE_MONTHS,
    conf_level: float = 0.95,
) -> OneStageResult:
    """Analyse reconstructed series as one cohort (see the module docstring).

    Parameters
    ----------
    ipd : DataFrame
        ``series``, ``time`` (months), ``event`` (0/1), optional ``arm``
        (`livermet.evidence.ipd.load_reconstructed` with ``with_arm=True``).
    table : DataFrame
        The series table (``id``, ``mst_months``, ``os1``, ``os3``, ``os5``) the series
        belong to; each ``ipd`` series must be in it.
    provenance : DataFrame, optional
        The folder's provenance (`livermet.evidence.ipd.load_provenance`), copied per series.
    horizon : float, optional
        RMST horizon (months); default `rmst_horizon` of the series' last times.
    method : str
        tau² estimator of the RMST pooling (`livermet.evidence.rma`).
    tolerance : float
        Months of difference between reported and reconstructed medians still consistent.
    conf_level : float
        Coverage of the Kaplan-Meier, Cox and RMST intervals.

    Returns
    -------
    OneStageResult

    Raises
    ------
    InputError
        No patients, or a series not in ``table`` (field ``series``).
    """
    if ipd.empty:
        raise InputError("no reconstructed patients to analyse", "series")
    order = list(dict.fromkeys(map(str, ipd["series"])))
    reported = _reported(table)
    unknown = [s for s in order if s not in reported]
    if unknown:
        raise InputError(f"series not in the series table: {', '.join(unknown)}", "series")
    labels = _labels(table)
    curves = {
        s: KaplanMeier(conf_level=conf_level, label=s).fit(
            ipd.loc[ipd["series"] == s, "time"], ipd.loc[ipd["series"] == s, "event"]
        )
        for s in order
    }
    tau = (
        rmst_horizon(float(km.time_[-1]) for km in curves.values()) if horizon is None else horizon
    )
    rmst_rows, rmst_section = _pool_rmst(curves, tau, method)
    prov = _provenance_by_id(provenance)
    series = []
    for (ident, km), rmst_row in zip(curves.items(), rmst_rows, strict=True):
        entry = _series_entry(ident, km, reported[ident], prov.get(ident), tolerance)
        entry["label"] = labels.get(ident, ident)
        entry["rmst"] = rmst_row["rmst"]
        series.append(entry)
    pooled_km = KaplanMeier(conf_level=conf_level, label="pooled").fit(ipd["time"], ipd["event"])
    pooled = {**km_summary(pooled_km), "rmst": pooled_km.rmst(tau).to_dict()}
    notes = [
        "patients reconstructed from published curves (Guyot et al. 2012), not the original "
        "data: numbers at risk and events are approximations",
        "the pooled Kaplan-Meier curve stacks the series' patients and ignores differences "
        "between series; see the between-series log-rank test and the RMST heterogeneity",
    ]
    return OneStageResult(
        series=series,
        pooled=pooled,
        between_series=_between_series(ipd, order),
        arm_effect=arm_effect(ipd, conf_level),
        rmst=rmst_section,
        notes=notes,
    )


def reconstructed_section(
    table: pd.DataFrame,
    directory: Path | None = None,
    *,
    method: str = "REML",
    option: str = "--ipd",
) -> dict[str, Any]:
    """Return the ``reconstructed`` section of ``livermet evidence survival``.

    Parameters
    ----------
    table : DataFrame
        The series analysed (the dataset, or the user's ``--series`` table).
    directory : Path, optional
        A user's IPD folder (``--ipd``), used instead of the dataset's own folder. Its series
        must be series of ``table``. The dataset folder's series are validated against the
        dataset's ids and those not in ``table`` are left out (listed in ``left_out``).
    method : str
        tau² estimator of the RMST pooling.
    option : str
        The command-line option naming ``directory``: the field of its errors. A folder given
        explicitly that does not exist or holds no series is refused
        (`livermet.evidence.ipd.load_ipd_folder`).

    Returns
    -------
    dict
        ``{"available": False, "source": ..., "reason": ...}`` when the dataset's own folder
        has no series, else `OneStageResult.to_dict` with ``source`` added.
    """
    from livermet.evidence.ipd import load_ipd_folder

    ids = series_ids(table)
    explicit = directory is not None
    content = load_ipd_folder(
        directory, series_ids=ids if explicit else None, option=option if explicit else None
    )
    data = content.data
    left_out = sorted(set(map(str, data["series"])) - set(ids))
    if left_out:
        data = data[data["series"].isin(ids)].reset_index(drop=True)
    if data.empty:
        reason = (
            "no reconstructed series in this folder"
            if directory is not None
            else "no curve of the dataset's series has been digitised yet "
            "(docs/literature-ipd.md tells how to add one)"
        )
        return {
            "available": False,
            "source": content.source,
            "reason": reason,
            "left_out": left_out,
        }
    result = one_stage_pooling(data, table, provenance=content.provenance, method=method)
    section = {"source": content.source, **result.to_dict()}
    if left_out:
        section["left_out"] = left_out
    return section


def text_lines(section: Mapping[str, Any]) -> list[str]:
    """Return the ``reconstructed`` section as lines for the terminal (plain text)."""
    if not section.get("available"):
        return [f"reconstructed series: none available ({section.get('reason', '')})"]
    lines = [f"reconstructed series ({section['source']}):"]
    if section.get("left_out"):
        lines.append(f"  left out (not in the series table): {', '.join(section['left_out'])}")
    for s in section["series"]:
        lines.append(_curve_line(s["label"], s))
        lines.extend(_check_lines(s))
    if len(section["series"]) == 1:
        lines.append(
            f"  pooled: not pooled, one series ({SINGLE_SERIES_NOTE}); its own figures above"
        )
    else:
        lines.append(_curve_line("pooled", section["pooled"]))
    return lines + _comparison_lines(section)


def _curve_line(label: str, block: Mapping[str, Any]) -> str:
    """Return one curve's line: n, deaths, median and the survival that the curve reaches."""
    med = block["median"]
    median = "not reached" if med["estimate"] is None else f"{med['estimate']:.1f} months"
    surv = ", ".join(
        f"{row['time']:g} mo {100 * row['survival']:.0f} %"
        for row in block["survival"]
        if row["survival"] is not None
    )
    parts = [f"n = {block['n']}", f"{block['events']} deaths", f"median {median}"]
    return f"  {label}: {', '.join(parts)}" + (f"; {surv}" if surv else "")


def _check_lines(block: Mapping[str, Any]) -> list[str]:
    """Return the text lines of a series' checks: median, n, deaths, time unit."""
    lines = []
    for key, name in (("median_check", "median"), ("n_check", "n"), ("deaths_check", "deaths")):
        check = block.get(key)
        if check:
            lines.append(f"    {name} check: {check['verdict']} ({check['reason']})")
    if block.get("unit_note"):
        lines.append(f"    time unit: {block['unit_note']}")
    return lines


def _comparison_lines(section: Mapping[str, Any]) -> list[str]:
    """Return the text lines of the between-series test, the RMST pooling and the arm effect."""
    lines = []
    between = section.get("between_series_logrank")
    if between:
        lines.append(
            f"  series against each other (log-rank): chi² {between['chisq']:.2f}, "
            f"{between['df']} df, p {between['p']:.3g}"
        )
    rmst = section["rmst"]
    if rmst.get("pooled"):
        p = rmst["pooled"]
        lines.append(
            f"  RMST to {rmst['horizon']:g} months, pooled ({rmst['method']}): "
            f"{p['estimate']:.1f} ({p['ci_lb']:.1f} to {p['ci_ub']:.1f}), I² {p['i2']:.0f} %"
        )
    else:
        lines.append(f"  RMST to {rmst['horizon']:g} months: not pooled ({rmst['reason']})")
    effect = section["arm_effect"]
    if not effect["fitted"]:
        lines.append(f"  Cox stratified by series: not fitted ({effect['reason']})")
        return lines
    for term in effect["cox"]["terms"]:
        lines.append(
            f"  Cox stratified by series, {term['label']}: HR {term['hr']:.2f} "
            f"({term['hr_lower']:.2f} to {term['hr_upper']:.2f}), p {term['p']:.3g}"
        )
    return lines
