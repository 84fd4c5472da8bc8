"""Evidence (the series, pooling, forest plot, pooled curve, your own series) and cohort pages."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from livermet.analysis.summary import cox_analysis, cuminc_analysis, km_analysis
from livermet.errors import InputError, LivermetError
from livermet.evidence.dataset import load_literature, load_series
from livermet.evidence.pooling import MEASURES, METHODS, OUTCOMES, TESTS, pool_outcome
from livermet.evidence.survival import check_consistency
from livermet.registry import Registry
from livermet.report.cohort_plots import cuminc_plot, km_plot
from livermet.report.evidence_plots import forest_plot
from livermet.web.deps import page_user, registry_for, render
from livermet.web.plots import data_uri, pooled_curve
from livermet.web.security import check_csrf

router = APIRouter(include_in_schema=False)

SESSION_SERIES = "series"  # the user's own series (CSV text), kept in the signed session
SERIES_FIELDS = ("id", "n_table", "mst_months", "os1", "os3", "os5")
COHORT_GROUPS = ("approach", "timing", "grade", "sex", "site", "stage")


def series_frame(extra_csv: str | None) -> pd.DataFrame:
    """The literature's series plus the user's own (validated by the evidence engine)."""
    df = load_literature()
    if not extra_csv:
        return df
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "your-series.csv"
        path.write_text(extra_csv, encoding="utf-8")
        own = load_series(path)
    clash = sorted(set(own["id"]) & set(df["id"]))
    if clash:
        raise InputError(f"series id {', '.join(clash)} is in the literature already", "id")
    return pd.concat([df, own[[c for c in own.columns if c in df.columns]]], ignore_index=True)


def pooled_report(
    df: pd.DataFrame, outcome: str, measure: str, method: str, test: str
) -> dict[str, Any]:
    pooled = pool_outcome(df, outcome, measure=measure, method=method, test=test)
    years = OUTCOMES[outcome] // 12
    forest = data_uri(
        lambda: forest_plot(
            pooled.fit,
            pooled.ids,
            percent=True,
            xlabel=f"{years}-year overall survival (%)",
            title=f"{years}-year survival after hepatectomy ({pooled.fit.method}, {measure})",
        )
    )
    return {"pooled": pooled.to_dict(), "forest": forest}


@router.get("/evidence")
def evidence_page(
    request: Request,
    outcome: str = "os5",
    method: str = "REML",
    measure: str = "PLO",
    test: str = "z",
) -> Response:
    user = page_user(request)
    context: dict[str, Any] = {
        "choice": {"outcome": outcome, "method": method, "measure": measure, "test": test},
        "outcomes": list(OUTCOMES),
        "methods": [m for m in METHODS if m != "FE"],
        "measures": MEASURES,
        "tests": TESTS,
        "error": None,
        "series_error": request.session.pop("series_error", None),
        "own": request.session.get(SESSION_SERIES),
    }
    try:
        df = series_frame(context["own"])
    except InputError as exc:  # should not happen: rows are checked when added
        request.session.pop(SESSION_SERIES, None)
        df = load_literature()
        context["series_error"] = exc.message
    flags = check_consistency(df).set_index("id")
    context["series"] = [
        {**{k: (None if pd.isna(v) else v) for k, v in r.items()}, "flag": _flag(flags, r["id"])}
        for r in df.to_dict("records")
    ]
    try:
        context.update(pooled_report(df, outcome, measure, method, test))
    except LivermetError as exc:
        context["error"] = f"{exc.field}: {exc.message}" if exc.field else exc.message
    context["curve"] = data_uri(lambda: pooled_curve(df))
    return render(request, "evidence.html", context, user=user)


def _flag(flags: pd.DataFrame, ident: str) -> str | None:
    return str(flags.loc[ident, "reason"]) if bool(flags.loc[ident, "flagged"]) else None


@router.post("/evidence/series")
def add_series(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    id: Annotated[str, Form()] = "",
    n_table: Annotated[str, Form()] = "",
    mst_months: Annotated[str, Form()] = "",
    os1: Annotated[str, Form()] = "",
    os3: Annotated[str, Form()] = "",
    os5: Annotated[str, Form()] = "",
    clear: Annotated[str, Form()] = "",
) -> Response:
    """Add one series of your own to this session's pooling (checked like a series CSV)."""
    page_user(request)
    check_csrf(request, csrf_token)
    if clear:
        request.session.pop(SESSION_SERIES, None)
        return RedirectResponse("/evidence", status_code=303)
    old = request.session.get(SESSION_SERIES) or ""
    rows = list(csv.reader(io.StringIO(old)))[1:] if old else []
    rows.append([id.strip(), n_table, mst_months, os1, os3, os5])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SERIES_FIELDS)
    writer.writerows(rows[-20:])  # the session is a cookie: a few series only
    try:
        series_frame(buf.getvalue())
    except InputError as exc:
        request.session["series_error"] = (
            f"{exc.field}: {exc.message}" if exc.field else exc.message
        )
    else:
        request.session[SESSION_SERIES] = buf.getvalue()
    return RedirectResponse("/evidence", status_code=303)


def cohort_report(
    reg: Registry,
    by: str,
    endpoint: str,
    synthetic: bool,
    covariates: list[str],
    *,
    plots: bool = True,
) -> dict[str, Any]:
    """KM by a group, a Cox model and cumulative incidence of first events on the registry."""
    if by not in COHORT_GROUPS:
        raise InputError(f"group by one of {', '.join(COHORT_GROUPS)}", "by")
    if endpoint not in {"os", "efs"}:
        raise InputError("endpoint is os (overall) or efs (event-free)", "endpoint")
    frame = reg.cohort_frame(include_synthetic=synthetic)
    time = f"{endpoint}_months"
    event = "death"
    if endpoint == "efs":
        frame = frame.assign(efs_event=(frame["first_event"] != "censored").astype(int))
        event = "efs_event"
    out: dict[str, Any] = {"n": len(frame), "errors": {}}
    try:
        km = km_analysis(frame, time, event, by=by, dropna=True)
        out["km"] = km.report
        curves = km.groups if km.groups is not None else km.overall
        if plots:
            out["km_plot"] = data_uri(lambda: km_plot(curves, logrank=km.logrank))
    except LivermetError as exc:
        out["errors"]["km"] = exc.message
    try:
        out["cox"] = cox_analysis(frame, time, event, covariates, dropna=True).report
    except LivermetError as exc:
        out["errors"]["cox"] = exc.message
    try:
        ci = cuminc_analysis(frame, "efs_months", "first_event", dropna=True)
        out["cuminc"] = ci.report
        if plots:
            out["cuminc_plot"] = data_uri(lambda: cuminc_plot(ci.model))
    except LivermetError as exc:
        out["errors"]["cuminc"] = exc.message
    return out


@router.get("/cohort")
def cohort_page(
    request: Request,
    by: str = "approach",
    endpoint: str = "os",
    synthetic: str = "",
    covariates: str = "approach,age",
) -> Response:
    user = page_user(request)
    reg = registry_for(request, user)
    chosen = [c.strip() for c in covariates.split(",") if c.strip()]
    context: dict[str, Any] = {
        "by": by,
        "endpoint": endpoint,
        "synthetic": synthetic,
        "covariates": ",".join(chosen),
        "groups": COHORT_GROUPS,
        "error": None,
    }
    try:
        context["report"] = cohort_report(reg, by, endpoint, synthetic == "include", chosen)
    except LivermetError as exc:
        context["error"] = f"{exc.field}: {exc.message}" if exc.field else exc.message
        context["report"] = None
    return render(request, "cohort.html", context, user=user)
