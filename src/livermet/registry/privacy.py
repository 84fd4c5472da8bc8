"""Pseudonyms and de-identification.

Pseudonyms
    A hospital number becomes ``HMAC-SHA256(site secret, hospital number)``; names are never
    stored and the hospital number itself is not kept. Each site has its own 256-bit secret,
    generated when the site is created and stored in the registry database.

    Threat model: the pseudonym protects against whoever sees cases or exports *without* access
    to the database's ``sites`` table — an analyst, a co-operating hospital, a leaked export —
    because hospital numbers are short and could otherwise be enumerated (a plain hash would be
    reversed by hashing every possible number). It does not protect against someone who controls
    the registry database: they hold the secrets and can test hospital numbers. A site's own
    staff may look a patient up by hospital number through the registry (``find_case``), which
    is the point of a keyed hash rather than a random identifier. The same hospital number at two
    sites gives two unrelated pseudonyms, so sites cannot link their patients through the
    registry. A case given without a hospital number is pseudonymised by its case id, so that
    importing the same case file twice is still recognised as a duplicate.

De-identified export (REDCap's "de-identified" export right, registry-research §1.6)
    - the case id is replaced by a stable keyed hash (``DEID-`` + 16 hex digits), the pseudonym
      is dropped;
    - every calendar date of a patient is moved back by the same number of days, 1-364, derived
      from the HMAC of the pseudonym: stable across exports, unknown without the site secret,
      and every interval (hence every survival time) is preserved;
    - ages over 89 are grouped: the age becomes :data:`AGE_TOP_CODE` (90), which in a
      de-identified export means "90 or older" (HIPAA Safe Harbor's aggregation; the case model's
      age is an integer, so the group is written as its lower bound);
    - free-text remarks that may carry identifiers are dropped: ``notes`` and every ``source``
      quotation; the case's ``source`` says that the case is de-identified (synthetic cases stay
      marked: source ``synthetic``, id ``SYN-DEID-...``). Short descriptive fields the case
      model requires (complication descriptions, imaging findings, procedure names) are kept:
      sites must not write identifiers into them.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from livermet.case.model import Case
from livermet.errors import InputError
from livermet.registry.documents import SYNTHETIC_SOURCE, case_document

AGE_TOP_CODE = 90
"""Ages above 89 are exported as 90, meaning "90 or older"."""

MAX_DATE_SHIFT_DAYS = 364
DEIDENTIFIED_SOURCE = (
    "livermet registry, de-identified export: dates shifted per patient, ages over 89 given as 90"
)


def new_site_secret() -> str:
    """A fresh 256-bit site secret, hex-encoded."""
    return secrets.token_hex(32)


def _mac(secret: str, purpose: str, value: str) -> bytes:
    # The purpose label separates the uses of one key (pseudonym, date shift, export id).
    message = purpose.encode() + b"\x00" + value.encode("utf-8")
    return hmac.new(bytes.fromhex(secret), message, hashlib.sha256).digest()


def normalise_hospital_number(value: str) -> str:
    """Hospital numbers compare without surrounding or inner spaces and without case.

    Raises
    ------
    InputError
        for an empty hospital number (field ``hospital_number``).
    """
    normalised = "".join(str(value).split()).upper()
    if not normalised:
        raise InputError("an empty hospital number cannot be pseudonymised", "hospital_number")
    return normalised


def pseudonymise(hospital_number: str, secret: str) -> str:
    """HMAC-SHA256 of the normalised hospital number under the site's secret (64 hex digits)."""
    return _mac(secret, "hospital-number", normalise_hospital_number(hospital_number)).hex()


def pseudonymise_case_id(case_id: str, secret: str) -> str:
    """The pseudonym of a case given without a hospital number: keyed hash of its case id."""
    return _mac(secret, "case-id", case_id).hex()


def date_shift_days(pseudonym: str, secret: str) -> int:
    """Days (negative, -1 to -364) by which a patient's dates move in de-identified exports."""
    draw = int.from_bytes(_mac(secret, "date-shift", pseudonym)[:8], "big")
    return -(1 + draw % MAX_DATE_SHIFT_DAYS)


def deidentified_id(pseudonym: str, secret: str) -> str:
    """The case id of a de-identified export: stable, not linkable without the site secret."""
    return "DEID-" + _mac(secret, "export-id", pseudonym).hex()[:16]


def top_coded_age(age: int | None) -> int | None:
    """Age with every age above 89 grouped as :data:`AGE_TOP_CODE`."""
    return None if age is None else min(age, AGE_TOP_CODE)


def _shift(value: Any, days: int) -> Any:
    """A date in a case document moved by ``days``; offsets (mappings) stay as they are."""
    if isinstance(value, str):
        return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()
    return value


def _drop_sources(items: list[dict[str, Any]]) -> None:
    for item in items:
        item.pop("source", None)


def deidentify_document(document: dict[str, Any], *, pseudonym: str, secret: str) -> dict[str, Any]:
    """The de-identified copy of a stored case document (the module docstring says what
    changes); ``document`` itself is left as it is."""
    doc = copy.deepcopy(document)
    days = date_shift_days(pseudonym, secret)
    synthetic = doc.get("source") == SYNTHETIC_SOURCE
    doc["id"] = ("SYN-" if synthetic else "") + deidentified_id(pseudonym, secret)
    doc.pop("notes", None)
    doc["source"] = SYNTHETIC_SOURCE if synthetic else DEIDENTIFIED_SOURCE
    patient = doc.get("patient", {})
    if patient.get("age_years") is not None:
        patient["age_years"] = top_coded_age(patient["age_years"])
    _drop_sources(doc.get("primary_tumour", {}).get("sizes", []))
    _drop_sources(doc.get("liver_lesions", []))
    for proc in doc.get("procedures", []):
        for key in ("when", "discharge"):
            if key in proc:
                proc[key] = _shift(proc[key], days)
    for key in ("imaging", "biopsies", "follow_up"):
        for item in doc.get(key, []):
            if "when" in item:
                item["when"] = _shift(item["when"], days)
    return doc


def deidentify_case(case: Case, *, pseudonym: str, secret: str) -> Case:
    """The de-identified version of ``case`` (see the module docstring for what changes)."""
    return Case.model_validate(
        deidentify_document(case_document(case), pseudonym=pseudonym, secret=secret)
    )
