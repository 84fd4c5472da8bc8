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

De-identified export and views (as REDCap's "de-identified" export; docs/registry.md)
    - the case id is replaced by a stable keyed hash (``DEID-`` + 16 hex digits), the pseudonym
      is dropped;
    - every calendar date of a patient (every field of the case model typed as a date, wherever
      it is) is moved back by the same number of days, 1-364, derived from the HMAC of the
      pseudonym: stable across exports, unknown without the site secret, and every interval
      (hence every survival time) is preserved;
    - ages over 89 are grouped: the age becomes :data:`AGE_TOP_CODE` (90), which in a
      de-identified export means "90 or older" (HIPAA Safe Harbor's aggregation; the case model's
      age is an integer, so the group is written as its lower bound);
    - every free-text field is removed, found by walking the case model: a ``str`` field that is
      not a controlled vocabulary (``Literal``) nor a checked format (measurements such as
      ``"1.2 mg/dL"``, segments, Clavien-Dindo grades) may hold a name, a date of birth, a
      hospital number or a date ("CT on 2024-03-05"). An optional one is dropped, a required one
      (and each item of a list of texts, whose length the assessment uses) becomes
      :data:`REMOVED`. The only texts kept are those of :data:`SAFE_TEXT`, and only when their
      value is a term of a vocabulary (which contains no digits, hence no date or number); a new
      text field of the model is removed until it is declared safe there;
    - the procedures' ids, which other events refer to, become the procedure's kind
      (``liver-resection``, ``liver-resection-2``), so the timeline still resolves;
    - lesion labels (``liver_lesions[].id`` and ``imaging[].measurements[].lesion``) are free
      text that the RECIST 1.1 response needs only to tell lesions apart and to follow one lesion
      across time points: each distinct label becomes ``L1``, ``L2``, ... in order of first
      appearance (the liver lesions first, then the measurements, time point by time point), the
      same mapping for the lesions and every measurement, so the de-identified case computes the
      same response. Removing them instead would turn every label into the same text and merge
      all lesions into one;
    - a measurement's ``organ`` is kept when it is a term of :data:`ORGANS` (anatomical terms,
      no digits); any other text becomes a neutral ``other organ 1``, ``other organ 2``, ... (one
      per distinct text, in order of first appearance), because RECIST 1.1 counts target lesions
      per organ (at most 2): removal would fall back to the default ``liver`` and merge the
      organs. A vocabulary alone would not do for the same reason;
    - a systemic therapy's ``regimen`` is kept when every drug it names is a term of
      :data:`DRUGS` (joined by ``+``, ``/``, ``,``, ``and``, ``with`` or ``then``; no doses, no
      digits), since the regimen of previous chemotherapy is an analysis variable; otherwise it
      is removed like any required text (:data:`REMOVED`). Its dates (``started``, ``ended``) are
      shifted like every other date;
    - the ``target`` of an imaging study or a biopsy is kept when it is ``primary`` or an organ of
      :data:`ORGANS`: the first liver imaging or biopsy dates a liver lesion that has no
      detection date (synchronous or metachronous, disease-free interval);
    - the case's ``source`` says that the case is de-identified (synthetic cases stay marked:
      source ``synthetic``, id ``SYN-DEID-...``).

    The de-identified case still validates and the assessment runs on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import types
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, PlainValidator, WrapValidator

from livermet.case.model import (
    Biopsy,
    Case,
    Imaging,
    LesionMeasurement,
    LiverLesion,
    Offset,
    Patient,
    PrimaryTumour,
    Procedure,
    SystemicTherapy,
)
from livermet.clinical import fnclcc
from livermet.errors import InputError
from livermet.registry.documents import SYNTHETIC_SOURCE, case_document

AGE_TOP_CODE = 90
"""Ages above 89 are exported as 90, meaning "90 or older"."""

MAX_DATE_SHIFT_DAYS = 364
DEIDENTIFIED_SOURCE = (
    "livermet registry, de-identified export: dates shifted per patient, ages over 89 given as 90"
)


def new_site_secret() -> str:
    """Return a fresh 256-bit site secret, hex-encoded."""
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
    """Return the pseudonym of a case without a hospital number: a keyed hash of its id."""
    return _mac(secret, "case-id", case_id).hex()


def date_shift_days(pseudonym: str, secret: str) -> int:
    """Days (negative, -1 to -364) by which a patient's dates move in de-identified exports."""
    draw = int.from_bytes(_mac(secret, "date-shift", pseudonym)[:8], "big")
    return -(1 + draw % MAX_DATE_SHIFT_DAYS)


def deidentified_id(pseudonym: str, secret: str) -> str:
    """Return a case's de-identified id: stable, not linkable without the site secret."""
    return "DEID-" + _mac(secret, "export-id", pseudonym).hex()[:16]


def top_coded_age(age: int | None) -> int | None:
    """Age with every age above 89 grouped as :data:`AGE_TOP_CODE`."""
    return None if age is None else min(age, AGE_TOP_CODE)


REMOVED = "[removed]"
"""What a required free-text field holds in a de-identified case."""


def _known_histology(value: str) -> bool:
    # a term of the FNCLCC differentiation table (or of the entities it does not grade)
    return (
        fnclcc.differentiation_score_for(value) is not None
        or fnclcc.normalise_histology(value) in fnclcc.GRADING_NOT_APPLICABLE
    )


_VARIANTS = frozenset(
    {"conventional", "nos"}
    | {k.rsplit(" ", 1)[0] for k in fnclcc.DIFFERENTIATION_SCORES if " " in k}
)
_ECOG = re.compile(r"^\s*(?:ecog\s*(?:ps\s*)?)?[0-4]\s*$", re.IGNORECASE)

ORGANS = frozenset(
    {
        "liver", "lung", "lungs", "pleura", "lymph node", "lymph nodes", "peritoneum",
        "omentum", "mesentery", "bone", "brain", "adrenal", "adrenal gland", "kidney", "spleen",
        "pancreas", "stomach", "small bowel", "colon", "rectum", "bladder", "uterus", "ovary",
        "vagina", "pelvis", "retroperitoneum", "abdominal wall", "chest wall", "soft tissue",
        "muscle", "skin", "subcutaneous tissue", "heart", "pericardium", "thyroid", "breast",
    }
)  # fmt: skip
"""Organ names a de-identified lesion measurement keeps (compared without case and edge
spaces); any other text becomes a neutral ``other organ N``."""

DRUGS = frozenset(
    {
        "doxorubicin", "adriamycin", "epirubicin", "liposomal doxorubicin",
        "pegylated liposomal doxorubicin", "ifosfamide", "cyclophosphamide", "mesna",
        "dacarbazine", "temozolomide", "gemcitabine", "docetaxel", "paclitaxel",
        "nab-paclitaxel", "trabectedin", "eribulin", "pazopanib", "regorafenib", "sunitinib",
        "sorafenib", "cabozantinib", "anlotinib", "olaratumab", "vincristine", "vinorelbine",
        "etoposide", "cisplatin", "carboplatin", "oxaliplatin", "irinotecan", "topotecan",
        "actinomycin d", "dactinomycin", "methotrexate", "capecitabine", "fluorouracil",
        "5-fluorouracil", "bevacizumab", "pembrolizumab", "nivolumab", "ipilimumab",
        "tamoxifen", "letrozole", "anastrozole", "exemestane", "megestrol", "medroxyprogesterone",
        "leuprorelin", "gdp", "ai", "map", "vac", "ie",
    }
)  # fmt: skip
"""Drug names (and the usual sarcoma regimen acronyms) a de-identified regimen may consist of.
``5-fluorouracil`` is the one term with a digit: a drug name, not a date or a dose."""

_REGIMEN_SEPARATORS = re.compile(
    r"(?:\s*(?:\+|/|,|;|\band\b|\bwith\b|\bthen\b)\s*)+", re.IGNORECASE
)


def _known_regimen(value: str) -> bool:
    drugs = [d.strip().lower() for d in _REGIMEN_SEPARATORS.split(value)]
    return bool(drugs) and all(d in DRUGS for d in drugs)


def _known_organ(value: str) -> bool:
    return value.strip().lower() in ORGANS


def _known_target(value: str) -> bool:
    # "liver" marks the imaging and biopsies that date a liver lesion without a detection date
    return value.strip().lower() == "primary" or _known_organ(value)


SAFE_TEXT: dict[tuple[type[BaseModel], str], Callable[[str], bool]] = {
    # the registry's analysis variable (cohorts and grading by histology)
    (PrimaryTumour, "histology"): _known_histology,
    (PrimaryTumour, "histology_variant"): lambda v: fnclcc.normalise_histology(v) in _VARIANTS,
    # a bare ECOG grade ("ECOG 1", "2"), never the report's words
    (Patient, "performance_status"): lambda v: _ECOG.match(v) is not None,
    # the regimen of previous chemotherapy, when it names only known drugs (no dose, no date)
    (SystemicTherapy, "regimen"): _known_regimen,
    # what was imaged or biopsied: "primary", "liver" or another organ of ORGANS
    (Imaging, "target"): _known_target,
    (Biopsy, "target"): _known_target,
}
"""The only free-text fields a de-identified case keeps, each with the vocabulary test its
value must pass (otherwise it is removed like any other text). None of the vocabularies holds
a digit beyond the ECOG grade and the 5 of 5-fluorouracil, so no date or number survives in a
kept text."""

_REFERENCES: dict[tuple[type[BaseModel], str], str] = {
    (Case, "index_event"): "procedure",
    (Procedure, "id"): "procedure",
    (Offset, "after"): "procedure",
    (LiverLesion, "id"): "lesion",
    (LesionMeasurement, "lesion"): "lesion",
    (LesionMeasurement, "organ"): "organ",
}
"""Texts that name something other fields refer to (procedures, lesions, organs): renamed
consistently through the mapping of their namespace, not removed."""


def _checked(metadata: list[Any]) -> bool:
    """Whether a field's metadata checks its format (measurements, segments, grades)."""
    return any(
        isinstance(m, (AfterValidator, BeforeValidator, PlainValidator, WrapValidator))
        for m in metadata
    )


def _kind(annotation: Any) -> str:
    """Return how de-identification treats a field of this type.

    ``text`` (free text), ``date``, ``model``, or ``keep`` (numbers, flags, vocabularies and
    checked formats).
    """
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        return "keep" if _checked(metadata) else _kind(inner)
    if origin in (Union, types.UnionType, list):
        kinds = {_kind(a) for a in get_args(annotation) if a is not type(None)}
        for kind in ("text", "model", "date"):  # a date-or-offset is both date and model
            if kind in kinds:
                return kind
        return "keep"
    if annotation is str:
        return "text"
    if annotation is dt.date:
        return "date"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model"
    return "keep"


def _model_of(annotation: Any) -> type[BaseModel]:
    """Return the model class inside ``list[M]``, ``M | None`` or ``date | M``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        if get_args(arg):
            return _model_of(arg)
    raise TypeError(f"no model in {annotation!r}")


def _scrub_text(model: type[BaseModel], name: str, value: Any, required: bool) -> Any:
    keep = SAFE_TEXT.get((model, name))
    if isinstance(value, list):
        return [REMOVED] * len(value)
    if keep is not None and isinstance(value, str) and keep(value):
        return value
    return REMOVED if required else None


Renames = dict[str, dict[str, str]]
"""Namespace (``procedure``, ``lesion``, ``organ``) -> old text -> new text."""


def _scrub(doc: dict[str, Any], model: type[BaseModel], days: int, ids: Renames) -> dict[str, Any]:
    """``doc`` (a document of ``model``) with free text removed, dates shifted, ids renamed."""
    out: dict[str, Any] = {}
    for name, value in doc.items():
        info = model.model_fields.get(name)
        if info is None:  # not a field of the model (which forbids extras): not kept
            continue
        namespace = _REFERENCES.get((model, name))
        if namespace is not None:
            renamed = ids[namespace]
            out[name] = renamed.get(value, REMOVED) if isinstance(value, str) else value
            continue
        kind = "keep" if _checked(info.metadata) else _kind(info.annotation)
        if kind == "text":
            value = _scrub_text(model, name, value, info.is_required())
            if value is None:
                continue
        elif kind in ("model", "date"):
            value = _walk(value, info.annotation, days, ids)
        out[name] = value
    return out


def _walk(value: Any, annotation: Any, days: int, ids: Renames) -> Any:
    if isinstance(value, list):
        return [_walk(v, annotation, days, ids) for v in value]
    if isinstance(value, dict):
        return _scrub(value, _model_of(annotation), days, ids)
    if isinstance(value, str):  # a calendar date
        return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()
    return value


def _procedure_ids(doc: dict[str, Any]) -> dict[str, str]:
    """Return new ids of the procedures: their kind, numbered when a kind comes again."""
    ids: dict[str, str] = {}
    seen: dict[str, int] = {}
    for proc in doc.get("procedures", []):
        kind = str(proc.get("kind", "event")).replace("_", "-")
        seen[kind] = seen.get(kind, 0) + 1
        ids[proc["id"]] = kind if seen[kind] == 1 else f"{kind}-{seen[kind]}"
    return ids


def _measurements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for im in doc.get("imaging", []) for m in im.get("measurements", [])]


def _lesion_labels(doc: dict[str, Any]) -> dict[str, str]:
    """Return ``L1``, ``L2``, ... for each distinct lesion label, in order of first appearance.

    The liver lesions' ids first, then the measurements' lesions, time point by time point.
    """
    found = [lesion.get("id") for lesion in doc.get("liver_lesions", [])]
    found += [m.get("lesion") for m in _measurements(doc)]
    labels: dict[str, str] = {}
    for label in found:
        if isinstance(label, str) and label not in labels:
            labels[label] = f"L{len(labels) + 1}"
    return labels


def _organs(doc: dict[str, Any]) -> dict[str, str]:
    """Return the new organ names: a known organ keeps its name, others ``other organ N``."""
    organs: dict[str, str] = {}
    others = 0
    for m in _measurements(doc):
        organ = m.get("organ")
        if not isinstance(organ, str) or organ in organs:
            continue
        if _known_organ(organ):
            organs[organ] = organ
        else:
            others += 1
            organs[organ] = f"other organ {others}"
    return organs


def deidentify_document(document: dict[str, Any], *, pseudonym: str, secret: str) -> dict[str, Any]:
    """Return the de-identified copy of a stored case document.

    The module docstring says what changes; ``document`` itself is left as it is.
    """
    synthetic = document.get("source") == SYNTHETIC_SOURCE
    renames: Renames = {
        "procedure": _procedure_ids(document),
        "lesion": _lesion_labels(document),
        "organ": _organs(document),
    }
    doc = _scrub(document, Case, date_shift_days(pseudonym, secret), renames)
    doc["id"] = ("SYN-" if synthetic else "") + deidentified_id(pseudonym, secret)
    doc["source"] = SYNTHETIC_SOURCE if synthetic else DEIDENTIFIED_SOURCE
    patient = doc.get("patient", {})
    if patient.get("age_years") is not None:
        patient["age_years"] = top_coded_age(patient["age_years"])
    return doc


def deidentify_case(case: Case, *, pseudonym: str, secret: str) -> Case:
    """Return the de-identified version of ``case`` (the module docstring says what changes)."""
    return Case.model_validate(
        deidentify_document(case_document(case), pseudonym=pseudonym, secret=secret)
    )
