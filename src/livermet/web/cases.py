"""Case pages: the list with filters and search, the detail with its timeline, add and edit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from livermet.case.assess import assess
from livermet.case.load import case_from_data
from livermet.errors import ConflictError, ForbiddenError, InputError
from livermet.registry import Registry, User
from livermet.report.wording import key_values
from livermet.web.caseform import (
    EXTRA_FIELD,
    case_yaml,
    document_from_form,
    field_groups,
    form_errors,
    parse_case_text,
)
from livermet.web.deps import CsrfChecked, PageRegistry, PageUser, PageWriter, render
from livermet.web.reports import assessment_view

router = APIRouter(include_in_schema=False)


@router.get("/cases")
def case_list(
    request: Request,
    user: PageUser,
    reg: PageRegistry,
    q: str = "",
    site: str = "",
    approach: str = "",
    timing: str = "",
    grade: str = "",
    synthetic: str = "",
) -> Response:
    """List the cases the user may read, with search, filters and the filters' choices."""
    filters = {"site": site, "approach": approach, "timing": timing, "grade": grade}
    listing = reg.find_cases(query=q, include_synthetic=synthetic == "include", **filters)
    context = {"cases": listing.cases, "total": listing.total, "options": listing.options, "q": q}
    context.update(filters=filters, synthetic=synthetic)
    return render(request, "cases.html", context, user=user)


@router.get("/cases/new")
def new_case_page(request: Request, user: PageWriter, reg: PageRegistry) -> Response:
    """Show the form that adds a case (its fields, or a whole case file)."""
    return _new_form(request, user, reg, {}, {}, "", status=200)


def _new_form(
    request: Request,
    user: User,
    reg: Registry,
    values: dict[str, str],
    errors: dict[str, str],
    case_text: str,
    *,
    status: int,
) -> Response:
    context = {
        "groups": field_groups(),
        "extra_field": EXTRA_FIELD,
        "mode": values.get("mode", "form"),
        "values": values,
        "errors": errors,
        "case_text": case_text,
        "sites": reg.case_sites(),
    }
    return render(request, "case_new.html", context, status_code=status, user=user)


@router.post("/cases/new")
async def add_case(request: Request, user: PageUser, _: CsrfChecked, reg: PageRegistry) -> Response:
    """Store a case from the form's fields or from a pasted case file; errors go to fields."""
    form = await request.form()  # the fields are the form's (FastAPI has read it already)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    return await _run_sync(_add_case, request, user, reg, values)


async def _run_sync(fn: Any, *args: Any) -> Response:
    """Registry calls block: run them off the event loop, like FastAPI's sync handlers."""
    result: Response = await run_in_threadpool(fn, *args)
    return result


def _add_case(request: Request, user: User, reg: Registry, values: dict[str, str]) -> Response:
    case_text = values.get("case_text", "")
    hospital_number = values.get("hospital_number", "").strip() or None
    site = values.get("site", "").strip() or None
    file_mode = values.get("mode") == "file"
    errors: dict[str, str]
    try:
        site = reg.case_site(site)
        if file_mode:
            case = parse_case_text(case_text)
        else:
            case = case_from_data(document_from_form(values))
        stored = reg.create_case(case, hospital_number=hospital_number, site=site)
    except InputError as exc:
        if exc.field in {"site", "hospital_number"}:
            errors = {exc.field: exc.message}
        elif file_mode:
            errors = {"case_text": f"{exc.field}: {exc.message}" if exc.field else exc.message}
        else:
            errors = form_errors(exc, values)
        return _new_form(request, user, reg, values, errors, case_text, status=422)
    except ConflictError as exc:
        errors = {exc.field or "_case": exc.message}
        if exc.field == "id":
            errors = {"case_id" if not file_mode else "case_text": exc.message}
        return _new_form(request, user, reg, values, errors, case_text, status=409)
    return RedirectResponse(f"/cases/{stored.case_id}", status_code=303)


@router.get("/cases/{case_id}")
def case_detail(request: Request, user: PageUser, reg: PageRegistry, case_id: str) -> Response:
    """Show a stored case: its assessment, timeline and audit history (when the role sees it)."""
    stored = reg.get_case(case_id)
    data = assess(stored.case).to_dict()
    try:
        history = reg.audit_entries(entity_id=stored.case_id, entity="case", limit=50)
    except ForbiddenError:
        history = None
    context = {"stored": stored, "data": data, "history": history}
    return render(request, "case_detail.html", context, user=user)


@router.get("/cases/{case_id}/assessment")
def case_assessment(request: Request, user: PageUser, reg: PageRegistry, case_id: str) -> Response:
    """Show the tumour-board assessment of a stored case."""
    stored = reg.get_case(case_id)
    view = assessment_view(stored.case)
    view["key"] = key_values(view["data"])
    return render(
        request, "assessment.html", {**view, "case_id": stored.case_id, "case_json": ""}, user=user
    )


@router.get("/cases/{case_id}/edit")
def edit_case_page(request: Request, user: PageUser, reg: PageRegistry, case_id: str) -> Response:
    """Show a stored case as YAML to edit, with the version the edit is based on."""
    stored = reg.get_case(case_id)
    context = {
        "case_id": stored.case_id,
        "version": stored.version,
        "case_text": case_yaml(stored.case),
        "error": None,
        "conflict": None,
    }
    return render(request, "case_edit.html", context, user=user)


@router.post("/cases/{case_id}/edit")
def edit_case(
    request: Request,
    user: PageUser,
    _: CsrfChecked,
    reg: PageRegistry,
    case_id: str,
    case_text: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    """Save an edit based on ``version``; someone else's newer save is shown, not overwritten."""
    context: dict[str, Any] = {
        "case_id": case_id,
        "version": version,
        "case_text": case_text,
        "error": None,
        "conflict": None,
    }
    try:
        if not version.isdigit():
            raise InputError("the form lost its version; reload the case", "version")
        stored = reg.update_case(case_id, parse_case_text(case_text), int(version))
    except InputError as exc:
        context["error"] = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return render(request, "case_edit.html", context, status_code=422, user=user)
    except ConflictError as exc:
        current = reg.get_case(case_id)
        context["conflict"] = {
            "message": exc.message,
            "version": current.version,
            "updated_by": current.updated_by,
            "updated_at": current.updated_at,
            "current_text": case_yaml(current.case),
        }
        return render(request, "case_edit.html", context, status_code=409, user=user)
    return RedirectResponse(f"/cases/{stored.case_id}", status_code=303)
