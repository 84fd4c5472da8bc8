"""The routers and their dependencies: every URL is where it was, and no handler skips a check.

Pages need a signed-in user (:data:`~livermet.web.deps.PageUser`) except the sign-in itself;
every posted form has its CSRF token checked (:data:`~livermet.web.deps.CsrfChecked`); every
API route authenticates (:data:`~livermet.web.deps.CurrentUser`). The checks read FastAPI's
dependency tree of each route, so a handler that reads the session by hand fails here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from livermet.web.app import ROUTERS
from livermet.web.deps import csrf_checked, current_user, page_user

PUBLIC = {("GET", "/"), ("GET", "/signin"), ("POST", "/signin"), ("POST", "/signout")}
"""The routes a visitor who is not signed in may use."""

ROUTES = {
    ("GET", "/"),
    ("GET", "/signin"),
    ("POST", "/signin"),
    ("POST", "/signout"),
    ("GET", "/assess"),
    ("POST", "/assess"),
    ("POST", "/assess/report"),
    ("GET", "/cases"),
    ("GET", "/cases/new"),
    ("POST", "/cases/new"),
    ("GET", "/cases/{case_id}"),
    ("GET", "/cases/{case_id}/assessment"),
    ("GET", "/cases/{case_id}/report.html"),
    ("GET", "/cases/{case_id}/report.pdf"),
    ("GET", "/cases/{case_id}/edit"),
    ("POST", "/cases/{case_id}/edit"),
    ("GET", "/evidence"),
    ("POST", "/evidence/series"),
    ("GET", "/cohort"),
    ("GET", "/admin"),
    ("POST", "/admin/action"),
    ("GET", "/admin/audit"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/cases"),
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{case_id}"),
    ("PUT", "/api/v1/cases/{case_id}"),
    ("GET", "/api/v1/cases/{case_id}/assessment"),
    ("POST", "/api/v1/assessments"),
    ("GET", "/api/v1/evidence/series"),
    ("POST", "/api/v1/evidence/pool"),
    ("GET", "/api/v1/cohort"),
}
"""Every URL of the application (pages and API), as before the routers were split."""


def _routes() -> Iterator[tuple[str, str, APIRoute]]:
    """Every (method, path, route) of the routers the application includes."""
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in sorted(route.methods or ()):
                yield method, route.path, route


def _calls(dependant: Dependant) -> list[Callable[..., Any]]:
    """Every dependency of a route, depth first, in the order FastAPI resolves them."""
    found: list[Callable[..., Any]] = []
    for sub in dependant.dependencies:
        found += _calls(sub)
        if sub.call is not None:
            found.append(sub.call)
    return found


def test_every_url_is_kept() -> None:
    """The routers serve exactly the URLs and methods the application always had."""
    assert {(method, path) for method, path, _ in _routes()} == ROUTES


def test_pages_need_a_user_and_forms_a_csrf_token() -> None:
    """Every page but the sign-in needs a user; every form's token is checked after that."""
    for method, path, route in _routes():
        if path.startswith("/api/"):
            continue
        calls = _calls(route.dependant)
        if (method, path) not in PUBLIC:
            assert page_user in calls, f"{method} {path} does not require a signed-in user"
        if method == "POST":
            assert csrf_checked in calls, f"{method} {path} does not check the CSRF token"
        if page_user in calls and csrf_checked in calls:
            # a visitor who is not signed in is sent to the sign-in page, not refused
            assert calls.index(page_user) < calls.index(csrf_checked), f"{method} {path}"


def test_api_routes_authenticate() -> None:
    """Every API route authenticates by token or session and never redirects."""
    api = [(m, p, r) for m, p, r in _routes() if p.startswith("/api/")]
    assert len(api) == 10
    for method, path, route in api:
        calls = _calls(route.dependant)
        assert current_user in calls, f"{method} {path} does not authenticate"
        assert page_user not in calls, f"{method} {path}: an API answers 401, not a redirect"
