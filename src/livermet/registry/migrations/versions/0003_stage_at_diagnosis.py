"""Cohort column ``stage``: the assessment's stage at diagnosis (issue 12).

Before this revision the registry stored an AJCC 8 chapter 41 stage, for trunk and extremity
primaries only, computed with M1 whenever a liver lesion was recorded (stage IV for every such
case). The column is now the assessment's stage at diagnosis (``livermet.registry.derive``;
docs/clinical.md#stage-at-diagnosis-and-recurrence): a metachronous metastasis is a recurrence,
not part of it, and retroperitoneal (chapter 44) and uterine (FIGO) primaries are staged. This
revision derives the column again for every stored case from its document, 1,000 cases at a
time. The documents and the audit chain are untouched (the chain records documents, not cohort
columns). Downgrading leaves the column as it is.

Revision ID: 0003_stage_at_diagnosis
Revises: 0002_session_version
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_stage_at_diagnosis"
down_revision: str | None = "0002_session_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000

_cases = sa.table(
    "cases",
    sa.column("id", sa.Integer()),
    sa.column("document", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("stage", sa.String()),
)


def _stages(rows: Sequence[Any]) -> list[dict[str, object]]:
    """Return the new ``stage`` of each row whose document gives one (as the registry derives).

    A document that is not a valid case (edited outside the registry) keeps its column; the
    audit verification reports it.
    """
    from livermet.errors import InputError
    from livermet.registry.derive import derive_columns
    from livermet.registry.documents import case_from_document

    parsed = []
    for row in rows:
        try:
            parsed.append((row[0], case_from_document(row[1])))
        except InputError:
            continue
    derived = derive_columns([case for _, case in parsed])
    return [
        {"row_id": row_id, "new_stage": columns.stage}
        for (row_id, _), columns in zip(parsed, derived, strict=True)
        if not isinstance(columns, InputError)
    ]


def upgrade() -> None:
    """Derive the ``stage`` column of every stored case again, 1,000 cases at a time."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(_cases.c.id, _cases.c.document)
            .where(_cases.c.id > last)
            .order_by(_cases.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        updates = _stages(rows)
        if updates:
            bind.execute(
                sa.update(_cases)
                .where(_cases.c.id == sa.bindparam("row_id"))
                .values(stage=sa.bindparam("new_stage")),
                updates,
            )


def downgrade() -> None:
    """Leave the column as it is (the old code's stage cannot be derived without it)."""
