"""The audit log as one user may read and verify it: :class:`AuditService`.

Admins and coordinators read the whole log and verify the whole chain; a site admin reads their
own site's records and sees the differences found at their own site (the others counted). A user
who reads de-identified (the coordinator) sees no before/after images and no identified case ids.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from livermet.registry.access import Action, User, permitted_sites, reads_deidentified
from livermet.registry.audit_verification import AuditAnchor, AuditVerification, verify_audit
from livermet.registry.context import Service
from livermet.registry.entities import AuditEntry
from livermet.registry.models import AuditRow, CaseRow, SiteRow
from livermet.registry.privacy import deidentified_id


def _entry(r: AuditRow) -> AuditEntry:
    """Return one audit record as the service gives it."""
    return AuditEntry(
        r.seq, r.at, r.actor, r.action, r.entity, r.entity_id, r.site, r.before, r.after, r.hash
    )


def _deidentified_entries(session: Session, entries: list[AuditEntry]) -> list[AuditEntry]:
    """Return audit records as a de-identified reader may see them.

    No before/after images (they hold identified case documents), and cases named by their
    de-identified id (``[case]`` once the case is deleted): reading the log gives no more than
    reading the cases.
    """
    ids = {e.entity_id for e in entries if e.entity in {"case", "read"}}
    rows = session.execute(
        select(CaseRow.case_id, CaseRow.pseudonym, SiteRow.pseudonym_secret)
        .join(SiteRow, CaseRow.site_id == SiteRow.id)
        .where(CaseRow.case_id.in_(ids))
    )
    public = {case_id: deidentified_id(pseudonym, secret) for case_id, pseudonym, secret in rows}
    return [
        dataclasses.replace(
            e,
            entity_id=public.get(e.entity_id, "[case]")
            if e.entity in {"case", "read"}
            else e.entity_id,
            before=None,
            after=None,
        )
        for e in entries
    ]


def _visible(result: AuditVerification, actor: User) -> AuditVerification:
    """Return the verification as ``actor`` may see it (counted only, or their site's)."""
    if reads_deidentified(actor):
        return result.counted_only()
    if permitted_sites(actor, Action.AUDIT) is not None:
        return result.visible_to(actor.site)
    return result


class AuditService(Service):
    """The audit log, read and verified by one user."""

    def verify_audit(self, anchors: Iterable[AuditAnchor] = ()) -> AuditVerification:
        """Check the audit chain and the tables against it.

        For admins, coordinators and site admins; a site admin sees the differences at their
        own site, the others counted.
        """
        # the chain and the rows of one moment
        with self._ctx.reading(Action.AUDIT, snapshot=True) as unit:
            return _visible(verify_audit(unit.session, anchors), unit.actor)

    def audit_entries(
        self, *, entity_id: str | None = None, limit: int = 100, entity: str | None = None
    ) -> list[AuditEntry]:
        """Return the latest audit records (a site admin sees only their site's), newest first.

        ``entity`` keeps those of one kind (``case``: the changes of cases, not their reads).
        """
        with self._ctx.reading(Action.AUDIT) as unit:
            actor = unit.actor
            query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
            if permitted_sites(actor, Action.AUDIT) is not None:
                query = query.where(AuditRow.site == actor.site)
            deidentified = reads_deidentified(actor)
            if entity_id is not None and not deidentified:
                query = query.where(AuditRow.entity_id == entity_id)
            if entity is not None:
                query = query.where(AuditRow.entity == entity)
            entries = [_entry(r) for r in unit.session.scalars(query)]
            if deidentified:  # filtered by the ids this reader knows, never by identified ones
                entries = _deidentified_entries(unit.session, entries)
                entries = [e for e in entries if entity_id in {None, e.entity_id}]
            return entries
