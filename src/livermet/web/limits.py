"""Request limits: a cap on the body's size, no NUL in URLs, and clear errors for unusable JSON.

The case document's own limits (1 MB, nesting, numbers, NUL) are checked by
:func:`livermet.case.limits.check_document` behind every route; this module keeps what never
reaches a route from costing memory or ending in a 500.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livermet.case.load import parse_error

MAX_REQUEST_BYTES = 4_000_000
"""Largest request body (4 MB): a case document is at most 1 MB (JSON escapes can make it
longer on the wire), an uploaded case file at most 2 MB."""


def _error(scope: Scope, status: int, message: str, field: str) -> Response:
    if str(scope.get("path", "")).startswith("/api/"):
        body = {"error": {"kind": "input", "message": message, "field": field}}
        return JSONResponse(body, status_code=status)
    return PlainTextResponse(f"{field}: {message}", status_code=status)


def _too_large(size: str) -> str:
    return f"the request body is {size}; the limit is {MAX_REQUEST_BYTES:,} bytes (4 MB)"


class BodyLimit:
    """ASGI middleware: refuse a body over :data:`MAX_REQUEST_BYTES` and a URL with a NUL.

    A body over the limit is a 413; a NUL character in the URL a 422 (bad input: PostgreSQL
    cannot compare text with NUL, it would be a 500). A declared ``Content-Length`` over the
    limit is answered at once, without reading the body; a chunked body is counted as it is
    read and refused when it passes the limit.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a NUL in the URL or a declared oversized body at once; count the rest."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = bytes(scope.get("query_string", b"")).lower()
        if "\x00" in str(scope.get("path", "")) or b"%00" in query or b"\x00" in query:
            await _error(scope, 422, "NUL characters (%00) are not accepted", "url")(
                scope, receive, send
            )
            return
        declared = _content_length(scope)
        if declared is not None and declared > MAX_REQUEST_BYTES:
            await _error(scope, 413, _too_large(f"{declared:,} bytes"), "body")(
                scope, receive, send
            )
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > MAX_REQUEST_BYTES:
                    # An HTTPException passes FastAPI's body parsing unchanged and becomes a 413.
                    raise HTTPException(413, _too_large(f"over {MAX_REQUEST_BYTES:,} bytes"))
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def install(app: FastAPI) -> None:
    """Add :class:`BodyLimit` and the handler that names an unusable JSON body."""
    app.add_middleware(BodyLimit)

    @app.exception_handler(HTTPException)
    async def _body_errors(request: Request, exc: HTTPException) -> Response:
        # FastAPI turns every failure to parse a JSON body other than a syntax error into a
        # bare 400; say what it was (nested too deeply, a number of 5,000 digits), as a 422 like
        # FastAPI's own answer to a JSON syntax error.
        cause = exc.__cause__
        if (
            exc.status_code == 400
            and isinstance(cause, RecursionError | ValueError)
            and not isinstance(cause, json.JSONDecodeError)
        ):
            return _error(request.scope, 422, f"unusable JSON: {parse_error(cause)}", "body")
        if exc.status_code == 413 and request.url.path.startswith("/api/"):
            return _error(request.scope, 413, str(exc.detail), "body")
        return await http_exception_handler(request, exc)
