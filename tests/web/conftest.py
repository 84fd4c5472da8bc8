"""Web fixtures: a temporary SQLite registry with two sites, the seed case and one user per role.

Site ``alpha`` holds the seed case, site ``beta`` a second case; ``viewer_a`` may read alpha only.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from livermet.case.load import load_case
from livermet.registry import Database
from livermet.web import create_app

ROOT = Path(__file__).resolve().parents[2]
SEED_CASE = ROOT / "examples" / "seed-case.yaml"
PASSWORD = "correct horse battery"
USERS = {
    "admin": ("admin", None),
    "viewer_a": ("viewer", "alpha"),
    "editor_a": ("editor", "alpha"),
    "editor_b": ("editor", "beta"),
}


@dataclass
class WebRegistry:
    url: str
    tokens: dict[str, str]


@pytest.fixture
def web_registry(tmp_path: Path) -> WebRegistry:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
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
        tokens = {name: db.registry(name).create_token("tests").token for name in USERS}
    return WebRegistry(url, tokens)


@pytest.fixture
def app(web_registry: WebRegistry) -> Iterator[FastAPI]:
    application = create_app(web_registry.url, secret_key="test-secret-key")
    yield application
    application.state.db.close()


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form (a TestClient, or an httpx client that follows redirects)."""
    token = csrf_of(client.get("/signin").text)
    response = client.post(
        "/signin", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 200 and response.url.path == "/assess", response.text[:500]


def free_port() -> int:
    """Return a free TCP port on loopback, for a server started by a test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def artifacts_dir() -> Path:
    path = Path(os.environ.get("LIVERMET_ARTIFACTS", ROOT / "tests" / "web" / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
