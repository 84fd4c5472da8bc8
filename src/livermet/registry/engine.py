"""Where the registry lives, how to connect to it, and how its schema is brought up to date.

The database is chosen, in this order, by an explicit URL or path, by the environment variable
``LIVERMET_DATABASE_URL``, or else the embedded default: one SQLite file,
``$XDG_DATA_HOME/livermet/registry.sqlite`` (``~/.local/share/livermet/registry.sqlite`` when
``XDG_DATA_HOME`` is unset), created on first use. A URL without ``://`` is read as the path of a
SQLite file. ``postgresql://`` URLs use psycopg 3 (``postgresql+psycopg://``).

A new SQLite file is created readable and writable by its owner only (it holds the sites'
pseudonym secrets). SQLite connections run in WAL mode with foreign keys enforced and a 30 s busy
timeout; write transactions start with ``BEGIN IMMEDIATE`` so that two writers queue instead of
failing half-way.
Migrations are Alembic revisions shipped inside the package (``migrations/``), run through
Alembic's Python API, so that an installed livermet can create and upgrade its own database.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from livermet.errors import InputError, NotFoundError

ENV_URL = "LIVERMET_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30.0
WRITE_OPTION = "livermet_write"
"""Execution option marking a write transaction (SQLite: ``BEGIN IMMEDIATE``)."""

_PG_MIGRATION_LOCK = 7_311_620_401
"""Advisory-lock key that serialises concurrent migrations on one PostgreSQL database."""


def default_sqlite_path() -> Path:
    """Return the embedded registry file: ``$XDG_DATA_HOME/livermet/registry.sqlite``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "livermet" / "registry.sqlite"


def resolve_url(url: str | os.PathLike[str] | None = None) -> str:
    """Return the registry's SQLAlchemy URL (explicit > ``LIVERMET_DATABASE_URL`` > default).

    Raises
    ------
    InputError
        for a URL of another database than SQLite or PostgreSQL (field ``database_url``).
    """
    chosen = os.fspath(url) if url is not None else os.environ.get(ENV_URL) or None
    if chosen is None:
        return f"sqlite:///{default_sqlite_path()}"
    if "://" not in chosen:
        return f"sqlite:///{Path(chosen).expanduser().resolve()}"
    try:
        parsed = make_url(chosen)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the reason
        raise InputError(f"not a database URL: {exc}", "database_url") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend != "sqlite":
        raise InputError(
            f"unsupported database {backend!r}; use sqlite:///PATH or postgresql://...",
            "database_url",
        )
    return chosen


def is_sqlite(engine: Engine | Connection) -> bool:
    """Return whether ``engine`` (or a connection) is SQLite's."""
    return engine.dialect.name == "sqlite"


def create_registry_engine(url: str) -> Engine:
    """Return an engine for ``url`` (resolved); SQLite files and their folder are created."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
    else:
        if parsed.database and parsed.database != ":memory:":
            _create_private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    # On both backends, so that both answer alike (SQLite would store NUL; PostgreSQL cannot).
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


def _refuse_nul(
    _conn: Connection, _cursor: Any, _statement: str, parameters: Any, _context: Any, many: bool
) -> None:
    r"""Refuse a text holding NUL (``\x00``) bound to any statement, naming its parameter.

    PostgreSQL cannot store or even compare such a text: psycopg's error would surface as a
    server error. Every text bound to a statement is checked here, so that any path (a user name
    at sign-in, a site code, a token label) gets a clear input error; case documents are refused
    earlier, naming their field (``livermet.case.limits``).
    """
    for row in parameters if many else [parameters]:
        values = row.items() if isinstance(row, dict) else enumerate(row or ())
        for name, value in values:
            if isinstance(value, str) and "\x00" in value:
                field = re.sub(r"_\d+$", "", str(name))  # SQLAlchemy's username_1 -> username
                raise InputError("contains a NUL character (\\x00), which cannot be stored", field)


def _create_private_file(path: Path) -> None:
    """Create a new registry file readable by its owner only.

    It holds the sites' pseudonym secrets (SQLite gives its -wal and -shm files the same
    permissions).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver must not open transactions by itself: _sqlite_on_begin emits BEGIN, so that
    # DDL is transactional and writers can take the write lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def transaction(engine: Engine, *, write: bool, snapshot: bool = False) -> Iterator[Session]:
    """Open a session in one database transaction: committed on success, else rolled back.

    ``snapshot``: every statement sees the same state (PostgreSQL's repeatable read; a SQLite
    transaction always does), for reads that compare tables with one another.
    """
    with engine.connect() as conn:
        if write:
            conn = conn.execution_options(**{WRITE_OPTION: True})
        elif snapshot and not is_sqlite(conn):
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin(), Session(bind=conn, expire_on_commit=False) as session:
            yield session
            session.flush()


# --- migrations ----------------------------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic configuration built in code, pointing at the packaged migrations.

    Developers create a new revision with
    ``alembic.command.revision(alembic_config(conn), message=..., autogenerate=True)``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str | None:
    """Return the newest revision shipped with this livermet (read once per process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (creating it on an empty database); safe to repeat."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            command.upgrade(alembic_config(conn), revision)


def require_registry(url: str | os.PathLike[str] | None = None) -> str:
    """Return the resolved URL of an existing registry; one that holds none is an error.

    Opening a :class:`~livermet.registry.Database` creates (or upgrades) a registry wherever it
    points, which suits ``registry init``, ``serve`` and the tests; the command line's other
    commands check first, so that a mistyped ``--db`` is reported instead of silently creating an
    empty registry (that then answers "unknown user").

    Raises
    ------
    NotFoundError
        (field ``--db``) for a SQLite file that does not exist, or a database without a livermet
        registry in it.
    """
    resolved = resolve_url(url)
    parsed = make_url(resolved)
    shown = parsed.render_as_string(hide_password=True)
    hint = f"create one with: livermet registry init --db {url or shown}"
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return resolved
        path = Path(parsed.database)
        if not path.is_file():
            raise NotFoundError(f"no registry at {path}; check the path, or {hint}", "--db")
    engine = create_engine(resolved)
    try:
        revision = current_revision(engine)
    except Exception as exc:  # sqlalchemy's errors name the reason (refused, no such database)
        reason = str(exc).splitlines()[0]
        raise NotFoundError(f"cannot open the registry at {shown}: {reason}", "--db") from None
    finally:
        engine.dispose()
    if revision is None:
        raise NotFoundError(f"{shown} holds no livermet registry; {hint}", "--db")
    return resolved
