"""SQLAlchemy 2 models of the registry: sites, users, API tokens, cases and the audit log.

The case document (the validated ``Case`` as JSON) is the unit of storage; the other columns of
``cases`` are derived from it when it is written (``livermet.registry.derive``) so that cohorts
can be selected and analysed without reading every document. The Alembic revisions
(``migrations/versions/``) create exactly these tables; a test compares the two.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so that migrations can refer to them on every backend."""

ROLE_NAMES = ("viewer", "editor", "site_admin", "coordinator", "admin")
"""Roles a user may hold (``livermet.registry.access`` defines what each may do)."""

DocumentJSON = JSON().with_variant(JSONB(), "postgresql")
"""JSON text on SQLite, JSONB on PostgreSQL (indexable, compact)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """The registry's tables, with constraint names fixed by :data:`NAMING_CONVENTION`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SiteRow(Base):
    """A hospital: a partition of the cases (REDCap's data access group)."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    pseudonym_secret: Mapped[str] = mapped_column(String(64))
    """Hex key of the site's HMAC pseudonyms and date shifts (see ``privacy``)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class UserRow(Base):
    """A user: role, site, password hash (argon2id), active flag and session version."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('viewer', 'editor', 'site_admin', 'coordinator', 'admin')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Stored in each browser session at sign-in; raising it ends all the user's sessions
    (sign-out, deactivation, password, role or site change). Not part of the audited user
    snapshot: it is session state, not a permission."""


class TokenRow(Base):
    """An API token; only the SHA-256 of its secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CaseRow(Base):
    """One stored case: the document plus the columns derived from it for cohorts."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("site_id", "pseudonym", name="uq_cases_site_pseudonym"),
        Index("ix_cases_site_synthetic", "site_id", "synthetic"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(200), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    pseudonym: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    document: Mapped[dict[str, Any]] = mapped_column(DocumentJSON)
    # derived columns (livermet.registry.derive.CaseColumns)
    age_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(10), nullable=True)
    histology: Mapped[str] = mapped_column(String(200))
    site_group: Mapped[str] = mapped_column(String(40))
    approach: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    timing: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    grade: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stage: Mapped[str | None] = mapped_column(String(10), nullable=True)
    liver_resection_day: Mapped[float | None] = mapped_column(Float, nullable=True)
    os_months: Mapped[float | None] = mapped_column(Float, nullable=True)
    death: Mapped[bool] = mapped_column(Boolean, default=False)
    efs_months: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_event: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_by: Mapped[str] = mapped_column(String(100))


class AuditRow(Base):
    """One audit record; ``hash`` covers ``prev_hash`` and the record's content (``audit``)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(200), index=True)
    site: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain's last sequence number and hash: one row, locked by every writer."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
