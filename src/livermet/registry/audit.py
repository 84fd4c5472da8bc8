r"""The tamper-evident audit log: an append-only hash chain.

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

Verification (the chain walked, anchors and the tables compared with it) is in
``livermet.registry.audit_verification``; the replay of the chain to the state it describes in
``livermet.registry.audit_state``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import operator
import sqlite3
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Connection, Dialect, String, Table, Text, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from livermet.errors import InputError
from livermet.registry.models import AuditHeadRow, AuditRow

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record, and the head of an empty chain."""
HEAD_ID = 1
"""The id of the single row of ``audit_head``."""
_INSERT_CHUNK = 1000
HASHED_COLUMNS = ("seq", "at", "actor", "action", "entity", "entity_id", "site", "before", "after")
"""The hashed content of a record (with ``prev_hash``)."""
ROW_COLUMNS = (*HASHED_COLUMNS, "prev_hash", "hash")
"""Every column of a record, in the order the bulk path writes them."""
_row_values = operator.itemgetter(*ROW_COLUMNS)
"""A record's values (a tuple), in the order of :data:`ROW_COLUMNS`."""
COPY_MIN_ROWS = 100
"""A flush of at least this many records (the bulk import's) is written by :func:`insert_rows`;
smaller flushes (every ordinary write) keep SQLAlchemy's ``INSERT``."""


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
"""The encoder ``json.dumps`` builds for these options on every call (it keeps no state)."""


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: one text per value, the input of the hashes."""
    return _CANONICAL.encode(value)


def record_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """Return the hash of one record: SHA-256 over the previous hash and its content."""
    text = prev_hash + "\n" + canonical_json(fields)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_content(row: dict[str, Any]) -> dict[str, Any]:
    """Return the hashed content of a record (the fields of :data:`HASHED_COLUMNS`)."""
    return {k: row[k] for k in HASHED_COLUMNS}


def utc_now() -> str:
    """Return the time now, UTC, ISO 8601 with microseconds (a record's ``at``)."""
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
            select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).with_for_update()
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
        """Buffer one record whose ``before``/``after`` are encoded by :func:`canonical_json`.

        The bulk import encodes each document once, for the record and for PostgreSQL.
        """
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
        # the content is the row so far: exactly the keys of HASHED_COLUMNS
        row["hash"] = record_hash(self._hash, row)
        row["prev_hash"] = self._hash
        self._hash = row["hash"]
        self._pending.append(row)
        if len(self._pending) >= _INSERT_CHUNK:
            self.flush()

    def append_new(
        self, action: str, entity: str, entity_id: str, site: str | None, after: tuple[str, str]
    ) -> None:
        """Buffer the record of a new entity: :meth:`append_json` with ``after=after[0]``.

        ``after`` is the canonical JSON text of the entity and that text as a JSON string,
        ``json.encoder.encode_basestring(text)``, which the bulk import's workers encode. The
        hashed content is assembled from its pieces, in the order of the sorted keys, into the
        text :func:`canonical_json` gives for the record.
        """
        self._seq += 1
        at = utc_now()
        quote = encode_basestring
        content = (
            f'{{"action":{quote(action)},"actor":{quote(self.actor)},"after":{after[1]},'
            f'"at":{quote(at)},"before":null,"entity":{quote(entity)},'
            f'"entity_id":{quote(entity_id)},"seq":{self._seq:d},'
            f'"site":{"null" if site is None else quote(site)}}}'
        )
        digest = hashlib.sha256(f"{self._hash}\n{content}".encode()).hexdigest()
        self._pending.append(
            {
                "seq": self._seq,
                "at": at,
                "actor": self.actor,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "site": site,
                "before": None,
                "after": after[0],
                "hash": digest,
                "prev_hash": self._hash,
            }
        )
        self._hash = digest
        if len(self._pending) >= _INSERT_CHUNK:
            self.flush()

    def flush(self) -> None:
        """Write the buffered records and move the chain's head (in the open transaction)."""
        if not self._pending:
            return
        if len(self._pending) >= COPY_MIN_ROWS:
            insert_rows(
                self._session.connection(),
                AuditRow.metadata.tables[AuditRow.__tablename__],
                ROW_COLUMNS,
                list(map(_row_values, self._pending)),
            )
        else:
            self._session.execute(insert(AuditRow), self._pending)
        self._session.execute(
            update(AuditHeadRow)
            .where(AuditHeadRow.id == HEAD_ID)
            .values(seq=self._seq, hash=self._hash)
        )
        self._pending = []


def insert_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    bound: bool = False,
) -> None:
    """Insert many rows (values in the order of ``columns``) in the connection's transaction.

    PostgreSQL: one ``COPY`` (:func:`copy_rows`; a JSON column takes its JSON text). SQLite: one
    ``executemany`` of the sqlite3 driver, each value passed through its column's SQLAlchemy
    bind processor first (dates, JSON documents), as SQLAlchemy's ``INSERT`` would, without its
    per-row statement bookkeeping. A text holding a NUL character is refused as every other
    statement refuses it (``livermet.registry.engine``).

    ``bound``: on SQLite, the caller has passed the values through their columns' bind
    processors already (the bulk import's workers do).
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
    if not bound:
        rows = _bound(table, columns, rows, dialect)
    _refuse_nul_texts(table, columns, rows)
    _sqlite_insert(connection, table.name, columns, rows)


def _bound(
    table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]], dialect: Dialect
) -> list[tuple[Any, ...]]:
    """Return the rows with each value passed through its column's bind processor (if any)."""
    convert = [
        (i, processor)
        for i, name in enumerate(columns)
        if (processor := table.c[name].type.bind_processor(dialect)) is not None
    ]
    if not convert:
        return rows
    converted: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(row)
        for i, processor in convert:
            values[i] = processor(values[i])
        converted.append(tuple(values))
    return converted


def _refuse_nul_texts(table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Raise ``InputError`` naming the column when a text value holds a NUL character.

    The first such column of ``columns``; a text column's values are joined at once (in C),
    those of a column that also holds other values (None) after leaving them out.
    """
    texts = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, (String, Text))]
    if not texts or not rows:
        return
    by_column = list(zip(*rows, strict=True))
    for i in texts:
        values = by_column[i]
        try:
            joined = "".join(values)
        except TypeError:  # None, or a value of another type
            joined = "".join([value for value in values if isinstance(value, str)])
        if "\x00" in joined:
            raise InputError("contains a NUL character (\\x00), which cannot be stored", columns[i])


def _sqlite_insert(
    connection: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert bound rows with one ``executemany`` of the sqlite3 driver.

    Driver errors are raised as SQLAlchemy's (``IntegrityError``, ...).
    """
    names = ", ".join(f'"{name}"' for name in columns)
    statement = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
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
    """Write ``rows`` (values in the order of ``columns``) into ``table`` with ``COPY``.

    PostgreSQL's ``COPY ... FROM STDIN``, in the connection's open transaction (psycopg 3).

    A failure aborts the transaction, as a failed ``INSERT`` would. A text holding a NUL
    character is refused with the same ``InputError`` as every other statement
    (``livermet.registry.engine``): ``COPY`` does not pass through SQLAlchemy's statement events.
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
