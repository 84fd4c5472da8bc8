"""The registry as one user sees it: :class:`Registry`, a facade over the registry's services.

:class:`~livermet.registry.database.Database` opens a registry, authenticates users and hands
out a :class:`Registry` bound to one user. The registry composes four services that share one
:class:`~livermet.registry.context.Context` (the engine and the acting user):

- ``cases`` (:class:`~livermet.registry.case_service.CaseService`): cases and cohorts;
- ``people`` (:class:`~livermet.registry.people_service.PeopleService`): sites, users, tokens;
- ``audit`` (:class:`~livermet.registry.audit_service.AuditService`): the audit log;
- ``exchange`` (:class:`~livermet.registry.exchange_service.ExchangeService`): imports and
  exports.

Every method runs in its own transaction, re-reads the acting user (a deactivated user or a
changed role takes effect at once), checks the access matrix (``livermet.registry.access``) and
raises ``ForbiddenError`` when the role does not allow the action on the site concerned. Every
change appends to the audit chain in the same transaction, so a change and its audit record are
stored together or not at all; every read of case data is audited too (``case_service``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from livermet.case.model import Case
from livermet.registry.access import Role, User
from livermet.registry.audit_service import AuditService
from livermet.registry.audit_verification import AuditAnchor, AuditVerification
from livermet.registry.bulk import CHUNK_SIZE, ProgressCallback
from livermet.registry.case_service import CaseListing, CaseService
from livermet.registry.context import Context
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
from livermet.registry.exchange_service import ExchangeService
from livermet.registry.people_service import PeopleService

if TYPE_CHECKING:
    from livermet.registry.database import Database


class Registry:
    """The registry as one user sees it: cases, cohorts, exports, users, tokens and audit.

    Obtain it from :meth:`Database.registry`. Every method checks the access matrix for the
    acting user and raises ``ForbiddenError`` when the role does not allow the action; each
    delegates to one of the services (:attr:`cases`, :attr:`people`, :attr:`audit`,
    :attr:`exchange`), where its behaviour is documented in full.

    Parameters
    ----------
    db
        The open registry database.
    user
        The user the registry acts for.
    """

    def __init__(self, db: Database, user: User) -> None:
        self._db = db
        self.context = Context(db.engine, user)
        self.cases = CaseService(self.context)
        self.people = PeopleService(self.context)
        self.audit = AuditService(self.context)
        self.exchange = ExchangeService(self.context)

    @property
    def user(self) -> User:
        """Return the user the registry acts for (as authenticated)."""
        return self.context.user

    # --- cases (CaseService) -----------------------------------------------------------------

    def create_case(
        self, case: Case, *, hospital_number: str | None = None, site: str | None = None
    ) -> StoredCase:
        """Store a new case at ``site``: :meth:`CaseService.create_case`."""
        return self.cases.create_case(case, hospital_number=hospital_number, site=site)

    def get_case(self, case_id: str) -> StoredCase:
        """Return the stored case ``case_id``: :meth:`CaseService.get_case`."""
        return self.cases.get_case(case_id)

    def find_case(self, hospital_number: str, *, site: str | None = None) -> StoredCase:
        """Return a patient's case by hospital number: :meth:`CaseService.find_case`."""
        return self.cases.find_case(hospital_number, site=site)

    def update_case(self, case_id: str, case: Case, expected_version: int) -> StoredCase:
        """Replace a stored case: :meth:`CaseService.update_case`."""
        return self.cases.update_case(case_id, case, expected_version)

    def delete_case(self, case_id: str, *, expected_version: int | None = None) -> None:
        """Delete a case: :meth:`CaseService.delete_case`."""
        self.cases.delete_case(case_id, expected_version=expected_version)

    def count_cases(
        self,
        *,
        sites: Iterable[str] | None = None,
        include_synthetic: bool = False,
        only_synthetic: bool = False,
    ) -> int:
        """Return how many cases the user may read: :meth:`CaseService.count_cases`."""
        return self.cases.count_cases(
            sites=sites, include_synthetic=include_synthetic, only_synthetic=only_synthetic
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
        """Return case summaries: :meth:`CaseService.list_cases`."""
        return self.cases.list_cases(
            sites=sites,
            include_synthetic=include_synthetic,
            only_synthetic=only_synthetic,
            limit=limit,
            offset=offset,
        )

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
        """Return the cases matching a search and filters: :meth:`CaseService.find_cases`."""
        return self.cases.find_cases(
            query=query,
            site=site,
            approach=approach,
            timing=timing,
            grade=grade,
            include_synthetic=include_synthetic,
        )

    def cohort_frame(
        self,
        *,
        sites: Iterable[str] | None = None,
        include_synthetic: bool = False,
        only_synthetic: bool = False,
        deidentified: bool = False,
    ) -> pd.DataFrame:
        """Return one row per case for survival analysis: :meth:`CaseService.cohort_frame`."""
        return self.cases.cohort_frame(
            sites=sites,
            include_synthetic=include_synthetic,
            only_synthetic=only_synthetic,
            deidentified=deidentified,
        )

    # --- imports and exports (ExchangeService) -------------------------------------------------

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
        """Import many cases all-or-nothing: :meth:`ExchangeService.import_cases`."""
        return self.exchange.import_cases(
            cases,
            source=source,
            site=site,
            merge=merge,
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
        """Return cases to take out of the registry: :meth:`ExchangeService.export_cases`."""
        return self.exchange.export_cases(
            sites=sites,
            deidentified=deidentified,
            include_synthetic=include_synthetic,
            only_synthetic=only_synthetic,
        )

    def record_federated_release(self, details: dict[str, Any]) -> None:
        """Audit an aggregate file leaving: :meth:`ExchangeService.record_federated_release`."""
        self.exchange.record_federated_release(details)

    # --- sites, users, tokens (PeopleService) --------------------------------------------------

    def create_site(self, code: str, name: str) -> Site:
        """Create a site: :meth:`PeopleService.create_site`."""
        return self.people.create_site(code, name)

    def list_sites(self) -> list[Site]:
        """Return every site: :meth:`PeopleService.list_sites`."""
        return self.people.list_sites()

    def case_sites(self) -> list[str]:
        """Return the sites the user may add a case to: :meth:`PeopleService.case_sites`."""
        return self.people.case_sites()

    def case_site(self, site: str | None) -> str:
        """Return the site a new case goes to: :meth:`PeopleService.case_site`."""
        return self.people.case_site(site)

    def create_user(
        self,
        username: str,
        *,
        role: Role | str,
        site: str | None = None,
        password: str | None = None,
    ) -> User:
        """Create a user: :meth:`PeopleService.create_user`."""
        return self.people.create_user(username, role=role, site=site, password=password)

    def update_user(
        self,
        username: str,
        *,
        role: Role | str | None = None,
        site: str | None = None,
        active: bool | None = None,
    ) -> User:
        """Change a user's role, site or active flag: :meth:`PeopleService.update_user`."""
        return self.people.update_user(username, role=role, site=site, active=active)

    def set_password(self, username: str, password: str) -> None:
        """Set a password: :meth:`PeopleService.set_password`."""
        self.people.set_password(username, password)

    def list_users(self) -> list[User]:
        """Return the users the actor manages: :meth:`PeopleService.list_users`."""
        return self.people.list_users()

    def create_token(self, label: str = "", *, username: str | None = None) -> NewToken:
        """Create an API token: :meth:`PeopleService.create_token`."""
        return self.people.create_token(label, username=username)

    def revoke_token(self, token_id: int) -> None:
        """Revoke an API token: :meth:`PeopleService.revoke_token`."""
        self.people.revoke_token(token_id)

    def list_tokens(self, *, username: str | None = None) -> list[TokenInfo]:
        """Return API tokens, without their secrets: :meth:`PeopleService.list_tokens`."""
        return self.people.list_tokens(username=username)

    # --- audit (AuditService) ------------------------------------------------------------------

    def verify_audit(self, anchors: Iterable[AuditAnchor] = ()) -> AuditVerification:
        """Check the audit chain and the tables against it: :meth:`AuditService.verify_audit`."""
        return self.audit.verify_audit(anchors)

    def audit_entries(
        self, *, entity_id: str | None = None, limit: int = 100, entity: str | None = None
    ) -> list[AuditEntry]:
        """Return the latest audit records: :meth:`AuditService.audit_entries`."""
        return self.audit.audit_entries(entity_id=entity_id, limit=limit, entity=entity)
