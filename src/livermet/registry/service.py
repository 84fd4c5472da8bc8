"""The registry service: every read and write of cases, users and sites, checked and audited.

:class:`Database` opens (and creates or upgrades) a registry and authenticates users;
:class:`Registry` is the registry as one user sees it. Every method of :class:`Registry` runs in
its own transaction, re-reads the acting user (a deactivated user or a changed role takes effect
at once), checks the access matrix (``livermet.registry.access``) and raises ``ForbiddenError``
when the role does not allow the action on the site concerned. Every change appends to the
audit chain in the same transaction, so a change and its audit record are stored together or
not at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from livermet.case.model import Case
from livermet.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from livermet.registry import security
from livermet.registry.access import (
    ROLES_A_SITE_ADMIN_MAY_GRANT,
    SITE_BOUND_ROLES,
    Action,
    Role,
    User,
    permitted_sites,
    require,
)
from livermet.registry.audit import AuditVerification, AuditWriter, verify_audit
from livermet.registry.bulk import (
    CHUNK_SIZE,
    ProgressCallback,
    case_values,
    pseudonym_for,
    run_import,
)
from livermet.registry.db import create_registry_engine, resolve_url, transaction, upgrade
from livermet.registry.derive import CaseColumns, derive_columns
from livermet.registry.documents import case_document, case_from_document, check_case
from livermet.registry.entities import (
    AuditEntry,
    CaseInput,
    CaseSummary,
    ExportedCase,
    ImportReport,
    NewToken,
    Site,
    StoredCase,
    TokenInfo,
)
from livermet.registry.models import AuditRow, CaseRow, SiteRow, TokenRow, UserRow
from livermet.registry.privacy import (
    deidentified_id,
    deidentify_document,
    new_site_secret,
    pseudonymise,
    top_coded_age,
)

BOOTSTRAP_ACTOR = "(bootstrap)"
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_SITE_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

COHORT_COLUMNS = (
    "id",
    "site",
    "approach",
    "timing",
    "age",
    "grade",
    "os_months",
    "death",
    "efs_months",
    "first_event",
    "sex",
    "histology",
    "stage",
    "synthetic",
)
"""Columns of :meth:`Registry.cohort_frame`: those of ``refs/cohort.csv`` (id, approach, timing,
age, grade, os_months, death, efs_months, first_event) plus site, sex, histology, stage and the
synthetic flag."""


@functools.cache
def _dummy_hash() -> str:
    return security.hash_password("livermet-timing-equaliser")


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InputError(f"unknown role {value!r}; expected one of: {names}", "role") from None


def _user_of(row: UserRow, site: str | None) -> User:
    return User(row.id, row.username, Role(row.role), site, row.active)


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role.value,
        "site": user.site,
        "active": user.active,
    }


class Database:
    """A registry database: connection, schema and authentication.

    Parameters
    ----------
    url
        SQLAlchemy URL or SQLite file path; default ``LIVERMET_DATABASE_URL`` or the embedded
        file (``livermet.registry.db.resolve_url``).
    migrate
        Create the schema or upgrade it to the newest revision when needed (default).
    """

    def __init__(self, url: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> None:
        self.url = resolve_url(url)
        self.engine = create_registry_engine(self.url)
        if migrate:
            upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def read(self) -> AbstractContextManager[Session]:
        """A read transaction (context manager yielding a ``Session``)."""
        return transaction(self.engine, write=False)

    @contextmanager
    def write(self, actor: str) -> Iterator[tuple[Session, AuditWriter]]:
        """A write transaction and its audit writer (which locks the audit chain first)."""
        with transaction(self.engine, write=True) as session:
            audit = AuditWriter(session, actor)
            yield session, audit
            audit.flush()

    # --- users -----------------------------------------------------------------------------

    def bootstrap(self, username: str, password: str | None = None) -> User:
        """Create the first user, an admin; refused once the registry has any user.

        Raises
        ------
        ConflictError
            when users exist already (field ``username``).
        """
        with self.write(BOOTSTRAP_ACTOR) as (session, audit):
            if session.scalar(select(func.count()).select_from(UserRow)):
                raise ConflictError("the registry has users already", "username")
            user = _insert_user(session, audit, username, Role.ADMIN, None, password)
        return user

    def user(self, username: str) -> User:
        """The user called ``username`` (for faces that trust the local operator).

        Raises
        ------
        NotFoundError
            for an unknown user name.
        """
        with self.read() as session:
            return _load_user(session, username)

    def authenticate_password(self, username: str, password: str) -> User:
        """The active user with this name and password.

        Raises
        ------
        ForbiddenError
            for an unknown user, a wrong password or a deactivated user (one message for all).
        """
        with self.read() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            stored = row.password_hash if row is not None else None
            # An unknown user costs one argon2 verification too, so that timing does not tell.
            ok = security.verify_password(stored or _dummy_hash(), password) and bool(stored)
            if row is None or not ok or not row.active:
                raise ForbiddenError("unknown user, wrong password or deactivated user", "password")
            return _user_of(row, _site_code(session, row.site_id))

    def authenticate_token(self, token: str) -> User:
        """The active user an unrevoked API token belongs to.

        Raises
        ------
        ForbiddenError
            for an unknown or revoked token, or a deactivated user.
        """
        with self.read() as session:
            found = session.execute(
                select(UserRow, TokenRow)
                .join(TokenRow, TokenRow.user_id == UserRow.id)
                .where(TokenRow.token_hash == security.token_digest(token))
            ).first()
            if found is None or found[1].revoked_at is not None or not found[0].active:
                raise ForbiddenError("unknown or revoked token", "token")
            return _user_of(found[0], _site_code(session, found[0].site_id))

    def registry(self, user: User | str) -> Registry:
        """The registry as ``user`` (a ``User`` or a user name) sees it."""
        return Registry(self, user if isinstance(user, User) else self.user(user))

    def verify_audit(self) -> AuditVerification:
        """Check the whole audit chain (for an operator who has the database itself)."""
        with self.read() as session:
            return verify_audit(session)


def _site_code(session: Session, site_id: int | None) -> str | None:
    return (
        None
        if site_id is None
        else session.scalar(select(SiteRow.code).where(SiteRow.id == site_id))
    )


def _load_user(session: Session, username: str) -> User:
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFoundError(f"no user {username!r}", "username")
    return _user_of(row, _site_code(session, row.site_id))


def _site_row(session: Session, code: str) -> SiteRow:
    row = session.scalar(select(SiteRow).where(SiteRow.code == code))
    if row is None:
        raise NotFoundError(f"no site {code!r}", "site")
    return row


def _insert_user(
    session: Session,
    audit: AuditWriter,
    username: str,
    role: Role,
    site: str | None,
    password: str | None,
) -> User:
    if not _USERNAME.match(username):
        raise InputError("a user name is 1-100 letters, digits, '.', '_', '@' or '-'", "username")
    if role in SITE_BOUND_ROLES and site is None:
        raise InputError(f"a {role.value} belongs to a site; give the site", "site")
    site_id = None if site is None else _site_row(session, site).id
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise ConflictError(f"user {username!r} exists already", "username")
    row = UserRow(
        username=username,
        password_hash=None if password is None else security.hash_password(password),
        role=role.value,
        site_id=site_id,
        active=True,
    )
    session.add(row)
    session.flush()
    user = _user_of(row, site)
    audit.append("user.create", "user", username, site=site, after=_user_snapshot(user))
    return user


class Registry:
    """The registry as one user sees it: cases, cohorts, exports, users, tokens and audit.

    Obtain it from :meth:`Database.registry`. Every method checks the access matrix for the
    acting user and raises ``ForbiddenError`` when the role does not allow the action.
    """

    def __init__(self, db: Database, user: User) -> None:
        self._db = db
        self._user = user

    @property
    def user(self) -> User:
        return self._user

    # --- helpers ---------------------------------------------------------------------------

    def _actor(self, session: Session) -> User:
        """The acting user as the database says now (role, site and active flag)."""
        try:
            user = _load_user(session, self._user.username)
        except NotFoundError:
            raise ForbiddenError(f"user {self._user.username!r} no longer exists", "user") from None
        if not user.active:
            raise ForbiddenError(f"user {user.username!r} is deactivated", "user")
        return user

    def _target_site(self, actor: User, site: str | None) -> str:
        code = site or actor.site
        if code is None:
            raise InputError("give the site the case belongs to", "site")
        return code

    def _site_ids(
        self, session: Session, actor: User, action: Action, sites: Iterable[str] | None
    ) -> dict[int, SiteRow] | None:
        """Sites a query may cover (None: every site); refuses a site the actor may not use."""
        if sites is not None:
            rows = {}
            for code in sites:
                require(actor, action, code)
                row = _site_row(session, code)
                rows[row.id] = row
            return rows
        permitted = permitted_sites(actor, action)
        if permitted is None:
            return None
        if not permitted:
            require(actor, action, None)  # raises: the role has no such right at all
        return {row.id: row for row in (_site_row(session, code) for code in sorted(permitted))}

    def _case_row(self, session: Session, case_id: str) -> tuple[CaseRow, SiteRow]:
        found = session.execute(
            select(CaseRow, SiteRow)
            .join(SiteRow, SiteRow.id == CaseRow.site_id)
            .where(CaseRow.case_id == case_id)
        ).first()
        if found is None:
            raise NotFoundError(f"no case {case_id!r}", "case_id")
        return found[0], found[1]

    @staticmethod
    def _stored(row: CaseRow, site: str, case: Case | None = None) -> StoredCase:
        return StoredCase(
            case=case if case is not None else case_from_document(row.document),
            case_id=row.case_id,
            site=site,
            version=row.version,
            synthetic=row.synthetic,
            pseudonym=row.pseudonym,
            created_at=row.created_at,
            updated_at=row.updated_at,
            created_by=row.created_by,
            updated_by=row.updated_by,
        )

    @staticmethod
    def _prepared(case: Case) -> tuple[Case, dict[str, Any], CaseColumns]:
        checked = check_case(case)
        (columns,) = derive_columns([checked])
        if isinstance(columns, InputError):
            raise columns
        document = case_document(checked)
        if case_from_document(document) != checked:  # the document must give the case back
            raise InputError("the case does not survive storage unchanged", "(case)")
        return checked, document, columns

    # --- cases -----------------------------------------------------------------------------

    def create_case(
        self, case: Case, *, hospital_number: str | None = None, site: str | None = None
    ) -> StoredCase:
        """Store a new case at ``site`` (default: the user's site).

        Parameters
        ----------
        case
            The validated case.
        hospital_number
            Pseudonymised with the site's secret and then forgotten; without it, the case id is
            pseudonymised (duplicates are then recognised by case id).
        site
            Site code (required for users without a site: admins).

        Raises
        ------
        ForbiddenError
            when the user may not write at the site.
        InputError
            for an unstorable case (impossible timeline, ...), naming the field.
        ConflictError
            when the site holds this patient already (field ``hospital_number``) or the case id
            is taken (field ``id``).
        """
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            code = self._target_site(actor, site)
            require(actor, Action.WRITE, code)
            site_row = _site_row(session, code)
            checked, document, columns = self._prepared(case)
            pseudonym = pseudonym_for(CaseInput(checked, hospital_number), checked, site_row)
            duplicate = session.scalar(
                select(CaseRow.case_id).where(
                    CaseRow.site_id == site_row.id, CaseRow.pseudonym == pseudonym
                )
            )
            if duplicate is not None:
                raise ConflictError(
                    f"site {code} holds this patient already as case {duplicate!r}",
                    "hospital_number" if hospital_number is not None else "id",
                )
            if session.scalar(select(CaseRow.id).where(CaseRow.case_id == checked.id)):
                raise ConflictError(f"case id {checked.id!r} is already used", "id")
            now = dt.datetime.now(dt.UTC)
            row = CaseRow(
                **case_values(checked, document, columns, actor.username, now),
                site_id=site_row.id,
                pseudonym=pseudonym,
                version=1,
                created_at=now,
                created_by=actor.username,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # a concurrent writer got there first
                raise ConflictError(f"case {checked.id!r} exists already", "id") from None
            audit.append("create", "case", checked.id, site=code, after=document)
            return self._stored(row, code, checked)

    def get_case(self, case_id: str) -> StoredCase:
        """The stored case ``case_id``.

        Raises
        ------
        NotFoundError
            for an unknown case id.
        ForbiddenError
            when the user may not read the case's site.
        """
        with self._db.read() as session:
            actor = self._actor(session)
            row, site = self._case_row(session, case_id)
            require(actor, Action.READ, site.code)
            return self._stored(row, site.code)

    def find_case(self, hospital_number: str, *, site: str | None = None) -> StoredCase:
        """The case of a patient at ``site`` (default: the user's), by hospital number.

        Raises
        ------
        NotFoundError
            when the site holds no case of this patient.
        ForbiddenError
            when the user may not read the site.
        """
        with self._db.read() as session:
            actor = self._actor(session)
            code = self._target_site(actor, site)
            require(actor, Action.READ, code)
            site_row = _site_row(session, code)
            pseudonym = pseudonymise(hospital_number, site_row.pseudonym_secret)
            row = session.scalar(
                select(CaseRow).where(
                    CaseRow.site_id == site_row.id, CaseRow.pseudonym == pseudonym
                )
            )
            if row is None:
                raise NotFoundError(
                    f"site {code} holds no case with this hospital number", "hospital_number"
                )
            return self._stored(row, code)

    def update_case(self, case_id: str, case: Case, expected_version: int) -> StoredCase:
        """Replace the stored case with ``case``, if nobody changed it since ``expected_version``.

        Raises
        ------
        ConflictError
            when the stored version is not ``expected_version`` (someone else saved first;
            field ``version``): reload, re-apply the edit and save again.
        InputError
            when ``case.id`` differs from ``case_id`` or the case cannot be stored.
        NotFoundError, ForbiddenError
            for an unknown case, or one the user may not change.
        """
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            row, site = self._case_row(session, case_id)
            require(actor, Action.WRITE, site.code)
            if case.id != case_id:
                raise InputError(
                    f"the case's id {case.id!r} is not {case_id!r}; ids cannot be changed", "id"
                )
            if row.version != expected_version:
                raise ConflictError(
                    f"case {case_id!r} was changed by {row.updated_by} (now version "
                    f"{row.version}); your edit is based on version {expected_version}",
                    "version",
                )
            checked, document, columns = self._prepared(case)
            before = row.document
            now = dt.datetime.now(dt.UTC)
            result = session.execute(
                update(CaseRow)
                .where(CaseRow.id == row.id, CaseRow.version == expected_version)
                .values(
                    **case_values(checked, document, columns, actor.username, now),
                    version=expected_version + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise ConflictError(f"case {case_id!r} was changed meanwhile", "version")
            audit.append("update", "case", case_id, site=site.code, before=before, after=document)
            session.expire(row)
            session.refresh(row)
            return self._stored(row, site.code, checked)

    def delete_case(self, case_id: str, *, expected_version: int | None = None) -> None:
        """Delete a case (its last state stays in the audit log).

        Raises
        ------
        ConflictError
            when ``expected_version`` is given and the case has moved on since.
        NotFoundError, ForbiddenError
            for an unknown case, or one the user may not change.
        """
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            row, site = self._case_row(session, case_id)
            require(actor, Action.WRITE, site.code)
            if expected_version is not None and row.version != expected_version:
                raise ConflictError(
                    f"case {case_id!r} is at version {row.version}, not {expected_version}",
                    "version",
                )
            session.execute(delete(CaseRow).where(CaseRow.id == row.id))
            audit.append("delete", "case", case_id, site=site.code, before=row.document)

    def _case_query(
        self,
        session: Session,
        actor: User,
        action: Action,
        sites: Iterable[str] | None,
        include_synthetic: bool,
        only_synthetic: bool,
    ) -> Any:
        """Cases of the permitted sites, ordered by site and case id (a ``Select``)."""
        site_rows = self._site_ids(session, actor, action, sites)
        # Any: Select's type parameters differ between SQLAlchemy 2.0 and 2.1
        query: Any = select(CaseRow, SiteRow).join(SiteRow, SiteRow.id == CaseRow.site_id)
        if site_rows is not None:
            query = query.where(CaseRow.site_id.in_(list(site_rows)))
        if only_synthetic:
            query = query.where(CaseRow.synthetic.is_(True))
        elif not include_synthetic:
            query = query.where(CaseRow.synthetic.is_(False))
        return query.order_by(SiteRow.code, CaseRow.case_id)

    def count_cases(
        self,
        *,
        sites: Iterable[str] | None = None,
        include_synthetic: bool = True,
        only_synthetic: bool = False,
    ) -> int:
        """How many cases the user may read (optionally of some sites, synthetic or not)."""
        with self._db.read() as session:
            actor = self._actor(session)
            query = self._case_query(
                session, actor, Action.READ, sites, include_synthetic, only_synthetic
            )
            return int(
                session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
                or 0
            )

    def list_cases(
        self,
        *,
        sites: Iterable[str] | None = None,
        include_synthetic: bool = False,
        only_synthetic: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[CaseSummary]:
        """Case summaries (derived columns, no documents), ordered by site and case id."""
        with self._db.read() as session:
            actor = self._actor(session)
            query = self._case_query(
                session, actor, Action.READ, sites, include_synthetic, only_synthetic
            )
            columns = [
                CaseRow.case_id,
                SiteRow.code,
                CaseRow.version,
                CaseRow.synthetic,
                CaseRow.age_years,
                CaseRow.sex,
                CaseRow.histology,
                CaseRow.approach,
                CaseRow.timing,
                CaseRow.grade,
                CaseRow.stage,
                CaseRow.os_months,
                CaseRow.death,
                CaseRow.first_event,
            ]
            query = query.with_only_columns(*columns).offset(offset).limit(limit)
            return [CaseSummary(*r) for r in session.execute(query)]

    def import_cases(
        self,
        cases: Iterable[Case | CaseInput],
        *,
        source: str,
        site: str | None = None,
        merge: bool = False,
        on_progress: ProgressCallback | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> ImportReport:
        """Import many cases all-or-nothing, in one transaction.

        Parameters
        ----------
        cases
            Cases, or :class:`CaseInput` (a case with its hospital number, site and file row).
        source
            What is imported (a file name): recorded in the audit log.
        site
            Site of the cases that do not name one (default: the user's site).
        merge
            A patient the site holds already (same pseudonym) is updated with the imported
            case instead of refusing the import.
        on_progress
            Called as ``on_progress(done, total)`` after each chunk of rows.
        chunk_size
            Rows checked and inserted per step (one multi-row ``INSERT``).

        Raises
        ------
        ImportRejected
            (``InputError``) when any row is bad; ``problems`` lists every rejected row with
            its row number, field and reason. Nothing is stored.
        ImportConflict
            (``ConflictError``) when rows are duplicates (and ``merge`` is off) or reuse a case
            id; nothing is stored.
        ForbiddenError
            when the user may not write at one of the sites.
        """
        entries = [c if isinstance(c, CaseInput) else CaseInput(c) for c in cases]
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            default_site = site or actor.site
            codes = {e.site for e in entries if e.site} | ({default_site} - {None})
            sites = {
                row.code: row
                for row in session.scalars(select(SiteRow).where(SiteRow.code.in_(codes)))
            }
            return run_import(
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

    def export_cases(
        self,
        *,
        sites: Iterable[str] | None = None,
        deidentified: bool = True,
        include_synthetic: bool = False,
        only_synthetic: bool = False,
    ) -> list[ExportedCase]:
        """Cases to take out of the registry, de-identified by default; the export is audited.

        A full export (``deidentified=False``) needs the full-export right for every site
        exported; a de-identified one the de-identified right (``livermet.registry.access``).
        Without ``sites``, every site the user may export is exported.
        """
        action = Action.EXPORT_DEIDENTIFIED if deidentified else Action.EXPORT_FULL
        exported: list[ExportedCase] = []
        case_ids: list[str] = []  # the registry's ids, for the audit record
        with self._db.read() as session:
            actor = self._actor(session)
            query = self._case_query(
                session, actor, action, sites, include_synthetic, only_synthetic
            )
            for row, site in session.execute(query.execution_options(yield_per=1000)):
                case_ids.append(row.case_id)
                document = row.document
                if deidentified:
                    document = deidentify_document(
                        document, pseudonym=row.pseudonym, secret=site.pseudonym_secret
                    )
                case = case_from_document(document)
                exported.append(
                    ExportedCase(
                        case, site.code, row.synthetic, None if deidentified else row.pseudonym
                    )
                )
                session.expunge(row)
        with self._db.write(self._user.username) as (session, audit):
            self._actor(session)
            audit.append(
                "export",
                "export",
                "de-identified" if deidentified else "full",
                after={
                    "deidentified": deidentified,
                    "sites": sorted({e.site for e in exported}),
                    "count": len(exported),
                    "include_synthetic": include_synthetic or only_synthetic,
                    "case_ids": case_ids,
                },
            )
        return exported

    def cohort_frame(
        self,
        *,
        sites: Iterable[str] | None = None,
        include_synthetic: bool = False,
        only_synthetic: bool = False,
        deidentified: bool = False,
    ) -> pd.DataFrame:
        """One row per case for survival analysis (columns: :data:`COHORT_COLUMNS`).

        Needs the read right on the sites. Times are in months from the liver resection
        (``livermet.registry.derive``); ``death`` is 0/1; ``first_event`` is ``recurrence``,
        ``death`` or ``censored``. Synthetic cases are left out unless asked for, and never mixed
        silently: ``only_synthetic`` gives the synthetic cohort alone. ``deidentified`` replaces
        the ids by their de-identified form and groups ages over 89 as 90.
        """
        with self._db.read() as session:
            actor = self._actor(session)
            query = self._case_query(
                session, actor, Action.READ, sites, include_synthetic, only_synthetic
            )
            query = query.with_only_columns(
                CaseRow.case_id,
                SiteRow.code,
                CaseRow.approach,
                CaseRow.timing,
                CaseRow.age_years,
                CaseRow.grade,
                CaseRow.os_months,
                CaseRow.death,
                CaseRow.efs_months,
                CaseRow.first_event,
                CaseRow.sex,
                CaseRow.histology,
                CaseRow.stage,
                CaseRow.synthetic,
                CaseRow.pseudonym,
                SiteRow.pseudonym_secret,
            )
            rows = session.execute(query).all()
        frame = pd.DataFrame(rows, columns=[*COHORT_COLUMNS, "_pseudonym", "_secret"])
        if deidentified and len(frame):
            frame["id"] = [
                ("SYN-" if syn else "") + deidentified_id(p, s)
                for syn, p, s in zip(
                    frame["synthetic"], frame["_pseudonym"], frame["_secret"], strict=True
                )
            ]
            frame["age"] = [top_coded_age(None if pd.isna(a) else int(a)) for a in frame["age"]]
        frame = frame.drop(columns=["_pseudonym", "_secret"])
        for name in ("age", "grade"):
            frame[name] = frame[name].astype("Int64")
        for name in ("os_months", "efs_months"):
            frame[name] = frame[name].astype(float)
        frame["death"] = frame["death"].astype(bool).astype(int)
        frame["synthetic"] = frame["synthetic"].astype(bool)
        return frame

    # --- sites, users, tokens --------------------------------------------------------------

    def create_site(self, code: str, name: str) -> Site:
        """Create a site with a fresh pseudonym secret (admins only).

        Raises
        ------
        InputError
            for a code that is not 1-64 lower-case letters, digits, '_' or '-'.
        ConflictError
            when the code is taken.
        """
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            require(actor, Action.MANAGE_SITES, None)
            if not _SITE_CODE.match(code):
                raise InputError(
                    "a site code is 1-64 lower-case letters, digits, '_' or '-'", "code"
                )
            if not name.strip():
                raise InputError("give the site's name", "name")
            if session.scalar(select(SiteRow.id).where(SiteRow.code == code)) is not None:
                raise ConflictError(f"site {code!r} exists already", "code")
            session.add(SiteRow(code=code, name=name.strip(), pseudonym_secret=new_site_secret()))
            session.flush()
            audit.append(
                "site.create", "site", code, site=code, after={"code": code, "name": name.strip()}
            )
            return Site(code, name.strip())

    def list_sites(self) -> list[Site]:
        """Every site (codes and names are not confidential)."""
        with self._db.read() as session:
            self._actor(session)
            return [
                Site(r.code, r.name)
                for r in session.scalars(select(SiteRow).order_by(SiteRow.code))
            ]

    def _require_manage(self, actor: User, site: str | None, role: Role) -> None:
        if actor.role == Role.ADMIN:
            return
        require(actor, Action.MANAGE_USERS, site)
        if site is None or role not in ROLES_A_SITE_ADMIN_MAY_GRANT:
            raise ForbiddenError(
                f"role {actor.role.value} may not manage a {role.value} user", "role"
            )

    def create_user(
        self,
        username: str,
        *,
        role: Role | str,
        site: str | None = None,
        password: str | None = None,
    ) -> User:
        """Create a user; a site admin creates viewers, editors and site admins of their site.

        ``password`` may be omitted for a user who will only use API tokens.
        """
        role = _role(role)
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            if site is None and actor.role == Role.SITE_ADMIN:
                site = actor.site
            self._require_manage(actor, site, role)
            return _insert_user(session, audit, username, role, site, password)

    def update_user(
        self,
        username: str,
        *,
        role: Role | str | None = None,
        site: str | None = None,
        active: bool | None = None,
    ) -> User:
        """Change a user's role, site or active flag (deactivation revokes access at once)."""
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            target = _load_user(session, username)
            self._require_manage(actor, target.site, target.role)
            new_role = target.role if role is None else _role(role)
            new_site = target.site if site is None else site
            self._require_manage(actor, new_site, new_role)
            if new_role in SITE_BOUND_ROLES and new_site is None:
                raise InputError(f"a {new_role.value} belongs to a site; give the site", "site")
            values: dict[str, Any] = {"role": new_role.value}
            values["site_id"] = None if new_site is None else _site_row(session, new_site).id
            if active is not None:
                values["active"] = active
            session.execute(update(UserRow).where(UserRow.id == target.id).values(**values))
            updated = User(
                target.id, username, new_role, new_site, target.active if active is None else active
            )
            audit.append(
                "user.update",
                "user",
                username,
                site=new_site,
                before=_user_snapshot(target),
                after=_user_snapshot(updated),
            )
            return updated

    def set_password(self, username: str, password: str) -> None:
        """Set a password: one's own, or that of a user one manages."""
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            target = _load_user(session, username)
            if target.username != actor.username:
                self._require_manage(actor, target.site, target.role)
            session.execute(
                update(UserRow)
                .where(UserRow.id == target.id)
                .values(password_hash=security.hash_password(password))
            )
            audit.append("user.password", "user", username, site=target.site)

    def list_users(self) -> list[User]:
        """Users the actor manages (admin: all; site admin: their site's)."""
        with self._db.read() as session:
            actor = self._actor(session)
            require(actor, Action.MANAGE_USERS, None)
            query = select(UserRow, SiteRow.code).outerjoin(SiteRow, SiteRow.id == UserRow.site_id)
            if permitted_sites(actor, Action.MANAGE_USERS) is not None:
                query = query.where(SiteRow.code == actor.site)
            return [
                _user_of(u, code) for u, code in session.execute(query.order_by(UserRow.username))
            ]

    def create_token(self, label: str = "", *, username: str | None = None) -> NewToken:
        """A new API token for oneself (or for a managed user); the secret is returned once."""
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            target = actor if username is None else _load_user(session, username)
            if target.username != actor.username:
                self._require_manage(actor, target.site, target.role)
            token = security.new_token()
            row = TokenRow(user_id=target.id, token_hash=security.token_digest(token), label=label)
            session.add(row)
            session.flush()
            audit.append(
                "token.create",
                "token",
                str(row.id),
                site=target.site,
                after={"user": target.username, "label": label},
            )
            return NewToken(row.id, token, label)

    def revoke_token(self, token_id: int) -> None:
        """Revoke a token (one's own, or one of a managed user); it stops working at once."""
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            row = session.get(TokenRow, token_id)
            if row is None:
                raise NotFoundError(f"no token {token_id}", "token_id")
            owner = session.get(UserRow, row.user_id)
            assert owner is not None  # foreign key
            if owner.username != actor.username:
                target = _user_of(owner, _site_code(session, owner.site_id))
                self._require_manage(actor, target.site, target.role)
            if row.revoked_at is None:
                row.revoked_at = dt.datetime.now(dt.UTC)
                audit.append(
                    "token.revoke",
                    "token",
                    str(token_id),
                    site=_site_code(session, owner.site_id),
                    after={"user": owner.username, "label": row.label},
                )

    def list_tokens(self, *, username: str | None = None) -> list[TokenInfo]:
        """Tokens of oneself (or of a managed user), without their secrets."""
        with self._db.read() as session:
            actor = self._actor(session)
            target = actor if username is None else _load_user(session, username)
            if target.username != actor.username:
                self._require_manage(actor, target.site, target.role)
            rows = session.scalars(
                select(TokenRow).where(TokenRow.user_id == target.id).order_by(TokenRow.id)
            )
            return [
                TokenInfo(r.id, target.username, r.label, r.created_at, r.revoked_at) for r in rows
            ]

    # --- audit -----------------------------------------------------------------------------

    def verify_audit(self) -> AuditVerification:
        """Check the audit chain (admins, coordinators and site admins)."""
        with self._db.read() as session:
            actor = self._actor(session)
            require(actor, Action.AUDIT, None)
            return verify_audit(session)

    def audit_entries(self, *, entity_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The latest audit records (a site admin sees only their site's), newest first."""
        with self._db.read() as session:
            actor = self._actor(session)
            require(actor, Action.AUDIT, None)
            query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
            if permitted_sites(actor, Action.AUDIT) is not None:
                query = query.where(AuditRow.site == actor.site)
            if entity_id is not None:
                query = query.where(AuditRow.entity_id == entity_id)
            return [
                AuditEntry(
                    r.seq,
                    r.at,
                    r.actor,
                    r.action,
                    r.entity,
                    r.entity_id,
                    r.site,
                    r.before,
                    r.after,
                    r.hash,
                )
                for r in session.scalars(query)
            ]
