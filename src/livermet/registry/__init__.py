"""The multi-site registry: storage, access control, pseudonyms, audit and cohorts.

Open a registry with :class:`Database` (SQLite file by default, PostgreSQL through
``LIVERMET_DATABASE_URL``), authenticate a user, and act through :class:`Registry`::

    from livermet.registry import Database
    db = Database()                              # creates / upgrades the schema
    admin = db.bootstrap("admin", "a long passphrase")   # first user only
    reg = db.registry(admin)
    reg.create_site("kyoto", "Kyoto University Hospital")
    stored = reg.create_case(case, hospital_number="123456", site="kyoto")
    reg.update_case(stored.case_id, edited, expected_version=stored.version)
    frame = reg.cohort_frame(sites=["kyoto"])

Modules:

- ``engine``: where the registry lives (URL, file), its engine, transactions and migrations;
- ``models``: the tables; ``entities``: what the services take and give back;
- ``database``: :class:`Database`, opening a registry and authenticating its users;
- ``facade``: :class:`Registry`, the registry as one user sees it, composed of the services
  ``case_service`` (cases, cohorts), ``people_service`` (sites, users, tokens),
  ``audit_service`` (the log) and ``exchange_service`` (imports, exports), which share one
  ``context`` (a unit of work: transaction, acting user, permission, audit writer);
- ``access``: the access matrix; ``accounts``: user and site rows; ``security``: passwords
  and tokens; ``privacy``: pseudonyms and de-identification;
- ``audit``: the hash chain and its writer; ``audit_state``: the state the chain describes;
  ``audit_verification``: checking the chain, its anchors and the tables;
- ``bulk``: the bulk import; ``documents``: stored case documents; ``derive``: the cohort
  columns; ``analysis_export``: the analysis export; ``synthetic``: the synthetic cohorts.
"""

from livermet.registry.access import ACCESS_MATRIX, Action, Role, User
from livermet.registry.audit_state import StateMismatch
from livermet.registry.audit_verification import AuditAnchor, AuditVerification
from livermet.registry.case_service import COHORT_COLUMNS
from livermet.registry.database import Database
from livermet.registry.engine import default_sqlite_path, resolve_url
from livermet.registry.entities import (
    AuditEntry,
    CaseInput,
    CaseSummary,
    ExportedCase,
    ImportConflict,
    ImportProblem,
    ImportRejected,
    ImportReport,
    NewToken,
    Site,
    StoredCase,
    TokenInfo,
)
from livermet.registry.facade import Registry
from livermet.registry.synthetic import synthetic_cases

__all__ = [
    "ACCESS_MATRIX",
    "COHORT_COLUMNS",
    "Action",
    "AuditAnchor",
    "AuditEntry",
    "AuditVerification",
    "CaseInput",
    "CaseSummary",
    "Database",
    "ExportedCase",
    "ImportConflict",
    "ImportProblem",
    "ImportRejected",
    "ImportReport",
    "NewToken",
    "Registry",
    "Role",
    "Site",
    "StateMismatch",
    "StoredCase",
    "TokenInfo",
    "User",
    "default_sqlite_path",
    "resolve_url",
    "synthetic_cases",
]
