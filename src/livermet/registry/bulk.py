"""All-or-nothing import of many cases in one transaction, with bulk inserts.

The caller (``Registry.import_cases``) opens the write transaction and the audit writer; this
module checks every row, inserts the accepted ones in chunks (one multi-row ``INSERT`` per
chunk) and raises when any row was refused, so that the transaction is rolled back and nothing
is stored. Progress is reported after each chunk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from livermet.case.model import Case
from livermet.errors import InputError
from livermet.registry.access import Action, User, require
from livermet.registry.audit import AuditWriter
from livermet.registry.derive import CaseColumns, derive_columns
from livermet.registry.documents import check_case, is_synthetic, stored_document
from livermet.registry.entities import (
    CaseInput,
    ImportConflict,
    ImportProblem,
    ImportRejected,
    ImportReport,
)
from livermet.registry.models import CaseRow, SiteRow
from livermet.registry.privacy import pseudonymise, pseudonymise_case_id

ProgressCallback = Callable[[int, int], None]
CHUNK_SIZE = 1000


@dataclass
class _Item:
    row: int
    case: Case
    site: SiteRow
    pseudonym: str
    by_hospital_number: bool
    document: dict[str, Any]
    columns: CaseColumns
    version: int | None


@dataclass(frozen=True)
class _Existing:
    id: int
    case_id: str
    version: int


def case_values(
    case: Case, document: dict[str, Any], columns: CaseColumns, actor: str, now: dt.datetime
) -> dict[str, Any]:
    """Column values of a ``cases`` row (without site, pseudonym and version)."""
    return {
        "case_id": case.id,
        "synthetic": is_synthetic(case),
        "document": document,
        **columns.as_row(),
        "updated_at": now,
        "updated_by": actor,
    }


def pseudonym_for(entry: CaseInput, case: Case, site: SiteRow) -> str:
    if entry.hospital_number is not None:
        return pseudonymise(entry.hospital_number, site.pseudonym_secret)
    return pseudonymise_case_id(case.id, site.pseudonym_secret)


class _Importer:
    def __init__(
        self,
        session: Session,
        audit: AuditWriter,
        actor: User,
        *,
        merge: bool,
        source: str,
        site_ids: set[int],
    ) -> None:
        self.session, self.audit, self.actor = session, audit, actor
        self.merge, self.source = merge, source
        # What the registry holds before the import, read once: looking the rows up chunk by
        # chunk would query a table that grows within the transaction and has no statistics
        # for the new rows (PostgreSQL then scans it whole, chunk after chunk).
        self.existing: dict[tuple[int, str], _Existing] = {
            (r.site_id, r.pseudonym): _Existing(r.id, r.case_id, r.version)
            for r in session.execute(
                select(
                    CaseRow.id, CaseRow.site_id, CaseRow.pseudonym, CaseRow.case_id, CaseRow.version
                ).where(CaseRow.site_id.in_(site_ids))
            )
        }
        self.taken: dict[str, tuple[int, str]] = {
            r.case_id: (r.site_id, r.pseudonym)
            for r in session.execute(select(CaseRow.case_id, CaseRow.site_id, CaseRow.pseudonym))
        }
        self.problems: list[ImportProblem] = []
        self.seen_pseudonyms: dict[tuple[int, str], int] = {}
        self.seen_ids: dict[str, int] = {}
        self.created = self.merged = 0
        self.case_ids: list[str] = []
        self.now = dt.datetime.now(dt.UTC)

    def problem(self, row: int, field: str, message: str, conflict: bool = False) -> None:
        self.problems.append(ImportProblem(row, field, message, conflict))

    def prepare(self, chunk: Sequence[tuple[int, CaseInput, SiteRow]]) -> list[_Item]:
        """Check a chunk's rows; the accepted ones, with their documents and columns."""
        checked: list[tuple[int, CaseInput, SiteRow, Case, dict[str, Any]]] = []
        for row, entry, site in chunk:
            try:
                case = check_case(entry.case)
                checked.append((row, entry, site, case, stored_document(case)))
            except InputError as exc:
                self.problem(row, exc.field or "(case)", exc.message)
        derived = derive_columns([case for *_, case, _ in checked])
        items: list[_Item] = []
        for (row, entry, site, case, document), columns in zip(checked, derived, strict=True):
            if isinstance(columns, InputError):
                self.problem(row, columns.field or "(case)", columns.message)
                continue
            try:
                pseudonym = pseudonym_for(entry, case, site)
            except InputError as exc:
                self.problem(row, exc.field or "hospital_number", exc.message)
                continue
            if not self._first_in_file(row, case, site, pseudonym, entry):
                continue
            items.append(
                _Item(
                    row,
                    case,
                    site,
                    pseudonym,
                    entry.hospital_number is not None,
                    document,
                    columns,
                    entry.version,
                )
            )
        return items

    def _first_in_file(
        self, row: int, case: Case, site: SiteRow, pseudonym: str, entry: CaseInput
    ) -> bool:
        key = (site.id, pseudonym)
        if key in self.seen_pseudonyms:
            what = "hospital number" if entry.hospital_number is not None else "case"
            self.problem(
                row,
                "hospital_number" if entry.hospital_number is not None else "id",
                f"the same {what} as row {self.seen_pseudonyms[key]} (site {site.code})",
                conflict=True,
            )
            return False
        if case.id in self.seen_ids:
            self.problem(
                row,
                "id",
                f"case id {case.id!r} is also used by row {self.seen_ids[case.id]}",
                conflict=True,
            )
            return False
        self.seen_pseudonyms[key] = row
        self.seen_ids[case.id] = row
        return True

    def _merges(self, items: list[_Item]) -> list[tuple[int, str]]:
        if not self.merge:
            return []
        return [k for k in ((i.site.id, i.pseudonym) for i in items) if k in self.existing]

    def _documents(self, ids: list[int]) -> dict[int, Any]:
        """Stored documents of the cases an import merges into (the audit's "before")."""
        if not ids:
            return {}
        rows = self.session.execute(select(CaseRow.id, CaseRow.document).where(CaseRow.id.in_(ids)))
        return {r.id: r.document for r in rows}

    def store(self, items: list[_Item]) -> None:
        """Insert the new cases and merge the duplicates of a chunk (unless already refused)."""
        if not items:
            return
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        befores = self._documents([self.existing[k].id for k in self._merges(items)])
        for item in items:
            key = (item.site.id, item.pseudonym)
            current = self.existing.get(key)
            owner = self.taken.get(item.case.id)
            if owner is not None and owner != key:
                self.problem(
                    item.row,
                    "id",
                    f"case id {item.case.id!r} is already used by another case of the registry",
                    conflict=True,
                )
                continue
            if current is not None and not self.merge:
                self.problem(
                    item.row,
                    "hospital_number" if item.by_hospital_number else "id",
                    f"the registry already holds this patient at site {item.site.code} as case "
                    f"{current.case_id!r} (import with merge to update it)",
                    conflict=True,
                )
                continue
            if current is not None and item.version not in {None, current.version}:
                self.problem(
                    item.row,
                    "version",
                    f"case {current.case_id!r} was changed since it was exported (the file has "
                    f"version {item.version}, the registry version {current.version}); export "
                    "it again and re-apply the changes",
                    conflict=True,
                )
                continue
            if self.problems:
                continue  # keep checking, but nothing more will be stored
            values = case_values(
                item.case, item.document, item.columns, self.actor.username, self.now
            )
            if current is None:
                inserts.append(
                    {
                        **values,
                        "site_id": item.site.id,
                        "pseudonym": item.pseudonym,
                        "version": 1,
                        "created_at": self.now,
                        "created_by": self.actor.username,
                    }
                )
                self.audit.append(
                    "import", "case", item.case.id, site=item.site.code, after=item.document
                )
                self.created += 1
            else:
                updates.append({**values, "id": current.id, "version": current.version + 1})
                self.audit.append(
                    "import",
                    "case",
                    item.case.id,
                    site=item.site.code,
                    before=befores[current.id],
                    after=item.document,
                )
                self.merged += 1
            self.case_ids.append(item.case.id)
        if inserts:
            self.session.execute(insert(CaseRow), inserts)
        if updates:
            self.session.execute(update(CaseRow), updates)
        self.audit.flush()


def run_import(
    session: Session,
    audit: AuditWriter,
    actor: User,
    entries: Sequence[CaseInput],
    sites: dict[str, SiteRow],
    default_site: str | None,
    *,
    merge: bool,
    source: str,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> ImportReport:
    """Check and store ``entries`` in the caller's transaction; raise if any row is refused.

    Raises
    ------
    ForbiddenError
        when the actor may not write to one of the sites (nothing is checked further).
    ImportRejected
        (an ``InputError``) listing every refused row, when any row is bad.
    ImportConflict
        (a ``ConflictError``) listing every refused row, when rows are only duplicates.
    """
    if chunk_size < 1:
        raise InputError("give at least 1 row per chunk", "chunk_size")
    placed: list[tuple[int, CaseInput, SiteRow]] = []
    problems: list[ImportProblem] = []
    for i, entry in enumerate(entries):
        row = entry.row if entry.row is not None else i + 1
        code = entry.site or default_site
        if code is None:
            problems.append(ImportProblem(row, "site", "no site given for this case"))
        elif code not in sites:
            problems.append(ImportProblem(row, "site", f"unknown site {code!r}"))
        else:
            placed.append((row, entry, sites[code]))
    for code in sorted({site.code for _, _, site in placed}):
        require(actor, Action.WRITE, code)
    site_ids = {site.id for _, _, site in placed}
    importer = _Importer(session, audit, actor, merge=merge, source=source, site_ids=site_ids)
    importer.problems.extend(problems)
    total = len(entries)
    done = total - len(placed)
    for start in range(0, len(placed), chunk_size):
        chunk = placed[start : start + chunk_size]
        importer.store(importer.prepare(chunk))
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, total)
    if importer.problems:
        problems = sorted(importer.problems, key=lambda p: p.row)
        if all(p.conflict for p in problems):
            raise ImportConflict(problems)
        raise ImportRejected(problems)
    used_sites = tuple(sorted({site.code for _, _, site in placed}))
    audit.append(
        "import",
        "import",
        source,
        after={
            "source": source,
            "total": total,
            "created": importer.created,
            "merged": importer.merged,
            "sites": list(used_sites),
        },
    )
    audit.flush()
    return ImportReport(
        source, total, importer.created, importer.merged, used_sites, tuple(importer.case_ids)
    )
