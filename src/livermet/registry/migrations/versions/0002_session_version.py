"""Per-user session version: browser sessions carry it and end when it is raised.

Revision ID: 0002_session_version
Revises: 0001_initial
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_session_version"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``users.session_version``, starting at 1 for existing users."""
    # Existing rows start at 1; sessions signed before the upgrade carry no version and end.
    # A plain ADD COLUMN on both backends (SQLite needs no table copy for it).
    op.add_column(
        "users", sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
    )


def downgrade() -> None:
    """Drop ``users.session_version``."""
    # Native DROP COLUMN (SQLite 3.35+): a batch table copy would drop ``users`` and cascade
    # to the API tokens under the enforced foreign keys.
    op.drop_column("users", "session_version")
