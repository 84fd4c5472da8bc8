"""All-or-nothing import of many cases in one transaction, with bulk inserts.

The caller (``Registry.import_cases``) opens the write transaction and the audit writer; this
module checks every row, inserts the accepted ones in chunks and raises when any row was refused,
so that the transaction is rolled back and nothing is stored. Progress is reported after each
chunk, once its rows are in the transaction.

Speed (measured by ``benchmarks/registry_scale.py``): each chunk is one statement per table,
``COPY ... FROM STDIN`` on PostgreSQL and one ``executemany`` of the sqlite3 driver on SQLite
(``livermet.registry.audit.insert_rows``); each document is encoded once as canonical JSON, for
its audit record, for PostgreSQL's ``jsonb`` column and for the storage limits
(:func:`encoded_document`), and quoted as a JSON string by the preparation, so that the writer
assembles each audit record's hashed text from pieces (``AuditWriter.append_new``) instead of
encoding the document's text again; the garbage collector pauses during the import. The workers
also derive a chunk's columns as tuples (``livermet.registry.derive.derive_values``) and, on
SQLite, give every value as the columns' bind processors would (:func:`_sqlite_values`, the times
as the sqlite3 driver writes them), so that the writer passes the rows to the driver unchanged.

Two steps, so that the work per case runs on every processor while one writer keeps the
transaction: preparing a chunk (:func:`_prepare`: check the case, encode its document, derive its
columns, pseudonymise) is pure computation on the rows; storing it (:meth:`_Importer.store`:
duplicates against the registry, the audit chain, the inserts) happens in this process, chunk
after chunk in the rows' order. A large import (:data:`PARALLEL_MIN_ROWS`) prepares its chunks
in forked worker processes a few chunks ahead of the writer; the rows stored, the problems
reported and the audit chain are the same as when one process does everything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import itertools
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Dialect,
    Float,
    MetaData,
    Table,
    Text,
    select,
    update,
)
from sqlalchemy.orm import Session

from livermet.case.limits import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_INT, check_document
from livermet.case.model import Case
from livermet.errors import InputError
from livermet.registry.access import Action, User, require
from livermet.registry.audit import AuditWriter, canonical_json, insert_rows
from livermet.registry.derive import CaseColumns, derive_values
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
_TYPES = [CaseRow.__table__.c[name].type for name in _DERIVED]
_FLOATS = frozenset(i for i, kind in enumerate(_TYPES) if isinstance(kind, Float))
_FLAGS = frozenset(i for i, kind in enumerate(_TYPES) if isinstance(kind, Boolean))
"""Positions of the derived columns of type ``Float`` and ``Boolean`` (see _sqlite_values)."""
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
"""Columns of a new ``cases`` row, in the order :meth:`_Importer._new_row` gives them."""


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
    """Return True only when ``check_document`` would pass the document ``text`` encodes.

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
    """Return the document ``stored_document`` gives, and its canonical JSON (audit record).

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
    """Pause Python's cyclic garbage collector while an import runs.

    Every thread's imports share one pause; the last to finish restores the collector as it
    was. An import allocates millions of objects beside the cases it was given; each full collection
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


@dataclass(frozen=True)
class _Job:
    """What preparing an import's rows needs: plain values, which forked workers inherit.

    ``rows`` holds, for each placed row, its row number, the case as given, the hospital number
    and the site's id and pseudonym secret (a worker never touches the database session).
    ``stored`` gives the value of the ``document`` column from the document and its canonical
    JSON: the text itself for PostgreSQL's ``COPY``, SQLite's JSON text (the column's own bind
    processor), else the document.
    """

    rows: Sequence[tuple[int, Any, str | None, int, str]]
    stored: Callable[[dict[str, Any], str], Any]
    sqlite: bool = False
    """The values of the flags and the derived columns are given as SQLite stores them
    (:func:`_sqlite_values`)."""


class _Prepared(NamedTuple):
    """One accepted row as the preparation gives it back.

    Plain values in a tuple: a worker's results are unpickled by the importing process, where
    every microsecond per row counts.
    """

    position: int
    """Position of the row in the import's placed rows."""
    case_id: str
    synthetic: bool | int
    """Whether the case is synthetic (on SQLite: 1 or 0, see :class:`_Job`)."""
    text: str
    """The document as canonical JSON (the audit record's ``after``)."""
    quoted: str
    """``text`` as a JSON string (``encode_basestring``), as the audit record's hash takes it."""
    stored: Any
    """The value of the ``document`` column (see :class:`_Job`)."""
    derived: tuple[Any, ...]
    """The derived columns' values, in the order of ``_DERIVED``."""
    pseudonym: str


def _prepare(job: _Job, start: int, stop: int) -> list[_Prepared | ImportProblem]:
    """Check, encode and derive rows ``start:stop`` of ``job``, in order.

    Each row gives a :class:`_Prepared`, or the :class:`ImportProblem` that refuses it (the
    field and message of the ``InputError``), exactly as one process would: this runs in the
    importing process or, for a large import, in a worker process (:func:`_prepared_chunks`).
    """
    out: list[_Prepared | ImportProblem] = []
    checked: list[tuple[int, Case, dict[str, Any], str]] = []
    for index in range(start, stop):
        row, given = job.rows[index][:2]
        try:
            case = check_case(given)
            checked.append((index, case, *encoded_document(case)))
        except InputError as exc:
            out.append(ImportProblem(row, exc.field or "(case)", exc.message))
    derived = derive_values([case for _, case, _, _ in checked])
    for (index, case, document, text), columns in zip(checked, derived, strict=True):
        row, _, hospital_number, _, secret = job.rows[index]
        if isinstance(columns, InputError):
            out.append(ImportProblem(row, columns.field or "(case)", columns.message))
            continue
        try:
            pseudonym = _pseudonym(hospital_number, case.id, secret)
        except InputError as exc:
            out.append(ImportProblem(row, exc.field or "hospital_number", exc.message))
            continue
        synthetic: bool | int = is_synthetic(case)
        if job.sqlite:
            synthetic, columns = int(synthetic), _sqlite_values(columns)
        stored = job.stored(document, text)
        out.append(
            _Prepared(
                index, case.id, synthetic, text, encode_basestring(text), stored, columns, pseudonym
            )
        )
    return out


def _sqlite_values(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return derived values as the columns' SQLite bind processors give them.

    SQLAlchemy's ``Float`` gives ``float(value)``, its ``Boolean`` 1 or 0 (``death``); the
    other columns take their values as they are. The writer then inserts the values unchanged
    (``insert_rows(..., bound=True)``).
    """
    return tuple(
        v if v is None else float(v) if i in _FLOATS else _flag(v) if i in _FLAGS else v
        for i, v in enumerate(values)
    )


def _flag(value: Any) -> int:
    """SQLAlchemy's ``Boolean`` on SQLite: 1 or 0, and a value that is no flag refused."""
    if value is not True and value is not False and value not in (0, 1):
        raise TypeError(f"Not a boolean value: {value!r}")
    return int(value)


PARALLEL_MIN_ROWS = 5000
"""Imports of at least this many rows are prepared (:func:`_prepare`) by worker processes, one
per processor, while this process stores the chunks already prepared; smaller imports (a web
form's file, the tests) are prepared in this process. Workers are forked (POSIX): they inherit
the rows instead of receiving them pickled, which would cost more than preparing them."""
MAX_WORKERS = 8
"""At most this many worker processes, however many processors the machine has."""

_jobs: dict[int, _Job] = {}
"""Imports under way in this process, by id: a worker forked for an import finds its job here."""
_jobs_lock = threading.Lock()
_job_ids = itertools.count(1)


def _prepare_in_worker(job_id: int, start: int, stop: int) -> list[_Prepared | ImportProblem]:
    """:func:`_prepare` in a worker process, on the job it inherited when it was forked."""
    return _prepare(_jobs[job_id], start, stop)


PARENT_CHECK_SECONDS = 0.2
"""How often a worker checks that the importing process is still alive."""


def _end_with_parent(parent: int) -> None:
    """Start a thread that ends this worker once process ``parent`` has gone (killed).

    A worker waits for its next chunk on a pipe that its sibling workers also hold open, so it
    would not see its parent die: it would wait for ever, holding its copy of the rows.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="livermet-import-parent", daemon=True).start()


def _worker_count(rows: int) -> int:
    """Worker processes for an import of ``rows`` rows: 0 (prepare here) or at least 2."""
    if rows < PARALLEL_MIN_ROWS or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    return workers if workers >= 2 else 0


def _prepared_chunks(
    job: _Job, chunk_size: int
) -> Generator[tuple[int, list[_Prepared | ImportProblem]], None, None]:
    """Yield each chunk's size and its prepared rows, chunk after chunk, in the rows' order.

    With workers (:func:`_worker_count`), a few chunks are prepared ahead while the caller
    stores the current one; the caller's order, and so the audit chain, is that of the rows
    whatever the workers' speed. An error other than a refused row (a bug) is raised here,
    from the chunk in which it happened; the workers are stopped when the import ends.
    """
    total = len(job.rows)
    bounds = [(s, min(s + chunk_size, total)) for s in range(0, total, chunk_size)]
    workers = _worker_count(total)
    if not workers:
        for start, stop in bounds:
            yield stop - start, _prepare(job, start, stop)
        return
    with _jobs_lock:
        job_id = next(_job_ids)
        _jobs[job_id] = job
    try:
        yield from _in_workers(job_id, bounds, workers)
    finally:
        with _jobs_lock:
            del _jobs[job_id]


def _in_workers(
    job_id: int, bounds: list[tuple[int, int]], workers: int
) -> Iterator[tuple[int, list[_Prepared | ImportProblem]]]:
    """Prepare the chunks ``bounds`` of job ``job_id`` in forked workers (see above)."""
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_end_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        waiting = iter(bounds)
        ahead: deque[tuple[int, Future[list[_Prepared | ImportProblem]]]] = deque()
        for start, stop in itertools.islice(waiting, 2 * workers):
            ahead.append((stop - start, pool.submit(_prepare_in_worker, job_id, start, stop)))
        while ahead:
            size, future = ahead.popleft()
            following = next(waiting, None)
            if following is not None:
                start, stop = following
                ahead.append((stop - start, pool.submit(_prepare_in_worker, job_id, start, stop)))
            yield size, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Item:
    row: int
    entry: CaseInput
    site: SiteRow
    prepared: _Prepared


@dataclass(frozen=True)
class _Existing:
    id: int
    case_id: str
    version: int


def case_values(
    case: Case, document: dict[str, Any], columns: CaseColumns, actor: str, now: dt.datetime
) -> dict[str, Any]:
    """Return the column values of a ``cases`` row (without site, pseudonym and version)."""
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


def _pseudonym(hospital_number: str | None, case_id: str, secret: str) -> str:
    """Return the pseudonym of a hospital number, else of the case id, under a site's secret."""
    if hospital_number is not None:
        return pseudonymise(hospital_number, secret)
    return pseudonymise_case_id(case_id, secret)


def pseudonym_for(entry: CaseInput, case: Case, site: SiteRow) -> str:
    """Return the pseudonym of ``entry`` at ``site`` (of its hospital number, else its id)."""
    return _pseudonym(entry.hospital_number, case.id, site.pseudonym_secret)


def _stored_document(dialect: Dialect) -> Callable[[dict[str, Any], str], Any]:
    """How the preparation gives the ``document`` column's value on ``dialect`` (see _Job)."""
    if dialect.name == "postgresql":  # COPY takes the JSON text of the jsonb column
        return _text_of
    processor = CaseRow.__table__.c.document.type.bind_processor(dialect)
    if dialect.name == "sqlite" and processor is not None:
        return lambda document, _text: processor(document)
    return _document_of


def _text_of(_document: dict[str, Any], text: str) -> str:
    return text


def _document_of(document: dict[str, Any], _text: str) -> dict[str, Any]:
    return document


def _text_document_table(table: Table) -> Table:
    """``table`` with its JSON column typed as text: SQLite receives the prepared JSON text."""
    columns = [
        Column(c.name, Text() if isinstance(c.type, JSON) else c.type) for c in table.columns
    ]
    return Table(table.name, MetaData(), *columns)


_CASES = CaseRow.metadata.tables[CaseRow.__tablename__]
_CASES_TEXT_DOCUMENT = _text_document_table(_CASES)


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
        dialect = session.connection().dialect
        self.stored = _stored_document(dialect)
        self.sqlite = dialect.name == "sqlite"
        self.table = _CASES_TEXT_DOCUMENT if self.sqlite else _CASES
        # The time as SQLite stores it (the sqlite3 driver's adapter: isoformat(" ")), once.
        self.stamp: dt.datetime | str = self.now.isoformat(" ") if self.sqlite else self.now

    def problem(self, row: int, field: str, message: str, conflict: bool = False) -> None:
        self.problems.append(ImportProblem(row, field, message, conflict))

    def accept(
        self,
        chunk: Sequence[tuple[int, CaseInput, SiteRow]],
        prepared: list[_Prepared | ImportProblem],
        start: int,
    ) -> list[_Item]:
        """Record a chunk's refused rows; its accepted rows that are first in the file.

        ``chunk`` is the placed rows from ``start`` on, which ``prepared`` describes.
        """
        items: list[_Item] = []
        for result in prepared:
            if isinstance(result, ImportProblem):
                self.problems.append(result)
                continue
            row, entry, site = chunk[result.position - start]
            if self._first_in_file(row, result.case_id, site, result.pseudonym, entry):
                items.append(_Item(row, entry, site, result))
        return items

    def _first_in_file(
        self, row: int, case_id: str, site: SiteRow, pseudonym: str, entry: CaseInput
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
        if case_id in self.seen_ids:
            self.problem(
                row,
                "id",
                f"case id {case_id!r} is also used by row {self.seen_ids[case_id]}",
                conflict=True,
            )
            return False
        self.seen_pseudonyms[key] = row
        self.seen_ids[case_id] = row
        return True

    def _merges(self, items: list[_Item]) -> list[tuple[int, str]]:
        if not self.merge:
            return []
        keys = ((i.site.id, i.prepared.pseudonym) for i in items)
        return [k for k in keys if k in self.existing]

    def _documents(self, ids: list[int]) -> dict[int, Any]:
        """Return the stored documents of the cases an import merges into (audit "before")."""
        if not ids:
            return {}
        rows = self.session.execute(select(CaseRow.id, CaseRow.document).where(CaseRow.id.in_(ids)))
        return {r.id: r.document for r in rows}

    def _refused(self, item: _Item, current: _Existing | None) -> bool:
        """Record why a prepared row cannot be stored, against what the registry holds."""
        p = item.prepared
        owner = self.taken.get(p.case_id)
        if owner is not None and owner != (item.site.id, p.pseudonym):
            self.problem(
                item.row,
                "id",
                f"case id {p.case_id!r} is already used by another case of the registry",
                conflict=True,
            )
            return True
        if current is not None and not self.merge:
            self.problem(
                item.row,
                "hospital_number" if item.entry.hospital_number is not None else "id",
                f"the registry already holds this patient at site {item.site.code} as case "
                f"{current.case_id!r} (import with merge to update it)",
                conflict=True,
            )
            return True
        version = item.entry.version
        if current is not None and version not in {None, current.version}:
            self.problem(
                item.row,
                "version",
                f"case {current.case_id!r} was changed since it was exported (the file has "
                f"version {version}, the registry version {current.version}); export "
                "it again and re-apply the changes",
                conflict=True,
            )
            return True
        return False

    def store(self, items: list[_Item]) -> None:
        """Insert the new cases and merge the duplicates of a chunk (unless already refused)."""
        if not items:
            return
        inserts: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        befores = self._documents([self.existing[k].id for k in self._merges(items)])
        for item in items:
            p = item.prepared
            current = self.existing.get((item.site.id, p.pseudonym))
            if self._refused(item, current) or self.problems:
                continue  # keep checking, but nothing more will be stored
            if current is None:
                inserts.append(self._new_row(item))
                self.audit.append_new(
                    "import", "case", p.case_id, item.site.code, (p.text, p.quoted)
                )
                self.created += 1
            else:
                updates.append(self._merged_row(item, current))
                self.audit.append_json(
                    "import",
                    "case",
                    p.case_id,
                    site=item.site.code,
                    before=canonical_json(befores[current.id]),
                    after=p.text,
                )
                self.merged += 1
            self.case_ids.append(p.case_id)
        if inserts:  # one statement for the chunk's new cases, bound by the workers on SQLite
            connection = self.session.connection()
            insert_rows(connection, self.table, _INSERTED, inserts, bound=self.sqlite)
        if updates:
            self.session.execute(update(CaseRow), updates)
        self.audit.flush()

    def _new_row(self, item: _Item) -> tuple[Any, ...]:
        """Return the values of a new ``cases`` row, in the order of ``_INSERTED``."""
        p, actor, now = item.prepared, self.actor.username, self.stamp
        return (
            *(p.case_id, p.synthetic, p.stored),
            *p.derived,
            *(now, actor, item.site.id, p.pseudonym, 1, now, actor),
        )

    def _merged_row(self, item: _Item, current: _Existing) -> dict[str, Any]:
        """Return the values that update a stored case with an imported one (a merge).

        The document is built again here from the case as given (merges are few): the update
        goes through the ``document`` column's own type, as every ordinary write does.
        """
        p = item.prepared
        document = case_document(check_case(item.entry.case))
        values = {
            "case_id": p.case_id,
            "synthetic": p.synthetic,
            "document": document,
            **dict(zip(_DERIVED, p.derived, strict=True)),
            "updated_at": self.now,
            "updated_by": self.actor.username,
        }
        return {**values, "id": current.id, "version": current.version + 1}


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


SQLITE_DEFAULT_CACHE_KIB = 2000
"""SQLite's default page cache (``PRAGMA cache_size=-2000`` KiB, 2,000 KiB)."""
SQLITE_CACHE_KIB_PER_ROW = 0.5
"""SQLite page cache an import gets per row (KiB), beyond the default 2 MiB: enough for the new
rows' index entries (the pseudonyms are random, so their pages are written again and again) to
stay in memory until the commit, while the table pages, written once, are spilled to the
write-ahead log as the transaction grows (during the import instead of at its commit: measured
on 100,000 rows, the commit then takes 1.0 s instead of 1.3-1.6 s with 4 KiB per row, and the
log is as large). 100,000 rows: 50 MiB at most, as needed."""


@contextmanager
def _page_cache(session: Session, rows: int) -> Iterator[None]:
    """Give a SQLite connection a page cache for ``rows`` new rows during the import."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or rows < CHUNK_SIZE:
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    kib = SQLITE_DEFAULT_CACHE_KIB + int(SQLITE_CACHE_KIB_PER_ROW * rows)
    connection.exec_driver_sql(f"PRAGMA cache_size=-{kib:d}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before):d}")


def _place(
    entries: Sequence[CaseInput], sites: dict[str, SiteRow], default_site: str | None
) -> tuple[list[tuple[int, CaseInput, SiteRow]], list[ImportProblem]]:
    """Each entry's row number and site; the rows refused for their site."""
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
    return placed, problems


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
    placed, problems = _place(entries, sites, default_site)
    for code in sorted({site.code for _, _, site in placed}):
        require(actor, Action.WRITE, code)
    site_ids = {site.id for _, _, site in placed}
    importer = _Importer(session, audit, actor, merge=merge, source=source, site_ids=site_ids)
    importer.problems.extend(problems)
    job = _Job(
        [
            (row, entry.case, entry.hospital_number, site.id, site.pseudonym_secret)
            for row, entry, site in placed
        ],
        importer.stored,
        importer.sqlite,
    )
    total = len(entries)
    done = total - len(placed)
    start = 0
    chunks = _prepared_chunks(job, chunk_size)
    with _page_cache(session, len(placed)), closing(chunks):  # closing: stop the workers
        for size, prepared in chunks:
            importer.store(importer.accept(placed[start : start + size], prepared, start))
            start += size
            done += size
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
