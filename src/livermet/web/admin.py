"""Administration: users and roles, sites, API tokens, and the audit log with its verification.

Each section shows what the user's role allows; the registry refuses the rest.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from livermet.errors import ForbiddenError, LivermetError
from livermet.registry import Registry, Role
from livermet.web.deps import CsrfChecked, PageRegistry, PageUser, render

router = APIRouter(include_in_schema=False)


def _section(fn: Any) -> Any:
    """Return ``fn()``, or None when the user's role may not see that section."""
    try:
        return fn()
    except ForbiddenError:
        return None


def _admin_context(reg: Registry) -> dict[str, Any]:
    """Return the sections of the administration page the user's role may see."""
    return {
        "users": _section(reg.list_users),
        "sites": _section(reg.list_sites),
        "tokens": _section(reg.list_tokens),
        "roles": [r.value for r in Role],
    }


@router.get("/admin")
def admin_page(request: Request, user: PageUser, reg: PageRegistry) -> Response:
    """Show the administration page, with the message of the last change."""
    context = _admin_context(reg)
    context["message"] = request.session.pop("admin_message", None)
    context["new_token"] = None
    return render(request, "admin.html", context, user=user)


def _done(request: Request, message: str) -> Response:
    """Keep ``message`` for the administration page and go back to it."""
    request.session["admin_message"] = message
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/action")
def admin_action(
    request: Request,
    user: PageUser,
    _: CsrfChecked,
    reg: PageRegistry,
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
    """Make one administrative change; the registry checks the role and audits it."""
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
def audit_page(
    request: Request, user: PageUser, reg: PageRegistry, entity_id: str = ""
) -> Response:
    """Show the audit log (of one entity when asked) and its verification when allowed."""
    entries = reg.audit_entries(entity_id=entity_id or None, limit=200)
    verification = _section(reg.verify_audit)
    context = {"entries": entries, "verification": verification, "entity_id": entity_id}
    return render(request, "audit.html", context, user=user)
