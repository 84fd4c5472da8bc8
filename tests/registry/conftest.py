"""Registry fixtures: every test that takes ``db`` runs on SQLite and on PostgreSQL.

PostgreSQL: ``LIVERMET_TEST_POSTGRES_URL`` if set, else ``postgres@127.0.0.1:5432`` (trust
authentication). A throwaway database ``livermet_test_<random>`` is created for the test session
and dropped after it. When the server cannot be reached the PostgreSQL half is skipped locally,
but fails when ``CI=true``.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from livermet.case.load import load_case
from livermet.case.model import Case
from livermet.registry import Database, Registry, User
from livermet.registry.audit import GENESIS_HASH
from livermet.registry.engine import resolve_url

ROOT = Path(__file__).resolve().parents[2]
SEED_CASE = ROOT / "examples" / "seed-case.yaml"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")
SITES = ("alpha", "beta")


def _unreachable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI but unreachable: {reason}")
    pytest.skip(f"PostgreSQL unreachable: {reason}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database (migrated to head) for this test session."""
    server = make_url(resolve_url(os.environ.get("LIVERMET_TEST_POSTGRES_URL") or PG_DEFAULT))
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"livermet_test_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as exc:
        admin.dispose()
        _unreachable(str(exc.orig).strip().splitlines()[0])
    with admin.connect() as conn:  # a throwaway database need not wait for the disk
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = server.set(database=name).render_as_string(hide_password=False)
    Database(url).close()  # upgrade head once
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a SQLite registry migrated to head, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "registry.sqlite"
    Database(path).close()
    return path


def _reset_postgres(url: str) -> None:
    """Empty every table (DELETE is faster than TRUNCATE on tables this small)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("audit_log", "api_tokens", "cases", "users", "sites"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": GENESIS_HASH})
    engine.dispose()


def open_backend(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Database:
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
        _reset_postgres(url)
        return Database(url)
    path = tmp_path / "registry.sqlite"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return Database(path)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Yield an empty registry, on each backend."""
    database = open_backend(request, request.param, tmp_path)
    yield database
    database.close()


@dataclass
class World:
    """Two sites and one user of each role (site-bound roles at both sites)."""

    db: Database
    admin: User

    def as_(self, username: str) -> Registry:
        return self.db.registry(username)

    @property
    def reg(self) -> Registry:
        return self.db.registry(self.admin)


def populate(db: Database) -> World:
    admin = db.bootstrap("admin")
    reg = db.registry(admin)
    for code in SITES:
        reg.create_site(code, f"Hospital {code}")
        for role in ("viewer", "editor", "site_admin"):
            reg.create_user(f"{role}_{code}", role=role, site=code)
    reg.create_user("coordinator", role="coordinator")
    return World(db, admin)


@pytest.fixture
def world(db: Database) -> World:
    return populate(db)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Yield one populated registry per backend for a whole module.

    For tests that only add cases of their own (keep such tests in a module of their own: the
    function-scoped ``db`` fixture empties the same PostgreSQL database).
    """
    database = open_backend(request, request.param, tmp_path_factory.mktemp("shared"))
    yield populate(database)
    database.close()


@pytest.fixture(scope="session")
def seed_case() -> Case:
    return load_case(SEED_CASE)
