"""Administration: users and roles, sites, API tokens, and the audit log with its verification.

Each section shows what the user's role allows; the registry refuses the rest.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from livermet.errors import ForbiddenError, LivermetError
from livermet.registry import Registry, Role
from livermet.web.deps import page_user, registry_for, render
from livermet.web.security import check_csrf

router = APIRouter(include_in_schema=False)


def _section(fn: Any) -> Any:
    try:
        return fn()
    except ForbiddenError:
        return None


def _admin_context(reg: Registry) -> dict[str, Any]:
    return {
        "users": _section(reg.list_users),
        "sites": _section(reg.list_sites),
        "tokens": _section(reg.list_tokens),
        "roles": [r.value for r in Role],
    }


@router.get("/admin")
def admin_page(request: Request) -> Response:
    user = page_user(request)
    reg = registry_for(request, user)
    context = _admin_context(reg)
    context["message"] = request.session.pop("admin_message", None)
    context["new_token"] = None
    return render(request, "admin.html", context, user=user)


def _done(request: Request, message: str) -> Response:
    request.session["admin_message"] = message
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/action")
def admin_action(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    site: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
    token_id: Annotated[str, Form()] = "",
) -> Response:
    """One administrative change; the registry checks the role and audits it."""
    user = page_user(request)
    check_csrf(request, csrf_token)
    reg = registry_for(request, user)
    try:
        if action == "create_site":
            reg.create_site(code.strip(), name)
            return _done(request, f"Site {code.strip()} created.")
        if action == "create_user":
            reg.create_user(
                username.strip(), role=role, site=site or None, password=password or None
            )
            return _done(request, f"User {username.strip()} created.")
        if action == "update_user":
            reg.update_user(username, role=role or None, site=site or None, active=active == "yes")
            return _done(request, f"User {username} updated.")
        if action == "create_token":
            token = reg.create_token(label.strip())
            context = _admin_context(reg)  # the secret is shown in this response only
            context.update(message=f"Token {token.id} created; copy it now.", new_token=token.token)
            return render(request, "admin.html", context, user=user)
        if action == "revoke_token":
            reg.revoke_token(int(token_id) if token_id.isdigit() else -1)
            return _done(request, f"Token {token_id} revoked.")
        return _done(request, "Unknown action.")
    except LivermetError as exc:
        return _done(request, f"Refused — {exc.field}: {exc.message}")


@router.get("/admin/audit")
def audit_page(request: Request, entity_id: str = "") -> Response:
    user = page_user(request)
    reg = registry_for(request, user)
    entries = reg.audit_entries(entity_id=entity_id or None, limit=200)
    verification = _section(reg.verify_audit)
    context = {"entries": entries, "verification": verification, "entity_id": entity_id}
    return render(request, "audit.html", context, user=user)
