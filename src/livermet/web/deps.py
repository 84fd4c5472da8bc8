"""Who is asking, and the shared pieces every router uses (database, templates, rendering)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from livermet import __version__
from livermet.errors import ForbiddenError
from livermet.registry import Database, Registry, Role, User
from livermet.web.security import csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# Case ids are typed by people: in a link they are one percent-encoded path segment.
TEMPLATES.env.filters["segment"] = lambda value: quote(str(value), safe="")
SESSION_USER = "user"
SESSION_VERSION = "sv"
"""The user's session version at sign-in: the session ends when the registry's moves on."""


class SignInRequired(Exception):
    """Raised by page handlers when nobody is signed in (the app redirects to the sign-in)."""


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def session_user(request: Request) -> User | None:
    """The signed-in, still active user of this session, or None.

    The signed cookie alone is not enough: its session version must still be the user's (one
    indexed query), so that sign-out, deactivation and a password change end copies of it too.
    """
    name = request.session.get(SESSION_USER)
    version = request.session.get(SESSION_VERSION)
    if not isinstance(name, str):
        return None
    try:
        if not isinstance(version, int):
            raise ForbiddenError("a session without a version (older livermet)", "session")
        return database(request).session_user(name, version)
    except ForbiddenError:
        request.session.clear()  # the browser drops the ended session
        return None


def page_user(request: Request) -> User:
    """The signed-in user of a page; redirects to the sign-in page otherwise."""
    user = session_user(request)
    if user is None:
        raise SignInRequired
    return user


def registry_for(request: Request, user: User) -> Registry:
    return database(request).registry(user)


def can_write(user: User) -> bool:
    return user.role in {Role.EDITOR, Role.SITE_ADMIN, Role.ADMIN}


def is_admin_like(user: User) -> bool:
    return user.role in {Role.SITE_ADMIN, Role.COORDINATOR, Role.ADMIN}


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    user: User | None = None,
) -> Response:
    """A page from ``templates/`` with the user, the CSRF token and the version filled in."""
    ctx: dict[str, Any] = {
        "user": user,
        "csrf_token": csrf_token(request),
        "version": __version__,
        "can_write": user is not None and can_write(user),
        "is_admin_like": user is not None and is_admin_like(user),
    }
    ctx.update(context or {})
    return TEMPLATES.TemplateResponse(request, template, ctx, status_code=status_code)
