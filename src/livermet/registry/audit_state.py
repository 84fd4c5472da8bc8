"""Compare the registry's tables with the state the audit chain says they hold.

The chain alone proves that its records were not changed; it says nothing of a direct SQL edit
of ``cases`` or ``users`` that leaves the audit log alone. :class:`StateReplay` replays the
chain's after-images to the state they describe, the latest one of every case, user, API token
and site, and :meth:`StateReplay.compare` compares it with the current rows:

- cases: existence (a deleted case must not exist, an existing one must have been created),
  site, version (1 when created, one more for each later after-image), the stored document,
  ``created_by``/``updated_by`` (the actors of the records), the synthetic flag and the derived
  cohort columns (recomputed from the document, ``livermet.registry.derive``);
- users: existence, role, site, active flag and the password (a digest of the stored hash,
  when the record holds one);
- API tokens: existence, owner, label, revoked or not, and a digest of the stored token hash;
- sites: existence, name and a digest of the pseudonym secret.

The audit never holds a secret: passwords, token hashes and site secrets enter it only as
:func:`secret_digest`, a SHA-256 under a fixed prefix of what the table stores (which reveals
neither the stored value nor, for a password, anything to guess it against). A digest missing
from a record (one written by an earlier livermet) is not compared.

Not compared: timestamps (``created_at``, ``updated_at``, ``revoked_at``'s value), the case
pseudonym (the audit holds no pseudonyms) and the users' ``session_version`` (session state).
Records of actions the replay does not know (reads, exports, imports as a whole and any action
added later) are ignored: they change no state. Case documents are remembered by a digest of
their canonical text, so that a replay of a large registry stays small in memory.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livermet.case.model import Case
from livermet.errors import InputError
from livermet.registry.audit import canonical_json
from livermet.registry.derive import derive_columns
from livermet.registry.documents import SYNTHETIC_SOURCE, case_from_document
from livermet.registry.models import AuditRow, CaseRow, SiteRow, TokenRow, UserRow

CASE_ACTIONS = frozenset({"create", "update", "import", "delete"})
USER_ACTIONS = frozenset({"user.create", "user.update", "user.password"})
TOKEN_ACTIONS = frozenset({"token.create", "token.revoke"})
SITE_ACTIONS = frozenset({"site.create"})
_DERIVE_BATCH = 500


def secret_digest(value: str | None) -> str | None:
    """Return what the audit records of a stored secret (password hash, token hash, site key)."""
    if value is None:
        return None
    return hashlib.sha256(b"livermet-audit-digest\n" + value.encode("utf-8")).hexdigest()


def _text_digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


@dataclass(frozen=True)
class StateMismatch:
    """One difference between a table row and the state the audit chain describes.

    ``expected`` is what the chain says (``seq``: the record that says it; None when no record
    describes the row), ``found`` what the table holds. ``field`` names the column, or
    ``document.<path>`` inside a case document, or ``(exists)`` for a row that should (not)
    exist.
    """

    entity: str
    entity_id: str
    site: str | None
    field: str
    expected: Any
    found: Any
    seq: int | None

    def __str__(self) -> str:
        """Describe the difference in one sentence."""
        where = f" (record {self.seq})" if self.seq is not None else " (no record)"
        if self.field == "(exists)":
            said = "exists" if self.expected else "does not exist"
            held = "holds it" if self.found else "has no such row"
            return (
                f"{self.entity} {self.entity_id!r}: the audit log says it {said}{where}, "
                f"the table {held}"
            )
        return (
            f"{self.entity} {self.entity_id!r}: {self.field}: the audit log says "
            f"{self.expected!r}{where}, the table holds {self.found!r}"
        )


@dataclass
class _Case:
    seq: int
    site: str | None
    version: int
    digest: bytes
    created_by: str
    updated_by: str


@dataclass
class _Entity:
    seq: int
    state: dict[str, Any] = field(default_factory=dict)


class StateReplay:
    """Fed every record of an intact chain in order (:meth:`feed`), then compared with the rows."""

    def __init__(self) -> None:
        self.cases: dict[str, _Case | None] = {}  # None: deleted
        self.users: dict[str, _Entity] = {}
        self.tokens: dict[str, _Entity] = {}
        self.sites: dict[str, _Entity] = {}

    def feed(self, row: dict[str, Any]) -> None:
        """Take the next record of the chain (a dict of its columns)."""
        entity, action, key = row["entity"], row["action"], row["entity_id"]
        if entity == "case" and action in CASE_ACTIONS:
            self._case(row, key)
        elif entity == "user" and action in USER_ACTIONS and row["after"] is not None:
            self._merge(self.users, row, key)
        elif entity == "token" and action in TOKEN_ACTIONS and row["after"] is not None:
            self._merge(self.tokens, row, key)
            if action == "token.revoke":
                self.tokens[key].state["revoked"] = True
        elif entity == "site" and action in SITE_ACTIONS and row["after"] is not None:
            self._merge(self.sites, row, key)

    def _case(self, row: dict[str, Any], key: str) -> None:
        if row["after"] is None:
            if row["before"] is not None:  # a deletion
                self.cases[key] = None
            return
        current = self.cases.get(key)
        if row["before"] is None or current is None:  # created (or re-created after deletion)
            self.cases[key] = _Case(
                row["seq"], row["site"], 1, _text_digest(row["after"]), row["actor"], row["actor"]
            )
        else:
            current.seq, current.site, current.version = (
                row["seq"],
                row["site"],
                current.version + 1,
            )
            current.digest, current.updated_by = _text_digest(row["after"]), row["actor"]

    @staticmethod
    def _merge(into: dict[str, _Entity], row: dict[str, Any], key: str) -> None:
        entity = into.setdefault(key, _Entity(row["seq"]))
        entity.seq = row["seq"]
        after = json.loads(row["after"])
        if isinstance(after, dict):
            entity.state.update(after)

    # --- comparison --------------------------------------------------------------------------

    def compare(self, session: Session, *, derived: bool = True) -> list[StateMismatch]:
        """Every difference between the tables and the replayed state."""
        found: list[StateMismatch] = []
        found += self._compare_sites(session)
        found += self._compare_users(session)
        found += self._compare_tokens(session)
        found += _CaseComparison(self, session, derived).run()
        return found

    def _compare_sites(self, session: Session) -> list[StateMismatch]:
        out: list[StateMismatch] = []
        rows = {r.code: r for r in session.scalars(select(SiteRow))}
        for code in sorted(rows.keys() | self.sites.keys()):
            row, seen = rows.get(code), self.sites.get(code)
            if row is None or seen is None:
                out.append(_existence("site", code, code, seen, row))
                continue
            values = {"name": row.name, "secret_digest": secret_digest(row.pseudonym_secret)}
            out += _fields("site", code, code, seen, values)
        return out

    def _compare_users(self, session: Session) -> list[StateMismatch]:
        out: list[StateMismatch] = []
        query = select(UserRow, SiteRow.code).outerjoin(SiteRow, SiteRow.id == UserRow.site_id)
        rows = {u.username: (u, code) for u, code in session.execute(query)}
        for name in sorted(rows.keys() | self.users.keys()):
            pair, seen = rows.get(name), self.users.get(name)
            site = pair[1] if pair else seen.state.get("site") if seen else None
            if pair is None or seen is None:
                out.append(_existence("user", name, site, seen, pair))
                continue
            user, code = pair
            values = {
                "role": user.role,
                "site": code,
                "active": bool(user.active),
                "password_digest": secret_digest(user.password_hash),
            }
            out += _fields("user", name, site, seen, values)
        return out

    def _compare_tokens(self, session: Session) -> list[StateMismatch]:
        out: list[StateMismatch] = []
        query = (
            select(TokenRow, UserRow.username, SiteRow.code)
            .join(UserRow, UserRow.id == TokenRow.user_id)
            .outerjoin(SiteRow, SiteRow.id == UserRow.site_id)
        )
        rows = {str(t.id): (t, name, code) for t, name, code in session.execute(query)}
        for key in sorted(rows.keys() | self.tokens.keys(), key=lambda k: (len(k), k)):
            triple, seen = rows.get(key), self.tokens.get(key)
            site = triple[2] if triple else None
            if triple is None or seen is None:
                out.append(_existence("token", key, site, seen, triple))
                continue
            token, owner, _ = triple
            values = {
                "user": owner,
                "label": token.label,
                "revoked": token.revoked_at is not None,
                "digest": secret_digest(token.token_hash),
            }
            seen.state.setdefault("revoked", False)
            out += _fields("token", key, site, seen, values)
        return out


def _existence(
    entity: str, key: str, site: str | None, seen: _Entity | None, row: object
) -> StateMismatch:
    return StateMismatch(
        entity, key, site, "(exists)", seen is not None, row is not None, seen.seq if seen else None
    )


def _fields(
    entity: str, key: str, site: str | None, seen: _Entity, values: dict[str, Any]
) -> list[StateMismatch]:
    """Differences in the fields the chain records (a field it does not record is skipped)."""
    return [
        StateMismatch(entity, key, site, name, seen.state[name], value, seen.seq)
        for name, value in values.items()
        if name in seen.state and seen.state[name] != value
    ]


class _CaseComparison:
    """Streams the ``cases`` table against the replayed cases (documents are not all kept)."""

    _COLUMNS = (
        "age_years",
        "sex",
        "histology",
        "site_group",
        "approach",
        "timing",
        "grade",
        "stage",
        "liver_resection_day",
        "os_months",
        "death",
        "efs_months",
        "first_event",
    )

    def __init__(self, replay: StateReplay, session: Session, derived: bool) -> None:
        self.replay, self.session, self.derived = replay, session, derived
        self.out: list[StateMismatch] = []
        self.batch: list[tuple[Any, str]] = []  # (a row of ``cases``, its site code)

    def run(self) -> list[StateMismatch]:
        # plain rows, not ORM objects: a third of the time on a large registry
        columns = [c for c in CaseRow.__table__.c if c.name not in ("created_at", "updated_at")]
        query = (
            select(*columns, SiteRow.code.label("site_code"))
            .join(SiteRow, SiteRow.id == CaseRow.site_id)
            .order_by(CaseRow.case_id)
            .execution_options(yield_per=1000)
        )
        present: set[str] = set()
        for row in self.session.execute(query):
            present.add(row.case_id)
            self._row(row, row.site_code)
        self._derive()
        for key, seen in sorted(self.replay.cases.items()):
            if seen is not None and key not in present:
                self.out.append(
                    StateMismatch("case", key, seen.site, "(exists)", True, False, seen.seq)
                )
        return self.out

    def _add(
        self, row: Any, site: str | None, name: str, expected: Any, found: Any, seq: int | None
    ) -> None:
        self.out.append(StateMismatch("case", row.case_id, site, name, expected, found, seq))

    def _row(self, row: Any, code: str) -> None:
        """Compare one row of ``cases`` (at site ``code``) with the replayed case."""
        seen = self.replay.cases.get(row.case_id)
        if seen is None:  # never created, or deleted
            deleted = row.case_id in self.replay.cases
            self._add(
                row, code, "(exists)", False, True, self._last_seq(row.case_id) if deleted else None
            )
            return
        self._compare_columns(row, code, seen)
        if not self._same_document(row, code, seen):
            return  # the derived columns of a changed document say nothing more
        synthetic = (
            isinstance(row.document, dict) and row.document.get("source") == SYNTHETIC_SOURCE
        )
        if row.synthetic != synthetic:  # the flag is the document's ``source``
            self._add(row, code, "synthetic", synthetic, row.synthetic, seen.seq)
        if self.derived:
            self.batch.append((row, code))
            if len(self.batch) >= _DERIVE_BATCH:
                self._derive()

    def _compare_columns(self, row: Any, code: str, seen: _Case) -> None:
        """Compare the site, the version and the actors with the replayed case."""
        if seen.site != code:
            self._add(row, code, "site", seen.site, code, seen.seq)
        if seen.version != row.version:
            self._add(row, code, "version", seen.version, row.version, seen.seq)
        for name, expected in (("created_by", seen.created_by), ("updated_by", seen.updated_by)):
            if getattr(row, name) != expected:
                self._add(row, code, name, expected, getattr(row, name), seen.seq)

    def _same_document(self, row: Any, code: str, seen: _Case) -> bool:
        """Return whether the stored document is the audited one (else record the paths).

        A document whose canonical text differs but whose values are the same (written
        differently) counts as the same.
        """
        try:
            same = _text_digest(canonical_json(row.document)) == seen.digest
        except (TypeError, ValueError):
            same = False
        if same:
            return True
        recorded = self.session.scalar(select(AuditRow.after).where(AuditRow.seq == seen.seq))
        expected_doc = json.loads(recorded) if recorded else None
        paths = _differences(expected_doc, row.document, "document")
        for path, exp, got in paths:  # none: the same values written differently
            self._add(row, code, path, exp, got, seen.seq)
        return not paths

    def _last_seq(self, case_id: str) -> int | None:
        return self.session.scalar(
            select(AuditRow.seq)
            .where(AuditRow.entity == "case", AuditRow.entity_id == case_id)
            .order_by(AuditRow.seq.desc())
            .limit(1)
        )

    def _derive(self) -> None:
        """Compare the cohort columns with those the (audited) document gives."""
        batch, self.batch = self.batch, []
        cases: list[Case | None] = []
        for row, code in batch:
            try:
                cases.append(case_from_document(row.document))
            except InputError:
                self._add(row, code, "document", "a valid case", "an invalid case", None)
                cases.append(None)
        valid = [c for c in cases if c is not None]
        columns = iter(derive_columns(valid))
        for (row, code), case in zip(batch, cases, strict=True):
            if case is None:
                continue
            derived = next(columns)
            seen = self.replay.cases[row.case_id]
            seq = seen.seq if seen else None
            if isinstance(derived, InputError):
                continue
            for name, expected in derived.as_row().items():
                found = getattr(row, name)
                if not _same_value(expected, found):
                    self._add(row, code, name, expected, found, seq)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return bool(a == b)


def _differences(expected: Any, found: Any, path: str) -> list[tuple[str, Any, Any]]:
    """Return the paths at which two JSON values differ (leaves, or a subtree of another type)."""
    if isinstance(expected, dict) and isinstance(found, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(expected.keys() | found.keys()):
            out += _differences(expected.get(key), found.get(key), f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(found, list) and len(expected) == len(found):
        out = []
        for i, (a, b) in enumerate(zip(expected, found, strict=True)):
            out += _differences(a, b, f"{path}[{i}]")
        return out
    return [] if expected == found else [(path, expected, found)]
