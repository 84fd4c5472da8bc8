"""Score a cohort table (one row per patient) with the clinical engine, without a loop over rows.

:func:`score_cohort` calls each score function of the engine once, with whole columns as numpy
arrays (the engine's scalar-or-array convention, ``_vector.py``). :func:`score_cohort_loop` does
the same patient by patient with scalar inputs; it is the reference the tests and the benchmark
compare the batch path with.

Input columns are in canonical units and named after the engine's parameters; they are listed in
:data:`BATCH_COLUMNS`. Result columns are listed in :data:`BATCH_OUTPUTS`. A score is computed when
all its required columns are present (for CCI and TOLS: when at least one of their columns is
present); otherwise its result columns are left out and the score is named, with the missing
columns, in ``result.attrs["scores_skipped"]``. Unknown values (NaN, None, pd.NA) are unknown
inputs and give unknown (or bounded) results exactly as the score functions define.

Types of the result columns: numbers (points, grades 1-3, scores) are float64 with NaN for
unknown; labels ("A", "IIIA", "normal") and three-state booleans (True/False/None) are object
columns with None for unknown. Makuuchi's maximum extent is the ordinal
:class:`~livermet.clinical.extent.ResectionExtent` value as a float.

Documented defaults of this module (not clinical rules):

- AJCC grade: the ``grade`` column where it is known, else the computed ``fnclcc_grade``.
- MELD without a ``dialysis`` column uses the engine default (no dialysis).
- CCI: an absent ``cd_grade_*`` column means no complication of that grade (the engine default).
- Makuuchi takes its own ascites column ``ascites_control`` (none / controlled / uncontrollable):
  the Child-Pugh ascites grades (none / mild / moderate-severe) do not map onto controllability.
- FLR adequacy uses the measured FLR % (FLR / (total liver - tumour)); the standardised FLR % is
  reported for both standard-liver-volume formulas (Urata, Vauthey) without choosing one.
- Not scored per row: ISGLS liver failure (needs a series of postoperative days), anatomy names,
  surveillance plans.

``errors="coerce"`` turns values the engine would refuse into unknowns before scoring, with
vectorised masks that use the engine's own ranges: out-of-range or non-numeric numbers become NaN,
unknown labels None, flags other than 0/1 NaN, inconsistent liver volumes NaN. A column may be
coerced for one score and not for another (bilirubin 49.9 mg/dL is valid for Child-Pugh, 0.1-50,
but not for ALBI, 1-850 µmol/L); the input columns of the result are always the ones given.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from livermet.clinical import (
    ajcc,
    albi,
    child_pugh,
    complications,
    difficulty,
    fnclcc,
    gsa,
    icg,
    liver_failure,
    makuuchi,
    meld,
    textbook_outcome,
    volumetry,
)
from livermet.clinical._vector import distinct_values
from livermet.clinical.units import QUANTITIES
from livermet.errors import InputError

Errors = Literal["raise", "coerce"]
ColumnKind = Literal["number", "flag", "label"]
OutputKind = Literal["number", "object"]
Inputs = Mapping[str, Any]
Outputs = dict[str, Any]
Coercer = Callable[[npt.NDArray[Any]], npt.NDArray[Any]]

# --- input columns -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    kind: ColumnKind
    description: str


_COLUMNS: dict[str, _Column] = {
    # FNCLCC grade and AJCC 8 stage (docs/clinical.md#fnclcc-grade, #ajcc-8-staging)
    "mitoses_per_10hpf": _Column("number", "mitoses per 10 HPF, 0-500"),
    "necrosis_percent": _Column("number", "tumour necrosis, % of the tumour, 0-100"),
    "differentiation_score": _Column("number", "FNCLCC differentiation score 1, 2 or 3"),
    "size_cm": _Column("number", "greatest dimension of the primary tumour, cm, (0, 100]"),
    "n": _Column("label", '"N0", "N1" or "NX" (unknown = NX, grouped with N0)'),
    "m": _Column("label", '"M0" or "M1"'),
    "grade": _Column(
        "number", "reported FNCLCC grade 1-3 for AJCC; where unknown, fnclcc_grade is used"
    ),
    # Child-Pugh, ALBI, MELD (docs/clinical.md#child-pugh, #albi-and-malbi, #meld)
    "bilirubin_mg_dl": _Column("number", "total bilirubin, mg/dL"),
    "albumin_g_dl": _Column("number", "serum albumin, g/dL"),
    "inr": _Column("number", "INR"),
    "ascites": _Column("label", 'Child-Pugh ascites: "none", "mild", "moderate-severe"'),
    "encephalopathy": _Column("label", 'hepatic encephalopathy: "none", "grade 1-2", "grade 3-4"'),
    "creatinine_mg_dl": _Column("number", "serum creatinine, mg/dL"),
    "sodium_mmol_l": _Column("number", "serum sodium, mmol/L"),
    "dialysis": _Column("flag", ">= 2 dialyses or >= 24 h CVVHD in the past 7 days (True/False)"),
    "female": _Column("flag", "sex is female (True/False), for MELD 3.0"),
    # ICG, GSA, Makuuchi (docs/clinical.md#makuuchi-criteria, #icg-clearance, #gsa-scintigraphy)
    "icg_r15_percent": _Column("number", "ICG retention at 15 min, %"),
    "hh15": _Column("number", "99mTc-GSA HH15 ratio, (0, 1)"),
    "lhl15": _Column("number", "99mTc-GSA LHL15 ratio, (0, 1)"),
    "ascites_control": _Column(
        "label", 'Makuuchi ascites: "none", "controlled" (diuretics), "uncontrollable"'
    ),
    # Volumetry (docs/clinical.md#volumetry)
    "height_cm": _Column("number", "height, cm, 100-230"),
    "weight_kg": _Column("number", "weight, kg, 25-250"),
    "flr_ml": _Column("number", "future liver remnant volume (CT), mL"),
    "total_liver_ml": _Column("number", "total liver volume (CT), mL"),
    "tumour_ml": _Column("number", "tumour volume within the liver, mL (absent = 0)"),
    "liver_condition": _Column(
        "label",
        'liver for the minimum FLR: "normal", "chemotherapy", "steatosis", "cholestasis", '
        '"cirrhosis", "fibrosis"',
    ),
    # Difficulty (docs/clinical.md#laparoscopic-difficulty)
    "procedure": _Column(
        "label", 'planned/performed liver resection, e.g. "right posterior sectionectomy"'
    ),
    # Complications and outcome (docs/clinical.md#clavien-dindo-and-cci, #textbook-outcome,
    # #liver-failure-after-hepatectomy)
    **{
        f"cd_grade_{g.lower()}": _Column(
            "number", f"number of Clavien-Dindo grade {g} complications (absent = 0)"
        )
        for g in complications.CLAVIEN_DINDO_GRADES
    },
    "intraoperative_incident_grade2_or_more": _Column(
        "flag", "TOLS: intraoperative incident grade >= 2 (True/False)"
    ),
    "bile_leak_grade_b_or_c": _Column("flag", "TOLS: bile leak ISGLS grade B/C (True/False)"),
    "liver_failure_grade_b_or_c": _Column("flag", "TOLS: PHLF ISGLS grade B/C (True/False)"),
    "major_complication": _Column("flag", "TOLS: Clavien-Dindo >= III within 90 days"),
    "readmission_90d": _Column("flag", "TOLS: readmission within 90 days (True/False)"),
    "mortality_90d": _Column("flag", "TOLS: in-hospital or 90-day death (True/False)"),
    "r0_resection": _Column("flag", "TOLS: R0 resection (True = R0)"),
    "pt_percent_pod5": _Column("number", "prothrombin time activity on POD 5, %"),
    "bilirubin_umol_l_pod5": _Column("number", "bilirubin on POD 5, µmol/L"),
    "peak_bilirubin_mg_dl": _Column("number", "peak bilirubin POD 1-7, mg/dL (Mullen)"),
}

BATCH_COLUMNS: dict[str, str] = {
    name: c.kind + ": " + c.description for name, c in _COLUMNS.items()
}
"""Input columns understood by :func:`score_cohort`: name -> "kind: unit / meaning". Kinds:
``number`` (float, NaN = unknown), ``flag`` (True/False or 1/0, None/NaN = unknown), ``label``
(str, None/NaN = unknown). Other columns are carried through untouched."""

# --- coercion of values the engine would refuse ----------------------------------------------


def _within(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Coercer:
    """Numbers outside [low, high] (or the open ends) -> NaN, as ``check_range`` would refuse."""

    def coerce(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        too_low = values <= low if low_open else values < low
        too_high = values >= high if high_open else values > high
        return np.where(too_low | too_high, np.nan, values)

    return coerce


def _one_of(*allowed: float) -> Coercer:
    """Numbers not in ``allowed`` -> NaN (grades, scores, 0/1 flags)."""

    def coerce(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.where(np.isin(values, allowed) | np.isnan(values), values, np.nan)

    return coerce


def _whole(low: float, high: float) -> Coercer:
    """Counts outside [low, high] or not whole -> NaN."""
    in_range = _within(low, high)

    def coerce(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.where(values == np.round(values), in_range(values), np.nan)

    return coerce


def _labels(allowed: Iterable[str]) -> Coercer:
    """Labels not in ``allowed`` -> None (hash look-up, no loop over rows)."""
    allowed = tuple(allowed)

    def coerce(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        out = values.copy()
        out[~pd.Series(values, dtype=object).isin(allowed).to_numpy()] = None
        return out

    return coerce


def _procedures(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Procedure names the Kawaguchi grader refuses -> None, trying each distinct name once."""
    out = values.copy()
    for name in pd.unique(pd.Series(values, dtype=object).dropna()):
        try:
            difficulty.kawaguchi_grade(procedure=name)
        except InputError:
            out[values == name] = None
    return out


_FLAG = _one_of(0.0, 1.0)


def _quantity(kind: str) -> Coercer:
    """Plausibility range shared with the unit parser (units.QUANTITIES)."""
    return _within(QUANTITIES[kind].low, QUANTITIES[kind].high)


# --- scores ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Score:
    """One score of the batch: its columns, result columns and how to compute it.

    ``compute`` receives the inputs (arrays in the batch, scalars in the loop; absent optional
    columns take their default) and the results of the scores computed before it.
    """

    name: str
    required: tuple[str, ...]
    optional: Mapping[str, Any]
    outputs: Mapping[str, tuple[OutputKind, str]]
    compute: Callable[[Inputs, Inputs], Outputs]
    coercers: Mapping[str, Coercer]
    fields: Mapping[str, str] = field(default_factory=dict)
    """Engine field -> input column, for errors raised on derived values."""
    any_of: bool = False
    """Compute when at least one optional column is present (scores without required inputs)."""
    coerce_rows: Callable[[dict[str, npt.NDArray[Any]]], None] | None = None
    """Cross-column coercion (e.g. FLR larger than the liver), in place."""

    def present(self, columns: Iterable[str]) -> tuple[bool, tuple[str, ...]]:
        """Whether the score can be computed from ``columns``, and the columns it misses."""
        have = set(columns)
        missing = tuple(c for c in self.required if c not in have)
        if self.any_of and not have.intersection(self.optional):
            return False, tuple(self.optional)
        return not missing, missing


def _is_unknown(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _coalesce(first: Any, fallback: Any) -> Any:
    """``first`` where known, else ``fallback`` (scalars or arrays)."""
    if fallback is None:
        return first
    if first is None:
        return fallback
    if np.ndim(first) == 0 and np.ndim(fallback) == 0:
        return fallback if _is_unknown(first) else first
    known = np.asarray(first, dtype=np.float64)
    return np.where(np.isnan(known), np.asarray(fallback, dtype=np.float64), known)


def _scaled(value: Any, factor: float) -> Any:
    """``value * factor`` keeping a scalar None unknown."""
    return None if value is None else value * factor


def _fnclcc(x: Inputs, done: Inputs) -> Outputs:
    r = fnclcc.fnclcc_grade(
        mitoses_per_10hpf=x["mitoses_per_10hpf"],
        necrosis_percent=x["necrosis_percent"],
        differentiation_score=x["differentiation_score"],
    )
    return {
        "fnclcc_mitosis_score": r.mitosis_score,
        "fnclcc_necrosis_score": r.necrosis_score,
        "fnclcc_differentiation_score": r.differentiation_score,
        "fnclcc_total": r.total,
        "fnclcc_total_min": r.total_min,
        "fnclcc_total_max": r.total_max,
        "fnclcc_grade": r.grade,
    }


def _ajcc8(x: Inputs, done: Inputs) -> Outputs:
    grade = _coalesce(x["grade"], done.get("fnclcc_grade"))
    r = ajcc.ajcc8_stage(size_cm=x["size_cm"], n=x["n"], m=x["m"], grade=grade)
    return {
        "ajcc8_t": r.t,
        "ajcc8_n": r.n,
        "ajcc8_m": r.m,
        "ajcc8_grade": r.grade,
        "ajcc8_stage": r.stage,
    }


def _child_pugh(x: Inputs, done: Inputs) -> Outputs:
    r = child_pugh.child_pugh(
        bilirubin_mg_dl=x["bilirubin_mg_dl"],
        albumin_g_dl=x["albumin_g_dl"],
        inr=x["inr"],
        ascites=x["ascites"],
        encephalopathy=x["encephalopathy"],
    )
    return {
        "child_pugh_points": r.points,
        "child_pugh_points_min": r.points_min,
        "child_pugh_points_max": r.points_max,
        "child_pugh_class": r.child_class,
    }


def _albi(x: Inputs, done: Inputs) -> Outputs:
    r = albi.albi(bilirubin_mg_dl=x["bilirubin_mg_dl"], albumin_g_dl=x["albumin_g_dl"])
    return {"albi_score": r.score, "albi_grade": r.grade, "malbi_grade": r.malbi_grade}


def _labs(x: Inputs) -> dict[str, Any]:
    return {
        "creatinine_mg_dl": x["creatinine_mg_dl"],
        "bilirubin_mg_dl": x["bilirubin_mg_dl"],
        "inr": x["inr"],
        "dialysis": x["dialysis"],
    }


def _meld(x: Inputs, done: Inputs) -> Outputs:
    return {"meld": meld.meld(**_labs(x)).score}


def _meld_na(x: Inputs, done: Inputs) -> Outputs:
    return {"meld_na": meld.meld_na(**_labs(x), sodium_mmol_l=x["sodium_mmol_l"]).score}


def _meld_3(x: Inputs, done: Inputs) -> Outputs:
    r = meld.meld_3(
        **_labs(x),
        sodium_mmol_l=x["sodium_mmol_l"],
        albumin_g_dl=x["albumin_g_dl"],
        female=x["female"],
    )
    return {"meld_3": r.score}


def _icg(x: Inputs, done: Inputs) -> Outputs:
    r = icg.icg_clearance(x["icg_r15_percent"])
    return {"icg_k_per_min": r.k_per_min, "icg_pdr_percent_per_min": r.pdr_percent_per_min}


def _measured_flr(x: Inputs) -> Any:
    return volumetry.flr_percent(
        flr_ml=x["flr_ml"], total_liver_ml=x["total_liver_ml"], tumour_ml=x["tumour_ml"]
    )


def _icg_kf(x: Inputs, done: Inputs) -> Outputs:
    fraction = _scaled(_measured_flr(x), 0.01)
    r = icg.icg_kf(k_per_min=icg.icg_k(x["icg_r15_percent"]), flr_fraction=fraction)
    return {"icg_kf": r.kf, "icg_kf_acceptable": r.acceptable}


def _gsa(x: Inputs, done: Inputs) -> Outputs:
    return {"gsa_assessment": gsa.gsa_assessment(hh15=x["hh15"], lhl15=x["lhl15"]).assessment}


def _makuuchi(x: Inputs, done: Inputs) -> Outputs:
    r = makuuchi.makuuchi_max_extent(
        ascites=x["ascites_control"],
        bilirubin_mg_dl=x["bilirubin_mg_dl"],
        icg_r15_percent=x["icg_r15_percent"],
    )
    return {"makuuchi_max_extent": r.max_extent, "makuuchi_label": r.label}


def _body(x: Inputs, done: Inputs) -> Outputs:
    h, w = x["height_cm"], x["weight_kg"]
    bsa = volumetry.bsa_mosteller(height_cm=h, weight_kg=w)
    return {
        "bsa_mosteller_m2": bsa,
        "bsa_dubois_m2": volumetry.bsa_dubois(height_cm=h, weight_kg=w),
        "slv_urata_ml": volumetry.standard_liver_volume_urata(bsa),
        "slv_vauthey_ml": volumetry.standard_liver_volume_vauthey(bsa),
    }


def _standardised_flr(x: Inputs, done: Inputs) -> Outputs:
    bsa = volumetry.bsa_mosteller(height_cm=x["height_cm"], weight_kg=x["weight_kg"])
    urata = volumetry.standard_liver_volume_urata(bsa)
    vauthey = volumetry.standard_liver_volume_vauthey(bsa)
    return {
        "sflr_urata_percent": volumetry.standardised_flr_percent(
            flr_ml=x["flr_ml"], standard_liver_volume_ml=urata
        ),
        "sflr_vauthey_percent": volumetry.standardised_flr_percent(
            flr_ml=x["flr_ml"], standard_liver_volume_ml=vauthey
        ),
    }


def _flr(x: Inputs, done: Inputs) -> Outputs:
    percent = _measured_flr(x)
    r = volumetry.flr_assessment(flr_percent=percent, liver_condition=x["liver_condition"])
    return {
        "flr_percent": percent,
        "flr_minimum_percent": r.minimum_percent,
        "flr_adequate": r.adequate,
    }


def _kawaguchi(x: Inputs, done: Inputs) -> Outputs:
    r = difficulty.kawaguchi_grade(procedure=x["procedure"])
    return {"kawaguchi_grade": r.grade, "kawaguchi_points": r.points}


_CD_COLUMNS = {
    f"cd_grade_{g.lower()}": f"grade_{g.lower()}" for g in complications.CLAVIEN_DINDO_GRADES
}


def _cci(x: Inputs, done: Inputs) -> Outputs:
    counts = {param: x[column] for column, param in _CD_COLUMNS.items()}
    return {"cci": complications.cci_from_counts(**counts)}


_TOLS_COLUMNS = tuple(c.name for c in textbook_outcome.TOLS_CRITERIA)


def _tols(x: Inputs, done: Inputs) -> Outputs:
    r = textbook_outcome.textbook_outcome(**{c: x[c] for c in _TOLS_COLUMNS})
    return {"tols_status": r.status, "tols_achieved": r.achieved}


def _fifty_fifty(x: Inputs, done: Inputs) -> Outputs:
    r = liver_failure.fifty_fifty_criteria(
        pt_percent_pod5=x["pt_percent_pod5"], bilirubin_umol_l_pod5=x["bilirubin_umol_l_pod5"]
    )
    return {"fifty_fifty_met": r.met}


def _mullen(x: Inputs, done: Inputs) -> Outputs:
    r = liver_failure.mullen_peak_bilirubin(peak_bilirubin_mg_dl=x["peak_bilirubin_mg_dl"])
    return {"mullen_met": r.met}


def _consistent_volumes(columns: dict[str, npt.NDArray[Any]]) -> None:
    """Volumes that ``flr_percent`` refuses together -> NaN: tumour >= total, FLR > functional."""
    total, tumour, flr = columns["total_liver_ml"], columns["tumour_ml"], columns["flr_ml"]
    functional = total - tumour
    bad_total = functional <= 0.0
    columns["total_liver_ml"] = np.where(bad_total, np.nan, total)
    functional = np.where(bad_total, np.nan, functional)
    too_big = np.round(flr - functional, 9) > 0.0
    columns["flr_ml"] = np.where(too_big, np.nan, flr)


def _icg_kf_rows(columns: dict[str, npt.NDArray[Any]]) -> None:
    """Besides consistent volumes, ICG-Kf needs K <= 1 /min and an FLR fraction > 0."""
    _consistent_volumes(columns)
    r15 = columns["icg_r15_percent"]
    with np.errstate(divide="ignore"):
        k = np.log(100.0 / r15) / 15.0
    columns["icg_r15_percent"] = np.where(k > icg.ICG_K_RANGE_PER_MIN[1], np.nan, r15)
    columns["flr_ml"] = np.where(columns["flr_ml"] <= 0.0, np.nan, columns["flr_ml"])


_BILIRUBIN = _quantity("bilirubin")
_VOLUME = _within(*volumetry.VOLUME_RANGE_ML)
_BODY = {
    "height_cm": _within(*volumetry.HEIGHT_RANGE_CM),
    "weight_kg": _within(*volumetry.WEIGHT_RANGE_KG),
}
_MELD_LABS = {
    "creatinine_mg_dl": _quantity("creatinine"),
    "bilirubin_mg_dl": _BILIRUBIN,
    "inr": _quantity("inr"),
    "dialysis": _FLAG,
}
_R15_OPEN = _within(*icg.ICG_R15_RANGE_PERCENT, low_open=True, high_open=True)
_VOLUMES = {"flr_ml": _VOLUME, "total_liver_ml": _VOLUME, "tumour_ml": _VOLUME}


def _out(kind: OutputKind, text: str) -> tuple[OutputKind, str]:
    return kind, text


_SCORES: tuple[_Score, ...] = (
    _Score(
        "fnclcc",
        ("mitoses_per_10hpf", "necrosis_percent"),
        {"differentiation_score": None},
        {
            "fnclcc_mitosis_score": _out("number", "mitotic count score 1-3"),
            "fnclcc_necrosis_score": _out("number", "necrosis score 0-2"),
            "fnclcc_differentiation_score": _out("number", "differentiation score 1-3"),
            "fnclcc_total": _out("number", "total 2-8 (NaN unless every component is known)"),
            "fnclcc_total_min": _out("number", "lower bound of the total"),
            "fnclcc_total_max": _out("number", "upper bound of the total"),
            "fnclcc_grade": _out("number", "FNCLCC grade 1-3 (also when the bounds agree)"),
        },
        _fnclcc,
        {
            "mitoses_per_10hpf": _within(*fnclcc.MITOTIC_COUNT_RANGE),
            "necrosis_percent": _within(0.0, 100.0),
            "differentiation_score": _one_of(1.0, 2.0, 3.0),
        },
    ),
    _Score(
        "ajcc8",
        ("size_cm", "m"),
        {"n": None, "grade": None},
        {
            "ajcc8_t": _out("object", "T1-T4"),
            "ajcc8_n": _out("object", "N0/N1/NX"),
            "ajcc8_m": _out("object", "M0/M1"),
            "ajcc8_grade": _out("object", "G1-G3/GX used for the stage"),
            "ajcc8_stage": _out("object", "IA, IB, II, IIIA, IIIB, IV"),
        },
        _ajcc8,
        {
            "size_cm": _within(*ajcc.SIZE_RANGE_CM, low_open=True),
            "n": _labels(ajcc.N_CATEGORIES),
            "m": _labels(ajcc.M_CATEGORIES),
            "grade": _one_of(1.0, 2.0, 3.0),
        },
    ),
    _Score(
        "child_pugh",
        ("bilirubin_mg_dl", "albumin_g_dl", "inr", "ascites", "encephalopathy"),
        {},
        {
            "child_pugh_points": _out("number", "points 5-15 (NaN unless all known)"),
            "child_pugh_points_min": _out("number", "lower bound of the points"),
            "child_pugh_points_max": _out("number", "upper bound of the points"),
            "child_pugh_class": _out("object", "A/B/C (also when the bounds agree)"),
        },
        _child_pugh,
        {
            "bilirubin_mg_dl": _within(*child_pugh.BILIRUBIN_RANGE_MG_DL),
            "albumin_g_dl": _within(*child_pugh.ALBUMIN_RANGE_G_DL),
            "inr": _within(*child_pugh.INR_RANGE),
            "ascites": _labels(child_pugh.ASCITES_POINTS),
            "encephalopathy": _labels(child_pugh.ENCEPHALOPATHY_POINTS),
        },
    ),
    _Score(
        "albi",
        ("bilirubin_mg_dl", "albumin_g_dl"),
        {},
        {
            "albi_score": _out("number", "ALBI score (unrounded)"),
            "albi_grade": _out("number", "ALBI grade 1-3"),
            "malbi_grade": _out("object", 'mALBI "1", "2a", "2b", "3"'),
        },
        _albi,
        {
            "bilirubin_mg_dl": _within(*albi.BILIRUBIN_RANGE_MG_DL),
            "albumin_g_dl": _within(*albi.ALBUMIN_RANGE_G_DL),
        },
    ),
    _Score(
        "meld",
        ("creatinine_mg_dl", "bilirubin_mg_dl", "inr"),
        {"dialysis": False},
        {"meld": _out("number", "UNOS MELD 6-40")},
        _meld,
        _MELD_LABS,
    ),
    _Score(
        "meld_na",
        ("creatinine_mg_dl", "bilirubin_mg_dl", "inr", "sodium_mmol_l"),
        {"dialysis": False},
        {"meld_na": _out("number", "MELD-Na (OPTN 2016) 6-40")},
        _meld_na,
        {**_MELD_LABS, "sodium_mmol_l": _quantity("sodium")},
    ),
    _Score(
        "meld_3",
        (
            "creatinine_mg_dl",
            "bilirubin_mg_dl",
            "inr",
            "sodium_mmol_l",
            "albumin_g_dl",
            "female",
        ),
        {"dialysis": False},
        {"meld_3": _out("number", "MELD 3.0 6-40")},
        _meld_3,
        {
            **_MELD_LABS,
            "sodium_mmol_l": _quantity("sodium"),
            "albumin_g_dl": _quantity("albumin"),
            "female": _FLAG,
        },
    ),
    _Score(
        "icg",
        ("icg_r15_percent",),
        {},
        {
            "icg_k_per_min": _out("number", "ICG-K, /min"),
            "icg_pdr_percent_per_min": _out("number", "ICG-PDR, %/min"),
        },
        _icg,
        {"icg_r15_percent": _R15_OPEN},
    ),
    _Score(
        "icg_kf",
        ("icg_r15_percent", "flr_ml", "total_liver_ml"),
        {"tumour_ml": 0.0},
        {
            "icg_kf": _out("number", "remnant ICG-K = ICG-K x measured FLR fraction, /min"),
            "icg_kf_acceptable": _out("object", "ICG-Kf >= 0.05 (True/False/None)"),
        },
        _icg_kf,
        {"icg_r15_percent": _R15_OPEN, **_VOLUMES},
        fields={"k_per_min": "icg_r15_percent", "flr_fraction": "flr_ml"},
        coerce_rows=_icg_kf_rows,
    ),
    _Score(
        "gsa",
        ("hh15", "lhl15"),
        {},
        {"gsa_assessment": _out("object", '"normal", "impaired", "indeterminate"')},
        _gsa,
        {
            "hh15": _within(0.0, 1.0, low_open=True, high_open=True),
            "lhl15": _within(0.0, 1.0, low_open=True, high_open=True),
        },
    ),
    _Score(
        "makuuchi",
        ("ascites_control", "bilirubin_mg_dl"),
        {"icg_r15_percent": None},
        {
            "makuuchi_max_extent": _out("number", "ResectionExtent ordinal 0-5"),
            "makuuchi_label": _out("object", "maximum extent in words"),
        },
        _makuuchi,
        {
            "ascites_control": _labels(makuuchi.ASCITES_STATES),
            "bilirubin_mg_dl": _within(*makuuchi.BILIRUBIN_RANGE_MG_DL),
            "icg_r15_percent": _within(*makuuchi.ICG_R15_RANGE_PERCENT),
        },
        fields={"ascites": "ascites_control"},
    ),
    _Score(
        "body",
        ("height_cm", "weight_kg"),
        {},
        {
            "bsa_mosteller_m2": _out("number", "BSA (Mosteller), m²"),
            "bsa_dubois_m2": _out("number", "BSA (DuBois), m²"),
            "slv_urata_ml": _out("number", "standard liver volume (Urata, Mosteller BSA), mL"),
            "slv_vauthey_ml": _out("number", "standard liver volume (Vauthey, Mosteller BSA), mL"),
        },
        _body,
        _BODY,
        fields={"bsa_m2": "height_cm"},
    ),
    _Score(
        "standardised_flr",
        ("flr_ml", "height_cm", "weight_kg"),
        {},
        {
            "sflr_urata_percent": _out("number", "FLR / Urata SLV, %"),
            "sflr_vauthey_percent": _out("number", "FLR / Vauthey SLV, %"),
        },
        _standardised_flr,
        {**_BODY, "flr_ml": _VOLUME},
        fields={"bsa_m2": "height_cm", "standard_liver_volume_ml": "height_cm"},
    ),
    _Score(
        "flr",
        ("flr_ml", "total_liver_ml"),
        {"tumour_ml": 0.0, "liver_condition": None},
        {
            "flr_percent": _out("number", "measured FLR, % of (total liver - tumour)"),
            "flr_minimum_percent": _out("number", "minimum FLR % for the liver condition"),
            "flr_adequate": _out("object", "flr_percent >= minimum (True/False/None)"),
        },
        _flr,
        {**_VOLUMES, "liver_condition": _labels(volumetry.MINIMUM_FLR_PERCENT)},
        coerce_rows=_consistent_volumes,
    ),
    _Score(
        "kawaguchi",
        ("procedure",),
        {},
        {
            "kawaguchi_grade": _out("object", 'Kawaguchi difficulty "I", "II", "III"'),
            "kawaguchi_points": _out("number", "Kawaguchi points 0/2/3"),
        },
        _kawaguchi,
        {"procedure": _procedures},
    ),
    _Score(
        "cci",
        (),
        {column: 0.0 for column in _CD_COLUMNS},
        {"cci": _out("number", "Comprehensive Complication Index 0-100")},
        _cci,
        {column: _whole(*complications.COMPLICATION_COUNT_RANGE) for column in _CD_COLUMNS},
        fields={param: column for column, param in _CD_COLUMNS.items()},
        any_of=True,
    ),
    _Score(
        "tols",
        (),
        dict.fromkeys(_TOLS_COLUMNS),
        {
            "tols_status": _out("object", '"achieved", "not achieved", "not assessable"'),
            "tols_achieved": _out("object", "True/False/None"),
        },
        _tols,
        dict.fromkeys(_TOLS_COLUMNS, _FLAG),
        any_of=True,
    ),
    _Score(
        "fifty_fifty",
        ("pt_percent_pod5", "bilirubin_umol_l_pod5"),
        {},
        {"fifty_fifty_met": _out("object", "50-50 criteria on POD 5 (True/False/None)")},
        _fifty_fifty,
        {
            "pt_percent_pod5": _within(*liver_failure.PT_PERCENT_RANGE),
            "bilirubin_umol_l_pod5": _within(*liver_failure.BILIRUBIN_UMOL_L_RANGE),
        },
    ),
    _Score(
        "mullen",
        ("peak_bilirubin_mg_dl",),
        {},
        {"mullen_met": _out("object", "peak bilirubin > 7.0 mg/dL (True/False/None)")},
        _mullen,
        {"peak_bilirubin_mg_dl": _within(*liver_failure.BILIRUBIN_MG_DL_RANGE)},
    ),
)

BATCH_OUTPUTS: dict[str, str] = {
    name: f"{kind}: {text}" for s in _SCORES for name, (kind, text) in s.outputs.items()
}
"""Result columns of :func:`score_cohort`: name -> "kind: meaning". ``number`` columns are float64
(NaN = unknown); ``object`` columns hold labels or True/False, None = unknown."""

BATCH_SCORES: dict[str, tuple[str, ...]] = {s.name: s.required for s in _SCORES}
"""Score name -> the columns it requires (CCI and TOLS: any one of their columns)."""


# --- input conversion --------------------------------------------------------------------------


_PLAIN_NUMBERS = frozenset({"boolean", "integer", "floating", "mixed-integer-float", "empty"})
"""``pandas.api.types.infer_dtype`` kinds of an object column that numpy converts to float as
``pd.to_numeric`` would (bool, int, float, None/NaN): a flag column with unknowns, typically."""


def _column(series: pd.Series[Any], name: str, errors: Errors) -> npt.NDArray[Any]:
    """A DataFrame column as a float array (numbers, flags) or an object array with None.

    Vectorised: the checks run on the column's few distinct values or in C, not per patient.
    """
    kind = _COLUMNS[name].kind
    if kind == "label":
        labels = series.to_numpy(dtype=object)
        distinct = distinct_values(labels)
        if distinct is None or any(v is not None for v in distinct[pd.isna(distinct)]):
            labels = labels.copy()  # NaN, pd.NA -> None (None alone needs no pass)
            labels[pd.isna(labels)] = None
        return labels
    if series.dtype == np.float64:  # NaN is its only unknown: the column as is, no copy
        return series.to_numpy()
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in _PLAIN_NUMBERS:
        try:
            return series.to_numpy(dtype=object).astype(np.float64)
        except (TypeError, ValueError, OverflowError):
            pass  # e.g. pd.NA among them: pandas' conversion below
    try:
        numbers = pd.to_numeric(series, errors=errors)
    except (TypeError, ValueError) as exc:
        raise InputError(f"expected numbers ({BATCH_COLUMNS[name]}): {exc}", name) from exc
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _scalar(value: Any, name: str, errors: Errors = "raise") -> Any:
    """One cell as the scalar a caller would pass: None when unknown, float, bool or str.

    A number that cannot be read raises InputError, or is unknown with ``errors="coerce"``.
    """
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    kind = _COLUMNS[name].kind
    if kind == "label" or (kind == "flag" and isinstance(value, (bool, np.bool_))):
        return value.item() if isinstance(value, np.generic) else value
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        if errors == "coerce":
            return None
        raise InputError(f"expected a number ({BATCH_COLUMNS[name]}), got {value!r}", name) from exc


def _coerced(score: _Score, inputs: Mapping[str, Any], given: Iterable[str]) -> dict[str, Any]:
    """The score's inputs with the values its functions would refuse made unknown.

    Only the columns in ``given`` (arrays) are coerced; defaults of absent columns are kept.
    """
    out = dict(inputs)
    present = set(given)
    for name, coerce in score.coercers.items():
        if name in out and name in present:
            out[name] = coerce(out[name])
    if score.coerce_rows is not None:
        score.coerce_rows(out)
    return out


def _run(score: _Score, inputs: Inputs, done: Inputs) -> Outputs:
    """Compute one score; an InputError names the input column behind the bad value."""
    try:
        return score.compute(inputs, done)
    except InputError as err:
        column = score.fields.get(err.field or "", err.field)
        raise InputError(f"{err.message} (score {score.name})", column) from err


def _check_errors(errors: str) -> None:
    if errors not in ("raise", "coerce"):
        raise InputError(f'errors must be "raise" or "coerce", got {errors!r}', "errors")


def _check_arguments(df: pd.DataFrame, errors: str) -> None:
    _check_errors(errors)
    clash = [c for c in df.columns if c in BATCH_OUTPUTS]
    if clash:
        raise InputError(
            "the input already has result columns; drop them before scoring", str(clash[0])
        )


def _plan(columns: Iterable[str]) -> tuple[list[_Score], dict[str, tuple[str, ...]]]:
    """Scores computable from ``columns`` and, for the others, the columns they miss."""
    names = list(columns)
    run, skipped = [], {}
    for score in _SCORES:
        ok, missing = score.present(names)
        if ok:
            run.append(score)
        else:
            skipped[score.name] = missing
    return run, skipped


def _inputs_of(score: _Score, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the score's columns; absent optional columns take their default."""
    out = {name: values[name] for name in score.required}
    for name, default in score.optional.items():
        out[name] = values.get(name, default)
    return out


def _number_column(values: Any, n: int) -> npt.NDArray[np.float64]:
    """Float column; None (scalar results of the loop, object arrays) becomes NaN."""
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)).copy()


def _object_column(values: Any, n: int) -> npt.NDArray[np.object_]:
    out = np.empty(n, dtype=object)
    out[:] = values
    return out


def _takes_as_is(values: Any, dtype: type[np.generic], n: int, taken: set[int]) -> bool:
    """Whether a result array can become a column without a copy: right dtype and length, owns
    its memory (no view of an input) and no other result column holds it."""
    if not isinstance(values, np.ndarray):
        return False
    fresh = values.dtype == dtype and values.shape == (n,) and values.flags.owndata
    fresh = fresh and id(values) not in taken
    taken.add(id(values))
    return bool(fresh)


def _frame(df: pd.DataFrame, run: list[_Score], results: Mapping[str, Any]) -> pd.DataFrame:
    """Input columns followed by the result columns, with the documented dtypes.

    One DataFrame is built from all the columns without copying them (``copy=False``, no block
    consolidation): input columns as in ``df`` (shared, as a shallow copy shares them), result
    arrays as computed. Adding a million-row column to a frame one by one would copy each.
    """
    n, k = df.shape
    data: dict[int, Any] = {i: df.iloc[:, i] for i in range(k)}  # by position: labels may repeat
    names: list[str] = []
    taken: set[int] = set()
    for score in run:
        for name, (kind, _) in score.outputs.items():
            values = results[name]
            dtype = np.float64 if kind == "number" else np.object_
            if not _takes_as_is(values, dtype, n, taken):
                make = _number_column if kind == "number" else _object_column
                values = make(values, n)
            data[k + len(names)] = values
            names.append(name)
    out = pd.DataFrame(data, index=df.index, copy=False)
    out.columns = df.columns.append(pd.Index(names, dtype=object))
    out.attrs = copy.deepcopy(df.attrs)  # as df.copy() keeps them
    out.flags.allows_duplicate_labels = df.flags.allows_duplicate_labels  # type: ignore[attr-defined]
    return out


# --- public API ----------------------------------------------------------------------------------


def score_cohort(df: pd.DataFrame, *, errors: Errors = "raise") -> pd.DataFrame:
    """Score every patient (row) of ``df`` with one vectorised call per score.

    Parameters
    ----------
    df
        One row per patient; columns named as in :data:`BATCH_COLUMNS` (canonical units), any
        subset of them, plus any other columns (carried through). NaN/None/pd.NA = unknown.
    errors
        ``"raise"``: a value the engine refuses raises :class:`~livermet.errors.InputError` whose
        ``field`` is the input column. ``"coerce"``: such values are made unknown first
        (vectorised masks, see the module docstring), so their results are unknown.

    Returns
    -------
    pandas.DataFrame
        The input columns followed by the result columns of every computable score (see
        :data:`BATCH_OUTPUTS`), same index. ``attrs["scores_computed"]`` lists the scores
        computed; ``attrs["scores_skipped"]`` maps each other score to its missing columns.

    Raises
    ------
    InputError
        Bad value (naming the column) with ``errors="raise"``; an unknown ``errors`` mode; or
        an input that already has result columns.
    """
    _check_arguments(df, errors)
    run, skipped = _plan(df.columns)
    needed = dict.fromkeys(n for s in run for n in (*s.required, *s.optional))
    arrays = {name: _column(df[name], name, errors) for name in needed if name in df.columns}
    results: dict[str, Any] = {}
    for score in run:
        inputs = _inputs_of(score, arrays)
        if errors == "coerce":
            inputs = _coerced(score, inputs, arrays)
        results.update(_run(score, inputs, results))
    out = _frame(df, run, results)
    out.attrs["scores_computed"] = [s.name for s in run]
    out.attrs["scores_skipped"] = skipped
    return out


def score_patient(
    patient: Mapping[str, Any], *, errors: Errors = "raise", columns: Iterable[str] | None = None
) -> dict[str, Any]:
    """Score one patient with the scalar form of every score function.

    Parameters
    ----------
    patient
        Column name -> value, as in :data:`BATCH_COLUMNS`.
    errors
        As for :func:`score_cohort` (coercion applies the same masks to one-element arrays).
    columns
        The columns deciding which scores are computed (default: the keys of ``patient``).

    Returns
    -------
    dict
        Result column -> Python scalar (None when unknown), for every computable score.
    """
    _check_errors(errors)
    run, _ = _plan(patient if columns is None else columns)
    values = {
        name: _scalar(value, name, errors) for name, value in patient.items() if name in _COLUMNS
    }
    results: dict[str, Any] = {}
    for score in run:
        inputs = _inputs_of(score, values)
        if errors == "coerce":
            given = [k for k in inputs if k in values]
            arrays = {k: _one_element(v, k) if k in values else v for k, v in inputs.items()}
            coerced = _coerced(score, arrays, given)
            inputs = {k: _scalar(v[0], k) if k in values else v for k, v in coerced.items()}
        results.update(_run(score, inputs, results))
    return results


def _one_element(value: Any, name: str) -> npt.NDArray[Any]:
    if name in _COLUMNS and _COLUMNS[name].kind == "label":
        return _object_column([value], 1)
    return np.array([np.nan if value is None else float(value)])


def score_cohort_loop(df: pd.DataFrame, *, errors: Errors = "raise") -> pd.DataFrame:
    """Reference for :func:`score_cohort`: a plain Python loop calling :func:`score_patient`.

    Same contract and output as :func:`score_cohort` (up to floating-point rounding); slow —
    used by the tests and the benchmark.
    """
    _check_arguments(df, errors)
    run, skipped = _plan(df.columns)
    names = [s for s in df.columns if s in _COLUMNS]
    per_patient = [
        score_patient(dict(zip(names, row, strict=True)), errors=errors, columns=df.columns)
        for row in df[names].itertuples(index=False, name=None)
    ]
    results = {
        name: [patient[name] for patient in per_patient] for score in run for name in score.outputs
    }
    out = _frame(df, run, results)
    out.attrs["scores_computed"] = [s.name for s in run]
    out.attrs["scores_skipped"] = skipped
    return out


def mismatched_columns(left: pd.DataFrame, right: pd.DataFrame, *, rtol: float = 1e-9) -> list[str]:
    """Result columns on which two scored frames disagree (numbers: relative ``rtol``, NaN ==
    NaN; objects: exact, None == None). Columns present in only one frame count as mismatched."""
    names = [c for c in dict.fromkeys([*left.columns, *right.columns]) if c in BATCH_OUTPUTS]
    bad = []
    for name in names:
        if name not in left.columns or name not in right.columns or len(left) != len(right):
            bad.append(name)
            continue
        a, b = left[name].to_numpy(), right[name].to_numpy()
        if BATCH_OUTPUTS[name].startswith("number"):
            same = np.isclose(a.astype(float), b.astype(float), rtol=rtol, atol=0.0, equal_nan=True)
        else:
            same = np.array([x == y for x, y in zip(a, b, strict=True)], dtype=bool)
        if not same.all():
            bad.append(name)
    return bad
