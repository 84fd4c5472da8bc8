"""The cases, read and written for one user, checked and audited: :class:`CaseService`.

Every method runs in one unit of work of the shared :class:`~livermet.registry.context.Context`
(the transaction, the acting user re-read, the access matrix checked, the audit writer), and
raises ``ForbiddenError`` when the role does not allow the action on the site concerned.

Reads: a case of a site the user may not read is answered like an unknown id (``NotFoundError``,
without the site), so that other sites cannot learn which ids exist where. A role that may only
export de-identified data (the coordinator, ``access.reads_deidentified``) reads every case
de-identified (``privacy``), under its ``DEID-`` id, and finds a case by that id only. Every read
of case data (a case, a list, a look-up, a cohort) appends one record to the audit chain, after
the read and before the data are returned: action ``case.read``, ``case.list``, ``case.find`` or
``case.cohort``, entity :data:`~livermet.registry.context.READ_ENTITY`, with the case id or the
count and the filters in ``after`` (never the case's content). Reads are never an after-image of
a case or a user.

The queries of many cases (:func:`case_query`) are shared with the imports and exports
(``exchange_service``) and the analysis export (``analysis_export``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
from livermet.registry.accounts import load_site
from livermet.registry.bulk import case_values, pseudonym_for
from livermet.registry.context import Service, Writing
from livermet.registry.derive import CaseColumns, derive_columns
from livermet.registry.documents import case_from_document, check_case, stored_document
from livermet.registry.entities import CaseInput, CaseSummary, StoredCase
from livermet.registry.models import CaseRow, SiteRow
from livermet.registry.privacy import (
    date_shift_days,
    deidentified_id,
    deidentify_document,
    pseudonymise,
    top_coded_age,
)

MAX_ROWS = 2**31 - 1
"""Largest row count and offset accepted by :meth:`CaseService.list_cases`: every database takes
a 32-bit integer there (SQLite fails with an overflow on Python ints beyond 64 bits)."""

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
"""Columns of :meth:`CaseService.cohort_frame`: those of the reference cohort
(``tests/analysis/data/cohort.csv``; docs/registry.md#cohort-analyses) (id, approach, timing,
age, grade, os_months, death, efs_months, first_event) plus site, sex, histology, stage and the
synthetic flag."""

_SUMMARY_COLUMNS = (
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
)
"""The columns of a :class:`~livermet.registry.entities.CaseSummary`, in its field order."""

_COHORT_QUERY_COLUMNS = (
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
"""The columns read for :data:`COHORT_COLUMNS`, then the pseudonym and the site secret."""


# --- queries shared with the imports and exports --------------------------------------------


def site_rows(
    session: Session, actor: User, action: Action, sites: Iterable[str] | None
) -> dict[int, SiteRow] | None:
    """Return the sites a query may cover, by id (None: every site).

    Raises
    ------
    ForbiddenError
        for a site ``actor`` may not do ``action`` on, or when the role has no such right.
    NotFoundError
        for an unknown site code (field ``site``).
    """
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


def case_query(
    session: Session,
    actor: User,
    action: Action,
    sites: Iterable[str] | None,
    include_synthetic: bool,
    only_synthetic: bool,
) -> Any:
    """Return the cases of the permitted sites, ordered by site and case id (a ``Select``).

    The query selects ``(CaseRow, SiteRow)`` pairs; real cases only unless ``include_synthetic``
    (both) or ``only_synthetic`` (synthetic ones alone).
    """
    chosen = site_rows(session, actor, action, sites)
    # Any: Select's type parameters differ between SQLAlchemy 2.0 and 2.1
    query: Any = select(CaseRow, SiteRow).join(SiteRow, SiteRow.id == CaseRow.site_id)
    if chosen is not None:
        query = query.where(CaseRow.site_id.in_(list(chosen)))
    if only_synthetic:
        query = query.where(CaseRow.synthetic.is_(True))
    elif not include_synthetic:
        query = query.where(CaseRow.synthetic.is_(False))
    return query.order_by(SiteRow.code, CaseRow.case_id)


def selection(
    deidentified: bool,
    count: int,
    sites: Iterable[str] | None,
    include_synthetic: bool,
    only_synthetic: bool,
) -> dict[str, Any]:
    """Return what a read of many cases selected, for its audit record (never their content)."""
    return {
        "deidentified": deidentified,
        "count": count,
        "sites": None if sites is None else sorted(sites),
        "include_synthetic": include_synthetic,
        "only_synthetic": only_synthetic,
    }


LISTING_FILTERS = ("site", "approach", "timing", "grade")
"""The :class:`~livermet.registry.entities.CaseSummary` fields a case listing filters on."""


@dataclass(frozen=True)
class CaseListing:
    """A searched and filtered case listing (:meth:`CaseService.find_cases`).

    Attributes
    ----------
    cases
        The readable cases that match the search text and every chosen filter.
    total
        How many cases the user may read (before the search and the filters).
    options
        For each of :data:`LISTING_FILTERS`, the values the readable cases hold (sorted text).
    """

    cases: list[CaseSummary]
    total: int
    options: dict[str, list[str]]


def summary_matches(summary: CaseSummary, query: str, filters: Mapping[str, str]) -> bool:
    """Return whether a listed case matches the search text and every chosen filter.

    The search text (case-insensitive) is looked for in the case id, the histology and the
    site; a filter matches the field's value written as text; an empty text or filter value
    matches every case.
    """
    searched = f"{summary.case_id} {summary.histology} {summary.site}".lower()
    if query and query.lower() not in searched:
        return False
    for name, wanted in filters.items():
        if wanted and str(getattr(summary, name) or "") != wanted:
            return False
    return True


def filter_options(summaries: Iterable[CaseSummary], names: Iterable[str]) -> dict[str, list[str]]:
    """Return, for each field of ``names``, the sorted distinct values (as text) of the cases."""
    rows = list(summaries)
    return {
        name: sorted({str(getattr(s, name)) for s in rows if getattr(s, name) is not None})
        for name in names
    }


# --- single rows --------------------------------------------------------------------------------


def _target_site(actor: User, site: str | None) -> str:
    """Return the site a case goes to or is looked up at (default: the actor's)."""
    code = site or actor.site
    if code is None:
        raise InputError("give the site the case belongs to", "site")
    return code


def _case_row(session: Session, case_id: str) -> tuple[CaseRow, SiteRow]:
    """Return the case ``case_id`` and its site, whoever may read it."""
    found = session.execute(
        select(CaseRow, SiteRow)
        .join(SiteRow, SiteRow.id == CaseRow.site_id)
        .where(CaseRow.case_id == case_id)
    ).first()
    if found is None:
        raise NotFoundError(f"no case {case_id!r}", "case_id")
    return found[0], found[1]


def _visible_row(session: Session, actor: User, case_id: str) -> tuple[CaseRow, SiteRow]:
    """Return the case ``case_id`` if ``actor`` may read it identified.

    Otherwise raise the same ``NotFoundError`` as for an unknown id (the site is not named).
    """
    row, site = _case_row(session, case_id)
    if reads_deidentified(actor) or not allowed(actor, Action.READ, site.code):
        raise NotFoundError(f"no case {case_id!r}", "case_id")
    return row, site


def _deidentified_row(session: Session, actor: User, case_id: str) -> tuple[CaseRow, SiteRow]:
    """Return the case whose de-identified id is ``case_id``, among the sites ``actor`` may read.

    The id is a keyed hash that is not stored: every readable case's is computed (one HMAC per
    case, about a microsecond each).
    """
    synthetic = case_id.startswith("SYN-")
    if case_id.removeprefix("SYN-").startswith("DEID-"):
        sites = site_rows(session, actor, Action.READ, None)
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


def _deidentified_stored(row: CaseRow, site: SiteRow) -> StoredCase:
    """Return the de-identified view of a stored case.

    The case, its id and its time stamps (moved by the patient's date shift).
    """
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


def _stored(row: CaseRow, site: str, case: Case | None = None) -> StoredCase:
    """Return a stored case as the registry holds it (``case``: its already parsed case)."""
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


def _prepared(case: Case) -> tuple[Case, dict[str, Any], CaseColumns]:
    """Return the checked case, its stored document and its derived columns.

    Raises
    ------
    InputError
        for a case that cannot be stored (naming the field), or whose document does not give the
        case back.
    """
    checked = check_case(case)
    (columns,) = derive_columns([checked])
    if isinstance(columns, InputError):
        raise columns
    document = stored_document(checked)
    if case_from_document(document) != checked:  # the document must give the case back
        raise InputError("the case does not survive storage unchanged", "(case)")
    return checked, document, columns


def _refuse_duplicate(
    unit: Writing, site_row: SiteRow, pseudonym: str, case_id: str, by_number: bool
) -> None:
    """Raise ``ConflictError`` when the site holds the patient, or the case id is taken."""
    session = unit.session
    duplicate = session.scalar(
        select(CaseRow.case_id).where(
            CaseRow.site_id == site_row.id, CaseRow.pseudonym == pseudonym
        )
    )
    if duplicate is not None:
        raise ConflictError(
            f"site {site_row.code} holds this patient already as case {duplicate!r}",
            "hospital_number" if by_number else "id",
        )
    if session.scalar(select(CaseRow.id).where(CaseRow.case_id == case_id)):
        raise ConflictError(f"case id {case_id!r} is already used", "id")


def _deidentified_summary(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return a list row with the de-identified id and the age grouped over 89.

    ``row`` holds :class:`~livermet.registry.entities.CaseSummary`'s fields, then the pseudonym
    and the site secret; the result holds the summary's fields only.
    """
    case_id, site, version, synthetic, age, *rest, pseudonym, secret = row
    case_id = ("SYN-" if synthetic else "") + deidentified_id(pseudonym, secret)
    return (case_id, site, version, synthetic, top_coded_age(age), *rest)


def _cohort_table(rows: list[Any], deidentified: bool) -> pd.DataFrame:
    """Return the cohort frame of the rows read with :data:`_COHORT_QUERY_COLUMNS`."""
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


class CaseService(Service):
    """The cases as one user reads and writes them."""

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

        Returns
        -------
        StoredCase
            The case as stored, at version 1.

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
        with self._ctx.writing() as unit:
            actor = unit.actor
            code = _target_site(actor, site)
            require(actor, Action.WRITE, code)
            site_row = load_site(unit.session, code)
            checked, document, columns = _prepared(case)
            pseudonym = pseudonym_for(CaseInput(checked, hospital_number), checked, site_row)
            _refuse_duplicate(unit, site_row, pseudonym, checked.id, hospital_number is not None)
            now = dt.datetime.now(dt.UTC)
            row = CaseRow(
                **case_values(checked, document, columns, actor.username, now),
                site_id=site_row.id,
                pseudonym=pseudonym,
                version=1,
                created_at=now,
                created_by=actor.username,
            )
            unit.session.add(row)
            try:
                unit.session.flush()
            except IntegrityError:  # a concurrent writer got there first
                raise ConflictError(f"case {checked.id!r} exists already", "id") from None
            unit.audit.append("create", "case", checked.id, site=code, after=document)
            return _stored(row, code, checked)

    def get_case(self, case_id: str) -> StoredCase:
        """Return the stored case ``case_id`` (audited: ``case.read``).

        A user who reads de-identified (``access.reads_deidentified``) gets the de-identified
        case, and gives its de-identified id (``DEID-...``, as their lists show it).

        Raises
        ------
        NotFoundError
            for an unknown case id, or one the user may not read (the same answer).
        """
        with self._ctx.reading() as unit:
            deidentified = reads_deidentified(unit.actor)
            if deidentified:
                row, site = _deidentified_row(unit.session, unit.actor, case_id)
                stored = _deidentified_stored(row, site)
            else:
                row, site = _visible_row(unit.session, unit.actor, case_id)
                stored = _stored(row, site.code)
        details = {"deidentified": deidentified, "version": stored.version}
        self._ctx.record_read("case.read", row.case_id, details, site.code)
        return stored

    def find_case(self, hospital_number: str, *, site: str | None = None) -> StoredCase:
        """Return the case of a patient at ``site`` (default: the user's), by hospital number.

        Audited (``case.find``). Not for users who read de-identified: a hospital number names
        the patient.

        Raises
        ------
        NotFoundError
            when the site holds no case of this patient.
        ForbiddenError
            when the user may not read the site.
        """
        with self._ctx.reading() as unit:
            actor = unit.actor
            if reads_deidentified(actor):
                raise ForbiddenError(
                    f"role {actor.role.value} reads de-identified cases and may not look a "
                    "patient up by hospital number",
                    "hospital_number",
                )
            code = _target_site(actor, site)
            require(actor, Action.READ, code)
            site_row = load_site(unit.session, code)
            pseudonym = pseudonymise(hospital_number, site_row.pseudonym_secret)
            row = unit.session.scalar(
                select(CaseRow).where(
                    CaseRow.site_id == site_row.id, CaseRow.pseudonym == pseudonym
                )
            )
            if row is None:
                raise NotFoundError(
                    f"site {code} holds no case with this hospital number", "hospital_number"
                )
            stored = _stored(row, code)
        self._ctx.record_read("case.find", stored.case_id, {"version": stored.version}, code)
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
        # the write right is checked before the look-up: no hint whether the case exists
        with self._ctx.writing(Action.WRITE) as unit:
            row, site = _visible_row(unit.session, unit.actor, case_id)
            require(unit.actor, Action.WRITE, site.code)
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
            checked, document, columns = _prepared(case)
            before = row.document
            now = dt.datetime.now(dt.UTC)
            result = unit.session.execute(
                update(CaseRow)
                .where(CaseRow.id == row.id, CaseRow.version == expected_version)
                .values(
                    **case_values(checked, document, columns, unit.actor.username, now),
                    version=expected_version + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise ConflictError(f"case {case_id!r} was changed meanwhile", "version")
            unit.audit.append(
                "update", "case", case_id, site=site.code, before=before, after=document
            )
            unit.session.expire(row)
            unit.session.refresh(row)
            return _stored(row, site.code, checked)

    def delete_case(self, case_id: str, *, expected_version: int | None = None) -> None:
        """Delete a case (its last state stays in the audit log).

        Raises
        ------
        ConflictError
            when ``expected_version`` is given and the case has moved on since.
        NotFoundError, ForbiddenError
            for an unknown case, or one the user may not change.
        """
        # the write right is checked before the look-up: no hint whether the case exists
        with self._ctx.writing(Action.WRITE) as unit:
            row, site = _visible_row(unit.session, unit.actor, case_id)
            require(unit.actor, Action.WRITE, site.code)
            if expected_version is not None and row.version != expected_version:
                raise ConflictError(
                    f"case {case_id!r} is at version {row.version}, not {expected_version}",
                    "version",
                )
            unit.session.execute(delete(CaseRow).where(CaseRow.id == row.id))
            unit.audit.append("delete", "case", case_id, site=site.code, before=row.document)

    def count_cases(
        self,
        *,
        sites: Iterable[str] | None = None,
        include_synthetic: bool = False,
        only_synthetic: bool = False,
    ) -> int:
        """Return how many cases the user may read (real ones unless synthetic ones are asked)."""
        with self._ctx.reading() as unit:
            query = case_query(
                unit.session, unit.actor, Action.READ, sites, include_synthetic, only_synthetic
            )
            counted = select(func.count()).select_from(query.order_by(None).subquery())
            return int(unit.session.scalar(counted) or 0)

    def list_cases(
        self,
        *,
        sites: Iterable[str] | None = None,
        include_synthetic: bool = False,
        only_synthetic: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[CaseSummary]:
        """Return case summaries (derived columns, no documents), ordered by site and case id.

        ``limit`` (1 to MAX_ROWS, None for all) and ``offset`` (0 to MAX_ROWS) page the list.
        A user who reads de-identified gets the ``DEID-`` ids and ages over 89 as 90. Audited:
        one ``case.list`` record with the count and the filters.

        Raises
        ------
        InputError
            for a ``limit`` or an ``offset`` out of range (named by its field).
        """
        if limit is not None and not 1 <= limit <= MAX_ROWS:
            raise InputError(f"limit must be between 1 and {MAX_ROWS} cases, got {limit}", "limit")
        if not 0 <= offset <= MAX_ROWS:
            raise InputError(
                f"offset must be between 0 and {MAX_ROWS} cases, got {offset}", "offset"
            )
        with self._ctx.reading() as unit:
            query = case_query(
                unit.session, unit.actor, Action.READ, sites, include_synthetic, only_synthetic
            )
            columns = list(_SUMMARY_COLUMNS)
            deidentified = reads_deidentified(unit.actor)
            if deidentified:
                columns += [CaseRow.pseudonym, SiteRow.pseudonym_secret]
            query = query.with_only_columns(*columns).offset(offset).limit(limit)
            rows = [tuple(r) for r in unit.session.execute(query)]
        if deidentified:
            rows = [_deidentified_summary(r) for r in rows]
        details = selection(deidentified, len(rows), sites, include_synthetic, only_synthetic)
        self._ctx.record_read("case.list", "cases", {**details, "limit": limit, "offset": offset})
        return [CaseSummary(*r) for r in rows]

    def find_cases(
        self,
        *,
        query: str = "",
        site: str = "",
        approach: str = "",
        timing: str = "",
        grade: str = "",
        include_synthetic: bool = False,
    ) -> CaseListing:
        """Return the readable cases matching a search text and filters, with the filters' choices.

        Reads the list once (:meth:`list_cases`: one ``case.list`` audit record with the count of
        the readable cases), then keeps the cases whose id, histology or site holds ``query``
        (case-insensitive) and whose ``site``, ``approach``, ``timing`` and ``grade`` equal the
        chosen values (as text; an empty value does not filter). The search runs on the listed
        values, so a user who reads de-identified searches their ``DEID-`` ids. A filter value
        that no case holds gives an empty listing, not an error.
        """
        everything = self.list_cases(include_synthetic=include_synthetic)
        filters = {"site": site, "approach": approach, "timing": timing, "grade": grade}
        shown = [s for s in everything if summary_matches(s, query.strip(), filters)]
        options = filter_options(everything, LISTING_FILTERS)
        return CaseListing(cases=shown, total=len(everything), options=options)

    def cohort_frame(
        self,
        *,
        sites: Iterable[str] | None = None,
        include_synthetic: bool = False,
        only_synthetic: bool = False,
        deidentified: bool = False,
    ) -> pd.DataFrame:
        """Return one row per case for survival analysis (columns: :data:`COHORT_COLUMNS`).

        Needs the read right on the sites. Times are in months from the liver resection
        (``livermet.registry.derive``); ``death`` is 0/1; ``first_event`` is ``recurrence``,
        ``death`` or ``censored``. Synthetic cases are left out unless asked for, and never mixed
        silently: ``only_synthetic`` gives the synthetic cohort alone. ``deidentified`` replaces
        the ids by their de-identified form and groups ages over 89 as 90; it is forced for a user
        who reads de-identified. Audited: one ``case.cohort`` record with the count.
        """
        with self._ctx.reading() as unit:
            query = case_query(
                unit.session, unit.actor, Action.READ, sites, include_synthetic, only_synthetic
            )
            query = query.with_only_columns(*_COHORT_QUERY_COLUMNS)
            rows = unit.session.execute(query).all()
            deidentified = deidentified or reads_deidentified(unit.actor)
        details = selection(deidentified, len(rows), sites, include_synthetic, only_synthetic)
        self._ctx.record_read("case.cohort", "cohort", details)
        return _cohort_table(list(rows), deidentified)
