"""Verify the audit chain: records intact, chain complete, anchors held, tables as described.

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

The chain itself (records, hashes, the writer) is ``livermet.registry.audit``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livermet.errors import InputError
from livermet.registry.audit import (
    GENESIS_HASH,
    HEAD_ID,
    ROW_COLUMNS,
    record_content,
    record_hash,
)
from livermet.registry.audit_state import StateMismatch, StateReplay
from livermet.registry.models import AuditHeadRow, AuditRow

Break = tuple[int | None, str]
"""Where the chain is broken (the record's sequence number, None when unknown) and why."""

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
        """Return the anchor as ``SEQ HASH`` (or ``HASH``), as :meth:`parse` reads it."""
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
        """Return the result without the differences' details (they quote identified values).

        For a user who reads de-identified data only.
        """
        if not self.mismatches:
            return self
        reason = f"rows differ from the audit log ({len(self.mismatches)} differences)"
        return dataclasses.replace(self, reason=reason, mismatches=())

    def visible_to(self, site: str | None) -> AuditVerification:
        """Return the result as a user of ``site`` may see it (None: every site).

        The differences at other sites are counted, not described.
        """
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
    """Yield every record of the chain, in order, as a dict of its columns."""
    columns = [getattr(AuditRow, name) for name in ROW_COLUMNS]
    result = session.execute(
        select(*columns).order_by(AuditRow.seq).execution_options(yield_per=2000)
    )
    for row in result.mappings():
        yield dict(row)


def _link_break(row: dict[str, Any], expected_seq: int, expected_prev: str) -> Break | None:
    """Return how record ``row`` breaks the chain (None: it is intact and in its place)."""
    seq = row["seq"]
    if seq != expected_seq:
        if seq > expected_seq:
            missing = (
                f"record {expected_seq} is missing"
                if seq == expected_seq + 1
                else f"records {expected_seq}-{seq - 1} are missing"
            )
            return expected_seq, f"{missing} (deleted)"
        return seq, f"record {seq} is out of sequence (expected {expected_seq})"
    if row["prev_hash"] != expected_prev:
        return (
            seq,
            f"record {seq} does not link to record {seq - 1}: a record before it was "
            "rewritten, removed or moved",
        )
    if record_hash(row["prev_hash"], record_content(row)) != row["hash"]:
        return seq, f"record {seq} was changed after it was written"
    return None


class _ChainWalk:
    """The walk along the chain: what was read so far and which anchors are still to be found."""

    def __init__(self, anchors: tuple[AuditAnchor, ...], replay: StateReplay | None) -> None:
        self.by_seq = {a.seq: a.hash for a in anchors if a.seq is not None}
        if self.by_seq.get(0) == GENESIS_HASH:  # the head of an empty chain: always held
            del self.by_seq[0]
        self.by_hash = {a.hash for a in anchors if a.seq is None}
        self.replay = replay
        self.count = 0
        self.expected_seq, self.expected_prev = 1, GENESIS_HASH

    def feed(self, row: dict[str, Any]) -> Break | None:
        """Take the next record; return where the chain breaks, if it does here."""
        self.count += 1
        broken = _link_break(row, self.expected_seq, self.expected_prev)
        if broken is not None:
            return broken
        seq = row["seq"]
        if seq in self.by_seq and self.by_seq.pop(seq) != row["hash"]:
            return (
                seq,
                f"record {seq} does not have the anchored hash: the chain was rewritten at or "
                "before it",
            )
        self.by_hash.discard(row["hash"])
        if self.replay is not None:
            self.replay.feed(row)
        self.expected_seq, self.expected_prev = seq + 1, row["hash"]
        return None

    def end(self, head: AuditHeadRow) -> Break | None:
        """Return where the chain breaks at its end: the recorded head, anchors not found."""
        last = self.expected_seq - 1
        if head.seq != last or head.hash != self.expected_prev:
            if head.seq > last:
                return last + 1, f"records {last + 1}-{head.seq} are missing (deleted)"
            return head.seq, "the chain's recorded end does not match its last record"
        if self.by_seq:
            return (
                last + 1,
                f"anchored record {min(self.by_seq)} is missing: the chain ends at record {last} "
                "(records were removed from its end and its head rewritten)",
            )
        if self.by_hash:
            return (
                None,
                f"the anchored head {min(self.by_hash)[:16]}... is not in the chain: records were "
                "removed from its end, or the chain was rewritten",
            )
        return None


def _state_differs(
    count: int, head: AuditHeadRow, mismatches: tuple[StateMismatch, ...], anchored: int
) -> AuditVerification:
    """Return the verification of an intact chain whose tables differ from it."""
    first = mismatches[0]
    more = f" (and {len(mismatches) - 1} more differences)" if len(mismatches) > 1 else ""
    return AuditVerification(
        False,
        count,
        first.seq,
        f"the tables differ from the audit log: {first}{more}",
        head.seq,
        head.hash,
        mismatches,
        anchored,
        len(mismatches),
    )


def verify_audit(
    session: Session, anchors: Iterable[AuditAnchor] = (), *, state: bool = True
) -> AuditVerification:
    """Walk the chain from its first record and report the first broken one, if any.

    Parameters
    ----------
    session
        A session in a snapshot transaction (the chain and the rows of one moment).
    anchors
        Heads kept outside the database, each of which the chain must still hold.
    state
        Also compare the tables with the state the chain describes (the cohort columns are then
        recomputed from every case document: about half a millisecond per case).

    Returns
    -------
    AuditVerification
        The outcome; ``ok`` is True when nothing is wrong.
    """
    anchors = tuple(anchors)
    head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID)).scalar_one()
    walk = _ChainWalk(anchors, StateReplay() if state else None)
    broken: Break | None = None
    for row in _rows(session):
        broken = walk.feed(row)
        if broken is not None:
            break
    else:
        broken = walk.end(head)
    if broken is not None:
        return AuditVerification(False, walk.count, broken[0], broken[1], head.seq, head.hash)
    mismatches = tuple(walk.replay.compare(session)) if walk.replay is not None else ()
    anchored = len(set(anchors))
    if mismatches:
        return _state_differs(walk.count, head, mismatches, anchored)
    return AuditVerification(True, walk.count, None, None, head.seq, head.hash, (), anchored)
