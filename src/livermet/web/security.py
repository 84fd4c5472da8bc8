"""Web security: CSRF tokens, the sign-in rate limit and the security headers.

Sessions themselves are Starlette's signed cookies (itsdangerous, HttpOnly, SameSite=Lax; set up
in ``livermet.web.app``) holding the user's session version, which ``livermet.web.deps`` checks
against the registry on every request. Nothing here knows about cases.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livermet.errors import ForbiddenError

CSRF_KEY = "csrf"

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
"""Inline styles are allowed because the printable report (``livermet.report``) carries its own
print stylesheet; scripts only from this server."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csrf_token(request: Request) -> str:
    """Return the session's CSRF token, created on first use."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a form whose CSRF token is not the session's.

    Raises
    ------
    ForbiddenError
        when the token is missing or wrong (field ``csrf_token``).
    """
    expected = request.session.get(CSRF_KEY)
    if not (
        isinstance(expected, str)
        and submitted
        and secrets.compare_digest(expected.encode(), submitted.encode())
    ):
        raise ForbiddenError(
            "the form has expired or did not come from this site; reload it and try again",
            "csrf_token",
        )


class SignInLimiter:
    """At most ``limit`` failed sign-ins per ``window`` seconds per client address and per name.

    Each key counts its own failures; a successful sign-in clears nothing (otherwise signing in
    to one's own account between guesses would reset the address's count). The client address
    is the one uvicorn resolved: ``X-Forwarded-For`` only counts from a trusted proxy
    (``livermet serve --forwarded-allow-ips``). Kept in memory: one process is one limiter
    (with several workers, each counts alone: rate limit at the proxy too).
    """

    MAX_KEYS = 100_000
    """Beyond this many keys, those without a recent failure are dropped (bounded memory)."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.setdefault(key, deque())
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        return stamps

    def retry_after(self, *keys: str) -> int:
        """Seconds to wait before another attempt (0: allowed now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                if key not in self._failures:
                    continue  # no entry for names that never failed
                stamps = self._recent(key, now)
                if len(stamps) >= self.limit:
                    wait = max(wait, self.window - (now - stamps[0]))
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        """Count one failed sign-in against each key."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.MAX_KEYS:
                for key in [k for k in self._failures if not self._recent(k, now)]:
                    del self._failures[key]
            for key in keys:
                self._recent(key, now).append(now)


class SecurityHeaders:
    """ASGI middleware: security headers on every response; no caching of pages with patient data.

    Plain ASGI (not Starlette's BaseHTTPMiddleware), so it adds no task or stream copy.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not path.startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)
