"""The cohort analyses of a registry's table, as the web pages and the JSON API show them.

One call runs Kaplan-Meier by a group with the log-rank test, a Cox model and the cumulative
incidence of first events (recurrence, death) on the cohort table
(``Registry.cohort_frame`` with :func:`~livermet.analysis.cohort.with_endpoints`). Cases
lacking what an analysis needs are left out of it and counted with the reason (``excluded``
of each analysis's report, ``excluded_text`` in words); an analysis that still cannot run
gives its message under ``errors`` and the others run.

This is a module of its own, not part of :mod:`livermet.analysis.cohort`, because
:mod:`livermet.analysis.summary` (which it calls) imports that module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from livermet.analysis.cohort import ENDPOINTS, summary_text, synthetic_label, with_endpoints
from livermet.analysis.summary import (
    CumincAnalysis,
    KMAnalysis,
    cox_analysis,
    cuminc_analysis,
    km_analysis,
)
from livermet.errors import InputError, LivermetError

__all__ = [
    "COHORT_GROUPS",
    "CohortAnalyses",
    "CohortSource",
    "check_choice",
    "check_covariates",
    "cohort_analyses",
    "cohort_report",
    "error_text",
]

COHORT_GROUPS = ("approach", "timing", "grade", "sex", "site", "stage")
"""The columns of the cohort table the Kaplan-Meier curves may be grouped by."""


@dataclass(frozen=True)
class CohortAnalyses:
    """The JSON-ready report and the fits behind it (for plots).

    ``report`` holds ``n``, ``errors`` (analysis name -> message), ``synthetic`` (the
    `synthetic_label` of the table) and ``km``, ``cox``, ``cuminc`` for the analyses that ran.
    ``km`` and ``cuminc`` are None when that analysis could not run.
    """

    report: dict[str, Any]
    km: KMAnalysis | None
    cuminc: CumincAnalysis | None


class CohortSource(Protocol):
    """Where the cohort table comes from: a ``livermet.registry.Registry``.

    The analysis layer does not import the registry.
    """

    def cohort_frame(self, *, include_synthetic: bool = False) -> pd.DataFrame:
        """Return the cohort table, with the synthetic demonstration cases when asked."""
        ...


def error_text(exc: LivermetError) -> str:
    """Return an error as reported under ``errors``: 'field: message', or the message alone."""
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


def check_choice(by: str, endpoint: str) -> None:
    """Refuse a grouping column or an endpoint the cohort analyses do not offer."""
    if by not in COHORT_GROUPS:
        raise InputError(f"group by one of {', '.join(COHORT_GROUPS)}", "by")
    if endpoint not in ENDPOINTS:
        raise InputError("endpoint is os (overall) or efs (event-free)", "endpoint")


def check_covariates(frame: pd.DataFrame, covariates: Sequence[str]) -> None:
    """Refuse no covariate, or one that is not a column of the cohort table."""
    unknown = [c for c in covariates if c not in frame.columns]
    if unknown or not covariates:
        columns = ", ".join(c for c in frame.columns if c not in {"id", "synthetic"})
        raise InputError(
            f"{unknown[0] if unknown else 'none'} is not a column of the cohort; "
            f"choose from {columns}",
            "covariates",
        )


def cohort_analyses(
    frame: pd.DataFrame, by: str, endpoint: str, covariates: Sequence[str]
) -> CohortAnalyses:
    """Run the cohort analyses on the cohort table ``frame`` (with ``efs_event``).

    The analyses are KM by ``by`` (with the log-rank test), a Cox model of ``covariates`` and
    the cumulative incidence of first events. ``endpoint`` is ``os`` or ``efs`` (`ENDPOINTS`);
    the cumulative incidence always uses ``efs_months`` with ``first_event``. Raises
    `InputError` for a choice `check_choice` or `check_covariates` refuses; an analysis's own
    failure goes under ``errors``.
    """
    check_choice(by, endpoint)
    check_covariates(frame, covariates)
    time, event = ENDPOINTS[endpoint]
    out: dict[str, Any] = {"n": len(frame), "errors": {}, "synthetic": synthetic_label(frame)}
    km: KMAnalysis | None = None
    ci: CumincAnalysis | None = None
    try:
        km = km_analysis(frame, time, event, by=by, dropna=True)
        out["km"] = km.report
    except LivermetError as exc:
        out["errors"]["km"] = error_text(exc)
    try:
        out["cox"] = cox_analysis(frame, time, event, list(covariates), dropna=True).report
    except LivermetError as exc:
        out["errors"]["cox"] = error_text(exc)
    try:
        ci = cuminc_analysis(frame, "efs_months", "first_event", dropna=True)
        out["cuminc"] = ci.report
    except LivermetError as exc:
        out["errors"]["cuminc"] = error_text(exc)
    for name in ("km", "cox", "cuminc"):
        if name in out:
            out[name]["excluded_text"] = summary_text(out[name].get("excluded"))
    return CohortAnalyses(out, km, ci)


def cohort_report(
    source: CohortSource,
    by: str,
    endpoint: str,
    synthetic: bool,
    covariates: Sequence[str],
) -> dict[str, Any]:
    """Return the report of `cohort_analyses` on the registry's cohort table.

    Its synthetic demonstration cases are included when ``synthetic`` is true (the JSON API's
    analyses).
    """
    check_choice(by, endpoint)
    frame = with_endpoints(source.cohort_frame(include_synthetic=synthetic))
    return cohort_analyses(frame, by, endpoint, covariates).report
