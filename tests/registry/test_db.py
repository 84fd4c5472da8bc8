"""Schema, migrations and connection settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from livermet.errors import InputError
from livermet.registry import Database
from livermet.registry.engine import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    default_sqlite_path,
    head_revision,
    resolve_url,
    upgrade,
)
from livermet.registry.models import Base

TABLES = {"sites", "users", "api_tokens", "cases", "audit_log", "audit_head", "alembic_version"}
HEAD = "0003_stage_at_diagnosis"


def test_upgrade_head_creates_the_schema_on_a_new_database(db: Database) -> None:
    assert current_revision(db.engine) == head_revision() == HEAD
    assert set(inspect(db.engine).get_table_names()) == TABLES
    upgrade(db.engine)  # a second upgrade is a no-op
    assert current_revision(db.engine) == HEAD


def test_migrations_and_models_agree(db: Database) -> None:
    """Autogenerate finds nothing to do: the initial revision creates exactly the models."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migrations_are_package_data() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / f"{HEAD}.py").is_file()


def test_a_0001_registry_upgrades_keeping_its_users_and_tokens(db: Database) -> None:
    """Upgrade a 0001 registry with the session version, and downgrade in place.

    A registry made by an older livermet (0001) gets the session version when opened; downgrading
    drops the column in place (no table copy that would cascade to the tokens).
    """
    admin = db.bootstrap("admin", "pw for the upgrade")
    token = db.registry(admin).create_token("kept").token
    with db.engine.connect() as conn, conn.begin():
        command.downgrade(alembic_config(conn), "0001_initial")
    assert current_revision(db.engine) == "0001_initial"
    assert "session_version" not in {c["name"] for c in inspect(db.engine).get_columns("users")}
    assert db.authenticate_token(token).username == "admin"  # the tokens survived
    with Database(db.url) as reopened:  # opening upgrades
        assert current_revision(reopened.engine) == HEAD
        user, version = reopened.sign_in("admin", "pw for the upgrade")
        assert (user.username, version) == ("admin", 1)
        assert reopened.session_user("admin", 1).username == "admin"
        assert reopened.authenticate_token(token).username == "admin"


def test_sqlite_file_is_created_on_first_use_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "registry.sqlite"
    with Database(path) as db:
        assert path.is_file()
        db.bootstrap("admin")  # a write: SQLite creates the -wal and -shm files
        for suffix in ("", "-wal", "-shm"):  # owner only: the file holds the site secrets
            assert Path(f"{path}{suffix}").stat().st_mode & 0o077 == 0
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with pytest.raises(Exception, match="FOREIGN KEY"):
                conn.execute(
                    text(
                        "INSERT INTO users (username, role, site_id, active, created_at) "
                        "VALUES ('x', 'viewer', 99, 1, '2024-01-01')"
                    )
                )


def test_database_url_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIVERMET_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_sqlite_path() == tmp_path / "livermet" / "registry.sqlite"
    assert resolve_url() == f"sqlite:///{tmp_path}/livermet/registry.sqlite"
    monkeypatch.setenv("LIVERMET_DATABASE_URL", "postgresql://u:p@db.example:5433/reg")
    assert resolve_url() == "postgresql+psycopg://u:p@db.example:5433/reg"
    # an explicit URL or path wins over the environment
    assert resolve_url(tmp_path / "x.sqlite") == f"sqlite:///{tmp_path}/x.sqlite"
    assert resolve_url("sqlite:///rel.sqlite") == "sqlite:///rel.sqlite"
    with pytest.raises(InputError) as err:
        resolve_url("mysql://u@h/db")
    assert err.value.field == "database_url"


def test_a_database_without_the_schema_gets_it_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE unrelated (x INTEGER)"))
    engine.dispose()
    with Database(path) as db:
        assert current_revision(db.engine) == HEAD
        assert "unrelated" in inspect(db.engine).get_table_names()
