"""All-or-nothing import of many cases in one transaction, with bulk inserts.

The caller (``Registry.import_cases``) opens the write transaction and the audit writer; this
module checks every row, inserts the accepted ones in chunks and raises when any row was refused,
so that the transaction is rolled back and nothing is stored. Progress is reported after each
chunk, once its rows are in the transaction.

Speed (measured by ``benchmarks/registry_scale.py``): each chunk is one statement per table,
``COPY ... FROM STDIN`` on PostgreSQL and one ``executemany`` of the sqlite3 driver on SQLite
(``livermet.registry.audit.insert_rows``); each document is encoded once as canonical JSON, for
its audit record, for PostgreSQL's ``jsonb`` column and for the storage limits
(:func:`encoded_document`); the garbage collector pauses during the import.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from livermet.case.limits import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_INT, check_document
from livermet.case.model import Case
from livermet.errors import InputError
from livermet.registry.access import Action, User, require
from livermet.registry.audit import AuditWriter, canonical_json, insert_rows
from livermet.registry.derive import CaseColumns, derive_columns
from livermet.registry.documents import case_document, check_case, is_synthetic
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
_DERIVED = tuple(field.name for field in dataclasses.fields(CaseColumns))
_INSERTED = (
    "case_id",
    "synthetic",
    "document",
    *_DERIVED,
    "updated_at",
    "updated_by",
    "site_id",
    "pseudonym",
    "version",
    "created_at",
    "created_by",
)
"""Columns of a new ``cases`` row, in the order :meth:`_Importer.store` gives them."""


_DIGITS_ONLY = bytes(ord("0") if chr(i).isdigit() and i < 128 else ord(".") for i in range(256))
"""``bytes.translate`` table: every ASCII digit to ``0``, every other byte to ``.``."""
_LONG_NUMBER = b"0" * len(str(MAX_INT))
"""A run of as many digits as ``MAX_INT`` has: only such a whole number can exceed it."""
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_OPENERS = frozenset(b"[{")
_SIZE_FACTOR = 24
"""``check_document`` counts at most 24 bytes for a value that takes at least one byte of JSON
(a float: 24 for at least 3 characters; a whole number: 20 for at least 1; a text, a key or
a container: no more than its JSON)."""


def _levels(raw: bytes) -> int:
    """Nesting levels of mappings and lists in a JSON text (a document alone: 1)."""
    plain = raw.replace(b"\\\\", b"").replace(b'\\"', b"")  # escaped backslashes, quotes
    outside = b"".join(plain.split(b'"')[::2])  # every other piece lies outside the texts
    depth = deepest = 0
    for byte in outside.translate(None, _NOT_BRACKETS):
        if byte in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def _surely_within_limits(text: str) -> bool:
    """True only when ``check_document`` would pass the document ``text`` encodes.

    ``text`` is the canonical JSON of a document (``json.dumps`` has refused NaN and
    infinity). Each test errs on the side of False, after which the caller runs
    ``check_document`` itself, which names the offending field.
    """
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return (
        len(raw) * _SIZE_FACTOR <= MAX_DOCUMENT_BYTES
        and b"\\u0000" not in raw  # how JSON writes a NUL character
        and _LONG_NUMBER not in raw.translate(_DIGITS_ONLY)  # digits of texts count too
        and (
            raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH  # fewer containers than levels
            or _levels(raw) <= MAX_DEPTH
        )
    )


def encoded_document(case: Case) -> tuple[dict[str, Any], str]:
    """The document ``stored_document`` gives, and its canonical JSON (for the audit record).

    The same checks as ``livermet.case.limits.check_document``, run on the JSON text that the
    audit record needs anyway (a few microseconds instead of a walk of the document); whenever
    the text does not show that the document is within the limits, ``check_document`` walks
    it, so a refused document is refused with the same error.

    Raises
    ------
    InputError
        naming the field (see :func:`livermet.case.limits.check_document`).
    """
    document = case_document(case)
    try:
        text = canonical_json(document)
    except ValueError:  # NaN or infinity: check_document names the field
        check_document(document)
        raise
    if not _surely_within_limits(text):
        check_document(document)
    return document, text


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while an import runs (every thread's imports
    share one pause; the last to finish restores the collector as it was).

    An import allocates millions of objects beside the cases it was given; each full collection
    then walks every object of the process (about a second, several times, for 100,000 cases).
    The import makes no reference cycles that would need the collector; reference counting
    frees its objects as usual.
    """
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


@dataclass
class _Item:
    row: int
    case: Case
    site: SiteRow
    pseudonym: str
    by_hospital_number: bool
    document: dict[str, Any]
    text: str
    """``document`` as canonical JSON."""
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
    values: dict[str, Any] = {
        "case_id": case.id,
        "synthetic": is_synthetic(case),
        "document": document,
    }
    for name in _DERIVED:  # CaseColumns.as_row() without asdict's deep copies (plain values)
        values[name] = getattr(columns, name)
    values["updated_at"] = now
    values["updated_by"] = actor
    return values


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
        self.copy = session.connection().dialect.name == "postgresql"

    def problem(self, row: int, field: str, message: str, conflict: bool = False) -> None:
        self.problems.append(ImportProblem(row, field, message, conflict))

    def prepare(self, chunk: Sequence[tuple[int, CaseInput, SiteRow]]) -> list[_Item]:
        """Check a chunk's rows; the accepted ones, with their documents and columns."""
        checked: list[tuple[int, CaseInput, SiteRow, Case, tuple[dict[str, Any], str]]] = []
        for row, entry, site in chunk:
            try:
                case = check_case(entry.case)
                checked.append((row, entry, site, case, encoded_document(case)))
            except InputError as exc:
                self.problem(row, exc.field or "(case)", exc.message)
        derived = derive_columns([case for *_, case, _ in checked])
        items: list[_Item] = []
        for (row, entry, site, case, (document, text)), columns in zip(
            checked, derived, strict=True
        ):
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
                    text,
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
            after = item.text
            if current is None:
                values["site_id"] = item.site.id
                values["pseudonym"] = item.pseudonym
                values["version"] = 1
                values["created_at"] = self.now
                values["created_by"] = self.actor.username
                if self.copy:  # COPY takes the JSON text of the jsonb column
                    values["document"] = after
                inserts.append(values)
                self.audit.append_json(
                    "import", "case", item.case.id, site=item.site.code, after=after
                )
                self.created += 1
            else:
                updates.append({**values, "id": current.id, "version": current.version + 1})
                self.audit.append_json(
                    "import",
                    "case",
                    item.case.id,
                    site=item.site.code,
                    before=canonical_json(befores[current.id]),
                    after=after,
                )
                self.merged += 1
            self.case_ids.append(item.case.id)
        self._insert(inserts)
        if updates:
            self.session.execute(update(CaseRow), updates)
        self.audit.flush()

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        """One statement for the chunk's new cases (every row has every key of _INSERTED)."""
        if not rows:
            return
        insert_rows(
            self.session.connection(),
            CaseRow.metadata.tables[CaseRow.__tablename__],
            _INSERTED,
            [tuple(row[name] for name in _INSERTED) for row in rows],
        )


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
    with _collector_paused():
        return _run_import(
            session,
            audit,
            actor,
            entries,
            sites,
            default_site,
            merge=merge,
            source=source,
            on_progress=on_progress,
            chunk_size=chunk_size,
        )


def _run_import(
    session: Session,
    audit: AuditWriter,
    actor: User,
    entries: Sequence[CaseInput],
    sites: dict[str, SiteRow],
    default_site: str | None,
    *,
    merge: bool,
    source: str,
    on_progress: ProgressCallback | None,
    chunk_size: int,
) -> ImportReport:
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
