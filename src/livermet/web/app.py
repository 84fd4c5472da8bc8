"""The web application: ``create_app`` wires the registry, sessions, security and the routers.

One router per area, each a module of this package: :mod:`~livermet.web.pages` (sign-in, the
tumour-board assessment), :mod:`~livermet.web.cases`, :mod:`~livermet.web.reports` (printable
page and PDF), :mod:`~livermet.web.analysis_pages` (evidence and cohort), :mod:`~livermet.web.admin`
and :mod:`~livermet.web.api` (the JSON API, the only one in the OpenAPI document). Their handlers
get the user, the registry and the CSRF check from the typed dependencies of
:mod:`livermet.web.deps`.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse, RedirectResponse, Response

from livermet import __version__
from livermet.errors import ConflictError, ForbiddenError, InputError, LivermetError, NotFoundError
from livermet.registry import Database
from livermet.web import admin, analysis_pages, api, cases, limits, pages, reports
from livermet.web.deps import SignInRequired, Unauthenticated, render, session_user
from livermet.web.security import SecurityHeaders, SignInLimiter

SECRET_ENV = "LIVERMET_SECRET_KEY"
SECURE_COOKIE_ENV = "LIVERMET_SECURE_COOKIES"
SESSION_HOURS = 8

STATUS = {InputError: 422, ConflictError: 409, NotFoundError: 404, ForbiddenError: 403}
"""The HTTP status of each kind of error (any other :class:`LivermetError` is a 400)."""
ROUTERS = (
    pages.router,
    cases.router,
    reports.router,
    analysis_pages.router,
    admin.router,
    api.router,
)
"""The routers, in the order their routes are matched."""
log = logging.getLogger("livermet.web")


def status_of(exc: LivermetError) -> int:
    """Return the HTTP status that answers ``exc`` (:data:`STATUS`)."""
    for kind, code in STATUS.items():
        if isinstance(exc, kind):
            return code
    return 400


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Move everything loaded at start-up (numpy, pandas, scipy, the app) out of the collector's
    # reach: a full collection over it took ~115 ms, stalling every request on that worker.
    gc.collect()
    gc.freeze()
    yield


def create_app(database_url: str | None = None, *, secret_key: str | None = None) -> FastAPI:
    """Create the livermet web application on the registry at ``database_url``.

    Parameters
    ----------
    database_url
        SQLAlchemy URL or SQLite path of the registry (default: ``LIVERMET_DATABASE_URL`` or the
        embedded SQLite file).
    secret_key
        Signs the session cookies (default: ``LIVERMET_SECRET_KEY``; without either, a random
        key: sessions then end when the server restarts). Share it between workers.
        Cookies are marked ``Secure`` when ``LIVERMET_SECURE_COOKIES=1`` (behind HTTPS).
    """
    key = secret_key or os.environ.get(SECRET_ENV)
    if not key:
        log.warning("no %s: sessions end when the server restarts", SECRET_ENV)
        key = secrets.token_urlsafe(48)
    app = FastAPI(
        title="livermet",
        version=__version__,
        description="Decision support and a multi-site registry for liver metastases of "
        "soft-tissue sarcoma. Decision support, not medical advice.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=_lifespan,
    )
    app.state.db = Database(database_url)
    app.state.signin_limiter = SignInLimiter()
    limits.install(app)  # body size, NUL in URLs, unusable JSON bodies
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        SessionMiddleware,
        secret_key=key,
        session_cookie="livermet_session",
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=os.environ.get(SECURE_COOKIE_ENV, "") in {"1", "true", "yes"},
    )
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router)
    _errors(app)
    return app


def app_from_env() -> FastAPI:
    """Create the application configured by the environment alone.

    ``LIVERMET_DATABASE_URL`` and ``LIVERMET_SECRET_KEY``: the factory each worker process of
    ``livermet serve --workers`` imports, so that every worker opens the same registry and signs
    with the same key.
    """
    return create_app(None)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _errors(app: FastAPI) -> None:
    """Answer a page without a user by the sign-in, and errors as JSON (API) or a page."""

    @app.exception_handler(SignInRequired)
    def _signin(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse("/signin", status_code=303)

    @app.exception_handler(Unauthenticated)
    def _unauthenticated(request: Request, exc: Unauthenticated) -> Response:
        return JSONResponse(
            {"error": {"kind": "unauthenticated", "message": "a valid API token is required"}},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(LivermetError)
    def _livermet(request: Request, exc: LivermetError) -> Response:
        code = status_of(exc)
        if _is_api(request):
            kind = type(exc).__name__.removesuffix("Error").lower()
            body = {"error": {"kind": kind, "message": exc.message, "field": exc.field}}
            return JSONResponse(body, status_code=code)
        context = {"code": code, "message": exc.message, "field": exc.field}
        return render(request, "error.html", context, status_code=code, user=session_user(request))
