"""Sign-in and the tumour-board assessment: enter, upload or open a case, see it assessed."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from livermet.case.model import Case
from livermet.errors import ForbiddenError, InputError
from livermet.registry import User
from livermet.web.caseform import parse_case_text
from livermet.web.deps import (
    SESSION_USER,
    SESSION_VERSION,
    database,
    page_user,
    registry_for,
    render,
    session_user,
)
from livermet.web.reports import assessment_view, download_name, pdf_bytes, printable_html
from livermet.web.security import check_csrf

router = APIRouter(include_in_schema=False)

MAX_UPLOAD = 2_000_000  # bytes; a case file is a few kilobytes


@router.get("/")
def home(request: Request) -> Response:
    target = "/assess" if request.session.get(SESSION_USER) else "/signin"
    return RedirectResponse(target, status_code=303)


@router.get("/signin")
def signin_page(request: Request) -> Response:
    return render(request, "signin.html", {"error": None})


@router.post("/signin")
def signin(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    limiter = request.app.state.signin_limiter
    client = request.client.host if request.client else "unknown"
    keys = (f"ip:{client}", f"user:{username.lower()}")
    wait = limiter.retry_after(*keys)
    if wait:
        message = f"Too many failed sign-ins. Try again in {(wait + 59) // 60} minute(s)."
        return render(request, "signin.html", {"error": message}, status_code=429)
    try:
        user, version = database(request).sign_in(username, password)
    except ForbiddenError:
        limiter.failed(*keys)
        return render(
            request,
            "signin.html",
            {"error": "Unknown user, wrong password or deactivated account."},
            status_code=401,
        )
    # No reset of the failure counts: a success must not buy an address more guesses.
    request.session.clear()  # a new session on sign-in (no fixation); new CSRF token too
    request.session[SESSION_USER] = user.username
    request.session[SESSION_VERSION] = version
    return RedirectResponse("/assess", status_code=303)


@router.post("/signout")
def signout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    user = session_user(request)
    if user is not None:  # ends this session's copies too (and the user's other sessions)
        database(request).end_sessions(user.username)
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)


@router.get("/assess")
def assess_page(request: Request) -> Response:
    user = page_user(request)
    cases = registry_for(request, user).list_cases(limit=500)
    return render(request, "assess.html", {"cases": cases, "error": None, "text": ""}, user=user)


@router.post("/assess")
def assess_posted(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    case_text: Annotated[str, Form()] = "",
    case_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Assess a pasted or uploaded case (not stored: nothing is written to the registry)."""
    user = page_user(request)
    check_csrf(request, csrf_token)
    text = case_text
    field = "case_text"
    if case_file is not None and case_file.filename:
        raw = case_file.file.read(MAX_UPLOAD + 1)
        field = "case_file"
        try:
            text = raw.decode("utf-8-sig") if len(raw) <= MAX_UPLOAD else ""
        except UnicodeDecodeError:
            text = ""
        if not text:
            return _assess_error(
                request, user, "the file is not a UTF-8 case file under 2 MB", text
            )
    try:
        case = parse_case_text(text, field)
    except InputError as exc:
        where = f"{exc.field}: " if exc.field and exc.field not in {field} else ""
        return _assess_error(request, user, where + exc.message, text)
    view = assessment_view(case)
    case_json = json.dumps(case.model_dump(mode="json", exclude_none=True))
    return render(
        request, "assessment.html", {**view, "case_id": None, "case_json": case_json}, user=user
    )


def _assess_error(request: Request, user: User, message: str, text: str) -> Response:
    cases = registry_for(request, user).list_cases(limit=500)
    return render(
        request,
        "assess.html",
        {"cases": cases, "error": message, "text": text},
        status_code=422,
        user=user,
    )


@router.post("/assess/report")
def posted_report(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    case_json: Annotated[str, Form()] = "",
    fmt: Annotated[str, Form()] = "html",
) -> Response:
    """The printable page or PDF of a case assessed without storing it."""
    page_user(request)
    check_csrf(request, csrf_token)
    case = parse_case_text(case_json, "case_json")
    return report_response(case, fmt)


def report_response(case: Case, fmt: str) -> Response:
    """The report of ``case`` as a printable HTML page (``html``) or a PDF download (``pdf``)."""
    if fmt == "pdf":
        return Response(
            pdf_bytes(case),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{download_name(case.id, "pdf")}"'
            },
        )
    if fmt != "html":
        raise InputError("choose html or pdf", "fmt")
    return Response(printable_html(case), media_type="text/html; charset=utf-8")
