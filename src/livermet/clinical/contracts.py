"""The contract of every score, declared once: its inputs, their units and ranges, and its outputs.

A :class:`Contract` lists the inputs of one score of the cohort table (``batch.score_cohort``) and
the result columns it produces. Each :class:`Input` carries its kind, unit, plausibility range (with
open or closed ends), vocabulary or allowed values, the default taken when its column is absent,
and the section of ``docs/clinical.md`` that defines it. From these declarations are derived:

- the scalar checks of the score functions (``Input.check`` and the vocabularies they pass to
  ``label_codes``), so that a range or a vocabulary is written in one place;
- the input columns of :func:`~livermet.clinical.batch.score_cohort`, their descriptions and the
  vectorised coercion of ``errors="coerce"``;
- the bounds and vocabularies of the case file model (``livermet.case.model``) for the same
  quantities, and through it the case file's JSON Schema.

Plausibility ranges are engineering choices, not published limits
(docs/clinical.md#units-and-plausibility-ranges); where a quantity of the unit parser exists
(:data:`livermet.clinical.units.QUANTITIES`) its range is reused. Cross-field rules (the future
liver remnant cannot exceed the functional liver) are stated in ``Contract.rules`` and checked by
the score functions.

This module imports no numerical library: reading a case file uses it without loading numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from livermet.clinical.complications import CLAVIEN_DINDO_GRADES, COMPLICATION_COUNT_RANGE
from livermet.clinical.units import (
    ALBUMIN_G_L_PER_G_DL,
    BILIRUBIN_UMOL_PER_MG_DL,
    QUANTITIES,
)

if TYPE_CHECKING:
    from livermet.clinical._vector import FloatArray

InputKind = Literal["number", "count", "choice", "flag", "label", "name"]
"""``number``: a measurement within a range; ``count``: a whole number within a range;
``choice``: one of a few numbers (a grade or a score); ``flag``: True/False (1/0); ``label``: one
word of a vocabulary; ``name``: free text checked by the score (a procedure name)."""

ColumnKind = Literal["number", "flag", "label"]
OutputKind = Literal["number", "object"]

_COLUMN_KIND: dict[InputKind, ColumnKind] = {
    "number": "number",
    "count": "number",
    "choice": "number",
    "flag": "flag",
    "label": "label",
    "name": "label",
}


@dataclass(frozen=True)
class Input:
    """One input of a score: what it means, its unit and the values accepted.

    Attributes
    ----------
    name
        Column of the cohort table (``batch.BATCH_COLUMNS``).
    kind
        See :data:`InputKind`.
    description
        Meaning, without the unit and the range (both are rendered from the fields below).
    unit
        Unit as the error messages name it (canonical unit; ``(INR)``, ``(ratio)`` where there
        is none).
    low, high
        Plausibility range of a ``number`` or ``count`` (infinite where unbounded).
    low_open, high_open
        Whether the end itself is refused (``(0, 100)`` rather than ``[0, 100]``).
    values
        Accepted numbers of a ``choice`` (``flag``: 0 and 1).
    vocabulary
        Accepted words of a ``label``, in the order the score's tables use.
    field
        Parameter of the score function when it differs from ``name`` (``ascites`` of Makuuchi
        reads the column ``ascites_control``).
    required
        Whether the score needs the column; an absent optional column takes ``default``.
    default
        Value of an absent optional column (None = unknown).
    source
        Where the input and its range are defined (a ``docs/clinical.md`` section).
    """

    name: str
    kind: InputKind
    description: str
    unit: str = ""
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    values: tuple[float, ...] = ()
    vocabulary: tuple[str, ...] = ()
    field: str = ""
    required: bool = True
    default: Any = None
    source: str = ""

    @property
    def parameter(self) -> str:
        """Return the parameter of the score function that takes this input."""
        return self.field or self.name

    @property
    def range(self) -> tuple[float, float]:
        """Return the plausibility range as ``(low, high)``."""
        return self.low, self.high

    @property
    def column_kind(self) -> ColumnKind:
        """Return how the cohort table holds the input: number, flag or label."""
        return _COLUMN_KIND[self.kind]

    @property
    def bounded(self) -> bool:
        """Return whether the input has a finite plausibility range."""
        return self.kind in ("number", "count") and math.isfinite(self.low - self.high)

    def range_text(self) -> str:
        """Return the range as the error messages write it, e.g. ``(0, 100]``."""
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        return f"{lo}{self.low:g}, {self.high:g}{hi}"

    def values_text(self) -> str:
        """Return the accepted numbers of a ``choice``, e.g. ``1, 2, 3``."""
        return ", ".join(f"{v:g}" for v in self.values)

    def check(self, values: FloatArray, field: str | None = None) -> None:
        """Refuse known values outside the range, naming ``field`` (default: the parameter).

        Raises
        ------
        InputError
            Naming the field, the first value refused, the range and the unit.
        """
        from livermet.clinical._vector import check_range  # numpy: the score's own path only

        check_range(
            values,
            field or self.parameter,
            self.low,
            self.high,
            self.unit,
            low_inclusive=not self.low_open,
            high_inclusive=not self.high_open,
        )

    def summary(self) -> str:
        """Return the description with the unit and what is accepted, for listings."""
        parts = [self.description]
        if self.unit and not self.unit.startswith("(") and self.kind == "number":
            parts.append(self.unit)
        if self.bounded:
            parts.append(self.range_text())
        if self.kind == "choice":
            parts.append(" / ".join(f"{v:g}" for v in self.values))
        if self.vocabulary:
            parts.append(" / ".join(f'"{v}"' for v in self.vocabulary))
        if not self.required and self.default is not None:
            parts.append(f"absent = {self.default!r}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Output:
    """One result column of a score: ``number`` (float, NaN = unknown) or ``object``."""

    name: str
    kind: OutputKind
    description: str


@dataclass(frozen=True)
class Contract:
    """What one score takes and gives.

    Attributes
    ----------
    score
        Name of the score in the cohort table (``batch.BATCH_SCORES``).
    inputs
        Its inputs, required ones first as the score function lists them.
    outputs
        Its result columns.
    source
        The ``docs/clinical.md`` section defining the score.
    needs_any
        The score is computed when at least one of its (optional) inputs is present.
    rules
        Cross-field rules, in words (checked by the score functions).
    """

    score: str
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    source: str
    needs_any: bool = False
    rules: tuple[str, ...] = field(default_factory=tuple)

    def input(self, name: str) -> Input:
        """Return the input named ``name`` (a column name or a parameter name).

        Raises
        ------
        KeyError
            When the score has no such input.
        """
        for spec in self.inputs:
            if name in (spec.name, spec.parameter):
                return spec
        raise KeyError(f"score {self.score!r} has no input {name!r}")

    @property
    def required(self) -> tuple[str, ...]:
        """Return the columns the score needs."""
        return tuple(spec.name for spec in self.inputs if spec.required)

    @property
    def optional(self) -> dict[str, Any]:
        """Return the optional columns with the value each takes when absent."""
        return {spec.name: spec.default for spec in self.inputs if not spec.required}


# --- sources ------------------------------------------------------------------------------------

_DOCS = "docs/clinical.md#"
_UNITS = _DOCS + "units-and-plausibility-ranges"


def _quantity(
    name: str, kind: str, description: str, unit: str | None = None, **more: Any
) -> Input:
    """Return a number input whose unit and range are those of ``units.QUANTITIES[kind]``."""
    q = QUANTITIES[kind]
    return Input(
        name,
        "number",
        description,
        unit=q.canonical if unit is None else unit,
        low=q.low,
        high=q.high,
        source=_UNITS,
        **more,
    )


def _flag(name: str, description: str, source: str, **more: Any) -> Input:
    return Input(name, "flag", description, values=(0.0, 1.0), source=source, **more)


# --- the inputs, each declared once -------------------------------------------------------------

GRADES = (1.0, 2.0, 3.0)
"""FNCLCC grades and differentiation scores 1-3 (docs/clinical.md#fnclcc-grade)."""

MITOSES = Input(
    "mitoses_per_10hpf",
    "number",
    "mitotic count",
    unit="mitoses per 10 HPF",
    low=0.0,
    high=500.0,
    source=_DOCS + "fnclcc-grade",
)
"""Mitotic count, 0-500 per 10 HPF (engineering choice, docs/clinical.md#fnclcc-grade)."""
NECROSIS = Input(
    "necrosis_percent",
    "number",
    "tumour necrosis (share of the tumour)",
    unit="%",
    low=0.0,
    high=100.0,
    source=_DOCS + "fnclcc-grade",
)
DIFFERENTIATION = Input(
    "differentiation_score",
    "choice",
    "FNCLCC differentiation score",
    values=GRADES,
    required=False,
    source=_DOCS + "fnclcc-grade",
)
SIZE_CM = Input(
    "size_cm",
    "number",
    "greatest dimension of the primary tumour",
    unit="cm",
    low=0.0,
    high=100.0,
    low_open=True,
    source=_DOCS + "ajcc-8-staging",
)
"""Greatest tumour dimension, (0, 100] cm (engineering choice, docs/clinical.md#ajcc-8-staging)."""
N_CATEGORY = Input(
    "n",
    "label",
    "N category (unknown = NX, grouped with N0)",
    vocabulary=("N0", "N1", "NX"),
    required=False,
    source=_DOCS + "ajcc-8-staging",
)
"""NX (nodes not assessed) is grouped with N0 (AJCC 8, 2017; docs/clinical.md#ajcc-8-staging)."""
M_CATEGORY = Input(
    "m", "label", "M category", vocabulary=("M0", "M1"), source=_DOCS + "ajcc-8-staging"
)
GRADE = Input(
    "grade",
    "choice",
    "reported FNCLCC grade for AJCC; where unknown, fnclcc_grade is used",
    values=GRADES,
    required=False,
    source=_DOCS + "ajcc-8-staging",
)

BILIRUBIN = _quantity("bilirubin_mg_dl", "bilirubin", "total bilirubin")
ALBUMIN = _quantity("albumin_g_dl", "albumin", "serum albumin")
INR = _quantity("inr", "inr", "INR", unit="(INR)")
CREATININE = _quantity("creatinine_mg_dl", "creatinine", "serum creatinine")
SODIUM = _quantity("sodium_mmol_l", "sodium", "serum sodium")
ASCITES = Input(
    "ascites",
    "label",
    "Child-Pugh ascites",
    vocabulary=("none", "mild", "moderate-severe"),
    source=_DOCS + "child-pugh",
)
"""Ascites none / slight (mild, controlled) / moderate-severe (refractory), Child-Pugh grading
(docs/clinical.md#child-pugh)."""
ENCEPHALOPATHY = Input(
    "encephalopathy",
    "label",
    "hepatic encephalopathy",
    vocabulary=("none", "grade 1-2", "grade 3-4"),
    source=_DOCS + "child-pugh",
)
"""Hepatic encephalopathy none / grade 1-2 / grade 3-4 (docs/clinical.md#child-pugh)."""
DIALYSIS = _flag(
    "dialysis",
    ">= 2 dialyses or >= 24 h CVVHD in the past 7 days (True/False)",
    _DOCS + "meld",
    required=False,
    default=False,
)
FEMALE = _flag("female", "sex is female (True/False), for MELD 3.0", _DOCS + "meld")

ICG_R15 = Input(
    "icg_r15_percent",
    "number",
    "ICG retention at 15 min",
    unit="%",
    low=QUANTITIES["icg_r15"].low,
    high=QUANTITIES["icg_r15"].high,
    low_open=True,
    high_open=True,
    source=_DOCS + "icg-clearance",
)
"""ICG-R15 strictly between 0 and 100 %: ln(100/R15) needs R15 > 0, and R15 = 100 % would mean no
clearance (docs/clinical.md#icg-clearance)."""
HH15 = Input(
    "hh15",
    "number",
    "99mTc-GSA HH15 ratio",
    unit="(ratio)",
    low=0.0,
    high=1.0,
    low_open=True,
    high_open=True,
    source=_DOCS + "gsa-scintigraphy",
)
"""HH15 is a ratio strictly between 0 and 1 (docs/clinical.md#gsa-scintigraphy)."""
LHL15 = replace(HH15, name="lhl15", description="99mTc-GSA LHL15 ratio")
"""LHL15 is a ratio strictly between 0 and 1 (docs/clinical.md#gsa-scintigraphy)."""
ASCITES_CONTROL = Input(
    "ascites_control",
    "label",
    'Makuuchi ascites ("controlled": with diuretics)',
    vocabulary=("none", "controlled", "uncontrollable"),
    field="ascites",
    source=_DOCS + "makuuchi-criteria",
)
"""Ascites absent, controllable with diuretics, uncontrollable (Makuuchi 1993;
docs/clinical.md#makuuchi-criteria)."""

HEIGHT = _quantity("height_cm", "height", "height")
WEIGHT = _quantity("weight_kg", "weight", "weight")
FLR_ML = _quantity("flr_ml", "volume", "future liver remnant volume (CT)")
TOTAL_LIVER_ML = _quantity("total_liver_ml", "volume", "total liver volume (CT)")
TUMOUR_ML = _quantity(
    "tumour_ml", "volume", "tumour volume within the liver", required=False, default=0.0
)
LIVER_CONDITION = Input(
    "liver_condition",
    "label",
    "background liver, for the minimum FLR",
    vocabulary=("normal", "chemotherapy", "steatosis", "cholestasis", "cirrhosis", "fibrosis"),
    required=False,
    source=_DOCS + "volumetry",
)
"""Conditions of the liver with a minimum future liver remnant (docs/clinical.md#volumetry):
normal; after extensive chemotherapy, steatosis, cholestasis; cirrhosis, fibrosis."""

PROCEDURE = Input(
    "procedure",
    "name",
    'planned/performed liver resection, e.g. "right posterior sectionectomy"',
    source=_DOCS + "laparoscopic-difficulty",
)

COMPLICATION_COUNTS = tuple(
    Input(
        f"cd_grade_{g.lower()}",
        "count",
        f"number of Clavien-Dindo grade {g} complications",
        unit="complications",
        low=COMPLICATION_COUNT_RANGE[0],
        high=COMPLICATION_COUNT_RANGE[1],
        field=f"grade_{g.lower()}",
        required=False,
        default=0.0,
        source=_DOCS + "clavien-dindo-and-cci",
    )
    for g in CLAVIEN_DINDO_GRADES
)
"""Number of complications of each grade, in ``complications.COMPLICATION_COUNT_RANGE`` (the CCI's
own check, docs/clinical.md#clavien-dindo-and-cci); an absent column means none of that grade."""

_TOLS = _DOCS + "textbook-outcome"
TOLS_FLAGS = tuple(
    _flag(name, f"TOLS: {text}", _TOLS, required=False)
    for name, text in (
        ("intraoperative_incident_grade2_or_more", "intraoperative incident grade >= 2"),
        ("bile_leak_grade_b_or_c", "bile leak ISGLS grade B/C"),
        ("liver_failure_grade_b_or_c", "PHLF ISGLS grade B/C"),
        ("major_complication", "Clavien-Dindo >= III within 90 days"),
        ("readmission_90d", "readmission within 90 days"),
        ("mortality_90d", "in-hospital or 90-day death"),
        ("r0_resection", "R0 resection (True = R0)"),
    )
)
"""The seven TOLS criteria as True/False flags (docs/clinical.md#textbook-outcome)."""

_PHLF = _DOCS + "liver-failure-after-hepatectomy"
PT_POD5 = _quantity("pt_percent_pod5", "pt_activity", "prothrombin time activity on POD 5")
BILIRUBIN_UMOL_POD5 = Input(
    "bilirubin_umol_l_pod5",
    "number",
    "bilirubin on POD 5",
    unit="µmol/L",
    # rounded so that exactly 0.1 mg/dL (1.71 µmol/L) is not refused by floating-point noise
    low=round(BILIRUBIN.low * BILIRUBIN_UMOL_PER_MG_DL, 9),
    high=round(BILIRUBIN.high * BILIRUBIN_UMOL_PER_MG_DL, 9),
    source=_UNITS,
)
"""The bilirubin plausibility range in µmol/L (x 17.1,
docs/clinical.md#units-and-plausibility-ranges)."""
PEAK_BILIRUBIN = replace(
    BILIRUBIN, name="peak_bilirubin_mg_dl", description="peak bilirubin POD 1-7 (Mullen)"
)


# --- the scores ---------------------------------------------------------------------------------


def _number(name: str, description: str) -> Output:
    return Output(name, "number", description)


def _object(name: str, description: str) -> Output:
    return Output(name, "object", description)


_VOLUMES = (FLR_ML, TOTAL_LIVER_ML, TUMOUR_ML)
_VOLUME_RULES = (
    "tumour_ml < total_liver_ml",
    "flr_ml <= total_liver_ml - tumour_ml (the functional liver)",
)
_MELD_LABS = (CREATININE, BILIRUBIN, INR)

FNCLCC = Contract(
    "fnclcc",
    (MITOSES, NECROSIS, DIFFERENTIATION),
    (
        _number("fnclcc_mitosis_score", "mitotic count score 1-3"),
        _number("fnclcc_necrosis_score", "necrosis score 0-2"),
        _number("fnclcc_differentiation_score", "differentiation score 1-3"),
        _number("fnclcc_total", "total 2-8 (NaN unless every component is known)"),
        _number("fnclcc_total_min", "lower bound of the total"),
        _number("fnclcc_total_max", "upper bound of the total"),
        _number("fnclcc_grade", "FNCLCC grade 1-3 (also when the bounds agree)"),
    ),
    _DOCS + "fnclcc-grade",
)
AJCC8 = Contract(
    "ajcc8",
    (SIZE_CM, M_CATEGORY, N_CATEGORY, GRADE),
    (
        _object("ajcc8_t", "T1-T4"),
        _object("ajcc8_n", "N0/N1/NX"),
        _object("ajcc8_m", "M0/M1"),
        _object("ajcc8_grade", "G1-G3/GX used for the stage"),
        _object("ajcc8_stage", "IA, IB, II, IIIA, IIIB, IV"),
    ),
    _DOCS + "ajcc-8-staging",
)
CHILD_PUGH = Contract(
    "child_pugh",
    (BILIRUBIN, ALBUMIN, INR, ASCITES, ENCEPHALOPATHY),
    (
        _number("child_pugh_points", "points 5-15 (NaN unless all known)"),
        _number("child_pugh_points_min", "lower bound of the points"),
        _number("child_pugh_points_max", "upper bound of the points"),
        _object("child_pugh_class", "A/B/C (also when the bounds agree)"),
    ),
    _DOCS + "child-pugh",
)
ALBI = Contract(
    "albi",
    (
        # ALBI's own plausibility: bilirubin 1-850 µmol/L, albumin 10-60 g/L, in canonical units
        # (docs/clinical.md#units-and-plausibility-ranges, engineering choice).
        replace(
            BILIRUBIN,
            low=1.0 / BILIRUBIN_UMOL_PER_MG_DL,
            high=850.0 / BILIRUBIN_UMOL_PER_MG_DL,
            source=_DOCS + "albi-and-malbi",
        ),
        replace(
            ALBUMIN,
            low=10.0 / ALBUMIN_G_L_PER_G_DL,
            high=60.0 / ALBUMIN_G_L_PER_G_DL,
            source=_DOCS + "albi-and-malbi",
        ),
    ),
    (
        _number("albi_score", "ALBI score (unrounded)"),
        _number("albi_grade", "ALBI grade 1-3"),
        _object("malbi_grade", 'mALBI "1", "2a", "2b", "3"'),
    ),
    _DOCS + "albi-and-malbi",
)
MELD = Contract(
    "meld", (*_MELD_LABS, DIALYSIS), (_number("meld", "UNOS MELD 6-40"),), _DOCS + "meld"
)
MELD_NA = Contract(
    "meld_na",
    (*_MELD_LABS, SODIUM, DIALYSIS),
    (_number("meld_na", "MELD-Na (OPTN 2016) 6-40"),),
    _DOCS + "meld",
)
MELD_3 = Contract(
    "meld_3",
    (*_MELD_LABS, SODIUM, ALBUMIN, FEMALE, DIALYSIS),
    (_number("meld_3", "MELD 3.0 6-40"),),
    _DOCS + "meld",
)
ICG = Contract(
    "icg",
    (ICG_R15,),
    (
        _number("icg_k_per_min", "ICG-K, /min"),
        _number("icg_pdr_percent_per_min", "ICG-PDR, %/min"),
    ),
    _DOCS + "icg-clearance",
)
ICG_KF = Contract(
    "icg_kf",
    (ICG_R15, *_VOLUMES),
    (
        _number("icg_kf", "remnant ICG-K = ICG-K x measured FLR fraction, /min"),
        _object("icg_kf_acceptable", "ICG-Kf >= 0.05 (True/False/None)"),
    ),
    _DOCS + "icg-clearance",
    rules=(*_VOLUME_RULES, "flr_ml > 0", "ICG-K = ln(100 / icg_r15_percent) / 15 <= 1 /min"),
)
GSA = Contract(
    "gsa",
    (HH15, LHL15),
    (_object("gsa_assessment", '"normal", "impaired", "indeterminate"'),),
    _DOCS + "gsa-scintigraphy",
)
MAKUUCHI = Contract(
    "makuuchi",
    (
        ASCITES_CONTROL,
        BILIRUBIN,
        # the tree's ICG-R15 bands span [0, 100] % (docs/clinical.md#makuuchi-criteria)
        replace(ICG_R15, low_open=False, high_open=False, required=False),
    ),
    (
        _number("makuuchi_max_extent", "ResectionExtent ordinal 0-5"),
        _object("makuuchi_label", "maximum extent in words"),
    ),
    _DOCS + "makuuchi-criteria",
)
BODY = Contract(
    "body",
    (HEIGHT, WEIGHT),
    (
        _number("bsa_mosteller_m2", "BSA (Mosteller), m²"),
        _number("bsa_dubois_m2", "BSA (DuBois), m²"),
        _number("slv_urata_ml", "standard liver volume (Urata, Mosteller BSA), mL"),
        _number("slv_vauthey_ml", "standard liver volume (Vauthey, Mosteller BSA), mL"),
    ),
    _DOCS + "volumetry",
)
STANDARDISED_FLR = Contract(
    "standardised_flr",
    (FLR_ML, HEIGHT, WEIGHT),
    (
        _number("sflr_urata_percent", "FLR / Urata SLV, %"),
        _number("sflr_vauthey_percent", "FLR / Vauthey SLV, %"),
    ),
    _DOCS + "volumetry",
)
FLR = Contract(
    "flr",
    (*_VOLUMES, LIVER_CONDITION),
    (
        _number("flr_percent", "measured FLR, % of (total liver - tumour)"),
        _number("flr_minimum_percent", "minimum FLR % for the liver condition"),
        _object("flr_adequate", "flr_percent >= minimum (True/False/None)"),
    ),
    _DOCS + "volumetry",
    rules=_VOLUME_RULES,
)
KAWAGUCHI = Contract(
    "kawaguchi",
    (PROCEDURE,),
    (
        _object("kawaguchi_grade", 'Kawaguchi difficulty "I", "II", "III"'),
        _number("kawaguchi_points", "Kawaguchi points 0/2/3"),
    ),
    _DOCS + "laparoscopic-difficulty",
)
CCI = Contract(
    "cci",
    COMPLICATION_COUNTS,
    (_number("cci", "Comprehensive Complication Index 0-100"),),
    _DOCS + "clavien-dindo-and-cci",
    needs_any=True,
)
TOLS = Contract(
    "tols",
    TOLS_FLAGS,
    (
        _object("tols_status", '"achieved", "not achieved", "not assessable"'),
        _object("tols_achieved", "True/False/None"),
    ),
    _TOLS,
    needs_any=True,
)
FIFTY_FIFTY = Contract(
    "fifty_fifty",
    (PT_POD5, BILIRUBIN_UMOL_POD5),
    (_object("fifty_fifty_met", "50-50 criteria on POD 5 (True/False/None)"),),
    _PHLF,
)
MULLEN = Contract(
    "mullen",
    (PEAK_BILIRUBIN,),
    (_object("mullen_met", "peak bilirubin > 7.0 mg/dL (True/False/None)"),),
    _PHLF,
)

CONTRACTS: dict[str, Contract] = {
    c.score: c
    for c in (
        FNCLCC,
        AJCC8,
        CHILD_PUGH,
        ALBI,
        MELD,
        MELD_NA,
        MELD_3,
        ICG,
        ICG_KF,
        GSA,
        MAKUUCHI,
        BODY,
        STANDARDISED_FLR,
        FLR,
        KAWAGUCHI,
        CCI,
        TOLS,
        FIFTY_FIFTY,
        MULLEN,
    )
}
"""Every score of the cohort table, in the order it is computed."""

COLUMNS: dict[str, Input] = {
    spec.name: spec
    for spec in (
        MITOSES,
        NECROSIS,
        DIFFERENTIATION,
        SIZE_CM,
        N_CATEGORY,
        M_CATEGORY,
        GRADE,
        BILIRUBIN,
        ALBUMIN,
        INR,
        ASCITES,
        ENCEPHALOPATHY,
        CREATININE,
        SODIUM,
        DIALYSIS,
        FEMALE,
        ICG_R15,
        HH15,
        LHL15,
        ASCITES_CONTROL,
        HEIGHT,
        WEIGHT,
        FLR_ML,
        TOTAL_LIVER_ML,
        TUMOUR_ML,
        LIVER_CONDITION,
        PROCEDURE,
        *COMPLICATION_COUNTS,
        *TOLS_FLAGS,
        PT_POD5,
        BILIRUBIN_UMOL_POD5,
        PEAK_BILIRUBIN,
    )
}
"""Every input column once, as first declared (a score may narrow the range, e.g. ALBI)."""
