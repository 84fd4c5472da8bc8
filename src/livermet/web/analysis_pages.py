"""Evidence (the series, pooling, forest plot, pooled curve, your own series) and cohort pages."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from livermet.analysis.cohort import summary_text, with_endpoints
from livermet.analysis.cohort_report import (
    COHORT_GROUPS,
    CohortAnalyses,
    check_choice,
    check_covariates,
    cohort_analyses,
    error_text,
)
from livermet.analysis.km import report_within_follow_up
from livermet.analysis.literature import endpoint_columns, registry_vs_literature
from livermet.errors import InputError, LivermetError
from livermet.evidence.dataset import OWN_SERIES_SOURCE, RowProblem, SeriesInputError, series_label
from livermet.evidence.glmm import GLMM_TESTS, NAGQ_DEFAULT
from livermet.evidence.glmm_pool import pool_outcome_glmm
from livermet.evidence.glmm_report import (
    MODELS,
    check_model,
    choose_nagq,
    choose_optimizer,
    glmm_report,
)
from livermet.evidence.pooling import (
    MEASURES,
    METHODS,
    OUTCOMES,
    TESTS,
    check_outcome,
    pool_outcome,
)
from livermet.evidence.selection import series_with_own
from livermet.evidence.survival import check_consistency
from livermet.evidence.survival.one_stage import reconstructed_section
from livermet.registry import User
from livermet.report.cohort_plots import cuminc_plot, km_plot, literature_analysis_plot
from livermet.report.evidence_plots import forest_plot
from livermet.report.glmm_plots import glmm_forest_plot
from livermet.web.deps import CsrfChecked, PageRegistry, PageUser, render
from livermet.web.plots import data_uri, pooled_curve

router = APIRouter(include_in_schema=False)

SESSION_SERIES = "series"  # the user's own series (CSV text), kept in the signed session
SERIES_FIELDS = ("id", "n_table", "mst_months", "os1", "os3", "os5")
OWN_SERIES_FILE = OWN_SERIES_SOURCE  # the name the evidence engine's messages give the series


def series_frame(extra_csv: str | None, include_added: bool = False) -> pd.DataFrame:
    """Return the literature's series (the added ones on request) plus the user's own.

    The user's rows are validated by the evidence engine (`livermet.evidence.selection`).
    """
    return series_with_own(extra_csv, include_added=include_added, source=OWN_SERIES_FILE)


def pooled_report(
    df: pd.DataFrame, outcome: str, measure: str, method: str, test: str
) -> dict[str, Any]:
    """Return the pooling of one outcome of ``df`` and its forest plot (a data URI)."""
    pooled = pool_outcome(df, outcome, measure=measure, method=method, test=test)
    years = OUTCOMES[outcome] // 12
    names = {str(r["id"]): series_label(r, short=True) for r in df.to_dict("records")}
    forest = data_uri(
        lambda: forest_plot(
            pooled.fit,
            [names.get(i, i) for i in pooled.ids],
            percent=True,
            xlabel=f"{years}-year overall survival (%)",
            title=f"{years}-year survival after hepatectomy ({pooled.fit.method}, {measure})",
        )
    )
    return {"pooled": pooled.to_dict(), "forest": forest}


GLMM_ONLY_NOTE = "nAGQ and optimiser apply to the GLMM only: not used"
"""Shown with ``rma`` when the GLMM's fields are filled in (kept for a switch back to GLMM)."""


def _pick(value: str, allowed: tuple[str, ...], name: str) -> str:
    """Return ``value`` as spelt in ``allowed`` (any case), or raise naming the choices."""
    match = {a.upper(): a for a in allowed}.get(str(value).strip().upper())
    if match is None:
        raise InputError(f"{value!r} is not one of {', '.join(allowed)}", name)
    return match


def _checked(check: Callable[[], Any], problems: list[str]) -> Any:
    """Return ``check()``, or None with its `InputError` added to ``problems`` ('field: ...')."""
    try:
        return check()
    except InputError as exc:
        problems.append(_message(exc))
        return None


def check_choices(choice: dict[str, Any]) -> tuple[dict[str, Any], list[str], str | None]:
    """Return the page's pooling choices checked, every refusal at once, and a note.

    Every field is checked on its own and all refusals are listed ('field: message'), as the
    API lists several issues. ``rma`` ignores the GLMM's ``nagq`` and ``optimizer``: the form
    keeps them across submissions, so they are neither checked nor refused with it; when
    filled in, the note `GLMM_ONLY_NOTE` says they are not used. With ``glmm`` they are checked
    (`livermet.evidence.glmm_report.choose_nagq`, `choose_optimizer`), as are its effect size
    (PLO), tau² method (ML or blank) and test (`livermet.evidence.glmm.GLMM_TESTS`).
    """
    problems: list[str] = []
    method = str(choice["method"] or "").strip()
    outcome = _checked(lambda: check_outcome(choice["outcome"]), problems)
    model = _checked(lambda: check_model(choice["model"]), problems)
    note = None
    checked: dict[str, Any] = {"outcome": outcome, "model": model, "method": method}
    if model == "glmm":
        _checked(lambda: check_model(model, choice["measure"]), problems)
        _checked(lambda: check_model(model, None, method or None), problems)
        checked["test"] = _checked(lambda: _glmm_test(choice["test"]), problems)
        checked["nagq"] = _checked(lambda: choose_nagq(model, choice["nagq"]), problems)
        checked["optimizer"] = _checked(
            lambda: choose_optimizer(model, choice.get("optimizer")), problems
        )
    elif model == "rma":
        checked["method"] = _checked(
            lambda: _pick(method or DEFAULT_METHOD, METHODS, "method"), problems
        )
        checked["measure"] = _checked(
            lambda: _pick(choice["measure"], MEASURES, "measure"), problems
        )
        checked["test"] = _checked(lambda: _pick(choice["test"], TESTS, "test"), problems)
        if str(choice["nagq"] or "").strip() or str(choice.get("optimizer") or "").strip():
            note = GLMM_ONLY_NOTE
    return checked, problems, note


def _glmm_test(test: str) -> str:
    """Return the GLMM's test (z or t, any case), or raise as the GLMM does."""
    name = str(test).strip().lower()
    if name not in GLMM_TESTS:
        raise InputError(f"the binomial-normal GLMM supports tests z and t, not {test!r}", "test")
    return name


def model_report(df: pd.DataFrame, choice: dict[str, Any]) -> dict[str, Any]:
    """Return the page's pooling with the chosen model, or its errors as ``error``.

    The choices are checked first (`check_choices`): every refusal is listed in ``error``
    ('field: message; field: message'); ``glmm_note`` is the note on unused GLMM fields.
    ``rma``: `pooled_report` (``pooled`` and ``forest``), with the tau² method chosen (REML
    when blank); ``nagq`` and ``optimizer`` are ignored. ``glmm``: the binomial-normal model
    (`livermet.evidence.glmm_report.glmm_report`, under ``glmm``), fitted by ML: a tau²
    method other than ML, when chosen, is refused (field ``method``), as by the CLI and the
    API; its effect size must be PLO. The quadrature points (``nagq``) and the optimiser
    (``optimizer``: metafor when blank, or converged), when filled in, are checked. The GLMM's
    forest plot (`livermet.report.glmm_plots.glmm_forest_plot`, a data URI) is under
    ``glmm_forest``.
    """
    checked, problems, note = check_choices(choice)
    if problems:
        return {"error": "; ".join(problems), "glmm_note": note}
    outcome = checked["outcome"]
    try:
        if checked["model"] == "rma":
            report = pooled_report(
                df, outcome, checked["measure"], checked["method"], checked["test"]
            )
            return {**report, "glmm_note": note}
        pooled = pool_outcome_glmm(
            df,
            outcome,
            nagq=checked["nagq"],
            test=checked["test"],
            optimizer=checked["optimizer"],
        )
        report = glmm_report(pooled, df)
        years = OUTCOMES[outcome] // 12
        forest = data_uri(
            lambda: glmm_forest_plot(
                pooled,
                [r["label"] for r in report["series"]],
                xlabel=f"{years}-year overall survival (%)",
                title=f"{years}-year survival after hepatectomy (binomial-normal GLMM, ML, PLO)",
            )
        )
        return {"glmm": report, "glmm_forest": forest}
    except LivermetError as exc:
        return {"error": _message(exc), "glmm_note": note}


def reconstructed_report(df: pd.DataFrame, method: str) -> dict[str, Any]:
    """Return the one-stage pooling of the dataset's reconstructed series of ``df``.

    As ``livermet evidence survival`` (`reconstructed_section`): ``available`` False with the
    reason when the dataset holds none; an IPD folder that fails validation gives its message
    under ``error``.
    """
    try:
        return reconstructed_section(df, None, method=method if method in METHODS else "REML")
    except LivermetError as exc:
        return {"available": False, "error": _message(exc)}


@router.get("/evidence")
def evidence_page(
    request: Request,
    user: PageUser,
    outcome: str = "os5",
    method: str = "",
    measure: str = "PLO",
    test: str = "z",
    model: str = "rma",
    nagq: str = "",
    optimizer: str = "",
    include_added: str | None = None,
    added: str | None = None,
) -> Response:
    """Show the series, their pooling with the chosen model and estimator, plots and curves.

    ``model`` is ``rma`` (random effects, the default) or ``glmm`` (binomial-normal, with
    ``nagq`` quadrature points, 7 when blank, and ``optimizer``, metafor's path when blank or
    ``converged``; with ``rma`` both are ignored, kept in the form for a switch back, and a
    note says they are not used);
    ``method`` is the tau² estimator, blank for the model's own (REML for ``rma``, ML for
    ``glmm``; another one is refused with ``glmm``);
    ``include_added`` (any value; ``added``, its former name, too) also uses the added
    published series, as ``include_added`` of the API.
    """
    choice: dict[str, Any] = {
        "outcome": outcome.strip().lower(),  # OS3 is os3, as on the command line
        "method": method,
        "measure": measure,
        "test": test,
        "model": model,
        "nagq": nagq,
        "optimizer": optimizer.strip().lower(),
        "added": bool(include_added or added),
    }
    return _evidence_response(request, user, choice, request.session.pop("series_error", None))


DEFAULT_METHOD = "REML"
"""The tau² estimator of the page's ``rma`` pooling when the field is blank (as the CLI's)."""

DEFAULT_CHOICE: dict[str, Any] = {
    "outcome": "os5",
    "method": "",
    "measure": "PLO",
    "test": "z",
    "model": "rma",
    "nagq": "",
    "optimizer": "",
    "added": False,
}
"""The evidence page's choices when none is given."""


def _series_of(request: Request, context: dict[str, Any], include_added: bool) -> pd.DataFrame:
    """Return the series of the page; a stored own series that fails is dropped, with its error."""
    try:
        return series_frame(context["own"], include_added)
    except InputError as exc:  # rows are checked when added; an added series may share an id
        request.session.pop(SESSION_SERIES, None)
        context["own"] = None
        context["series_error"] = exc.message
        return series_frame(None, include_added)


def _evidence_response(
    request: Request, user: User, choice: dict[str, Any], series_error: str | None
) -> Response:
    """Render the evidence page; 422 when a pooling choice or a series of one's own is refused."""
    context: dict[str, Any] = {
        "choice": choice,
        "outcomes": list(OUTCOMES),
        "methods": [m for m in METHODS if m != "FE"],
        "measures": MEASURES,
        "tests": TESTS,
        "models": MODELS,
        "nagq_default": NAGQ_DEFAULT,
        "error": None,
        "series_error": series_error,
        "own": request.session.get(SESSION_SERIES),
    }
    df = _series_of(request, context, bool(choice["added"]))
    flags = check_consistency(df).set_index("id")
    context["series"] = [
        {
            **{k: (None if pd.isna(v) else v) for k, v in r.items()},
            "flag": _flag(flags, r["id"]),
            "label": series_label(r),
        }
        for r in df.to_dict("records")
    ]
    context.update(model_report(df, choice))
    context["curve"] = data_uri(lambda: pooled_curve(df))
    context["reconstructed"] = reconstructed_report(df, choice["method"])
    status = 422 if context["error"] or context["series_error"] else 200
    return render(request, "evidence.html", context, status_code=status, user=user)


def _flag(flags: pd.DataFrame, ident: str) -> str | None:
    """Return why a series is flagged by the consistency check, or None."""
    return str(flags.loc[ident, "reason"]) if bool(flags.loc[ident, "flagged"]) else None


FORM_LABELS = {
    "id": "id",
    "n_table": "Patients (n)",
    "mst_months": "MST (months)",
    "os1": "OS 1y (%)",
    "os3": "OS 3y (%)",
    "os5": "OS 5y (%)",
}
"""The labels of the "Add your own series" form's fields, by the column each one fills."""

_DECIMAL_COMMA_NUMBER = re.compile(r"^'\s*[-+]?\d+,\d+\s*' is not a number$")
"""A number written with a decimal comma, as the series check reports it (the case files'
rule, `livermet.case.load`: the decimal separator is a point)."""


def _form_label(column: str) -> str:
    """Return the form's words for a column, or for several ('os1/os3/os5')."""
    return " or ".join(FORM_LABELS.get(c, c) for c in column.split("/"))


def _form_problem(problem: RowProblem, ids: list[str]) -> str:
    """Return one problem of the form's rows in the form's words, naming the series.

    The rows are checked as a CSV (`livermet.evidence.selection.series_with_own`), whose
    messages name rows, CSV lines and columns the user never saw: here the series id the user
    typed and the form's field. A number with a decimal comma gets the hint of the case files.
    """
    message = problem.message
    if _DECIMAL_COMMA_NUMBER.match(message):
        value = message.split("'")[1].strip()
        message = (
            f"cannot read {value!r}: use a point as the decimal separator "
            f"(e.g. {value.replace(',', '.')!r})"
        )
    for column, label in FORM_LABELS.items():
        message = message.replace(f"exceeds {column} =", f"exceeds {label} =")
    where = _form_label(problem.column)
    row = problem.row
    if row is not None and 1 <= row <= len(ids):
        name = f"series {ids[row - 1]!r}" if ids[row - 1] else "your series (no id)"
        message = re.sub(r" \(also row \d+\)$", " (one of your series already)", message)
        return f"{name}, {where}: {message}"
    return f"your series, {where}: {message}"


def series_form_error(exc: InputError, ids: list[str]) -> str:
    """Return the refusal of the "Add your own series" form in the form's words.

    ``ids`` are the ids of the rows checked, in order (the row numbers of a
    `SeriesInputError`'s problems count them from 1). Every problem is listed ('; ').
    """
    if isinstance(exc, SeriesInputError) and exc.errors:
        return "; ".join(_form_problem(p, ids) for p in exc.errors)
    message = exc.message.replace(f"{OWN_SERIES_FILE}: ", "")
    field = "your series" if exc.field in {None, OWN_SERIES_FILE} else exc.field
    return f"{FORM_LABELS.get(field, field)}: {message}"


@router.post("/evidence/series")
def add_series(
    request: Request,
    user: PageUser,
    _: CsrfChecked,
    id: Annotated[str, Form()] = "",
    n_table: Annotated[str, Form()] = "",
    mst_months: Annotated[str, Form()] = "",
    os1: Annotated[str, Form()] = "",
    os3: Annotated[str, Form()] = "",
    os5: Annotated[str, Form()] = "",
    clear: Annotated[str, Form()] = "",
) -> Response:
    """Add one series of your own to this session's pooling (checked like a series CSV).

    A refusal names the series id typed and the form's field (`series_form_error`).
    """
    if clear:
        request.session.pop(SESSION_SERIES, None)
        return RedirectResponse("/evidence", status_code=303)
    old = request.session.get(SESSION_SERIES) or ""
    rows = list(csv.reader(io.StringIO(old)))[1:] if old else []
    rows.append([id.strip(), n_table, mst_months, os1, os3, os5])
    rows = rows[-20:]  # the session is a cookie: a few series only
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SERIES_FIELDS)
    writer.writerows(rows)
    try:
        series_frame(buf.getvalue(), include_added=True)  # no id of any published series
    except InputError as exc:
        message = series_form_error(exc, [r[0].strip() if r else "" for r in rows])
        return _evidence_response(request, user, dict(DEFAULT_CHOICE), message)
    request.session[SESSION_SERIES] = buf.getvalue()
    return RedirectResponse("/evidence", status_code=303)


MIN_REAL_CASES = 20
"""Below this many real cases with follow-up, the cohort page opens with the synthetic cases
included (and says so), so that its analyses have data to work on."""


def cohort_plots(analyses: CohortAnalyses, by: str) -> dict[str, Any]:
    """Return the report of the cohort analyses with their plots (``km_plot``, ``cuminc_plot``).

    A plot that cannot be drawn puts its message under the analysis's ``errors``.
    """
    out = analyses.report
    km, ci = analyses.km, analyses.cuminc
    if km is not None:
        # as `cohort km`: no estimate after a curve's last follow-up (a note says so)
        out["km"] = report_within_follow_up(out["km"], km.overall, km.groups)
        curves = km.groups if km.groups is not None else km.overall
        try:
            out["km_plot"] = data_uri(
                lambda: km_plot(
                    curves,
                    logrank=km.logrank,
                    title=f"Kaplan-Meier by {by}",
                    synthetic=km.report.get("synthetic"),
                )
            )
        except LivermetError as exc:
            out["errors"]["km"] = _message(exc)
    if ci is not None:
        try:
            out["cuminc_plot"] = data_uri(
                lambda: cuminc_plot(ci.model, synthetic=ci.report.get("synthetic"))
            )
        except LivermetError as exc:
            out["errors"]["cuminc"] = _message(exc)
    return out


_message = error_text


def literature_report(
    frame: pd.DataFrame, endpoint: str, with_added_series: bool = False
) -> dict[str, Any]:
    """Return the registry beside the literature (all patients) with its plot, for the page.

    Overall survival only: the published series report survival after hepatectomy. The
    literature is the dataset's reconstructed series, else the Weibull curve of the summary
    points (`livermet.analysis.literature`), with the added series on request (as
    ``cohort km --with-literature --with-added-series``); its message goes under ``error``
    if it fails.
    """
    try:  # the rule of `cohort km --with-literature`: refuses event-free survival
        time, event = endpoint_columns(endpoint)
        analysis = registry_vs_literature(
            frame, time, event, dropna=True, with_added_series=with_added_series
        )
    except LivermetError as exc:
        return {"error": _message(exc)}
    report = analysis.report
    plot = data_uri(lambda: literature_analysis_plot(analysis))
    return {
        "error": None,
        "registry": report["overall"],
        "literature": report["literature"],
        "excluded_text": summary_text(report.get("excluded")),
        "plot": plot,
    }


@router.get("/cohort")
def cohort_page(
    request: Request,
    user: PageUser,
    reg: PageRegistry,
    by: str = "approach",
    endpoint: str = "os",
    synthetic: str | None = None,
    covariates: str = "approach,age",
    literature: str | None = None,
    added_series: str | None = None,
) -> Response:
    """Show the cohort analyses with their plots.

    Without a choice of synthetic cases, they are included when the registry holds fewer than
    :data:`MIN_REAL_CASES` real cases with follow-up.
    """
    chosen = [c.strip() for c in covariates.split(",") if c.strip()]
    context: dict[str, Any] = {
        "by": by,
        "endpoint": endpoint,
        "covariates": ",".join(chosen),
        "groups": COHORT_GROUPS,
        "error": None,
        "auto_note": None,
        "with_literature": bool(literature),
        "with_added_series": bool(added_series),
    }
    try:
        check_choice(by, endpoint)
        if synthetic not in (None, "", "include", "exclude"):
            raise InputError("synthetic is include or exclude", "synthetic")
        frame = with_endpoints(reg.cohort_frame(include_synthetic=True))
        real = frame[~frame["synthetic"]]
        if synthetic is None:
            n_real = int(real["os_months"].notna().sum())
            synthetic = "include" if n_real < MIN_REAL_CASES and len(real) < len(frame) else ""
            if synthetic:
                context["auto_note"] = (
                    f"The registry holds {n_real} real case{'s' * (n_real != 1)} with "
                    'follow-up: the synthetic demonstration cases are included (choose "real '
                    'cases only" to analyse the real cases alone).'
                )
        check_covariates(frame, chosen)
        used = frame if synthetic == "include" else real
        context["report"] = cohort_plots(cohort_analyses(used, by, endpoint, chosen), by)
        if literature:
            context["report"]["literature"] = literature_report(
                used, endpoint, with_added_series=bool(added_series)
            )
    except LivermetError as exc:
        context["error"] = _message(exc)
        context["report"] = None
        context["synthetic"] = synthetic
        return render(request, "cohort.html", context, status_code=422, user=user)
    context["synthetic"] = synthetic
    return render(request, "cohort.html", context, user=user)
