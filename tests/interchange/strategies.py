"""Cases for round-trip tests.

A hypothesis strategy over every optional field of the case model, and a few varied cases built
by hand (each stressing something the seed case does not).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from livermet.case.model import Case
from livermet.case.timeline import build_timeline
from livermet.clinical.units import QUANTITIES, parse_quantity
from livermet.clinical.volumetry import MINIMUM_FLR_PERCENT

# Texts FHIR can hold: not empty, not only unusual white space (fhir.resources' string pattern).
_FHIR_OK = re.compile(r"[ \r\n\t\S]")
# NUL is refused in every case document (livermet.case.limits), so no valid case holds one.
_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
# Texts a spreadsheet would run as formulas, and texts that begin with the quote that escapes them.
FORMULAS = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "''", "'=", "'-", "'@"]),
    st.one_of(
        st.sampled_from(["1+1", 'HYPERLINK("http://x","y")', "cmd|' /C calc'!A0", "SUM(A1)", ""]),
        st.text(_CHARS, max_size=6),
    ),
)
TEXTS = st.one_of(st.text(_CHARS, min_size=1, max_size=12), FORMULAS).filter(
    lambda s: _FHIR_OK.search(s) is not None
)
ANY_TEXTS = st.one_of(st.text(_CHARS, max_size=12), FORMULAS)
"""Any text, empty and white-space-only included (CSV and REDCap keep them; FHIR cannot)."""
IDS = st.one_of(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True), TEXTS)

_UNITS = {
    "bilirubin": ["mg/dL", "umol/L", "mg/L", "µmol/L"],
    "albumin": ["g/dL", "g/L"],
    "creatinine": ["mg/dL", "umol/L"],
    "sodium": ["mmol/L", "mEq/L"],
    "inr": [""],
    "platelets": ["10^9/L", "10^3/uL"],
    "icg_r15": ["%"],
    "height": ["cm", "m"],
    "weight": ["kg"],
    "volume": ["mL", "L"],
    "size": ["mm", "cm"],
    "blood_loss": ["mL", "L", "g"],
}


def _valid(value: Any, kind: str) -> bool:
    try:
        parse_quantity(value, kind, kind)
    except ValueError:
        return False
    return True


def reported(kind: str) -> st.SearchStrategy[Any]:
    """Return a strategy over reported values of a quantity.

    A value is a float in the canonical unit, a bare-number text, or a number with one of its
    units (spellings with and without a space).
    """
    q = QUANTITIES[kind]
    number = st.floats(q.low, q.high, allow_nan=False, allow_infinity=False)
    texts = st.builds(
        lambda x, unit, space: f"{x:g}{space}{unit}".strip(),
        st.floats(q.low, q.high, allow_nan=False).map(lambda x: round(x, 3)),
        st.sampled_from(_UNITS[kind]),
        st.sampled_from([" ", ""]),
    )
    bare = number.map(lambda x: f"{x:g}")
    return st.one_of(number, texts, bare).filter(lambda v: _valid(v, kind))


DURATIONS = st.one_of(
    st.floats(1, 2880, allow_nan=False),
    st.sampled_from(["314 min", "5 h 14 min", "2.5 h", "90", "1 h"]),
)
SEGMENTS = st.lists(
    st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, "4a", "4b", "S7", "VII", "7"]), min_size=1, max_size=3
)
GRADES = st.sampled_from(["I", "II", "IIIa", "IIIb", "IVa", "IVb-d", "V", "3a", "grade II"])
DATES = st.dates(dt.date(1995, 1, 1), dt.date(2035, 12, 31))
AMOUNTS = st.one_of(st.floats(0, 600, allow_nan=False), st.integers(0, 60).map(float), st.just(4.0))
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Return ``strategy`` or None."""
    return st.one_of(st.none(), strategy)


def _days_after(start: dt.date) -> Callable[[int], dt.date]:
    return lambda days: start + dt.timedelta(days)


def _longer_offset(start: dict[str, Any], unit: str) -> Callable[[float], dict[str, Any]]:
    return lambda amount: start | {unit: start[unit] + amount}


def offset(after: str) -> st.SearchStrategy[dict[str, Any]]:
    """Return a strategy over offsets from procedure ``after`` in days, weeks, months or years."""
    return st.builds(
        lambda unit, amount: {"after": after, unit: amount},
        st.sampled_from(["days", "weeks", "months", "years"]),
        AMOUNTS,
    )


def measurement(texts: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """One lesion's diameter at one imaging time point (RECIST 1.1)."""
    return st.fixed_dictionaries(
        {
            "lesion": st.one_of(st.sampled_from(["L1", "L2", "N1"]), texts),
            "diameter": reported("size"),
        },
        optional={
            "organ": st.one_of(st.sampled_from(["liver", "lung", "lymph node"]), texts),
            "target": st.booleans(),
            "lymph_node": st.booleans(),
        },
    )


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


AnyWhen = Callable[[], st.SearchStrategy[Any]]
"""A maker of strategies over times; each call draws the procedure its offsets count from."""

_PROCEDURE_KINDS = [
    "primary_resection",
    "liver_resection",
    "liver_ablation",
    "chemotherapy",
    "other",
]


def _procedure_when(draw: st.DrawFn, i: int, index_date: Any, timed: list[str]) -> Any:
    """Draw when procedure ``i`` happens: the index date, a later date, or an offset (or never)."""
    if i == 0:
        return index_date
    if index_date is not None and draw(st.booleans()):
        return index_date + dt.timedelta(days=draw(st.integers(0, 2000)))
    return draw(opt(offset(draw(st.sampled_from(timed)))))


def _discharge(draw: st.DrawFn, pid: str, when: Any, timed: list[str]) -> Any:
    """Draw a discharge for a timed procedure: a date on or after ``when``, or an offset."""
    if pid not in timed or not draw(st.booleans()):
        return None
    if isinstance(when, dt.date):
        return when + dt.timedelta(days=draw(st.integers(0, 90)))
    return draw(offset(pid))


def _complication(texts: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Return a strategy over complications, with any subset of the optional fields."""
    return st.fixed_dictionaries(
        {"description": texts},
        optional={
            "clavien_dindo": GRADES,
            "treatment": texts,
            "onset_pod": st.integers(0, 400),
        },
    )


def _procedure_fields(texts: st.SearchStrategy[str]) -> dict[str, st.SearchStrategy[Any]]:
    """Return the strategies of a procedure's optional fields (time, id and kind apart)."""
    return {
        "name": texts,
        "approach": st.sampled_from(["open", "laparoscopic", "robotic", "hand-assisted"]),
        "segments_resected": SEGMENTS,
        "duration": DURATIONS,
        "blood_loss": reported("blood_loss"),
        "converted": st.booleans(),
        "transfusion": st.booleans(),
        "no_complications": st.booleans(),
        "readmission_90d": st.booleans(),
        "margin": st.sampled_from(["R0", "R1", "R2"]),
        "intraoperative_incident_grade2_or_more": st.booleans(),
        "bile_leak_grade_b_or_c": st.booleans(),
        "liver_failure_grade_b_or_c": st.booleans(),
        "target_segments": SEGMENTS,
    }


def _procedure(
    draw: st.DrawFn,
    texts: st.SearchStrategy[str],
    i: int,
    pid: str,
    index_date: Any,
    timed: list[str],
) -> dict[str, Any]:
    """Draw procedure ``i`` of the timeline; add its id to ``timed`` when it has a time."""
    when = _procedure_when(draw, i, index_date, timed)
    if when is not None and pid not in timed:
        timed.append(pid)
    discharge = _discharge(draw, pid, when, timed)
    complications = draw(st.lists(_complication(texts), max_size=2))
    proc = draw(st.fixed_dictionaries({}, optional=_procedure_fields(texts)))
    proc |= {
        "id": pid,
        "kind": draw(st.sampled_from(_PROCEDURE_KINDS)),
        "complications": complications,
    }
    status = draw(st.sampled_from([None, "performed", "planned"]))
    if status == "planned":  # a planned operation has no discharge (timeline)
        discharge = None
    return _drop_none(proc | {"when": when, "discharge": discharge, "status": status})


def _any_when(draw: st.DrawFn, index_date: Any, timed: list[str]) -> AnyWhen:
    """Return a maker of time strategies: dates (if the index has one) or offsets from ``timed``."""

    def any_when() -> st.SearchStrategy[Any]:
        dates = [DATES] if index_date is not None else []
        return st.one_of(*dates, offset(draw(st.sampled_from(timed))))

    return any_when


def _follow_up(draw: st.DrawFn, texts: st.SearchStrategy[str], any_when: AnyWhen) -> list[Any]:
    """Draw up to two follow-up events."""
    return [
        _drop_none(
            {
                "kind": draw(
                    st.sampled_from(["last_contact", "recurrence", "re_resection", "death"])
                ),
                "when": draw(any_when()),
                "site": draw(opt(texts)),
                "status": draw(opt(texts)),
            }
        )
        for _ in range(draw(st.integers(0, 2)))
    ]


def _imaging(texts: st.SearchStrategy[str], any_when: AnyWhen) -> st.SearchStrategy[Any]:
    """Return a strategy over imaging studies (building it draws the offsets' procedure)."""
    return st.fixed_dictionaries(
        {
            "modality": st.sampled_from(["ct", "mri", "eob-mri", "fdg-pet", "ultrasound", "other"]),
            "target": texts,
            "finding": texts,
        },
        optional={
            "segments": SEGMENTS,
            "size": reported("size"),
            "suv_max": st.floats(0, 100, allow_nan=False),
            "when": any_when(),
            "measurements": st.lists(measurement(texts), max_size=3),
            "new_lesions": st.booleans(),
        },
    )


def _biopsy(texts: st.SearchStrategy[str], any_when: AnyWhen) -> st.SearchStrategy[Any]:
    """Return a strategy over biopsies (building it draws the offsets' procedure)."""
    return st.fixed_dictionaries(
        {"target": texts, "method": texts, "diagnosis": texts},
        optional={"when": any_when()},
    )


def _therapy_end(draw: st.DrawFn, started: Any, any_when: AnyWhen) -> Any:
    """Draw the end of a therapy line: after its start, in the start's own terms, or unknown."""
    if isinstance(started, dt.date):
        return draw(opt(st.integers(0, 900).map(_days_after(started))))
    if isinstance(started, dict):  # the same offset, later (or ongoing)
        unit = next(k for k in started if k != "after")
        return draw(opt(AMOUNTS.map(_longer_offset(started, unit))))
    return draw(opt(any_when()))


def _therapy_line(draw: st.DrawFn, texts: st.SearchStrategy[str], any_when: AnyWhen) -> Any:
    """Draw one line of systemic therapy."""
    started = draw(opt(any_when()))
    ended = _therapy_end(draw, started, any_when)
    line = {
        "regimen": draw(texts),
        "setting": draw(opt(st.sampled_from(["neoadjuvant", "adjuvant", "palliative", "other"]))),
        "started": started,
        "ended": ended,
    }
    return _drop_none(line)


def _size(texts: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Return a strategy over size measurements of the primary tumour."""
    return st.fixed_dictionaries(
        {
            "method": st.sampled_from(
                ["palpation", "ct", "mri", "ultrasound", "pet", "pathology", "other"]
            ),
            "greatest_dimension": reported("size"),
        },
        optional={"dimensions": st.lists(reported("size"), max_size=3), "source": texts},
    )


def _ihc(texts: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Return a strategy over immunohistochemistry results."""
    return st.fixed_dictionaries(
        {"marker": texts},
        optional={
            "result": st.sampled_from(["positive", "negative", "equivocal"]),
            "value": texts,
        },
    )


def _lesion(texts: st.SearchStrategy[str], any_when: AnyWhen) -> st.SearchStrategy[Any]:
    """Return a strategy over liver lesions (building it draws the offsets' procedure)."""
    return st.fixed_dictionaries(
        {"segments": SEGMENTS},
        optional={
            "size": reported("size"),
            "size_method": st.sampled_from(["ct", "mri", "ultrasound", "pathology", "other"]),
            "number": st.integers(1, 30),
            "timing": st.sampled_from(["synchronous", "metachronous"]),
            "vascularity": st.sampled_from(["hypovascular", "hypervascular", "unknown"]),
            "source": texts,
            "id": st.one_of(st.sampled_from(["L1", "L2"]), texts),
            "detected": any_when(),
            "peripheral": st.booleans(),
            "bile_duct_distance": st.one_of(
                st.integers(0, 300).map(float), st.sampled_from(["0 mm", "12 mm", "1.5 cm"])
            ),
            "abutting_vessel": st.one_of(
                st.integers(0, 100).map(float), st.sampled_from(["0 mm", "4 mm", "0.3 cm"])
            ),
        },
    )


def _primary(texts: st.SearchStrategy[str], any_when: AnyWhen) -> st.SearchStrategy[Any]:
    """Return a strategy over the primary tumour's own fields (sizes and IHC apart)."""
    return st.fixed_dictionaries(
        {
            "site": st.one_of(st.sampled_from(["thigh", "retroperitoneum", "uterus"]), texts),
            "site_group": st.sampled_from(
                [
                    "extremity",
                    "trunk",
                    "retroperitoneum",
                    "head_neck",
                    "visceral",
                    "uterus",
                    "other",
                ]
            ),
            "histology": st.one_of(st.just("leiomyosarcoma"), texts),
        },
        optional={
            "laterality": st.sampled_from(["left", "right", "midline", "bilateral"]),
            "depth": st.sampled_from(["superficial", "deep"]),
            "histology_variant": st.one_of(st.sampled_from(["epithelioid", "myxoid"]), texts),
            "mitoses_per_10hpf": st.integers(0, 500),
            "necrosis_percent": st.floats(0, 100, allow_nan=False),
            "necrosis_category": st.sampled_from(["none", "<50%", ">=50%"]),
            "differentiation_score": st.sampled_from([1, 2, 3]),
            "reported_grade": st.sampled_from([1, 2, 3]),
            "nodal_status": st.sampled_from(["N0", "N1", "NX"]),
            "diagnosed": any_when(),
            "extension": st.sampled_from(
                [
                    "confined",
                    "adnexa",
                    "pelvis",
                    "abdomen_one_site",
                    "abdomen_multiple_sites",
                    "bladder_or_rectum",
                ]
            ),
        },
    )


def _patient(texts: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Return a strategy over the patient, any subset of the fields given."""
    return st.fixed_dictionaries(
        {},
        optional={
            "age_years": st.integers(0, 120),
            "sex": st.sampled_from(["male", "female", "other"]),
            "height": reported("height"),
            "weight": reported("weight"),
            "comorbidities": st.lists(texts, max_size=3),
            "performance_status": texts,
            "ecog": st.integers(0, 4),
            "asa": st.integers(1, 6),
            "dialysis": st.booleans(),
        },
    )


_LABS = st.fixed_dictionaries(
    {},
    optional={
        "within_normal_limits": st.booleans(),
        **{
            k: reported(k)
            for k in ("bilirubin", "albumin", "inr", "creatinine", "sodium", "platelets")
        },
        "ascites": st.sampled_from(["none", "controlled", "uncontrollable"]),
        "encephalopathy": st.sampled_from(["none", "grade 1-2", "grade 3-4"]),
    },
)
_GSA = st.fixed_dictionaries(
    {},
    optional={
        "hh15": st.floats(0.001, 0.999, allow_nan=False),
        "lhl15": st.floats(0.001, 0.999, allow_nan=False),
    },
)
_LIVER_FUNCTION = st.fixed_dictionaries(
    {},
    optional={
        "icg_r15": reported("icg_r15"),
        "gsa": _GSA,
        "liver_condition": st.sampled_from(sorted(MINIMUM_FLR_PERCENT)),
        "total_liver_volume": reported("volume"),
        "future_liver_remnant_volume": reported("volume"),
        "tumour_volume": reported("volume"),
    },
)
_STATEMENTS = st.fixed_dictionaries(
    {},
    optional={
        "observation_period_after_liver_resection_months": FLOATS,
        "observation_period_after_primary_months": FLOATS,
    },
)


@st.composite
def cases(draw: st.DrawFn, texts: st.SearchStrategy[str] = TEXTS) -> Case:
    """Draw a valid case (model and timeline) with any subset of the optional fields given."""
    n = draw(st.integers(1, 3))
    ids = draw(st.lists(IDS, min_size=n, max_size=n, unique=True))
    index_date = draw(opt(DATES))
    timed: list[str] = [ids[0]]
    procedures = [_procedure(draw, texts, i, pid, index_date, timed) for i, pid in enumerate(ids)]
    any_when = _any_when(draw, index_date, timed)
    follow_up = _follow_up(draw, texts, any_when)
    imaging = draw(st.lists(_imaging(texts, any_when), max_size=2))
    biopsies = draw(st.lists(_biopsy(texts, any_when), max_size=2))
    therapy = [_therapy_line(draw, texts, any_when) for _ in range(draw(st.integers(0, 2)))]
    sizes = draw(st.lists(_size(texts), max_size=3))
    ihc = draw(st.lists(_ihc(texts), max_size=2))
    # lesion ids are unique in a case (measurements and the plan refer to lesions by id)
    lesions = draw(
        st.lists(
            _lesion(texts, any_when),
            max_size=3,
            unique_by=lambda lesion: lesion.get("id", id(lesion)),
        )
    )
    primary = draw(_primary(texts, any_when)) | {"sizes": sizes, "immunohistochemistry": ihc}
    patient = draw(_patient(texts))
    labs = draw(_LABS)
    liver_function = draw(_LIVER_FUNCTION)
    statements = draw(_STATEMENTS)
    data = _drop_none(
        {
            "id": draw(IDS),
            "source": draw(opt(texts)),
            "notes": draw(opt(texts)),
            "index_event": ids[0],
            "patient": patient,
            "primary_tumour": primary,
            "liver_lesions": lesions,
            "extrahepatic_metastases": draw(opt(st.lists(texts, max_size=2))),
            "labs": labs,
            "liver_function": liver_function,
            "imaging": imaging,
            "biopsies": biopsies,
            "procedures": procedures,
            "systemic_therapy": therapy,
            "follow_up": follow_up,
            "statements": statements,
            "assessed_on": draw(opt(DATES)),
        }
    )
    case = Case.model_validate(data)
    build_timeline(case)  # the generator only builds valid timelines; this proves it
    return case


# --- varied cases built by hand ----------------------------------------------------------------


def minimal_case() -> Case:
    """Only what the model requires: unknown is not filled in."""
    return Case.model_validate(
        {
            "id": "minimal",
            "index_event": "op",
            "patient": {},
            "primary_tumour": {
                "site": "retroperitoneum",
                "site_group": "retroperitoneum",
                "histology": "leiomyosarcoma",
            },
            "procedures": [{"id": "op", "kind": "other"}],
        }
    )


def dated_si_case() -> Case:
    """Return a case with real dates and SI units.

    It has several metachronous lesions, extrahepatic sites, an empty GSA, complications after two
    procedures, a recurrence and a death.
    """
    return Case.model_validate(
        {
            "id": "dated-si",
            "source": "synthetic test case",
            "index_event": "primary",
            "patient": {
                "age_years": 57,
                "sex": "female",
                "height": "1.64 m",
                "weight": 61.5,
                "comorbidities": ["asthma"],
                "performance_status": "ECOG 1",
            },
            "primary_tumour": {
                "site": "uterus",
                "site_group": "uterus",
                "histology": "leiomyosarcoma",
                "histology_variant": "epithelioid",
                "sizes": [
                    {"method": "mri", "greatest_dimension": 82.0, "dimensions": [82.0, "6 cm"]}
                ],
                "necrosis_percent": 60,
                "differentiation_score": 3,
                "reported_grade": 2,
                "nodal_status": "N0",
                "immunohistochemistry": [{"marker": "h-caldesmon", "result": "equivocal"}],
            },
            "liver_lesions": [
                {
                    "segments": ["4a", 8],
                    "size": "3.2 cm",
                    "size_method": "mri",
                    "number": 2,
                    "timing": "metachronous",
                    "vascularity": "hypervascular",
                    "peripheral": False,
                    "bile_duct_distance": "8 mm",
                    "abutting_vessel": "0 mm",
                },
                {"segments": [2], "timing": "metachronous"},
            ],
            "extrahepatic_metastases": ["lung", "bone"],
            "labs": {
                "bilirubin": "20 umol/L",
                "albumin": "38 g/L",
                "inr": 1.1,
                "creatinine": "88 umol/L",
                "sodium": "139 mmol/L",
                "platelets": "210 10^9/L",
                "ascites": "none",
                "encephalopathy": "none",
            },
            "liver_function": {
                "icg_r15": 11.0,
                "gsa": {},
                "liver_condition": "chemotherapy",
                "total_liver_volume": "1.45 L",
                "future_liver_remnant_volume": 600,
            },
            "imaging": [
                {
                    "modality": "fdg-pet",
                    "target": "lung",
                    "finding": "two nodules",
                    "suv_max": 4.5,
                    "when": "2020-02-01",
                }
            ],
            "biopsies": [
                {"target": "liver", "method": "core", "diagnosis": "LMS", "when": "2020-02-10"}
            ],
            "procedures": [
                {
                    "id": "primary",
                    "kind": "primary_resection",
                    "when": "2018-03-05",
                    "discharge": "2018-03-15",
                    "margin": "R1",
                    "complications": [
                        {"description": "ileus", "clavien_dindo": "I", "onset_pod": 3}
                    ],
                },
                {
                    "id": "hepatectomy",
                    "kind": "liver_resection",
                    "when": "2020-03-01",
                    "approach": "open",
                    "segments_resected": ["4a", 8, 2],
                    "duration": 255,
                    "blood_loss": "0.6 L",
                    "transfusion": True,
                    "readmission_90d": False,
                    "discharge": {"after": "hepatectomy", "weeks": 2},
                    "complications": [
                        {
                            "description": "bile leak",
                            "clavien_dindo": "IIIa",
                            "treatment": "percutaneous drain",
                        },
                        {"description": "pleural effusion", "clavien_dindo": "IIIa-d"},
                    ],
                    "bile_leak_grade_b_or_c": True,
                    "liver_failure_grade_b_or_c": False,
                    "intraoperative_incident_grade2_or_more": False,
                },
                {
                    "id": "tace",
                    "kind": "chemoembolisation",
                    "when": {"after": "hepatectomy", "years": 1.5},
                },
            ],
            "follow_up": [
                {"kind": "recurrence", "when": "2021-01-20", "site": "liver"},
                {
                    "kind": "death",
                    "when": {"after": "tace", "months": 7.25},
                    "status": "died of disease",
                },
            ],
            "statements": {"observation_period_after_primary_months": 41.5},
            "notes": "Dates are synthetic.",
        }
    )


def awkward_text_case() -> Case:
    """Return a case with texts that CSV and REDCap must quote.

    Commas, quotes, new lines, leading spaces, texts that look like numbers, a bare-number text
    next to a number; segments "7" (text) next to 7.
    """
    return Case.model_validate(
        {
            "id": 'case, "quoted"',
            "index_event": " op 1",
            "patient": {"comorbidities": ["42", '"quoted"', "line\nbreak", "tab\there"]},
            "primary_tumour": {
                "site": "thigh ",
                "site_group": "extremity",
                "laterality": "left",
                "histology": "leiomyosarcoma",
                "histology_variant": "pleomorphic",
                "sizes": [{"method": "other", "greatest_dimension": "42", "source": "a, b; c | d"}],
            },
            "liver_lesions": [{"segments": ["7", 7, "S7"], "size": 21.0}],
            "extrahepatic_metastases": [],
            "labs": {"bilirubin": "1.2", "albumin": 3.5, "within_normal_limits": False},
            "procedures": [
                {
                    "id": " op 1",
                    "kind": "liver_resection",
                    "duration": "5 h 14 min",
                    "no_complications": True,
                    "converted": True,
                    "approach": "hybrid",
                    "segments_resected": ["VII", 6],
                },
                {"id": "op,2", "kind": "liver_ablation", "when": {"after": " op 1", "days": 0.5}},
            ],
            "follow_up": [
                {
                    "kind": "last_contact",
                    "when": {"after": "op,2", "weeks": 0},
                    "status": "NED, 1 week",
                }
            ],
            "notes": "multi\nline\nnotes",
        }
    )


VARIED = {"minimal": minimal_case, "dated-si": dated_si_case, "awkward-text": awkward_text_case}


def empty_text_case() -> Case:
    """Empty texts: CSV and REDCap keep them; FHIR strings cannot be empty."""
    return Case.model_validate(
        {
            "id": "empty-texts",
            "index_event": "op",
            "notes": "",
            "patient": {"performance_status": ""},
            "primary_tumour": {"site": "thigh", "site_group": "extremity", "histology": ""},
            "procedures": [{"id": "op", "kind": "other", "name": ""}],
        }
    )


def every_field_case() -> Case:
    """Return a case in which every field of the model is given.

    Each list item's fields are given at least once, not at their defaults: the round trips of
    :func:`tests.interchange.model_paths.unset_leaves` prove that no format drops a field, the new
    pre-operative ones included (planned procedure, ablation targets, RECIST measurements,
    systemic therapy, diagnosis and detection times).
    """
    data = dated_si_case().model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["assessed_on"] = "2020-02-20"
    data["patient"] |= {"ecog": 1, "asa": 2, "dialysis": False}
    data["primary_tumour"] |= {
        "laterality": "midline",
        "depth": "deep",
        "mitoses_per_10hpf": 25,
        "necrosis_category": ">=50%",
        "diagnosed": {"after": "primary", "days": 0},
        "extension": "abdomen_one_site",
    }
    data["primary_tumour"]["sizes"][0]["source"] = "MRI: 8.2 cm"
    data["primary_tumour"]["immunohistochemistry"].append(
        {"marker": "Ki-67", "result": "positive", "value": "60 %"}
    )
    data["liver_lesions"][0] |= {"id": "L1", "detected": "2020-01-15", "source": "MRI, S4a/S8"}
    data["liver_lesions"][1] |= {"id": "L2", "detected": {"after": "primary", "years": 1.5}}
    data["labs"]["within_normal_limits"] = False
    data["liver_function"] |= {"gsa": {"hh15": 0.535, "lhl15": 0.94}, "tumour_volume": "45 mL"}
    data["imaging"] = [
        data["imaging"][0] | {"segments": [8], "size": "21 mm"},
        {
            "modality": "eob-mri",
            "target": "liver",
            "finding": "baseline",
            "when": "2020-01-15",
            "new_lesions": False,
            "measurements": [
                {"lesion": "L1", "diameter": "32 mm"},
                {"lesion": "N1", "diameter": 16, "organ": "lymph node", "lymph_node": True},
                {"lesion": "P1", "diameter": "8 mm", "organ": "lung", "target": False},
            ],
        },
    ]
    hepatectomy = data["procedures"][1]
    hepatectomy |= {
        "name": "left lateral sectionectomy with partial resection of S8",
        "converted": False,
        "no_complications": False,
        "margin": "R0",
    }
    hepatectomy["complications"][0]["onset_pod"] = 5
    data["procedures"].append(
        {
            "id": "rfa",
            "kind": "liver_ablation",
            "status": "planned",
            "name": "radiofrequency ablation",
            "when": {"after": "tace", "weeks": 3},
            "approach": "laparoscopic",
            "target_segments": [6],
        }
    )
    data["systemic_therapy"] = [
        {
            "regimen": "doxorubicin",
            "setting": "palliative",
            "started": {"after": "hepatectomy", "months": 2},
            "ended": "2021-01-10",
        },
        {"regimen": "gemcitabine + docetaxel", "started": "2021-02-01"},
    ]
    data["follow_up"][0]["status"] = "liver recurrence"
    data["statements"]["observation_period_after_liver_resection_months"] = 12.0
    case = Case.model_validate(data)
    build_timeline(case)
    return case
