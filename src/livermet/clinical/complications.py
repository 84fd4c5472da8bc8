"""Clavien-Dindo classification and Comprehensive Complication Index.

Definitions: docs/clinical.md#clavien-dindo-and-cci.

Sources: Dindo D, Demartines N, Clavien PA. Ann Surg 2004;240:205-213 (grades I-V, suffix "d";
grade wording paraphrased, [not verified] as to exact text); Clavien PA, et al. Ann Surg
2009;250:187-196; Slankamenac K, Graf R, Barkun J, Puhan MA, Clavien PA. The comprehensive
complication index. Ann Surg 2013;258:1-7 [one source] (CCI = sqrt(sum of weights) / 2, capped at
100).

Grades: I deviation without specific treatment (antiemetics, antipyretics, analgesics, diuretics,
electrolytes, physiotherapy, wound opened at the bedside allowed); II other drugs (e.g.
antibiotics), blood transfusion, TPN; IIIa intervention not under general anaesthesia; IIIb under
general anaesthesia; IVa single-organ dysfunction needing IC/ICU (incl. dialysis); IVb multi-organ
dysfunction; V death; suffix "d" = still present at discharge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from livermet.errors import InputError

CLAVIEN_DINDO_GRADES: tuple[str, ...] = ("I", "II", "IIIa", "IIIb", "IVa", "IVb", "V")
"""Clavien-Dindo grades, least to most severe (Dindo 2004;
docs/clinical.md#clavien-dindo-and-cci)."""

MAJOR_COMPLICATION_GRADES = frozenset({"IIIa", "IIIb", "IVa", "IVb", "V"})
"""Clavien-Dindo >= III, the "major complication" of TOLS (docs/clinical.md#textbook-outcome)."""

CCI_WEIGHTS: dict[str, int] = {
    "I": 300,  # Slankamenac 2013 [one source]
    "II": 1750,  # Slankamenac 2013 [one source]
    "IIIa": 2750,  # [not verified]: reproduces single-complication CCI 26.2
    # (docs/clinical.md#clavien-dindo-and-cci)
    "IIIb": 4550,  # [not verified]: reproduces 33.7
    "IVa": 7200,  # [not verified]: reproduces 42.4
    "IVb": 8550,  # [not verified]: reproduces 46.2
}
"""CCI weight per complication by grade (Slankamenac 2013, Ann Surg 258:1-7;
docs/clinical.md#clavien-dindo-and-cci). Grade V has no weight: any death sets the CCI to 100."""

CCI_MAX = 100.0
"""Upper cap of the CCI, also the value for any grade V (Slankamenac 2013;
docs/clinical.md#clavien-dindo-and-cci)."""

CCI_DECIMALS = 1
"""CCI is reported to one decimal (docs/clinical.md#clavien-dindo-and-cci; the official calculator's
display [not verified])."""

COMPLICATION_COUNT_RANGE = (0.0, 100.0)
"""Plausibility range of a number of complications of one grade (engineering choice)."""

_GRADE_PATTERN = re.compile(
    r"""^(?:clavien[\s-]*dindo\s*)?(?:grade\s*)?
        (?P<base>iv|v|i{1,3}|[1-5])\s*
        (?P<sub>[ab])?
        \s*(?:[-(]\s*)?(?P<disability>d)?\s*\)?$""",
    re.IGNORECASE | re.VERBOSE,
)
_ARABIC_TO_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V"}


def parse_clavien_dindo(text: str) -> str:
    """Read a Clavien-Dindo grade and return its base grade (suffix "d" dropped).

    Accepts "II", "2", "grade II", "IIIa", "3a", "IVb-d", "IIId", "Clavien-Dindo IIIb".

    Raises
    ------
    InputError
        (field ``clavien_dindo``) when the text is not a grade, or III/IV lacks its a/b sub-grade.
    """
    if not isinstance(text, str):
        raise InputError(f"expected a grade as text, got {text!r}", "clavien_dindo")
    match = _GRADE_PATTERN.match(text.strip())
    if match is None:
        raise InputError(
            f"{text!r} is not a Clavien-Dindo grade; expected one of "
            f"{', '.join(CLAVIEN_DINDO_GRADES)} (optional suffix d)",
            "clavien_dindo",
        )
    base = match.group("base").upper()
    base = _ARABIC_TO_ROMAN.get(base, base)
    sub = (match.group("sub") or "").lower()
    grade = base + sub
    # "IIId" without a sub-grade: the regex may read "d" as the suffix; III/IV need a or b.
    if grade not in CLAVIEN_DINDO_GRADES:
        raise InputError(
            f"{text!r} is not a Clavien-Dindo grade; grades III and IV need a sub-grade "
            f"(a/b), I, II and V have none; expected one of {', '.join(CLAVIEN_DINDO_GRADES)}",
            "clavien_dindo",
        )
    return grade


def has_disability_suffix(text: str) -> bool:
    """Return whether a grade carries the suffix "d" (complication present at discharge)."""
    parse_clavien_dindo(text)
    match = _GRADE_PATTERN.match(text.strip())
    return bool(match and match.group("disability"))


def highest_grade(grades: Iterable[str]) -> str | None:
    """Most severe Clavien-Dindo grade of a patient's complications; None when there are none."""
    ranks = [CLAVIEN_DINDO_GRADES.index(parse_clavien_dindo(g)) for g in grades]
    return CLAVIEN_DINDO_GRADES[max(ranks)] if ranks else None


def comprehensive_complication_index(grades: Sequence[str]) -> float:
    """CCI of one patient from the grades of all complications in the stated window.

    CCI = sqrt(sum of weights) / 2, capped at 100; any grade V -> 100; none -> 0.0;
    rounded to one decimal (Slankamenac 2013; docs/clinical.md#clavien-dindo-and-cci).

    Examples
    --------
    ["II"] -> 20.9; ["II", "I"] -> 22.6; ["II", "IIIa"] -> 33.5.
    """
    if isinstance(grades, str):
        raise InputError("expected a list of grades, got a single string", "grades")
    parsed = [parse_clavien_dindo(g) for g in grades]
    if "V" in parsed:
        return CCI_MAX
    total = sum(CCI_WEIGHTS[g] for g in parsed)
    return float(round(min(math.sqrt(total) / 2.0, CCI_MAX), CCI_DECIMALS))


def cci_from_counts(
    *,
    grade_i: Any = 0,
    grade_ii: Any = 0,
    grade_iiia: Any = 0,
    grade_iiib: Any = 0,
    grade_iva: Any = 0,
    grade_ivb: Any = 0,
    grade_v: Any = 0,
) -> Any:
    """CCI of a cohort from the number of complications of each grade per patient.

    Parameters
    ----------
    grade_i ... grade_v
        Number of complications of that grade (non-negative integers, 0-100), scalars or arrays
        broadcast together; None/NaN = unknown.

    Returns
    -------
    float (None when unknown) for scalars, else a float array (NaN when unknown). A known
    grade V count > 0 gives 100 even when other counts are unknown.
    """
    # numpy here, not at the top: the case model reads Clavien-Dindo grades with this module,
    # and reading a case file should not load numpy.
    import numpy as np

    from livermet.clinical._vector import as_float_array, check_range, is_scalar, scalar_or_array

    values = {
        "I": grade_i,
        "II": grade_ii,
        "IIIa": grade_iiia,
        "IIIb": grade_iiib,
        "IVa": grade_iva,
        "IVb": grade_ivb,
        "V": grade_v,
    }
    scalar = is_scalar(*values.values())
    counts = {}
    for grade, value in values.items():
        field = f"grade_{grade.lower()}"
        arr = as_float_array(value, field)
        check_range(arr, field, *COMPLICATION_COUNT_RANGE, "complications")
        known = arr[~np.isnan(arr)]
        if np.any(known != np.round(known)):
            raise InputError("a number of complications must be a whole number", field)
        counts[grade] = arr
    weighted = sum(CCI_WEIGHTS[g] * counts[g] for g in CCI_WEIGHTS)
    cci = np.minimum(np.sqrt(weighted) / 2.0, CCI_MAX)
    cci = np.where(counts["V"] > 0, CCI_MAX, cci)
    cci = np.round(np.asarray(cci, dtype=np.float64), CCI_DECIMALS)
    return scalar_or_array(cci, scalar)


# --- treatment -> grade suggestion ---------------------------------------------------------

_ANAESTHESIA = r"an(?:a)?esth"
_FLAGS = re.IGNORECASE

# Ordered from most to least severe: the first matching rule wins, so a text naming several
# treatments gets the most severe grade (Dindo 2004 grades by the most invasive treatment).
_ORGAN_SUPPORT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("V", re.compile(r"\b(?:death|died|dead|deceased|fatal)\b", _FLAGS)),
    ("IVb", re.compile(r"multi[\s-]*organ|multiple\s+organ|\bmods\b|\bmof\b", _FLAGS)),
    (
        "IVa",
        re.compile(
            r"\bicu\b|intensive\s+care|\bimc\b|intermediate\s+care|dialysis"
            r"|ha?emofiltration|single[\s-]*organ",
            _FLAGS,
        ),
    ),
)
_NOT_UNDER_GA = re.compile(
    rf"(?:not|without|no)\s+(?:under\s+)?general\s+{_ANAESTHESIA}"
    rf"|local\s+{_ANAESTHESIA}|under\s+(?:conscious\s+)?sedation",
    _FLAGS,
)
_UNDER_GA = re.compile(rf"general\s+{_ANAESTHESIA}|\bunder\s+ga\b", _FLAGS)
_REOPERATION = re.compile(
    r"re-?operat|re-?laparo|re-?thoracotomy|return(?:ed)?\s+to\s+(?:the\s+)?"
    r"(?:theatre|theater|operating\s+room|or\b)",
    _FLAGS,
)
_INTERVENTION_NOT_GA = re.compile(
    r"percutaneous|drainage|\bdrain\b|endoscop|\bercp\b|interventional|radiologic"
    r"|emboli[sz]ation|\bstent|puncture|paracentesis|thora(?:co)?centesis",
    _FLAGS,
)
_GRADE_II = re.compile(r"antibiotic|antimicrobial|transfus|parenteral\s+nutrition|\btpn\b", _FLAGS)
_GRADE_I = re.compile(
    r"anti-?emetic|antipyretic|analgesi|diuretic|electrolyte|physiotherap"
    r"|opened\s+at\s+(?:the\s+)?bedside|bedside\s+opening|opening\s+at\s+(?:the\s+)?bedside",
    _FLAGS,
)


def suggest_clavien_dindo(treatment: str) -> str | None:
    """Suggest a Clavien-Dindo grade from a free-text treatment description (Dindo 2004).

    Keyword rules, most severe first: death -> V; multi-organ dysfunction -> IVb;
    ICU/IMC, dialysis, single-organ dysfunction -> IVa; an intervention stated as not under
    general anaesthesia (local anaesthesia, under sedation) -> IIIa; reoperation or anything under
    general anaesthesia -> IIIb; percutaneous/radiological drainage, endoscopy -> IIIa;
    antibiotics, transfusion, TPN -> II; antiemetics, antipyretics, analgesics, diuretics,
    electrolytes, physiotherapy, wound opened at the bedside -> I.

    A suggestion for a human to confirm: negations such as "no reoperation" are not understood.
    Returns None when no rule matches.

    Examples
    --------
    "UTI treated with antibiotics" -> "II" (not I: antibiotics are beyond grade I drugs).
    """
    if not isinstance(treatment, str):
        raise InputError(f"expected a treatment description, got {treatment!r}", "treatment")
    for grade, pattern in _ORGAN_SUPPORT_RULES:
        if pattern.search(treatment):
            return grade
    if _NOT_UNDER_GA.search(treatment):
        return "IIIa"
    if _UNDER_GA.search(treatment) or _REOPERATION.search(treatment):
        return "IIIb"
    if _INTERVENTION_NOT_GA.search(treatment):
        return "IIIa"
    if _GRADE_II.search(treatment):
        return "II"
    if _GRADE_I.search(treatment):
        return "I"
    return None
