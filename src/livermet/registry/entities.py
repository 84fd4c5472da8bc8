"""What the registry service takes and gives back (plain frozen dataclasses, no sessions)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from livermet.case.model import Case
from livermet.errors import ConflictError, InputError


@dataclass(frozen=True)
class Site:
    """A hospital (its pseudonym secret never leaves the database)."""

    code: str
    name: str


@dataclass(frozen=True)
class StoredCase:
    """A case as the registry holds it: the case, where it belongs and its version."""

    case: Case
    case_id: str
    site: str
    version: int
    synthetic: bool
    pseudonym: str
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    updated_by: str


@dataclass(frozen=True)
class CaseSummary:
    """One line of a case listing (the derived columns, no document)."""

    case_id: str
    site: str
    version: int
    synthetic: bool
    age_years: int | None
    sex: str | None
    histology: str
    approach: str | None
    timing: str | None
    grade: int | None
    stage: str | None
    os_months: float | None
    death: bool
    first_event: str | None


@dataclass(frozen=True)
class CaseInput:
    """One case to import, with what the case file itself does not hold.

    Attributes
    ----------
    case
        The validated case.
    hospital_number
        Turned into the site's pseudonym (never stored); without it the case id is used.
    site
        Site code; defaults to the import's site.
    row
        Row (or record) number in the source file, for error messages; defaults to the
        1-based position in the import.
    version
        The registry version the case was exported at (:attr:`ExportedCase.version`): a merge
        into a stored case at another version is refused as a conflict, as a stale edit is.
        None (a file not exported from the registry): merged without this check.
    """

    case: Case
    hospital_number: str | None = None
    site: str | None = None
    row: int | None = None
    version: int | None = None


@dataclass(frozen=True)
class ImportProblem:
    """Why one row of an import was refused."""

    row: int
    field: str
    message: str
    conflict: bool = False

    def __str__(self) -> str:
        """Describe the problem: row, field and message."""
        return f"row {self.row}: {self.field}: {self.message}"


def _summary(problems: list[ImportProblem]) -> tuple[str, str]:
    first = problems[0]
    more = f" (and {len(problems) - 1} more rejected rows)" if len(problems) > 1 else ""
    return f"{first.message}; nothing was imported{more}", f"row {first.row}: {first.field}"


class ImportRejected(InputError):
    """An import refused because of bad rows; ``problems`` lists every rejected row."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__(*_summary(problems))


class ImportConflict(ConflictError):
    """An import refused because of duplicates; ``problems`` lists every rejected row."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__(*_summary(problems))


@dataclass(frozen=True)
class ImportReport:
    """What an import did (it is all-or-nothing: a report means everything was stored)."""

    source: str
    total: int
    created: int
    merged: int
    sites: tuple[str, ...]
    case_ids: tuple[str, ...] = field(repr=False, default=())


@dataclass(frozen=True)
class ExportedCase:
    """One exported case.

    ``pseudonym`` is None in a de-identified export; ``version`` is the stored version exported
    (give it back as :attr:`CaseInput.version` when merging).
    """

    case: Case
    site: str
    synthetic: bool
    pseudonym: str | None
    version: int | None = None


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed (the secret is shown only once, when created)."""

    id: int
    username: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``token`` is the secret to hand to the client."""

    id: int
    token: str
    label: str


@dataclass(frozen=True)
class AuditEntry:
    """One audit record as read back (``before``/``after`` are canonical JSON text)."""

    seq: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    site: str | None
    before: str | None
    after: str | None
    hash: str
