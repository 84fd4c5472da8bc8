"""Post-hepatectomy liver failure: ISGLS definition and grade, 50-50 criteria, Mullen.

Definitions: docs/clinical.md#liver-failure-after-hepatectomy (Mullen: peak bilirubin).

Sources:
- Rahbari NN, Garden OJ, Padbury R, et al. Posthepatectomy liver failure: a definition and grading
  by the International Study Group of Liver Surgery (ISGLS). Surgery 2011;149:713-724.
  Definition (increased INR and concomitant hyperbilirubinaemia above the local upper limits on
  or after POD 5) [two sources]; grades A-C by clinical management [one source]; management examples
  and the rule for preoperatively raised values [not verified].
- Balzan S, Belghiti J, Farges O, et al. The "50-50 criteria" on postoperative day 5. Ann Surg
  2005;242:824-828 [two sources]: PT < 50 % and serum bilirubin > 50 µmol/L on POD 5. Kept in the
  original units (PT %, µmol/L); "INR > 1.7" and "2.9 mg/dL" are later conversions [one source] not
  used here.
- Mullen JT, et al. J Am Coll Surg 2007: peak bilirubin > 7.0 mg/dL within POD 1-7 [two sources].

Default (docs/clinical.md#liver-failure-after-hepatectomy): ISGLS for grading; 50-50 as a POD-5
alarm flag. Other causes of raised INR and bilirubin (e.g. biliary obstruction) must be excluded by
the caller before calling PHLF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    as_label_array,
    check_range,
    is_scalar,
    scalar_or_array,
    select,
    tri_state,
)
from livermet.clinical.contracts import BILIRUBIN, FIFTY_FIFTY, INR, MULLEN

ObjectArray = npt.NDArray[np.object_]

# --- 50-50 criteria ------------------------------------------------------------------------

FIFTY_FIFTY_PT_PERCENT = 50.0
"""Prothrombin time activity below this % on POD 5 (Balzan 2005;
docs/clinical.md#liver-failure-after-hepatectomy [two sources]); strict <."""

FIFTY_FIFTY_BILIRUBIN_UMOL_L = 50.0
"""Serum bilirubin above this µmol/L on POD 5 (Balzan 2005;
docs/clinical.md#liver-failure-after-hepatectomy [two sources]); strict >."""

_PT_POD5 = FIFTY_FIFTY.input("pt_percent_pod5")
_BILIRUBIN_POD5 = FIFTY_FIFTY.input("bilirubin_umol_l_pod5")
_PEAK_BILIRUBIN = MULLEN.input("peak_bilirubin_mg_dl")

PT_PERCENT_RANGE = _PT_POD5.range
"""Plausibility of PT activity, % (units.py via ``contracts.FIFTY_FIFTY``, engineering choice)."""

BILIRUBIN_MG_DL_RANGE = BILIRUBIN.range
"""Plausibility of bilirubin, mg/dL (units.py via ``contracts.BILIRUBIN``, engineering choice)."""

BILIRUBIN_UMOL_L_RANGE = _BILIRUBIN_POD5.range
"""The same plausibility range in µmol/L (x 17.1, rounded to 9 decimals; ``contracts.py``,
docs/clinical.md#units-and-plausibility-ranges)."""

INR_RANGE = INR.range
"""Plausibility of INR (units.py via ``contracts.INR``, engineering choice)."""

INR_ULN_RANGE = (0.8, 2.0)
"""Plausibility of a laboratory's INR upper limit of normal (engineering choice)."""

BILIRUBIN_ULN_MG_DL_RANGE = (0.3, 3.0)
"""Plausibility of a laboratory's bilirubin upper limit of normal, mg/dL (engineering choice)."""

POD_RANGE = (0.0, 365.0)
"""Plausibility of the postoperative day (engineering choice)."""

ISGLS_FIRST_POD = 5
"""PHLF is defined on or after postoperative day 5 (Rahbari 2011;
docs/clinical.md#liver-failure-after-hepatectomy [two sources])."""

MANAGEMENT_LEVELS = ("none", "non-invasive", "invasive")
ISGLS_GRADE_BY_MANAGEMENT: dict[str, str] = {"none": "A", "non-invasive": "B", "invasive": "C"}
"""ISGLS grade by impact on management (Rahbari 2011;
docs/clinical.md#liver-failure-after-hepatectomy [one source]): A no change in clinical management;
B deviation manageable without invasive treatment (e.g. FFP, albumin, daily diuretics, non-invasive
ventilation, IMC/ICU transfer [not verified examples]); C invasive treatment (e.g. vasopressors,
intubation, haemodialysis, extracorporeal liver support, rescue hepatectomy, transplantation [not
verified examples])."""

MULLEN_PEAK_BILIRUBIN_MG_DL = 7.0
"""Peak bilirubin above this mg/dL within POD 1-7 (Mullen 2007;
docs/clinical.md#liver-failure-after-hepatectomy [two sources]); strict >."""


@dataclass(frozen=True)
class FiftyFiftyResult:
    """50-50 criteria on POD 5.

    Attributes
    ----------
    met
        True when PT < 50 % and bilirubin > 50 µmol/L; False when either is known to fail;
        None when undecided (an unknown value and no failing one).
    pt_below_50
        PT activity < 50 % (None when unknown).
    bilirubin_above_50
        Bilirubin > 50 µmol/L (None when unknown).
    """

    met: Any
    pt_below_50: Any
    bilirubin_above_50: Any


@dataclass(frozen=True)
class IsglsResult:
    """ISGLS post-hepatectomy liver failure.

    Attributes
    ----------
    phlf
        True / False; None when not decidable (unknown value, or a day before POD 5 that does not
        rule PHLF out later).
    grade
        "A", "B", "C"; None when no PHLF or when management is unknown.
    reason
        Short explanation of the decision.
    inr_raised, bilirubin_raised
        Whether each laboratory criterion is met (None when unknown).
    """

    phlf: Any
    grade: Any
    reason: Any
    inr_raised: Any
    bilirubin_raised: Any


@dataclass(frozen=True)
class MullenResult:
    """Mullen 2007 criterion: ``met`` is True when peak bilirubin (POD 1-7) > 7.0 mg/dL."""

    met: Any
    peak_bilirubin_mg_dl: Any


def _tri_state(values: FloatArray, scalar: bool) -> Any:
    """1.0/0.0/NaN -> True/False/None (scalar) or an object array of them."""
    out = tri_state(values > 0.5, np.isnan(values))
    return out.item() if scalar else out


def _strict(condition: npt.NDArray[np.bool_], *inputs: FloatArray) -> FloatArray:
    """Condition as 1.0/0.0, NaN where any input is unknown."""
    unknown = np.zeros(condition.shape, dtype=bool)
    for value in inputs:
        unknown = unknown | np.isnan(value)
    return np.where(unknown, np.nan, condition.astype(np.float64))


def fifty_fifty_criteria(*, pt_percent_pod5: Any, bilirubin_umol_l_pod5: Any) -> FiftyFiftyResult:
    """Balzan 2005 "50-50" criteria on postoperative day 5.

    Parameters
    ----------
    pt_percent_pod5
        Prothrombin time activity on POD 5, % of normal (1-150); None/NaN = unknown.
    bilirubin_umol_l_pod5
        Serum bilirubin on POD 5, µmol/L (1.71-855, i.e. 0.1-50 mg/dL); None/NaN = unknown.

    Examples
    --------
    PT 45 % and bilirubin 60 µmol/L -> met (docs/clinical.md#liver-failure-after-hepatectomy).
    """
    scalar = is_scalar(pt_percent_pod5, bilirubin_umol_l_pod5)
    pt = as_float_array(pt_percent_pod5, "pt_percent_pod5")
    bili = as_float_array(bilirubin_umol_l_pod5, "bilirubin_umol_l_pod5")
    _PT_POD5.check(pt)
    _BILIRUBIN_POD5.check(bili)
    pt, bili = np.broadcast_arrays(pt, bili)

    pt_low = _strict(pt < FIFTY_FIFTY_PT_PERCENT, pt)
    bili_high = _strict(bili > FIFTY_FIFTY_BILIRUBIN_UMOL_L, bili)
    met = select(
        [(pt_low == 0.0) | (bili_high == 0.0), (pt_low == 1.0) & (bili_high == 1.0)],
        [0.0, 1.0],
        np.nan,
    )
    return FiftyFiftyResult(
        met=_tri_state(met, scalar),
        pt_below_50=_tri_state(pt_low, scalar),
        bilirubin_above_50=_tri_state(bili_high, scalar),
    )


def _raised(
    value: FloatArray, uln: FloatArray, preop: FloatArray, previous_day: FloatArray
) -> FloatArray:
    """Return the laboratory criterion for one parameter.

    The value is above the ULN; if the preoperative value was already above the ULN, it must also
    exceed the preceding day's value (docs/clinical.md#liver-failure-after-hepatectomy [not
    verified]). Unknown preoperative value = assumed normal (implementation default).
    """
    above_uln = _strict(value > uln, value, uln)
    preop_raised = ~np.isnan(preop) & ~np.isnan(uln) & (preop > uln)
    rising = _strict(value > previous_day, value, previous_day)
    # With a raised baseline the criterion needs both; 0 in either decides "not raised".
    both = select(
        [(above_uln == 0.0) | (rising == 0.0), (above_uln == 1.0) & (rising == 1.0)],
        [0.0, 1.0],
        np.nan,
    )
    return np.where(preop_raised, both, above_uln)


def isgls_phlf(
    *,
    pod: Any,
    inr: Any,
    bilirubin_mg_dl: Any,
    inr_uln: Any,
    bilirubin_uln_mg_dl: Any,
    management: Any = None,
    preop_inr: Any = None,
    preop_bilirubin_mg_dl: Any = None,
    previous_day_inr: Any = None,
    previous_day_bilirubin_mg_dl: Any = None,
) -> IsglsResult:
    """ISGLS post-hepatectomy liver failure (Rahbari 2011) for one postoperative day.

    PHLF = INR above the local upper limit **and** bilirubin above the local upper limit, on or
    after POD 5. Grade by management: A none, B non-invasive, C invasive. For a series, call with
    arrays (one element per day) and take any ``phlf`` / the highest grade.

    Parameters
    ----------
    pod
        Postoperative day of the values (0-365).
    inr, bilirubin_mg_dl
        INR (0.8-10) and bilirubin (0.1-50 mg/dL) on that day; None/NaN = unknown.
    inr_uln, bilirubin_uln_mg_dl
        The local laboratory's upper limits of normal (INR 0.8-2.0, bilirubin 0.3-3.0 mg/dL).
    management
        "none", "non-invasive", "invasive" (impact on clinical management); None = unknown.
    preop_inr, preop_bilirubin_mg_dl
        Preoperative values. When one was already above its ULN, that parameter must also have
        risen versus the preceding day (docs/clinical.md#liver-failure-after-hepatectomy [not
        verified]); None = assumed normal (default).
    previous_day_inr, previous_day_bilirubin_mg_dl
        Values of the preceding day, used only for a preoperatively raised parameter.

    Returns
    -------
    IsglsResult
        ``phlf`` is None for a day before POD 5 (such values never establish PHLF, and cannot
        rule out PHLF later) and when a needed value is unknown; ``reason`` says why.

    Examples
    --------
    POD 5, INR 1.6, bilirubin 3.5 mg/dL, ULN 1.2 / 1.2, FFP on the ward ("non-invasive")
    -> PHLF grade B (docs/clinical.md#liver-failure-after-hepatectomy).
    """
    scalar = is_scalar(
        pod,
        inr,
        bilirubin_mg_dl,
        inr_uln,
        bilirubin_uln_mg_dl,
        management,
        preop_inr,
        preop_bilirubin_mg_dl,
        previous_day_inr,
        previous_day_bilirubin_mg_dl,
    )
    pod_a = as_float_array(pod, "pod")
    check_range(pod_a, "pod", *POD_RANGE, "days")
    inr_values = {
        "inr": as_float_array(inr, "inr"),
        "preop_inr": as_float_array(preop_inr, "preop_inr"),
        "previous_day_inr": as_float_array(previous_day_inr, "previous_day_inr"),
    }
    for field, values in inr_values.items():
        INR.check(values, field)
    bili_values = {
        "bilirubin_mg_dl": as_float_array(bilirubin_mg_dl, "bilirubin_mg_dl"),
        "preop_bilirubin_mg_dl": as_float_array(preop_bilirubin_mg_dl, "preop_bilirubin_mg_dl"),
        "previous_day_bilirubin_mg_dl": as_float_array(
            previous_day_bilirubin_mg_dl, "previous_day_bilirubin_mg_dl"
        ),
    }
    for field, values in bili_values.items():
        BILIRUBIN.check(values, field)
    inr_uln_a = as_float_array(inr_uln, "inr_uln")
    check_range(inr_uln_a, "inr_uln", *INR_ULN_RANGE, "(INR)")
    bili_uln_a = as_float_array(bilirubin_uln_mg_dl, "bilirubin_uln_mg_dl")
    check_range(bili_uln_a, "bilirubin_uln_mg_dl", *BILIRUBIN_ULN_MG_DL_RANGE, "mg/dL")
    management_a = as_label_array(management, "management", MANAGEMENT_LEVELS)

    (
        pod_a,
        inr_a,
        preop_inr_a,
        prev_inr_a,
        bili_a,
        preop_bili_a,
        prev_bili_a,
        inr_uln_a,
        bili_uln_a,
        management_a,
    ) = np.broadcast_arrays(
        pod_a, *inr_values.values(), *bili_values.values(), inr_uln_a, bili_uln_a, management_a
    )

    inr_raised = _raised(inr_a, inr_uln_a, preop_inr_a, prev_inr_a)
    bili_raised = _raised(bili_a, bili_uln_a, preop_bili_a, prev_bili_a)
    both_known = ~np.isnan(inr_raised) & ~np.isnan(bili_raised)
    labs_met = (inr_raised == 1.0) & (bili_raised == 1.0)
    labs_not_met = (inr_raised == 0.0) | (bili_raised == 0.0)
    unknown_pod = np.isnan(pod_a)
    early = ~unknown_pod & (pod_a < ISGLS_FIRST_POD)

    phlf = select(
        [unknown_pod | early, labs_not_met, labs_met & both_known],
        [np.nan, 0.0, 1.0],
        np.nan,
    )
    grade = np.full(phlf.shape, None, dtype=object)
    for level, label in ISGLS_GRADE_BY_MANAGEMENT.items():
        grade[(phlf == 1.0) & (management_a == level)] = label

    reason = select(
        [
            unknown_pod,
            early,
            labs_not_met,
            (phlf == 1.0) & (grade == None),  # noqa: E711 (elementwise)
            phlf == 1.0,
        ],
        [
            np.array("postoperative day unknown", dtype=object),
            np.array(
                f"values before POD {ISGLS_FIRST_POD} cannot establish PHLF (ISGLS)", dtype=object
            ),
            np.array("INR and bilirubin not both above the local upper limits", dtype=object),
            np.array(
                "INR and bilirubin above the local upper limits on or after POD 5; "
                "grade not determinable: management unknown",
                dtype=object,
            ),
            np.array(
                "INR and bilirubin above the local upper limits on or after POD 5; "
                "grade by impact on management",
                dtype=object,
            ),
        ],
        np.array("laboratory criterion not decidable: a value is unknown", dtype=object),
    ).astype(object)

    return IsglsResult(
        phlf=_tri_state(phlf, scalar),
        grade=scalar_or_array(grade, scalar),
        reason=scalar_or_array(reason, scalar),
        inr_raised=_tri_state(inr_raised, scalar),
        bilirubin_raised=_tri_state(bili_raised, scalar),
    )


def mullen_peak_bilirubin(*, peak_bilirubin_mg_dl: Any) -> MullenResult:
    """Apply Mullen 2007: peak serum bilirubin > 7.0 mg/dL within POD 1-7.

    A variant of docs/clinical.md#liver-failure-after-hepatectomy.

    Parameters
    ----------
    peak_bilirubin_mg_dl
        Highest bilirubin of POD 1-7, mg/dL (0.1-50); None/NaN = unknown.
    """
    scalar = is_scalar(peak_bilirubin_mg_dl)
    peak = as_float_array(peak_bilirubin_mg_dl, "peak_bilirubin_mg_dl")
    _PEAK_BILIRUBIN.check(peak)
    met = _strict(peak > MULLEN_PEAK_BILIRUBIN_MG_DL, peak)
    return MullenResult(
        met=_tri_state(met, scalar), peak_bilirubin_mg_dl=scalar_or_array(peak, scalar)
    )
