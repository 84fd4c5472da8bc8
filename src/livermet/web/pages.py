"""Sign-in and the tumour-board assessment: enter, upload or open a case, see it assessed.

The printable report and the PDF of an assessment are :mod:`livermet.web.reports`'s routes.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from livermet.errors import ForbiddenError, InputError
from livermet.registry import Registry, User
from livermet.report.wording import key_values
from livermet.web.caseform import parse_case_text
from livermet.web.deps import (
    SESSION_USER,
    SESSION_VERSION,
    CsrfChecked,
    PageRegistry,
    PageUser,
    SessionUser,
    database,
    render,
)
from livermet.web.reports import assessment_view

router = APIRouter(include_in_schema=False)

MAX_UPLOAD = 2_000_000  # bytes; a case file is a few kilobytes


@router.get("/")
def home(request: Request) -> Response:
    """Send a signed-in visitor to the assessment, anyone else to the sign-in page."""
    target = "/assess" if request.session.get(SESSION_USER) else "/signin"
    return RedirectResponse(target, status_code=303)


@router.get("/signin")
def signin_page(request: Request) -> Response:
    """Show the sign-in form."""
    return render(request, "signin.html", {"error": None})


@router.post("/signin")
def signin(
    request: Request,
    _: CsrfChecked,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Sign in (rate-limited per client address and per name); a new session on success."""
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
def signout(request: Request, _: CsrfChecked, user: SessionUser) -> Response:
    """End this session and the user's other sessions."""
    if user is not None:  # ends this session's copies too (and the user's other sessions)
        database(request).end_sessions(user.username)
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)


@router.get("/assess")
def assess_page(request: Request, user: PageUser, reg: PageRegistry) -> Response:
    """Show the tumour-board page: open a stored case, upload or paste one."""
    cases = reg.list_cases(limit=500)
    return render(request, "assess.html", {"cases": cases, "error": None, "text": ""}, user=user)


@router.post("/assess")
def assess_posted(
    request: Request,
    user: PageUser,
    _: CsrfChecked,
    reg: PageRegistry,
    case_text: Annotated[str, Form()] = "",
    case_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Assess a pasted or uploaded case (not stored: nothing is written to the registry)."""
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
                request, user, reg, "the file is not a UTF-8 case file under 2 MB", text
            )
    try:
        case = parse_case_text(text, field)
    except InputError as exc:
        where = f"{exc.field}: " if exc.field and exc.field not in {field} else ""
        return _assess_error(request, user, reg, where + exc.message, text)
    view = assessment_view(case)
    view["key"] = key_values(view["data"])
    case_json = json.dumps(case.model_dump(mode="json", exclude_none=True))
    return render(
        request, "assessment.html", {**view, "case_id": None, "case_json": case_json}, user=user
    )


def _assess_error(request: Request, user: User, reg: Registry, message: str, text: str) -> Response:
    cases = reg.list_cases(limit=500)
    return render(
        request,
        "assess.html",
        {"cases": cases, "error": message, "text": text},
        status_code=422,
        user=user,
    )
