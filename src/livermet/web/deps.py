"""Who is asking, as typed FastAPI dependencies, and the templates every router renders with.

Handlers never read the session, the token or the registry by hand; they declare what they need
and FastAPI resolves it once per request (in the order of the handler's parameters):

- :data:`PageUser` — the signed-in user of a page; without one the app redirects to the
  sign-in page (:class:`SignInRequired`). :data:`SessionUser` is the same user or None.
- :data:`PageWriter` — the same user, when their role may add cases (a 403 page otherwise).
- :data:`PageRegistry` — the registry as the page's user sees it.
- :data:`CsrfChecked` — the form's ``csrf_token`` field checked against the session's; declare it
  after the user, so that a visitor who is not signed in is sent to the sign-in page first.
- :data:`CurrentUser` — the user an API request acts as: its bearer token's, or its browser
  session's (then a write needs the ``X-CSRF-Token`` header); :data:`RegistryDep` is the
  registry as that user sees it.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from livermet import __version__
from livermet.errors import ForbiddenError
from livermet.registry import Database, Registry, Role, User
from livermet.web.security import CSRF_KEY, check_csrf, csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# Case ids are typed by people: in a link they are one percent-encoded path segment.
TEMPLATES.env.filters["segment"] = lambda value: quote(str(value), safe="")
SESSION_USER = "user"
SESSION_VERSION = "sv"
"""The user's session version at sign-in: the session ends when the registry's moves on."""

bearer = HTTPBearer(auto_error=False, description="An API token of a registry user")


class SignInRequired(Exception):
    """Raised by :func:`page_user` when nobody is signed in (the app redirects to the sign-in)."""


class Unauthenticated(Exception):
    """Raised by :func:`current_user` for no valid token and no signed-in session (401)."""


def database(request: Request) -> Database:
    """Return the registry database the application was created on."""
    db: Database = request.app.state.db
    return db


def session_user(request: Request) -> User | None:
    """Return the signed-in, still active user of this session, or None.

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


async def page_user(user: Annotated[User | None, Depends(session_user)]) -> User:
    """Return the signed-in user of a page (the session check itself runs in the threadpool).

    Raises
    ------
    SignInRequired
        When nobody is signed in (the application answers with a redirect to ``/signin``).
    """
    if user is None:
        raise SignInRequired
    return user


async def page_writer(user: Annotated[User, Depends(page_user)]) -> User:
    """Return the page's user when their role may add cases.

    Raises
    ------
    ForbiddenError
        When it may not (field ``role``; a 403 page).
    """
    if not can_write(user):
        raise ForbiddenError("your role does not allow adding cases", "role")
    return user


async def page_registry(request: Request, user: Annotated[User, Depends(page_user)]) -> Registry:
    """Return the registry as the page's user sees it (no query: on the event loop)."""
    return database(request).registry(user)


async def csrf_checked(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Refuse a posted form whose ``csrf_token`` field is not the session's token.

    Raises
    ------
    ForbiddenError
        When the token is missing or wrong (field ``csrf_token``; a 403 page).
    """
    check_csrf(request, csrf_token)


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """Return the user an API request acts as: its bearer token's, or its browser session's.

    Runs on the event loop: the token check is one indexed query (~0.1 ms), cheaper than a
    hop to the threadpool and back.

    Raises
    ------
    Unauthenticated
        For an unknown or revoked token, or no token and no signed-in session (401).
    ForbiddenError
        For a write from a browser session without the session's ``X-CSRF-Token`` header.
    """
    if credentials is not None:
        try:
            return database(request).authenticate_token(credentials.credentials)
        except ForbiddenError:
            raise Unauthenticated from None
    user = session_user(request)
    if user is None:
        raise Unauthenticated
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        expected = request.session.get(CSRF_KEY)
        sent = request.headers.get("x-csrf-token", "")
        if not (isinstance(expected, str) and secrets.compare_digest(expected, sent)):
            raise ForbiddenError("a write from a browser session needs X-CSRF-Token", "csrf")
    return user


async def registry_for_user(
    request: Request, user: Annotated[User, Depends(current_user)]
) -> Registry:
    """Return the registry as the API request's user sees it (no query: on the event loop)."""
    return database(request).registry(user)


SessionUser = Annotated[User | None, Depends(session_user)]
"""The signed-in user of this session, or None."""
PageUser = Annotated[User, Depends(page_user)]
"""The signed-in user of a page (otherwise a redirect to the sign-in page)."""
PageWriter = Annotated[User, Depends(page_writer)]
"""The signed-in user of a page whose role may add cases (a 403 page otherwise)."""
PageRegistry = Annotated[Registry, Depends(page_registry)]
"""The registry as the page's user sees it."""
CsrfChecked = Annotated[None, Depends(csrf_checked)]
"""A posted form whose CSRF token was checked (a 403 page otherwise)."""
CurrentUser = Annotated[User, Depends(current_user)]
"""The user an API request acts as (a 401 without a valid token or session)."""
RegistryDep = Annotated[Registry, Depends(registry_for_user)]
"""The registry as the API request's user sees it."""


def can_write(user: User) -> bool:
    """Return whether the user's role may add and edit cases."""
    return user.role in {Role.EDITOR, Role.SITE_ADMIN, Role.ADMIN}


def is_admin_like(user: User) -> bool:
    """Return whether the user's role is shown the link to the administration page."""
    return user.role in {Role.SITE_ADMIN, Role.COORDINATOR, Role.ADMIN}


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    user: User | None = None,
) -> Response:
    """Render a page of ``templates/`` with the user, the CSRF token and the version filled in."""
    ctx: dict[str, Any] = {
        "user": user,
        "csrf_token": csrf_token(request),
        "version": __version__,
        "can_write": user is not None and can_write(user),
        "is_admin_like": user is not None and is_admin_like(user),
    }
    ctx.update(context or {})
    return TEMPLATES.TemplateResponse(request, template, ctx, status_code=status_code)
