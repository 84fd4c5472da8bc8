"""The registry service: the cases, read and written for one user, checked and audited.

:class:`~livermet.registry.database.Database` opens (and creates or upgrades) a registry and
authenticates users; :class:`Registry` is the registry as one user sees it. Every method of
:class:`Registry` runs in its own transaction, re-reads the acting user (a deactivated user or a
changed role takes effect at once), checks the access matrix (``livermet.registry.access``) and
raises ``ForbiddenError`` when the role does not allow the action on the site concerned. Every
change appends to the audit chain in the same transaction, so a change and its audit record are
stored together or not at all. Sites, users, tokens and the audit log: ``people``.

Reads: a case of a site the user may not read is answered like an unknown id (``NotFoundError``,
without the site), so that other sites cannot learn which ids exist where. A role that may only
export de-identified data (the coordinator, ``access.reads_deidentified``) reads every case
de-identified (``privacy``), under its ``DEID-`` id, and finds a case by that id only. Every read
of case data (a case, a list, a look-up, a cohort) appends one record to the audit chain, after
the read and before the data are returned: action ``case.read``, ``case.list``, ``case.find`` or
``case.cohort``, entity :data:`READ_ENTITY`, with the case id or the count and the filters in
``after`` (never the case's content). Reads are never an after-image of a case or a user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from livermet.case.model import Case
from livermet.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from livermet.registry.access import (
    Action,
    User,
    allowed,
    permitted_sites,
    reads_deidentified,
    require,
)
from livermet.registry.bulk import (
    CHUNK_SIZE,
    ProgressCallback,
    case_values,
    pseudonym_for,
    run_import,
)
from livermet.registry.database import Database
from livermet.registry.derive import CaseColumns, derive_columns
from livermet.registry.documents import case_from_document, check_case, stored_document
from livermet.registry.entities import (
    CaseInput,
    CaseSummary,
    ExportedCase,
    ImportReport,
    StoredCase,
)
from livermet.registry.models import CaseRow, SiteRow
from livermet.registry.people import RegistryBase
from livermet.registry.privacy import (
    date_shift_days,
    deidentified_id,
    deidentify_document,
    pseudonymise,
    top_coded_age,
)
from livermet.registry.users import load_site

__all__ = ["COHORT_COLUMNS", "Database", "Registry"]


# Largest row count and offset accepted by list_cases: every database takes a 32-bit integer
# there (SQLite fails with an overflow on Python ints beyond 64 bits).
MAX_ROWS = 2**31 - 1

READ_ENTITY = "read"
"""Entity of the audit records of reads (``case.read``, ``case.list``, ...): never ``case`` or
``user``, so a read is never taken for a state of a case or a user."""

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
"""Columns of :meth:`Registry.cohort_frame`: those of the reference cohort
(``tests/analysis/data/cohort.csv``; docs/registry.md#cohort-analyses) (id, approach, timing,
age, grade, os_months, death, efs_months, first_event) plus site, sex, histology, stage and the
synthetic flag."""


class Registry(RegistryBase):
    """The registry as one user sees it: cases, cohorts, exports, users, tokens and audit.

    Obtain it from :meth:`Database.registry`. Every method checks the access matrix for the
    acting user and raises ``ForbiddenError`` when the role does not allow the action.
    """

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
                row = load_site(session, code)
                rows[row.id] = row
            return rows
        permitted = permitted_sites(actor, action)
        if permitted is None:
            return None
        if not permitted:
            require(actor, action, None)  # raises: the role has no such right at all
        return {row.id: row for row in (load_site(session, code) for code in sorted(permitted))}

    def _case_row(self, session: Session, case_id: str) -> tuple[CaseRow, SiteRow]:
        found = session.execute(
            select(CaseRow, SiteRow)
            .join(SiteRow, SiteRow.id == CaseRow.site_id)
            .where(CaseRow.case_id == case_id)
        ).first()
        if found is None:
            raise NotFoundError(f"no case {case_id!r}", "case_id")
        return found[0], found[1]

    def _visible_row(self, session: Session, actor: User, case_id: str) -> tuple[CaseRow, SiteRow]:
        """The case ``case_id`` if ``actor`` may read it identified; otherwise the same
        ``NotFoundError`` as for an unknown id (the site is not named)."""
        row, site = self._case_row(session, case_id)
        if reads_deidentified(actor) or not allowed(actor, Action.READ, site.code):
            raise NotFoundError(f"no case {case_id!r}", "case_id")
        return row, site

    def _deidentified_row(
        self, session: Session, actor: User, case_id: str
    ) -> tuple[CaseRow, SiteRow]:
        """The case whose de-identified id is ``case_id``, among the sites ``actor`` may read.

        The id is a keyed hash that is not stored: every readable case's is computed (one HMAC
        per case, about a microsecond each).
        """
        synthetic = case_id.startswith("SYN-")
        if case_id.removeprefix("SYN-").startswith("DEID-"):
            sites = self._site_ids(session, actor, Action.READ, None)
            query = (
                select(CaseRow.id, CaseRow.pseudonym, SiteRow.pseudonym_secret)
                .join(SiteRow, SiteRow.id == CaseRow.site_id)
                .where(CaseRow.synthetic.is_(synthetic))
            )
            if sites is not None:
                query = query.where(CaseRow.site_id.in_(list(sites)))
            wanted = case_id.removeprefix("SYN-")
            for row_id, pseudonym, secret in session.execute(query):
                if deidentified_id(pseudonym, secret) == wanted:
                    found = session.execute(
                        select(CaseRow, SiteRow)
                        .join(SiteRow, SiteRow.id == CaseRow.site_id)
                        .where(CaseRow.id == row_id)
                    ).one()
                    return found[0], found[1]
        raise NotFoundError(f"no case {case_id!r}", "case_id")

    @staticmethod
    def _deidentified_stored(row: CaseRow, site: SiteRow) -> StoredCase:
        """The de-identified view of a stored case: the case, its id and its time stamps (moved
        by the patient's date shift)."""
        secret = site.pseudonym_secret
        document = deidentify_document(row.document, pseudonym=row.pseudonym, secret=secret)
        shift = dt.timedelta(days=date_shift_days(row.pseudonym, secret))
        return StoredCase(
            case=case_from_document(document),
            case_id=document["id"],
            site=site.code,
            version=row.version,
            synthetic=row.synthetic,
            pseudonym="",
            created_at=row.created_at + shift,
            updated_at=row.updated_at + shift,
            created_by=row.created_by,
            updated_by=row.updated_by,
        )

    def _audit_read(
        self, action: str, entity_id: str, details: dict[str, Any], site: str | None = None
    ) -> None:
        """Append the audit record of a read (one per request, whatever the number of rows)."""
        with self._db.write(self._user.username) as (_session, audit):
            audit.append(action, READ_ENTITY, entity_id, site=site, after=details)

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
        document = stored_document(checked)
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
            site_row = load_site(session, code)
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
        """The stored case ``case_id`` (audited: ``case.read``).

        A user who reads de-identified (``access.reads_deidentified``) gets the de-identified
        case, and gives its de-identified id (``DEID-...``, as their lists show it).

        Raises
        ------
        NotFoundError
            for an unknown case id, or one the user may not read (the same answer).
        """
        with self._db.read() as session:
            actor = self._actor(session)
            deidentified = reads_deidentified(actor)
            if deidentified:
                row, site = self._deidentified_row(session, actor, case_id)
                stored = self._deidentified_stored(row, site)
            else:
                row, site = self._visible_row(session, actor, case_id)
                stored = self._stored(row, site.code)
        details = {"deidentified": deidentified, "version": stored.version}
        self._audit_read("case.read", row.case_id, details, site.code)
        return stored

    def find_case(self, hospital_number: str, *, site: str | None = None) -> StoredCase:
        """The case of a patient at ``site`` (default: the user's), by hospital number.

        Audited (``case.find``). Not for users who read de-identified: a hospital number names
        the patient.

        Raises
        ------
        NotFoundError
            when the site holds no case of this patient.
        ForbiddenError
            when the user may not read the site.
        """
        with self._db.read() as session:
            actor = self._actor(session)
            if reads_deidentified(actor):
                raise ForbiddenError(
                    f"role {actor.role.value} reads de-identified cases and may not look a "
                    "patient up by hospital number",
                    "hospital_number",
                )
            code = self._target_site(actor, site)
            require(actor, Action.READ, code)
            site_row = load_site(session, code)
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
            stored = self._stored(row, code)
        self._audit_read("case.find", stored.case_id, {"version": stored.version}, code)
        return stored

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
            require(actor, Action.WRITE, None)  # before the look-up: no hint whether it exists
            row, site = self._visible_row(session, actor, case_id)
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
            require(actor, Action.WRITE, None)  # before the look-up: no hint whether it exists
            row, site = self._visible_row(session, actor, case_id)
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
        include_synthetic: bool = False,
        only_synthetic: bool = False,
    ) -> int:
        """How many cases the user may read (real ones unless synthetic ones are asked for)."""
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
        """Case summaries (derived columns, no documents), ordered by site and case id.

        ``limit`` (1 to MAX_ROWS, None for all) and ``offset`` (0 to MAX_ROWS) page the list.
        A user who reads de-identified gets the ``DEID-`` ids and ages over 89 as 90. Audited:
        one ``case.list`` record with the count and the filters.
        """
        if limit is not None and not 1 <= limit <= MAX_ROWS:
            raise InputError(f"limit must be between 1 and {MAX_ROWS} cases, got {limit}", "limit")
        if not 0 <= offset <= MAX_ROWS:
            raise InputError(
                f"offset must be between 0 and {MAX_ROWS} cases, got {offset}", "offset"
            )
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
            deidentified = reads_deidentified(actor)
            if deidentified:
                columns += [CaseRow.pseudonym, SiteRow.pseudonym_secret]
            query = query.with_only_columns(*columns).offset(offset).limit(limit)
            rows = [tuple(r) for r in session.execute(query)]
        if deidentified:
            rows = [_deidentified_summary(r) for r in rows]
        details = _selection(deidentified, len(rows), sites, include_synthetic, only_synthetic)
        self._audit_read("case.list", "cases", {**details, "limit": limit, "offset": offset})
        return [CaseSummary(*r) for r in rows]

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
            case instead of refusing the import; unless the case was exported at another
            version than the stored one (``CaseInput.version``): a conflict.
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
            (``ConflictError``) when rows are duplicates (and ``merge`` is off), reuse a case
            id, or would merge into a case changed since it was exported; nothing is stored.
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
                        case,
                        site.code,
                        row.synthetic,
                        None if deidentified else row.pseudonym,
                        row.version,
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
        the ids by their de-identified form and groups ages over 89 as 90; it is forced for a user
        who reads de-identified. Audited: one ``case.cohort`` record with the count.
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
            deidentified = deidentified or reads_deidentified(actor)
        details = _selection(deidentified, len(rows), sites, include_synthetic, only_synthetic)
        self._audit_read("case.cohort", "cohort", details)
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


def _deidentified_summary(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A list row (``CaseSummary``'s fields, then the pseudonym and the site secret) with the
    de-identified id and the age grouped over 89."""
    case_id, site, version, synthetic, age, *rest, pseudonym, secret = row
    case_id = ("SYN-" if synthetic else "") + deidentified_id(pseudonym, secret)
    return (case_id, site, version, synthetic, top_coded_age(age), *rest)


def _selection(
    deidentified: bool,
    count: int,
    sites: Iterable[str] | None,
    include_synthetic: bool,
    only_synthetic: bool,
) -> dict[str, Any]:
    """What a read of many cases selected, for its audit record (never the cases' content)."""
    return {
        "deidentified": deidentified,
        "count": count,
        "sites": None if sites is None else sorted(sites),
        "include_synthetic": include_synthetic,
        "only_synthetic": only_synthetic,
    }
