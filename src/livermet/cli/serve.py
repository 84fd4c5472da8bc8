"""``livermet serve``: start the web application, first setting up an empty registry.

On an empty registry it creates the first administrator, a demonstration site and the seed
case, and prints the address to open and the administrator's password (once).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any

from livermet.case.load import load_case
from livermet.errors import ConflictError, InputError
from livermet.registry import Database
from livermet.registry.engine import ENV_URL, resolve_url

DEMO_SITE = ("demo", "Demonstration hospital")
DEFAULT_TRUSTED_PROXY = "127.0.0.1"


def prepare_registry(
    database_url: str | None,
    *,
    seed_case: str | Path | None = None,
    admin_user: str = "admin",
    admin_password: str | None = None,
) -> str | None:
    """Bootstrap an empty registry; returns the new administrator's password (None if not new).

    With ``seed_case``, the case is stored at the demonstration site (when the registry is new).
    """
    with Database(database_url) as db:
        password = admin_password or secrets.token_urlsafe(12)
        try:
            admin = db.bootstrap(admin_user, password)
        except ConflictError:
            return None
        reg = db.registry(admin)
        reg.create_site(*DEMO_SITE)
        if seed_case is not None:
            reg.create_case(load_case(seed_case), site=DEMO_SITE[0])
        return password


def trusted_proxies(proxy_headers: bool, forwarded_allow_ips: str | None) -> str | None:
    """Return the checked list of proxies whose ``X-Forwarded-*`` headers uvicorn may believe.

    Raises
    ------
    InputError
        for ``*``, an entry that is not an IP address or network, or a list without
        ``proxy_headers`` (field ``forwarded_allow_ips``).
    """
    if forwarded_allow_ips is None:
        return DEFAULT_TRUSTED_PROXY if proxy_headers else None
    if not proxy_headers:
        raise InputError(
            "trusted proxies are only used with --proxy-headers", "forwarded_allow_ips"
        )
    entries = [e.strip() for e in forwarded_allow_ips.split(",") if e.strip()]
    if not entries:
        raise InputError("give at least one proxy address, e.g. 127.0.0.1", "forwarded_allow_ips")
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise InputError(
                f"{entry!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24); "
                "'*' would let any client choose its own address",
                "forwarded_allow_ips",
            ) from None
    return ",".join(entries)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    database_url: str | None = None,
    *,
    seed_case: str | Path | None = None,
    admin_user: str = "admin",
    admin_password: str | None = None,
    secret_key: str | None = None,
    proxy_headers: bool = False,
    forwarded_allow_ips: str | None = None,
    workers: int = 1,
    sign_in_hint: str | None = None,
) -> None:
    """Run the web application with uvicorn until interrupted; prints the address to open.

    Parameters
    ----------
    host, port
        Where to listen (loopback by default; put a reverse proxy with HTTPS in front for a team).
    database_url
        The registry (default: ``LIVERMET_DATABASE_URL`` or the embedded SQLite file).
    seed_case
        Case file stored in a new, empty registry (``make run`` passes the seed case).
    admin_user, admin_password
        First administrator of a new registry (a random password is printed when not given).
    secret_key
        Session signing key (default ``LIVERMET_SECRET_KEY``).
    proxy_headers
        Take the scheme and client address from ``X-Forwarded-*`` headers, when the connection
        comes from a trusted proxy (``forwarded_allow_ips``).
    forwarded_allow_ips
        The trusted proxies: comma-separated addresses or networks (default ``127.0.0.1``,
        never ``*``: a header from anyone else is ignored, so that a client cannot choose the
        address the sign-in rate limit counts). Only with ``proxy_headers``.
    workers
        Worker processes (one per CPU core serves the most requests; each keeps its own
        sign-in rate limiter). With more than one, the registry and the session key reach the
        workers through ``LIVERMET_DATABASE_URL`` and ``LIVERMET_SECRET_KEY``; a random key is
        made for this run when none is given, so sessions then end when the server stops.
    sign_in_hint
        How to sign in, printed with the address (``make run``: the demo user and password).
    """
    import uvicorn

    from livermet.web import create_app
    from livermet.web.app import SECRET_ENV

    if workers < 1:
        raise InputError(f"expected at least 1 worker process, got {workers}", "workers")
    trusted = trusted_proxies(proxy_headers, forwarded_allow_ips)
    password = prepare_registry(
        database_url, seed_case=seed_case, admin_user=admin_user, admin_password=admin_password
    )
    shown = "localhost" if host in {"127.0.0.1", "0.0.0.0", "::"} else host
    banner = [f"livermet web: open http://{shown}:{port}/"]
    if password is not None:
        banner.append(f"new registry: sign in as {admin_user!r} with password {password!r}")
    if sign_in_hint:
        banner.append(f"sign in: {sign_in_hint}")
    print("\n".join(banner), flush=True)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": proxy_headers,
        "forwarded_allow_ips": trusted,
        "access_log": False,  # paths hold case ids: keep them out of shared logs
        "log_level": "info",
    }
    if workers == 1:

        class Server(uvicorn.Server):
            """Run uvicorn's server, repeating the banner after its start-up lines.

            The address and how to sign in are then the last lines on the screen.
            """

            async def startup(self, sockets: Any = None) -> None:
                await super().startup(sockets=sockets)
                if not self.should_exit:
                    print("\n".join(banner), flush=True)

        app = create_app(database_url, secret_key=secret_key)
        Server(uvicorn.Config(app, **options)).run()
        return
    # Worker processes build the app from the environment: one registry, one signing key.
    os.environ[ENV_URL] = resolve_url(database_url)
    os.environ[SECRET_ENV] = secret_key or os.environ.get(SECRET_ENV) or secrets.token_urlsafe(48)
    uvicorn.run("livermet.web.app:app_from_env", factory=True, workers=workers, **options)
