"""The tamper-evident audit log: an append-only hash chain.

Every create, update, delete, import and export (and every change to sites, users and tokens)
appends a record: who (``actor``), when (``at``, UTC, ISO 8601), what (``action``, ``entity``,
``entity_id``, ``site``) and the state before and after (canonical JSON text). Each record
carries ``prev_hash``, the hash of the record before it, and ``hash``::

    hash = SHA-256( prev_hash + "\\n" + canonical_json({seq, at, actor, action, entity,
                                                         entity_id, site, before, after}) )

Canonical JSON: keys sorted, no insignificant whitespace, UTF-8, NaN refused. ``before`` and
``after`` are stored as the exact text that was hashed, so verification never depends on how a
database returns JSON. The chain's end (last ``seq`` and ``hash``) is kept in ``audit_head``, a
single row that every writer locks (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers hold
the database's write lock), so records are appended one transaction at a time and a rolled-back
transaction leaves no gap.

What verification detects: a record whose content was edited (its hash no longer matches), a
record deleted from the middle (a gap in ``seq`` and a broken link), records reordered or
re-numbered (the sequence number is hashed), records removed from the end (``audit_head`` is
ahead of the last record). It also replays the chain and compares the tables with the state it
describes (``livermet.registry.audit_state``), so a direct SQL edit of a case, user, token or
site that the chain does not record is reported.

Anchors. The chain has no key: someone who controls the database can remove its last records
and rewrite ``audit_head``, or rewrite everything from some record on, recomputing every later
hash. Keep the head (``seq`` and ``hash``, :attr:`AuditVerification.head_hash`) outside the
database, after each session or daily; :func:`verify_audit` given such an :class:`AuditAnchor`
checks that the chain still holds that record with that hash, which detects a truncation or a
rewrite at or before it. Records appended after the newest anchor are as trustworthy as the
database: a consistent forgery there (records and rows changed together) is not detectable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, String, Table, Text, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from livermet.errors import InputError
from livermet.registry.models import AuditHeadRow, AuditRow

if TYPE_CHECKING:
    from livermet.registry.audit_state import StateMismatch

GENESIS_HASH = "0" * 64
_HEAD_ID = 1
_INSERT_CHUNK = 1000
_COLUMNS = ("seq", "at", "actor", "action", "entity", "entity_id", "site", "before", "after")
"""The hashed content of a record (with ``prev_hash``)."""
_ROW_COLUMNS = (*_COLUMNS, "prev_hash", "hash")
COPY_MIN_ROWS = 100
"""A flush of at least this many records (the bulk import's) is written by :func:`insert_rows`;
smaller flushes (every ordinary write) keep SQLAlchemy's ``INSERT``."""


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: one text per value, the input of the hashes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def record_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash of one record: SHA-256 over the previous hash and the record's content."""
    text = prev_hash + "\n" + canonical_json(fields)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _content(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in _COLUMNS}


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


class AuditWriter:
    """Appends records to the chain inside the caller's write transaction.

    Created at the start of a write transaction: it locks the chain's head, so that the
    transaction's reads (versions, duplicates) and its audit records are serialised with every
    other writer. Records are buffered and written by :meth:`flush` (called by the service at
    the end of the transaction), in bulk.
    """

    def __init__(self, session: Session, actor: str) -> None:
        self._session = session
        self.actor = actor
        head = session.execute(
            select(AuditHeadRow).where(AuditHeadRow.id == _HEAD_ID).with_for_update()
        ).scalar_one()
        self._seq = head.seq
        self._hash = head.hash
        self._pending: list[dict[str, Any]] = []

    def append(
        self,
        action: str,
        entity: str,
        entity_id: str,
        *,
        site: str | None = None,
        before: Any = None,
        after: Any = None,
    ) -> None:
        """Buffer one record (``before``/``after``: JSON-ready values or None)."""
        self.append_json(
            action,
            entity,
            entity_id,
            site=site,
            before=None if before is None else canonical_json(before),
            after=None if after is None else canonical_json(after),
        )

    def append_json(
        self,
        action: str,
        entity: str,
        entity_id: str,
        *,
        site: str | None = None,
        before: str | None = None,
        after: str | None = None,
    ) -> None:
        """:meth:`append` with ``before``/``after`` already encoded by :func:`canonical_json`
        (the bulk import encodes each document once, for the record and for PostgreSQL)."""
        self._seq += 1
        row: dict[str, Any] = {
            "seq": self._seq,
            "at": utc_now(),
            "actor": self.actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "site": site,
            "before": before,
            "after": after,
        }
        # the content is the row so far: exactly the keys of _COLUMNS
        row["hash"] = record_hash(self._hash, row)
        row["prev_hash"] = self._hash
        self._hash = row["hash"]
        self._pending.append(row)
        if len(self._pending) >= _INSERT_CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        if len(self._pending) >= COPY_MIN_ROWS:
            insert_rows(
                self._session.connection(),
                AuditRow.metadata.tables[AuditRow.__tablename__],
                _ROW_COLUMNS,
                [tuple(row[name] for name in _ROW_COLUMNS) for row in self._pending],
            )
        else:
            self._session.execute(insert(AuditRow), self._pending)
        self._session.execute(
            update(AuditHeadRow)
            .where(AuditHeadRow.id == _HEAD_ID)
            .values(seq=self._seq, hash=self._hash)
        )
        self._pending = []


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert many rows (values in the order of ``columns``) in the connection's transaction.

    PostgreSQL: one ``COPY`` (:func:`copy_rows`; a JSON column takes its JSON text). SQLite: one
    ``executemany`` of the sqlite3 driver, each value passed through its column's SQLAlchemy
    bind processor first (dates, JSON documents), as SQLAlchemy's ``INSERT`` would, without its
    per-row statement bookkeeping. A text holding a NUL character is refused as every other
    statement refuses it (``livermet.registry.db``).
    """
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name == "postgresql":
        copy_rows(connection, table.name, columns, rows)
        return
    if dialect.name != "sqlite":
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    convert = [
        (i, processor)
        for i, name in enumerate(columns)
        if (processor := table.c[name].type.bind_processor(dialect)) is not None
    ]
    if convert:
        converted: list[tuple[Any, ...]] = []
        for row in rows:
            values = list(row)
            for i, processor in convert:
                values[i] = processor(values[i])
            converted.append(tuple(values))
        rows = converted
    for i, name in enumerate(columns):
        if isinstance(table.c[name].type, (String, Text)):
            texts = [row[i] for row in rows if isinstance(row[i], str)]
            if "\x00" in "".join(texts):
                raise InputError("contains a NUL character (\\x00), which cannot be stored", name)
    names = ", ".join(f'"{name}"' for name in columns)
    statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    import sqlite3

    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    cursor = raw.cursor()
    try:
        cursor.executemany(statement, rows)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc
    finally:
        cursor.close()


def copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Write ``rows`` (values in the order of ``columns``) into ``table`` with PostgreSQL's
    ``COPY ... FROM STDIN``, in the connection's open transaction (psycopg 3).

    A failure aborts the transaction, as a failed ``INSERT`` would. A text holding a NUL
    character is refused with the same ``InputError`` as every other statement
    (``livermet.registry.db``): ``COPY`` does not pass through SQLAlchemy's statement events.
    Other database errors are raised as SQLAlchemy's (``IntegrityError``, ...).
    """
    import psycopg  # only PostgreSQL registries come here

    names = ", ".join(f'"{name}"' for name in columns)
    statement = f'COPY "{table}" ({names}) FROM STDIN'
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    last: Sequence[Any] = ()
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for last in rows:
                copy.write_row(last)
    except psycopg.Error as exc:
        if isinstance(exc, psycopg.DataError):  # psycopg refuses NUL before sending the row
            for name, value in zip(columns, last, strict=False):
                if isinstance(value, str) and "\x00" in value:
                    raise InputError(
                        "contains a NUL character (\\x00), which cannot be stored", name
                    ) from None
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


_ANCHOR = re.compile(r"^\s*(?:(\d+)\s*[: ]\s*)?([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True)
class AuditAnchor:
    """A head kept outside the database: record ``seq`` (when known) had hash ``hash``."""

    seq: int | None
    hash: str

    @classmethod
    def parse(cls, text: str) -> AuditAnchor:
        """``HASH``, ``SEQ HASH`` or ``SEQ:HASH`` (as ``livermet registry audit-head`` prints).

        Raises
        ------
        InputError
            (field ``head``) for anything else.
        """
        found = _ANCHOR.match(text)
        if found is None:
            raise InputError(
                f"an audit head is 64 hexadecimal digits, optionally preceded by its record "
                f"number ('SEQ HASH' or 'SEQ:HASH'), got {text.strip()[:80]!r}",
                "head",
            )
        return cls(None if found[1] is None else int(found[1]), found[2].lower())

    def __str__(self) -> str:
        return self.hash if self.seq is None else f"{self.seq} {self.hash}"


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of :func:`verify_audit`.

    Attributes
    ----------
    ok
        True when every record is intact and the chain is complete.
    records
        Number of records read.
    first_broken
        Sequence number of the first record found broken (None when intact).
    reason
        What is wrong with it, in words (None when intact).
    head_seq, head_hash
        The chain's end as recorded in ``audit_head``: note the hash elsewhere to anchor it.
    mismatches
        Every difference between the tables and the state the chain describes (empty when the
        chain itself is broken: the replay of a broken chain proves nothing). When there are
        any, ``first_broken`` is the record the first differing row contradicts (None when no
        record describes the row) and ``reason`` describes it.
    anchors
        Number of anchors checked and found.
    differences
        Number of differences between the tables and the chain, including those
        :meth:`visible_to` leaves out of ``mismatches``.
    """

    ok: bool
    records: int
    first_broken: int | None
    reason: str | None
    head_seq: int
    head_hash: str
    mismatches: tuple[StateMismatch, ...] = ()
    anchors: int = 0
    differences: int = 0

    def counted_only(self) -> AuditVerification:
        """The result without the differences' details (which quote identified values), for a
        user who reads de-identified data only."""
        if not self.mismatches:
            return self
        reason = f"rows differ from the audit log ({len(self.mismatches)} differences)"
        return dataclasses.replace(self, reason=reason, mismatches=())

    def visible_to(self, site: str | None) -> AuditVerification:
        """The result as a user of ``site`` may see it (None: every site): the differences at
        other sites are counted, not described."""
        if site is None or not self.mismatches:
            return self
        own = tuple(m for m in self.mismatches if m.site == site)
        hidden = len(self.mismatches) - len(own)
        if own:
            first, reason = own[0].seq, f"the tables differ from the audit log: {own[0]}"
        else:
            first, reason = None, "rows differ from the audit log"
        if hidden:
            reason += f" (differences at other sites not shown: {hidden})"
        return dataclasses.replace(self, first_broken=first, reason=reason, mismatches=own)


def _rows(session: Session) -> Iterator[dict[str, Any]]:
    columns = [getattr(AuditRow, name) for name in (*_COLUMNS, "prev_hash", "hash")]
    result = session.execute(
        select(*columns).order_by(AuditRow.seq).execution_options(yield_per=2000)
    )
    for row in result.mappings():
        yield dict(row)


def verify_audit(
    session: Session, anchors: Iterable[AuditAnchor] = (), *, state: bool = True
) -> AuditVerification:
    """Walk the chain from its first record and report the first broken one, if any.

    ``anchors``: heads kept outside the database, each of which the chain must still hold.
    ``state``: also compare the tables with the state the chain describes (the cohort columns
    are then recomputed from every case document: about half a millisecond per case).
    """
    from livermet.registry.audit_state import StateReplay  # it builds on this module

    anchors = tuple(anchors)
    head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == _HEAD_ID)).scalar_one()
    expected_seq, expected_prev, count = 1, GENESIS_HASH, 0
    by_seq = {a.seq: a.hash for a in anchors if a.seq is not None}
    if by_seq.get(0) == GENESIS_HASH:  # the head of an empty chain: always held
        del by_seq[0]
    by_hash = {a.hash for a in anchors if a.seq is None}
    replay = StateReplay() if state else None

    def broken(seq: int | None, reason: str) -> AuditVerification:
        return AuditVerification(False, count, seq, reason, head.seq, head.hash)

    for row in _rows(session):
        count += 1
        seq = row["seq"]
        if seq != expected_seq:
            if seq > expected_seq:
                missing = (
                    f"record {expected_seq} is missing"
                    if seq == expected_seq + 1
                    else f"records {expected_seq}-{seq - 1} are missing"
                )
                return broken(expected_seq, f"{missing} (deleted)")
            return broken(seq, f"record {seq} is out of sequence (expected {expected_seq})")
        if row["prev_hash"] != expected_prev:
            return broken(
                seq,
                f"record {seq} does not link to record {seq - 1}: a record before it was "
                "rewritten, removed or moved",
            )
        if record_hash(row["prev_hash"], _content(row)) != row["hash"]:
            return broken(seq, f"record {seq} was changed after it was written")
        if seq in by_seq and by_seq.pop(seq) != row["hash"]:
            return broken(
                seq,
                f"record {seq} does not have the anchored hash: the chain was rewritten at or "
                "before it",
            )
        by_hash.discard(row["hash"])
        if replay is not None:
            replay.feed(row)
        expected_seq, expected_prev = seq + 1, row["hash"]
    last = expected_seq - 1
    if head.seq != last or head.hash != expected_prev:
        if head.seq > last:
            return broken(last + 1, f"records {last + 1}-{head.seq} are missing (deleted)")
        return broken(head.seq, "the chain's recorded end does not match its last record")
    if by_seq:
        seq = min(by_seq)
        return broken(
            last + 1,
            f"anchored record {seq} is missing: the chain ends at record {last} (records were "
            "removed from its end and its head rewritten)",
        )
    if by_hash:
        return broken(
            None,
            f"the anchored head {min(by_hash)[:16]}... is not in the chain: records were removed "
            "from its end, or the chain was rewritten",
        )
    mismatches = tuple(replay.compare(session)) if replay is not None else ()
    anchored = len(set(anchors))
    if mismatches:
        first = mismatches[0]
        return AuditVerification(
            False,
            count,
            first.seq,
            f"the tables differ from the audit log: {first}"
            + (f" (and {len(mismatches) - 1} more differences)" if len(mismatches) > 1 else ""),
            head.seq,
            head.hash,
            mismatches,
            anchored,
            len(mismatches),
        )
    return AuditVerification(True, count, None, None, head.seq, head.hash, (), anchored)
