"""Code systems and the few clinical codes livermet writes into FHIR.

Only codes found in a public source are used (docs/registry.md#clinical-codes-in-fhir-export); every
concept without a verified code is written as a text-only CodeableConcept (``{"text": ...}``), never
with an invented code. Displays are left out on purpose: a wrong display is worse than none, and the
sources give the meanings, not the official display strings. Each group of constants names its
source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --- code-system URIs (mCODE input/fsh/AL_CodeSystems.fsh) ----------------------------------------

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
UCUM = "http://unitsofmeasure.org"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"

# FHIR's own infrastructure vocabulary (not clinical codes): observation categories.
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# --- livermet's namespace: extensions, identifiers, local code systems ----------------------------

LIVERMET_BASE = "https://livermet.example/fhir"
STRUCTURE_DEFINITION = f"{LIVERMET_BASE}/StructureDefinition/"
CASE_ID_SYSTEM = f"{LIVERMET_BASE}/NamingSystem/case-id"
PATIENT_PSEUDONYM_SYSTEM = f"{LIVERMET_BASE}/NamingSystem/patient-pseudonym"
PROCEDURE_ID_SYSTEM = f"{LIVERMET_BASE}/NamingSystem/procedure-id"
LESION_LABEL_SYSTEM = f"{LIVERMET_BASE}/NamingSystem/lesion-label"
"""The label of a liver lesion (``L1``) that imaging measurements refer to, unique per case."""
CLAVIEN_DINDO_SYSTEM = f"{LIVERMET_BASE}/CodeSystem/clavien-dindo"
"""Local code system (Clavien-Dindo has no standard code system; docs/registry.md)."""

# --- mCODE STU4 and core extensions (mCODE input/fsh/SD_*.fsh) ------------------------------------

MCODE_BASE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
HISTOLOGY_MORPHOLOGY_BEHAVIOR = MCODE_BASE + "mcode-histology-morphology-behavior"
LATERALITY_QUALIFIER = MCODE_BASE + "mcode-laterality-qualifier"
RELATED_CONDITION = MCODE_BASE + "mcode-related-condition"
CONDITION_RELATED = "http://hl7.org/fhir/StructureDefinition/condition-related"
"""Core extension mCODE uses for SecondaryCancerCondition.relatedPrimaryCancerCondition."""
CONDITION_ASSERTED_DATE = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"
"""Core extension mCODE PrimaryCancerCondition carries the date of diagnosis in (the
``assertedDate`` extension)."""


@dataclass(frozen=True)
class Code:
    """One coding: its system and code (no display, see the module docstring)."""

    system: str
    code: str

    def coding(self) -> dict[str, Any]:
        """Return the code as a FHIR Coding (system and code)."""
        return {"system": self.system, "code": self.code}


def concept(text: str, *codes: Code | None) -> dict[str, Any]:
    """Return a CodeableConcept with ``text`` and the known codes (None entries are skipped)."""
    codings = [c.coding() for c in codes if c is not None]
    return {"coding": codings, "text": text} if codings else {"text": text}


# --- LOINC (docs/registry.md#clinical-codes-in-fhir-export) ---------------------------------------

LOINC_BILIRUBIN_MASS = Code(LOINC, "1975-2")  # bilirubin total, mass/volume (mg/dL)
LOINC_BILIRUBIN_SUBSTANCE = Code(LOINC, "14631-6")  # bilirubin total, substance/volume (umol/L)
LOINC_ALBUMIN = Code(LOINC, "1751-7")  # albumin, mass/volume (g/dL or g/L)
LOINC_INR = Code(LOINC, "6301-6")  # INR, platelet-poor plasma
LOINC_PLATELETS = Code(LOINC, "777-3")  # platelets, blood, automated count
LOINC_TUMOR_SIZE = Code(LOINC, "21889-1")  # tumour size (mCODE TumorSize.code)
LOINC_TUMOR_LONGEST = Code(LOINC, "33728-7")  # tumour longest dimension (TumorSize component)
LOINC_DISEASE_STATUS = Code(LOINC, "97509-4")  # cancer disease progression (CancerDiseaseStatus)

LOINC_CODES_USED = frozenset(
    c.code
    for c in (
        LOINC_BILIRUBIN_MASS,
        LOINC_BILIRUBIN_SUBSTANCE,
        LOINC_ALBUMIN,
        LOINC_INR,
        LOINC_PLATELETS,
        LOINC_TUMOR_SIZE,
        LOINC_TUMOR_LONGEST,
        LOINC_DISEASE_STATUS,
    )
)
"""Every LOINC code this package can write (tests check it against an independent list)."""

# Creatinine and sodium have no LOINC code found in a public source: text-only concepts.


def bilirubin_loinc(reported_unit: str) -> Code:
    """1975-2 for mass concentration (mg/dL, mg/L), 14631-6 for substance concentration (umol/L).

    Both are kept rather than converting silently: the code follows the unit the value was
    reported in (docs/registry.md#clinical-codes-in-fhir-export).
    """
    unit = reported_unit.replace("µ", "u").replace("μ", "u").replace(" ", "").lower()
    return LOINC_BILIRUBIN_SUBSTANCE if unit == "umol/l" else LOINC_BILIRUBIN_MASS


# --- NCIt (mCODE HistologicGrade.code) ------------------------------------------------------------

NCIT_HISTOLOGIC_GRADE = Code(NCIT, "C18000")

# --- SNOMED CT (docs/registry.md#clinical-codes-in-fhir-export) -----------------------------------

SNOMED_LIVER_METASTASIS = Code(SNOMED, "94381002")  # secondary malignant neoplasm of liver
SNOMED_SECONDARY_MALIGNANT = Code(SNOMED, "128462008")  # secondary malignant neoplastic disease

LATERALITY: dict[str, Code] = {
    "right": Code(SNOMED, "24028007"),
    "left": Code(SNOMED, "7771000"),
    "bilateral": Code(SNOMED, "51440002"),
    "midline": Code(SNOMED, "399488007"),
}
"""mCODE laterality qualifier value set."""

FNCLCC_GRADE: dict[int, Code] = {
    1: Code(SNOMED, "1155708003"),  # low grade
    2: Code(SNOMED, "1286893008"),  # intermediate grade
    3: Code(SNOMED, "1155707008"),  # high grade
}
"""mCODE HistologicGradeVS codes. FNCLCC 1/2/3 -> low/intermediate/high is a project mapping
decision; the FNCLCC grading-system concept itself is not verified, so the
method is text-only."""

SIZE_METHOD: dict[str, Code] = {
    "palpation": Code(SNOMED, "5880005"),  # physical examination
    "ct": Code(SNOMED, "77477000"),
    "mri": Code(SNOMED, "113091000"),
    "ultrasound": Code(SNOMED, "16310003"),
    "pet": Code(SNOMED, "82918005"),
    "pathology": Code(SNOMED, "787377000"),  # gross examination of the specimen
}
"""mCODE TumorSizeMethodVS codes; "other" has no code."""

IMAGING_MODALITY: dict[str, Code] = {
    "ct": SIZE_METHOD["ct"],
    "mri": SIZE_METHOD["mri"],
    "eob-mri": SIZE_METHOD["mri"],  # gadoxetic-acid MRI is an MRI; the text says which
    "fdg-pet": SIZE_METHOD["pet"],
    "ultrasound": SIZE_METHOD["ultrasound"],
}
"""Imaging procedures, with the same SNOMED concepts as the size methods."""

# --- ICD-O-3 (docs/registry.md#clinical-codes-in-fhir-export) -------------------------------------

_ICDO3_MORPHOLOGY: dict[tuple[str, str | None], str] = {
    ("leiomyosarcoma", None): "8890",
    ("leiomyosarcoma", "epithelioid"): "8891",
    ("leiomyosarcoma", "myxoid"): "8896",
}

ICDO3_TOPOGRAPHY_LOWER_LIMB = Code(ICDO3, "C49.2")  # soft tissue of lower limb and hip
ICDO3_TOPOGRAPHY_LIVER = Code(ICDO3, "C22.0")

LOWER_LIMB_SITES = frozenset({"thigh", "hip", "lower limb", "leg", "knee", "calf"})
"""Sites whose soft tissue codes to C49.2 (ICD-O-3) / C49.2x (ICD-10-CM); other sites are
written as text only."""


def histology_morphology(histology: str, variant: str | None, *, metastatic: bool) -> Code | None:
    """ICD-O-3 morphology with behaviour /3 (primary) or /6 (metastatic site), when verified.

    Only leiomyosarcoma NOS, epithelioid and myxoid leiomyosarcoma have verified codes;
    any other histology or variant gives None (text only).
    """
    key = (histology.strip().lower(), variant.strip().lower() if variant else None)
    morphology = _ICDO3_MORPHOLOGY.get(key)
    if morphology is None and key[1] is not None and key[1] in {"conventional", "nos"}:
        morphology = _ICDO3_MORPHOLOGY.get((key[0], None))
    if morphology is None:
        return None
    return Code(ICDO3, f"{morphology}/{6 if metastatic else 3}")


def primary_site_topography(site: str, site_group: str) -> Code | None:
    """ICD-O-3 topography of the primary's site when it is a verified one."""
    if site_group == "extremity" and site.strip().lower() in LOWER_LIMB_SITES:
        return ICDO3_TOPOGRAPHY_LOWER_LIMB
    return None


# --- ICD-10-CM (docs/registry.md#clinical-codes-in-fhir-export) -----------------------------------

ICD10CM_LIVER_METASTASIS = Code(ICD10CM, "C78.7")
_ICD10CM_LOWER_LIMB = {"right": "C49.21", "left": "C49.22"}


def primary_disorder_code(site: str, site_group: str, laterality: str | None) -> Code | None:
    """Return the ICD-10-CM code of a soft-tissue sarcoma of the lower limb, by side.

    C49.21 (right) / C49.22 (left) / C49.20 (unspecified); C49.2 itself is a non-billable header.
    None for other sites.
    """
    if primary_site_topography(site, site_group) is None:
        return None
    return Code(ICD10CM, _ICD10CM_LOWER_LIMB.get(laterality or "", "C49.20"))


# --- UCUM units (mCODE: "keep UCUM units") --------------------------------------------------------

UCUM_UNITS: dict[str, str] = {
    "mg/dl": "mg/dL",
    "mg/l": "mg/L",
    "umol/l": "umol/L",
    "g/dl": "g/dL",
    "g/l": "g/L",
    "mmol/l": "mmol/L",
    "meq/l": "meq/L",
    "10^9/l": "10*9/L",
    "10^3/ul": "10*3/uL",
    "%": "%",
    "mm": "mm",
    "cm": "cm",
    "m": "m",
    "ml": "mL",
    "l": "L",
    "cm3": "cm3",
    "kg": "kg",
    "g": "g",
    "min": "min",
    "h": "h",
    "hr": "h",
    "s": "s",
}
"""Reported unit (normalised spelling, as ``livermet.clinical.units``) -> UCUM code."""


def ucum_code(unit: str) -> str | None:
    """UCUM code of a reported unit, or None when it has no plain UCUM spelling."""
    return UCUM_UNITS.get(unit.replace("µ", "u").replace("μ", "u").replace(" ", "").lower())


OFFSET_UNITS: dict[str, tuple[str, str]] = {
    "days": ("d", "days"),
    "weeks": ("wk", "weeks"),
    "months": ("mo", "months"),
    "years": ("a", "years"),
}
"""Offset amount field -> (UCUM code, unit text). UCUM ``mo`` is the mean Julian month
(30.4375 days), the month livermet's timeline uses."""
