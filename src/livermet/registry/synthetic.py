"""A seeded synthetic cohort of liver-metastasis resections, for demos, tests and benchmarks.

Every synthetic case is flagged: its id starts ``SYN-`` and its ``source`` is ``synthetic``; the
registry stores the flag in its own column and leaves synthetic cases out of cohorts unless
asked (``Registry.cohort_frame(only_synthetic=True)``). Nothing here is a clinical estimate.

The distributions are set to resemble the registry's reference cohort
(``tests/analysis/data/cohort.csv``, docs/registry.md#synthetic-cohort:
300 patients; age 58 ± 12; open 72 %; metachronous 66 %; FNCLCC grade 1/2/3 16/38/46 %) and
published series of liver resection for sarcoma metastases (leiomyosarcoma most often, primary
in the retroperitoneum, uterus or extremity; median overall survival around 3 years, most
patients recurring, median time to recurrence about 10 months). Survival is drawn from
exponential hazards that rise with grade 3, synchronous presentation, age, an R1/R2 margin and
several lesions, and fall slightly after laparoscopy (selection), with administrative
censoring at :data:`STUDY_END` and random loss to follow-up.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
from typing import Any

import numpy as np

from livermet.case.model import Case
from livermet.clinical import anatomy

STUDY_END = dt.date(2025, 6, 30)
FIRST_DIAGNOSIS = dt.date(2005, 1, 1)
LAST_DIAGNOSIS = dt.date(2022, 12, 31)
DAYS_PER_MONTH = 365.25 / 12

_PRIMARY_SITES: tuple[tuple[str, str, float], ...] = (
    # (site_group, site, probability)
    ("retroperitoneum", "retroperitoneum", 0.25),
    ("visceral", "inferior vena cava", 0.05),
    ("uterus", "uterus", 0.20),
    ("extremity", "thigh", 0.14),
    ("extremity", "lower leg", 0.06),
    ("extremity", "upper arm", 0.05),
    ("trunk", "chest wall", 0.05),
    ("trunk", "abdominal wall", 0.05),
    ("visceral", "stomach", 0.08),
    ("visceral", "small intestine", 0.07),
)
_HISTOLOGY: tuple[tuple[str, float], ...] = (
    ("leiomyosarcoma", 0.75),
    ("undifferentiated pleomorphic sarcoma", 0.08),
    ("dedifferentiated liposarcoma", 0.05),
    ("synovial sarcoma", 0.05),
    ("solitary fibrous tumour", 0.04),
    ("angiosarcoma", 0.03),
)
_GRADE_P = (0.16, 0.38, 0.46)
_LESION_COUNT_P = (0.60, 0.25, 0.15)
_SEGMENT_P = np.array([0.02, 0.12, 0.12, 0.12, 0.12, 0.14, 0.18, 0.18])  # segments 1-8
_COMORBIDITIES = ("hypertension", "diabetes mellitus", "ischaemic heart disease", "COPD")
_RECURRENCE_SITES = (("liver", 0.55), ("lung", 0.30), ("peritoneum", 0.10), ("bone", 0.05))


def _fnclcc_combinations() -> dict[int, list[tuple[int, int, int]]]:
    """Return the (differentiation, mitosis, necrosis) scores by the FNCLCC grade they give.

    The sum gives the grade: 2-3 -> 1, 4-5 -> 2, 6-8 -> 3 (Trojani 1984, Coindre 2006;
    docs/clinical.md#fnclcc-grade).
    """
    by_grade: dict[int, list[tuple[int, int, int]]] = {1: [], 2: [], 3: []}
    for d, m, n in itertools.product((1, 2, 3), (1, 2, 3), (0, 1, 2)):
        total = d + m + n
        by_grade[1 if total <= 3 else 2 if total <= 5 else 3].append((d, m, n))
    return by_grade


_FNCLCC = _fnclcc_combinations()
_MITOSES_RANGE = {1: (0, 9), 2: (10, 19), 3: (20, 60)}
_NECROSIS = {0: "none", 1: "<50%", 2: ">=50%"}


def _pick(rng: np.random.Generator, options: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    p = np.array([o[-1] for o in options])
    return options[int(rng.choice(len(options), p=p / p.sum()))]


def _date(day0: dt.date, days: float) -> str:
    return (day0 + dt.timedelta(days=round(float(days)))).isoformat()


@functools.cache
def _resections(segments: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Segments removed by the plausible resections of a tumour in ``segments``."""
    candidates = anatomy.candidate_resections(list(segments))
    return tuple(tuple(c.segments) for c in candidates[:3])


def _tumour(rng: np.random.Generator, grade: int) -> dict[str, Any]:
    group, site, _ = _pick(rng, _PRIMARY_SITES)
    histology = (
        "leiomyosarcoma" if site in ("uterus", "inferior vena cava") else _pick(rng, _HISTOLOGY)[0]
    )
    combos = _FNCLCC[grade]
    diff, mit, nec = combos[int(rng.integers(len(combos)))]
    low, high = _MITOSES_RANGE[mit]
    size_cm = float(np.clip(rng.lognormal(math.log(8.0), 0.5), 1.0, 40.0))
    tumour: dict[str, Any] = {
        "site": site,
        "site_group": group,
        "histology": histology,
        "sizes": [{"method": "pathology", "greatest_dimension": f"{size_cm:.1f} cm"}],
        "mitoses_per_10hpf": int(rng.integers(low, high + 1)),
        "necrosis_category": _NECROSIS[nec],
        "differentiation_score": diff,
        "reported_grade": grade,
        "nodal_status": "N1" if rng.random() < 0.05 else "N0",
    }
    if group in ("extremity", "trunk"):
        tumour["depth"] = "deep" if rng.random() < 0.85 else "superficial"
    if group == "extremity":
        tumour["laterality"] = "right" if rng.random() < 0.5 else "left"
    return tumour


def _lesions(rng: np.random.Generator, timing: str) -> tuple[list[dict[str, Any]], tuple[int, ...]]:
    count = 1 + int(rng.choice(3, p=_LESION_COUNT_P))
    segments = sorted(int(s) + 1 for s in rng.choice(8, size=count, replace=False, p=_SEGMENT_P))
    lesions = [
        {
            "segments": [s],
            "size": f"{float(np.clip(rng.lognormal(math.log(30), 0.6), 5, 200)):.0f} mm",
            "size_method": "ct",
            "timing": timing,
        }
        for s in segments
    ]
    return lesions, tuple(segments)


def _liver_resection(
    rng: np.random.Generator, tumour_segments: tuple[int, ...], when: str
) -> dict[str, Any]:
    if len(tumour_segments) == 1:
        options = _resections(tumour_segments)
        resected = options[int(rng.integers(len(options)))]
    else:
        resected = tumour_segments  # multiple partial resections
    major = len(resected) >= 3
    laparoscopic = rng.random() < (0.10 if major else 0.32)
    complicated = rng.random() < (0.35 if major else 0.2)
    proc: dict[str, Any] = {
        "id": "liver-resection",
        "kind": "liver_resection",
        "when": when,
        "approach": "laparoscopic" if laparoscopic else "open",
        "segments_resected": list(resected),
        "duration": f"{float(np.clip(rng.normal(330 if major else 240, 70), 60, 900)):.0f} min",
        "blood_loss": f"{float(np.clip(rng.lognormal(math.log(150 if laparoscopic else 400), 0.8), 5, 5000)):.0f} mL",  # noqa: E501
        "discharge": {
            "after": "liver-resection",
            "days": int(np.clip(rng.lognormal(math.log(12 if complicated else 8), 0.3), 3, 60)),
        },
        "margin": str(rng.choice(["R0", "R1", "R2"], p=[0.8, 0.18, 0.02])),
        "readmission_90d": bool(rng.random() < 0.08),
    }
    if laparoscopic:
        proc["converted"] = bool(rng.random() < 0.05)
    if complicated:
        grade = str(rng.choice(["I", "II", "IIIa", "IIIb"], p=[0.3, 0.4, 0.2, 0.1]))
        proc["complications"] = [
            {"description": "postoperative complication", "clavien_dindo": grade}
        ]
    else:
        proc["no_complications"] = True
    return proc


def _outcome(rng: np.random.Generator, lp: float, liver_day0: dt.date) -> list[dict[str, Any]]:
    """Follow-up events after the liver resection, as dates (months drawn, then days)."""
    hr = math.exp(lp)
    recurrence = math.inf if rng.random() < 0.22 else rng.exponential(10.0 / math.log(2) / hr)
    direct_death = rng.exponential(110.0 / math.log(2) / hr)
    after_recurrence = recurrence + rng.exponential(26.0 / math.log(2) / hr)
    death = min(direct_death, after_recurrence)
    administrative = (STUDY_END - liver_day0).days / DAYS_PER_MONTH
    censor = min(administrative, rng.exponential(300.0))

    def day(months: float) -> str:
        return _date(liver_day0, max(months, 0.05) * DAYS_PER_MONTH)

    events: list[dict[str, Any]] = []
    if recurrence < min(death, censor):
        events.append(
            {
                "kind": "recurrence",
                "when": day(recurrence),
                "site": _pick(rng, _RECURRENCE_SITES)[0],
            }
        )
    if death <= censor:
        events.append({"kind": "death", "when": day(death)})
    else:
        status = "alive with disease" if recurrence < censor else "alive, no evidence of disease"
        events.append({"kind": "last_contact", "when": day(censor), "status": status})
    return events


def synthetic_case(rng: np.random.Generator, case_id: str) -> Case:
    """One synthetic case drawn from ``rng``."""
    grade = 1 + int(rng.choice(3, p=_GRADE_P))
    tumour = _tumour(rng, grade)
    sex = "female" if tumour["site"] == "uterus" or rng.random() < 0.55 else "male"
    age = int(np.clip(round(rng.normal(58, 12)), 18, 95))
    timing = "synchronous" if rng.random() < 0.34 else "metachronous"
    lesions, tumour_segments = _lesions(rng, timing)
    span = (LAST_DIAGNOSIS - FIRST_DIAGNOSIS).days
    day0 = FIRST_DIAGNOSIS + dt.timedelta(days=int(rng.integers(span)))
    gap = (
        rng.uniform(0.5, 4)
        if timing == "synchronous"
        else np.clip(rng.lognormal(math.log(24), 0.7), 4, 120)
    )
    liver_day0 = day0 + dt.timedelta(days=round(float(gap) * DAYS_PER_MONTH))
    liver = _liver_resection(rng, tumour_segments, liver_day0.isoformat())
    lp = (
        0.45 * (grade == 3)
        - 0.4 * (grade == 1)
        + 0.25 * (timing == "synchronous")
        + 0.015 * (age - 58)
        - 0.15 * (liver["approach"] == "laparoscopic")
        + 0.3 * (liver["margin"] != "R0")
        + 0.2 * (len(lesions) > 1)
    )
    document: dict[str, Any] = {
        "id": case_id,
        "source": "synthetic",
        "index_event": "primary-resection",
        "patient": {
            "age_years": age,
            "sex": sex,
            "comorbidities": [c for c in _COMORBIDITIES if rng.random() < 0.2],
        },
        "primary_tumour": tumour,
        "liver_lesions": lesions,
        "extrahepatic_metastases": ["lung"] if rng.random() < 0.15 else [],
        "labs": {"within_normal_limits": True},
        "procedures": [
            {
                "id": "primary-resection",
                "kind": "primary_resection",
                "when": day0.isoformat(),
                "discharge": {"after": "primary-resection", "days": int(rng.integers(4, 21))},
                "margin": str(rng.choice(["R0", "R1"], p=[0.85, 0.15])),
            },
            liver,
        ],
        "follow_up": _outcome(rng, lp, liver_day0),
    }
    if rng.random() < 0.6:
        document["liver_function"] = {"icg_r15": f"{rng.uniform(2, 15):.1f} %"}
    return Case.model_validate(document)


def synthetic_cases(n: int, seed: int = 0) -> list[Case]:
    """``n`` synthetic cases, the same for the same ``seed`` (ids ``SYN-<seed>-000001``...).

    Raises
    ------
    ValueError
        for a negative ``n``.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = np.random.default_rng(seed)
    return [synthetic_case(rng, f"SYN-{seed}-{i + 1:06d}") for i in range(n)]
