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

See ``access`` for the access matrix, ``privacy`` for pseudonyms and de-identification,
``audit`` for the hash chain, ``derive`` for the cohort columns and ``synthetic`` for the
synthetic-cohort generator.
"""

from livermet.registry.access import ACCESS_MATRIX, Action, Role, User
from livermet.registry.audit import AuditAnchor, AuditVerification
from livermet.registry.audit_state import StateMismatch
from livermet.registry.database import Database
from livermet.registry.db import default_sqlite_path, resolve_url
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
from livermet.registry.service import COHORT_COLUMNS, Registry
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
