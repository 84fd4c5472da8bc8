"""FIGO stage of uterine leiomyosarcoma and endometrial stromal sarcoma (= AJCC 8 chapter 54).

Sources: FIGO 2009 staging of uterine sarcomas (Prat J. Int J Gynaecol Obstet 2009;104:177-178);
FIGO Cancer Report 2018 (Mbatani N, Olawaiye AB, Prat J. Int J Gynaecol Obstet 2018;143 Suppl
2:51-58) as reproduced by the NCI PDQ "Uterine Sarcoma Treatment" (2025); AJCC Cancer Staging
Manual, 8th ed. (Amin MB, et al., Springer 2017), chapter 54 "Corpus uteri - sarcoma", as
reproduced by PathologyOutlines and a CAP Uterine Sarcoma protocol (v4.4.0.0) based calculator;
NHS NDRS TNM 8 staging sheet (2024).

Leiomyosarcoma and endometrial stromal sarcoma share one scheme; adenosarcoma (stage I by
myometrial invasion) and carcinosarcoma (staged as endometrial carcinoma) do not
(:func:`scheme_applies`). FIGO and AJCC 8 T/N/M are one-to-one for these sarcomas:

======  ==============  =====================================================
FIGO    AJCC 8          definition
======  ==============  =====================================================
IA      T1a N0 M0       limited to the uterus, <= 5 cm
IB      T1b N0 M0       limited to the uterus, > 5 cm
IIA     T2a N0 M0       adnexal involvement
IIB     T2b N0 M0       other pelvic tissues
IIIA    T3a N0 M0       invades abdominal tissues, one site
IIIB    T3b N0 M0       invades abdominal tissues, more than one site
IIIC    T1-T3 N1 M0     pelvic and/or para-aortic lymph-node metastasis
IVA     T4 any N M0     invades bladder and/or rectum
IVB     any T any N M1  distant metastasis
======  ==============  =====================================================

Precedence: M1 -> IVB; else T4 -> IVA; else N1 -> IIIC; else by T (CAP-based calculator;
consistent with the FIGO table). FNCLCC grade is not part of the stage. FIGO stages surgically;
the stage given at diagnosis is not changed by later progression or recurrence
(PathologyOutlines, uterine sarcoma staging).

When an input is unknown the result is bounded, as the FNCLCC grade is: every value the unknown
input can take is tried, and the stage is given only when they all agree (otherwise the possible
stages, e.g. "I (IA or IB)" for a confined tumour of unknown size). Scalar inputs only (one
patient); the case assessment calls it once per case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

from livermet.clinical.ajcc import SIZE_RANGE_CM, StageBounds, stage_bounds
from livermet.errors import InputError

IA_MAX_CM = 5.0
"""Greatest dimension of FIGO IA / T1a: 5 cm or less, so exactly 5.0 cm (50 mm) is IA (AJCC 8
chapter 54 and CAP: "5 cm or less"; NCI PDQ copy of the FIGO 2018 report: "<= 5 cm"). The FIGO
2009 wording as reproduced by NHS NDRS ("less than 5 cm / more than 5 cm") leaves exactly 5 cm
unassigned: :data:`BOUNDARY_NOTE` is returned then."""

BOUNDARY_NOTE = (
    "The tumour measures exactly 5 cm: FIGO 2009 as usually reproduced ('less than 5 cm' / "
    "'more than 5 cm') does not assign it; AJCC 8 (chapter 54), CAP and the FIGO 2018 report "
    "('5 cm or less') make it IA, which is used here."
)

EXTENSIONS = (
    "confined",
    "adnexa",
    "pelvis",
    "abdomen_one_site",
    "abdomen_multiple_sites",
    "bladder_or_rectum",
)
"""How far the primary extends, as the case file records it (``primary_tumour.extension``)."""

T_BY_EXTENSION: dict[str, str] = {
    "confined": "T1",
    "adnexa": "T2a",
    "pelvis": "T2b",
    "abdomen_one_site": "T3a",
    "abdomen_multiple_sites": "T3b",
    "bladder_or_rectum": "T4",
}
"""AJCC 8 T of uterine LMS/ESS by extension (T1 is split into T1a/T1b by size; AJCC 8 chapter
54; FIGO 2009/2018). Abdominal tissues means invasion, not a tumour merely protruding into the
abdomen."""

STAGE_BY_T: dict[str, str] = {
    "T1a": "IA",
    "T1b": "IB",
    "T2a": "IIA",
    "T2b": "IIB",
    "T3a": "IIIA",
    "T3b": "IIIB",
}
"""FIGO stage of an N0 M0 tumour by T (FIGO 2009/2018; AJCC 8 chapter 54)."""

STAGE_ORDER = ("IA", "IB", "IIA", "IIB", "IIIA", "IIIB", "IIIC", "IVA", "IVB")
"""FIGO uterine sarcoma stages, least to most advanced."""

N_CATEGORIES = ("N0", "N1", "NX")
"""Regional (pelvic, para-aortic) nodes. NX (not assessed) is unknown: tried as N0 and N1 (the
sources give no rule grouping NX with N0 for this chapter)."""

M_CATEGORIES = ("M0", "M1")

LIVER_M1_INTERPRETATION = (
    "A liver metastasis is staged as distant metastasis (M1, FIGO IVB) on the reading that it is "
    "haematogenous and in the liver parenchyma; tumour invading the liver surface or a serosal "
    "implant would be abdominal tissue (T3). FIGO and AJCC do not name the liver: this is an "
    "interpretation."
)
"""AJCC pM1 is "distant metastasis (excluding adnexa, pelvic and abdominal tissues)" (CAP text);
no source addresses the liver explicitly, so the output flags the reading."""

NOT_APPLICABLE_HISTOLOGIES: dict[str, str] = {
    "adenosarcoma": "adenosarcoma has its own FIGO stage I (by myometrial invasion)",
    "carcinosarcoma": "carcinosarcoma is staged as endometrial carcinoma",
    "malignant mixed mullerian": "carcinosarcoma is staged as endometrial carcinoma",
}
"""Uterine sarcomas not staged by the LMS/ESS scheme (NCI PDQ 2025; NHS NDRS 2024)."""

APPLICABLE_HISTOLOGIES = ("leiomyosarcoma", "stromal sarcoma")
"""Leiomyosarcoma and endometrial stromal sarcoma (low and high grade) use the scheme (NCI PDQ
2025; NHS NDRS 2024)."""


@dataclass(frozen=True)
class FigoResult:
    """FIGO stage of a uterine LMS/ESS with its AJCC 8 categories.

    Attributes
    ----------
    t
        "T1a", "T1b", "T1" (confined, size unknown), "T2a".."T4", or None (extension unknown).
    n
        "N0", "N1", "NX" (not assessed) or None (not stated).
    m
        "M0", "M1" or None (not known).
    bounds
        The stage: decided (``bounds.stage``) or the possible stages and the unknown inputs
        that leave it open.
    notes
        Sentences the reader needs (the 5 cm boundary).
    """

    t: str | None
    n: str | None
    m: str | None
    bounds: StageBounds
    notes: tuple[str, ...]

    @property
    def stage(self) -> str | None:
        """The FIGO stage when decided, else None."""
        return self.bounds.stage


def scheme_applies(histology: str) -> tuple[bool, str | None]:
    """Whether the LMS/ESS FIGO scheme stages ``histology``, and why not when it does not."""
    text = histology.lower().replace("ü", "u")
    for key, reason in NOT_APPLICABLE_HISTOLOGIES.items():
        if key in text:
            return False, reason
    if any(key in text for key in APPLICABLE_HISTOLOGIES):
        return True, None
    return False, (
        f"the FIGO uterine sarcoma stage applies to leiomyosarcoma and endometrial stromal "
        f"sarcoma, not to {histology!r}"
    )


def _check_size(size_cm: float | None) -> float | None:
    if size_cm is None or (isinstance(size_cm, float) and math.isnan(size_cm)):
        return None
    if isinstance(size_cm, bool) or not isinstance(size_cm, (int, float)):
        raise InputError(f"expected a size in cm, got {size_cm!r}", "size_cm")
    low, high = SIZE_RANGE_CM
    if not low < size_cm <= high:
        raise InputError(
            f"size {size_cm:g} cm is outside the plausible range ({low:g}, {high:g}] cm",
            "size_cm",
        )
    return float(size_cm)


def _check_label(value: str | None, field: str, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise InputError(f"expected one of {', '.join(allowed)}; got {value!r}", field)
    return value


def figo_t_category(size_cm: float | None, extension: str | None) -> str | None:
    """AJCC 8 T of a uterine LMS/ESS: "T1a", "T1b", "T1" (size unknown), "T2a".."T4", None.

    Parameters
    ----------
    size_cm
        Greatest dimension, cm, (0, 100]; None/NaN = unknown. Only T1 depends on it.
    extension
        One of :data:`EXTENSIONS`; None = unknown (T unknown).
    """
    size = _check_size(size_cm)
    _check_label(extension, "extension", EXTENSIONS)
    if extension is None:
        return None
    t = T_BY_EXTENSION[extension]
    if t != "T1" or size is None:
        return t
    return "T1a" if size <= IA_MAX_CM else "T1b"


def stage_of(t: str, n: str, m: str) -> str:
    """FIGO stage of known categories (T "T1a".."T4", N "N0"/"N1", M "M0"/"M1"), by precedence."""
    if m == "M1":
        return "IVB"
    if t == "T4":
        return "IVA"
    if n == "N1":
        return "IIIC"
    return STAGE_BY_T[t]


def figo_stage(
    *,
    size_cm: float | None = None,
    extension: str | None = None,
    n: str | None = None,
    m: str | None = None,
) -> FigoResult:
    """FIGO 2009/2018 stage (IA-IVB) of a uterine leiomyosarcoma or endometrial stromal sarcoma.

    Parameters
    ----------
    size_cm
        Greatest dimension in cm, (0, 100]; None/NaN = unknown. 5.0 cm is IA (:data:`IA_MAX_CM`).
    extension
        One of :data:`EXTENSIONS`; None = unknown.
    n
        "N0", "N1", "NX"; None or NX = unknown (tried as N0 and N1).
    m
        "M0", "M1"; None = unknown (tried as M0 and M1).

    Returns
    -------
    FigoResult
        Stage decided when every value of the unknown inputs gives the same stage (M1 -> IVB
        whatever T and N; T4 M0 -> IVA whatever N and size); otherwise the possible stages, least
        to most advanced, and the unknown inputs that matter.

    Raises
    ------
    InputError
        Size outside (0, 100] cm, or a label not among the allowed ones (field named).
    """
    size = _check_size(size_cm)
    _check_label(extension, "extension", EXTENSIONS)
    _check_label(n, "n", N_CATEGORIES)
    _check_label(m, "m", M_CATEGORIES)
    t = figo_t_category(size, extension)

    t_options = [t] if t is not None and t != "T1" else []
    if t == "T1":
        t_options = ["T1a", "T1b"]
    elif t is None:
        ones = ["T1a", "T1b"] if size is None else [str(figo_t_category(size, "confined"))]
        t_options = ones + [T_BY_EXTENSION[e] for e in EXTENSIONS[1:]]
    n_options = [n] if n in ("N0", "N1") else ["N0", "N1"]
    m_options = [m] if m is not None else ["M0", "M1"]

    outcomes = {
        (tt, nn, mm): stage_of(tt, nn, mm)
        for tt, nn, mm in product(t_options, n_options, m_options)
    }
    stages = set(outcomes.values())
    missing: list[str] = []
    if len(stages) > 1:
        if extension is None and _matters(outcomes, 0, set(t_options)):
            missing.append("extension")
        if size is None and _matters(outcomes, 0, {"T1a", "T1b"}):
            missing.append("size")
        if _matters(outcomes, 1, {"N0", "N1"}):
            missing.append("N")
        if _matters(outcomes, 2, {"M0", "M1"}):
            missing.append("M")
    notes = (BOUNDARY_NOTE,) if size == IA_MAX_CM and "IA" in stages else ()
    return FigoResult(
        t=t, n=n, m=m, bounds=stage_bounds(stages, STAGE_ORDER, tuple(missing)), notes=notes
    )


def _matters(outcomes: dict[tuple[str, str, str], str], axis: int, values: set[str]) -> bool:
    """Return whether changing input ``axis`` (0 T, 1 N, 2 M) among ``values`` changes the stage."""
    groups: dict[tuple[str, ...], set[str]] = {}
    for key, stage in outcomes.items():
        if key[axis] in values:
            rest = tuple(v for i, v in enumerate(key) if i != axis)
            groups.setdefault(rest, set()).add(stage)
    return any(len(v) > 1 for v in groups.values())
