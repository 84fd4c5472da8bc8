"""Provide the security fixtures: a real ``livermet serve`` and a connection listener.

The server runs on 127.0.0.1 over a registry with two sites and one user of every role; the
listener records every connection it receives.

Sites ``alpha`` (the seed case, id ``seed-case``) and ``beta`` (case ``beta-case``). Users, all
with :data:`PASSWORD`: ``admin``; ``coordinator`` (every site, de-identified exports only);
``site_admin_a``, ``editor_a``, ``viewer_a`` at alpha; ``editor_b``, ``viewer_b`` at beta.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from livermet.case.load import load_case
from livermet.registry import Database
from tests.web.conftest import SEED_CASE, free_port, sign_in

PASSWORD = "correct horse battery"
USERS = {
    "admin": ("admin", None),
    "coordinator": ("coordinator", None),
    "site_admin_a": ("site_admin", "alpha"),
    "editor_a": ("editor", "alpha"),
    "viewer_a": ("viewer", "alpha"),
    "editor_b": ("editor", "beta"),
    "viewer_b": ("viewer", "beta"),
}


@dataclass
class LiveServer:
    """A running ``livermet serve``: its address, registry URL, tokens and log."""

    base: str
    db_url: str
    db_path: Path
    tokens: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def client(self, **kwargs: object) -> httpx.Client:
        """Return an httpx client on the server (follows redirects unless told otherwise)."""
        options: dict[str, object] = {
            "base_url": self.base,
            "timeout": 30,
            "follow_redirects": True,
        }
        options.update(kwargs)
        return httpx.Client(**options)  # type: ignore[arg-type]

    @contextmanager
    def browser(self, username: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
        """``with live.browser(name) as b``: a client signed in through the form, as a browser."""
        with self.client() as c:
            sign_in(c, username, password)
            yield c

    def api(self, username: str) -> httpx.Client:
        """Return a client that authenticates with ``username``'s API token."""
        return self.client(headers={"Authorization": f"Bearer {self.tokens[username]}"})


def make_registry(path: Path) -> tuple[str, dict[str, str]]:
    """Create the two-site registry of this module's docstring; return its URL and user tokens."""
    url = f"sqlite:///{path}"
    with Database(url) as db:
        admin = db.bootstrap("admin", PASSWORD)
        reg = db.registry(admin)
        reg.create_site("alpha", "Hospital A")
        reg.create_site("beta", "Hospital B")
        for name, (role, site) in USERS.items():
            if name != "admin":
                reg.create_user(name, role=role, site=site, password=PASSWORD)
        seed = load_case(SEED_CASE)
        reg.create_case(seed, site="alpha")
        reg.create_case(seed.model_copy(update={"id": "beta-case"}), site="beta")
        tokens = {name: db.registry(name).create_token("security tests").token for name in USERS}
    return url, tokens


def start_server(tmp: Path, *extra_args: str, env: dict[str, str] | None = None) -> LiveServer:
    """Start ``livermet serve`` on a free loopback port over a new registry in ``tmp``."""
    db_path = tmp / "registry.sqlite"
    url, tokens = make_registry(db_path)
    port = free_port()
    log = tmp / "serve.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LIVERMET_")}
    environment["LIVERMET_SECRET_KEY"] = "security-test-secret-key-not-for-production"
    environment.update(env or {})
    command = [sys.executable, "-m", "livermet.cli.main", "serve", "--db", url]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port), *extra_args], env=environment, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(base + "/signin", timeout=2).status_code == 200:
                return LiveServer(base, url, db_path, tokens, log, process)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("livermet serve did not start:\n" + log.read_text())


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for a test module (tests that change state use :func:`fresh_live`)."""
    server = start_server(tmp_path_factory.mktemp("live"))
    yield server
    stop_server(server)


@pytest.fixture
def fresh_live(tmp_path: Path) -> Iterator[LiveServer]:
    """Start a server of its own for one test and stop it afterwards."""
    server = start_server(tmp_path)
    yield server
    stop_server(server)


class Listener:
    """A TCP listener on 127.0.0.1 that counts every connection (it must receive none)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.received.append(conn.recv(4096) or b"<connected>")
                except OSError:
                    self.received.append(b"<connected>")
                # Answer something fetchable, so a fetch that happens would also succeed.
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nLEAKED")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()
