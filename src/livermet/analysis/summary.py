"""Whole analyses of a cohort table as plain, JSON-ready dicts (what the CLI and web print).

Each takes a DataFrame plus column names, so a CSV file and the registry are analysed alike,
and returns the fitted objects too (for plots). Non-finite numbers become None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from livermet.analysis._ci import ConfType
from livermet.analysis._data import integer_labels, require_columns
from livermet.analysis.cohort import CohortSelection, select_complete, synthetic_label
from livermet.analysis.cox import CoxPH, Ties
from livermet.analysis.cuminc import CumulativeIncidence, cumulative_incidence
from livermet.analysis.km import KaplanMeier, kaplan_meier, kaplan_meier_by_group
from livermet.analysis.logrank import LogRankResult, logrank_test
from livermet.errors import InputError

__all__ = [
    "DEFAULT_TIMES",
    "CoxAnalysis",
    "CumincAnalysis",
    "KMAnalysis",
    "cox_analysis",
    "cuminc_analysis",
    "cuminc_report",
    "json_safe",
    "km_analysis",
    "km_report",
]

DEFAULT_TIMES: tuple[float, ...] = (12.0, 36.0, 60.0)
"""Months at which survival is reported unless told otherwise (1, 3 and 5 years)."""


def _add_cohort_notes(
    report: dict[str, Any], used: pd.DataFrame, selection: CohortSelection | None
) -> None:
    """Write the cases left out (and why) and whether the data are synthetic into ``report``."""
    if selection is not None:
        report["excluded"] = selection.to_dict()
    label = synthetic_label(used)
    if label is not None:
        report["synthetic"] = label


def json_safe(value: Any) -> Any:
    """Replace NaN/inf by None and numpy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _check_times(times: Sequence[float]) -> list[float]:
    out = [float(t) for t in times]
    if any(not math.isfinite(t) or t < 0 for t in out):
        raise InputError("report times must be numbers >= 0", "times")
    return out


def _curve_dict(km: KaplanMeier, times: Sequence[float], horizon: float) -> dict[str, Any]:
    table = km.at(times)
    return {
        "n": km.n_,
        "events": km.events_,
        "median": km.median_.to_dict(),
        "rmst": km.rmst(horizon).to_dict(),
        "at": table.to_dict(orient="records"),
    }


@dataclass
class KMAnalysis:
    """Kaplan-Meier overall (and by group, with the log-rank test)."""

    overall: KaplanMeier
    groups: dict[str, KaplanMeier] | None
    logrank: LogRankResult | None
    report: dict[str, Any]


def km_analysis(
    data: pd.DataFrame,
    time: str,
    event: str,
    *,
    by: str | None = None,
    levels: Sequence[Any] | None = None,
    times: Sequence[float] = DEFAULT_TIMES,
    rmst_horizon: float = 60.0,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    dropna: bool = False,
) -> KMAnalysis:
    """Summarise survival by Kaplan-Meier.

    Survival, bounds and numbers at risk at ``times``, median with interval, RMST with SE; with
    ``by``, the same per group and the log-rank test.
    """
    times = _check_times(times)
    selection = select_complete(data, [time, event, *([by] if by else [])]) if dropna else None
    if selection is not None:
        data = selection.data
    overall = kaplan_meier(
        data, time, event, conf_type=conf_type, conf_level=conf_level, dropna=dropna
    )
    groups: dict[str, KaplanMeier] | None = None
    test: LogRankResult | None = None
    if by is not None:
        groups = kaplan_meier_by_group(
            data,
            time,
            event,
            by,
            levels=levels,
            conf_type=conf_type,
            conf_level=conf_level,
            dropna=dropna,
        )
        if len(groups) > 1:
            test = logrank_test(data, time, event, by, levels=levels, dropna=dropna)
    report = km_report(
        overall,
        groups,
        test,
        time=time,
        event=event,
        by=by,
        times=times,
        rmst_horizon=rmst_horizon,
        conf_type=conf_type,
        conf_level=conf_level,
    )
    _add_cohort_notes(report, data, selection)
    return KMAnalysis(overall, groups, test, json_safe(report))


def km_report(
    overall: KaplanMeier,
    groups: Mapping[str, KaplanMeier] | None,
    test: LogRankResult | None,
    *,
    time: str,
    event: str,
    by: str | None,
    times: Sequence[float],
    rmst_horizon: float,
    conf_type: ConfType,
    conf_level: float,
) -> dict[str, Any]:
    """Return the report of fitted Kaplan-Meier curves (`km_analysis`'s, without cohort notes).

    Shared by the pooled analysis and the federated one (``livermet.federated``), which fits
    the same curves from the sites' tables.
    """
    report: dict[str, Any] = {
        "time_column": time,
        "event_column": event,
        "conf_type": conf_type,
        "conf_level": conf_level,
        "rmst_horizon": float(rmst_horizon),
        "overall": _curve_dict(overall, times, rmst_horizon),
    }
    if groups is not None:
        report["by"] = by
        report["groups"] = {
            name: _curve_dict(km, times, rmst_horizon) for name, km in groups.items()
        }
        if test is not None:
            report["logrank"] = test.to_dict()
        else:
            report["logrank_note"] = f"one {by} group only ({next(iter(groups))}): no log-rank test"
    return report


@dataclass
class CoxAnalysis:
    """A fitted Cox model and its report."""

    model: CoxPH
    report: dict[str, Any]


def cox_analysis(
    data: pd.DataFrame,
    time: str,
    event: str,
    covariates: Sequence[str],
    *,
    reference: Mapping[str, Any] | None = None,
    levels: Mapping[str, Sequence[Any]] | None = None,
    categorical: Sequence[str] = (),
    ties: Ties = "efron",
    conf_level: float = 0.95,
    dropna: bool = False,
) -> CoxAnalysis:
    """Fit a Cox model of ``covariates``.

    ``reference`` names a factor's reference level (the other levels follow in sorted order),
    ``levels`` gives a factor's full order.
    """
    require_columns(data, [time, event, *covariates])
    selection = select_complete(data, [time, event, *covariates]) if dropna else None
    if selection is not None:
        data = selection.data
    order = {k: list(v) for k, v in (levels or {}).items()}
    for col, ref in (reference or {}).items():
        if col not in covariates:
            raise InputError("reference level given for a column that is not a covariate", col)
        if col in order:
            rest = [v for v in order[col] if str(v) != str(ref)]
        else:
            present = integer_labels(data[col]).dropna().unique()
            if pd.api.types.is_numeric_dtype(data[col]):
                present = np.sort(present)  # numerically, not as text
            values = [str(v) for v in present]
            if str(ref) not in values:
                raise InputError(
                    f"reference level {ref!r} does not occur (values: {sorted(values)})", col
                )
            rest = [v for v in values if v != str(ref)]
            if not pd.api.types.is_numeric_dtype(data[col]):
                rest = sorted(rest)
        order[col] = [str(ref), *map(str, rest)]
        if col not in categorical:
            categorical = [*categorical, col]
    model = CoxPH(ties=ties, conf_level=conf_level).fit(
        data,
        time,
        event,
        covariates,
        levels=order or None,
        categorical=categorical,
        dropna=dropna,
    )
    report = {"time_column": time, "event_column": event, **model.to_dict()}
    _add_cohort_notes(report, data, selection)
    return CoxAnalysis(model, json_safe(report))


@dataclass
class CumincAnalysis:
    """Cumulative incidence of competing first events and its report."""

    model: CumulativeIncidence
    report: dict[str, Any]


def cuminc_analysis(
    data: pd.DataFrame,
    time: str,
    event: str,
    *,
    competing: str | None = None,
    censored: Sequence[str] = ("censored", "none", "0"),
    event_types: Sequence[str] | None = None,
    times: Sequence[float] = DEFAULT_TIMES,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
    dropna: bool = False,
) -> CumincAnalysis:
    """Estimate the Aalen-Johansen cumulative incidence at ``times``.

    See `cumulative_incidence` for the two codings of the outcome.
    """
    times = _check_times(times)
    selection = (
        select_complete(data, [time, event, *([competing] if competing else [])])
        if dropna
        else None
    )
    if selection is not None:
        data = selection.data
    fit = cumulative_incidence(
        data,
        time,
        event,
        competing=competing,
        censored=censored,
        event_types=event_types,
        conf_type=conf_type,
        conf_level=conf_level,
        dropna=dropna,
    )
    report = cuminc_report(
        fit,
        time=time,
        event=event,
        competing=competing,
        times=times,
        conf_type=conf_type,
        conf_level=conf_level,
    )
    _add_cohort_notes(report, data, selection)
    return CumincAnalysis(fit, json_safe(report))


def cuminc_report(
    fit: CumulativeIncidence,
    *,
    time: str,
    event: str,
    competing: str | None,
    times: Sequence[float],
    conf_type: ConfType,
    conf_level: float,
) -> dict[str, Any]:
    """Return the report of a fitted cumulative incidence (`cuminc_analysis`'s, no notes).

    Shared by the pooled analysis and the federated one (``livermet.federated``).
    """
    table = fit.at(times)
    at = []
    for _, rows in table.groupby("time", sort=True):
        at.append(
            {
                "time": float(rows["time"].iloc[0]),
                "n_risk": int(rows["n_risk"].iloc[0]),
                "states": {
                    r.state: {
                        "probability": r.probability,
                        "std_err": r.std_err,
                        "lower": r.lower,
                        "upper": r.upper,
                    }
                    for r in rows.itertuples()
                },
            }
        )
    report = {
        "time_column": time,
        "event_column": event,
        "competing_column": competing,
        "n": fit.n_,
        "states": fit.states_,
        "events": {s: int(fit.n_event_[:, i].sum()) for i, s in enumerate(fit.states_[1:])},
        "conf_type": conf_type,
        "conf_level": conf_level,
        "variance": "infinitesimal jackknife (as R survfit)",
        "at": at,
    }
    return report
