"""Prognostic factor panel after liver resection of sarcoma metastases (``prognostic_factors[]``).

Display only: each factor shows this patient's value, its direction (favourable / unfavourable /
mixed when the sources' cut-offs disagree for this value / not known), the effect the source
reports, the population it was reported in, and the source. No points and no score: the series
are small, the populations differ (gastrointestinal stromal tumours dominate the older series),
and the one published point score for non-colorectal metastases failed external validation.

Sources:
- DeMatteo RP, et al. Ann Surg 2001;234:540-547 (disease-free interval > 24 months favourable,
  multivariate; sarcoma, mostly GIST/gastrointestinal leiomyosarcoma).
- Adam R, et al. Ann Surg 2006;244:524-535 (non-colorectal non-endocrine metastases: interval
  < 12 months, age > 60 years, R2 resection, major hepatectomy adverse).
- Jain AJ, et al. SSAT 2023 (abstract; 54 leiomyosarcomas: metastasis >= 12 months after resection
  of the primary and R0 resection of the primary favourable).
- Jaques DP, et al. Ann Surg 1995 (65 patients: no effect of the disease-free interval).
- Tirotta F, et al. Eur J Surg Oncol 2020 (systematic review and two European centres:
  extrahepatic disease HR 3.7 and 9.1; metastases >= 100 mm, non-response to chemotherapy and a
  shorter disease-free interval adverse).
- Marudanayagam R, et al. Eur J Surg Oncol 2011;37:87-92 (primary leiomyosarcoma adverse,
  multivariate p = 0.01; high grade and a positive liver margin adverse, univariate p = 0.04).
- Chua et al., 2011 and Pawlik TM, et al. Arch Surg 2006 (GIST longer survival than other
  sarcomas).
- Zacherl M, et al. Langenbecks Arch Surg 2011 (lesion > 50 mm: shorter recurrence-free survival).
- Sim et al., World J Surg 2018 (non-colorectal non-neuroendocrine: more lesions worse,
  univariate).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from livermet.case.model import Case, measure
from livermet.case.plan import lesion_coverage
from livermet.clinical import anatomy, fnclcc

Direction = Literal["favourable", "unfavourable", "mixed", "not known"]

DEMATTEO = "DeMatteo RP, et al. Ann Surg 2001;234:540-547"
ADAM = "Adam R, et al. Ann Surg 2006;244:524-535"
JAIN = "Jain AJ, et al. SSAT 2023 (abstract)"
JAQUES = "Jaques DP, et al. Ann Surg 1995"
TIROTTA = "Tirotta F, et al. Eur J Surg Oncol 2020"
MARUDANAYAGAM = "Marudanayagam R, et al. Eur J Surg Oncol 2011;37:87-92"
CHUA = "Chua et al., 2011"
PAWLIK = "Pawlik TM, et al. Arch Surg 2006"
ZACHERL = "Zacherl M, et al. Langenbecks Arch Surg 2011"
SIM = "Sim et al., World J Surg 2018"

DFI_FAVOURABLE_ABOVE_MONTHS: Final = 24.0
"""DeMatteo 2001: a disease-free interval longer than 24 months is favourable (multivariate)."""
DFI_ADVERSE_BELOW_MONTHS: Final = 12.0
"""Adam 2006: an interval shorter than 12 months is adverse (multivariate, non-colorectal)."""
DFI_JAIN_AT_LEAST_MONTHS: Final = 12.0
"""Jain 2023: liver metastasis at least 12 months after resection of the primary is favourable."""
SIZE_ADVERSE_OS_MM: Final = 100.0
"""Tirotta 2020: metastases of 100 mm or more, shorter overall survival."""
SIZE_ADVERSE_RFS_ABOVE_MM: Final = 50.0
"""Zacherl 2011: a lesion over 50 mm, shorter recurrence-free survival (p = 0.042)."""
AGE_ADVERSE_ABOVE_YEARS: Final = 60
"""Adam 2006: age over 60 years adverse (non-colorectal, not sarcoma-specific)."""
SOLITARY_VS_MULTIPLE: Final = 1
"""Engineering choice: Sim 2018 reports more lesions as worse without a cut-off; the panel reads
one lesion as favourable and more than one as unfavourable."""
RESPONDING: Final = ("CR", "PR")
"""Documented default: response to chemotherapy = RECIST 1.1 CR or PR (objective response)."""

NOT_KNOWN: Final = "not known"


def _row(
    factor: str,
    value: Any,
    direction: Direction,
    effect: str,
    population: str,
    source: str,
    *,
    missing: list[str] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "factor": factor,
        "value": value,
        "direction": direction,
        "effect": effect,
        "population": population,
        "source": source,
        "missing": missing or [],
    }
    if note:
        row["note"] = note
    return row


def _dfi(data: dict[str, Any]) -> dict[str, Any]:
    timeline = data.get("timeline") or {}
    months = timeline.get("disease_free_interval_months")
    effect = (
        f"longer is better: > {DFI_FAVOURABLE_ABOVE_MONTHS:g} months favourable (multivariate; "
        f"DeMatteo); < {DFI_ADVERSE_BELOW_MONTHS:g} months adverse (multivariate; Adam); "
        f">= {DFI_JAIN_AT_LEAST_MONTHS:g} months after resection of the primary favourable "
        "(leiomyosarcoma; Jain); shorter interval adverse (Tirotta); no effect in Jaques 1995"
    )
    population = (
        "sarcoma (mostly GIST/gastrointestinal leiomyosarcoma), non-colorectal non-endocrine "
        "metastases, leiomyosarcoma"
    )
    source = f"{DEMATTEO}; {ADAM}; {JAIN}; {TIROTTA}; {JAQUES}"
    note = None
    if months is None and timeline.get("metastasis_timing") == "synchronous":
        months, note = 0.0, "synchronous metastasis: never disease-free (interval 0)"
    if not isinstance(months, (int, float)) or isinstance(months, bool):
        return _row(
            "disease-free interval",
            None,
            NOT_KNOWN,
            effect,
            population,
            source,
            missing=[
                "disease-free interval (resection of the primary, detection of the liver "
                "metastasis)"
            ],
        )
    votes = {
        "DeMatteo": "favourable" if months > DFI_FAVOURABLE_ABOVE_MONTHS else "unfavourable",
        "Adam": "unfavourable" if months < DFI_ADVERSE_BELOW_MONTHS else "favourable",
        "Jain": "favourable" if months >= DFI_JAIN_AT_LEAST_MONTHS else "unfavourable",
    }
    direction: Direction = "mixed"
    if all(v == "favourable" for v in votes.values()):
        direction = "favourable"
    elif all(v == "unfavourable" for v in votes.values()):
        direction = "unfavourable"
    row = _row(
        "disease-free interval",
        {"months": round(float(months), 1), "by_cut_off": votes},
        direction,
        effect,
        population,
        source,
        note=note,
    )
    return row


def _extrahepatic(case: Case) -> dict[str, Any]:
    effect = "extrahepatic disease adverse: HR 3.7 (p < 0.001) and 9.1 (p = 0.016) in two cohorts"
    population = "non-GIST sarcoma (Tirotta); non-colorectal non-endocrine (Adam)"
    source = f"{TIROTTA}; {ADAM}"
    sites = case.extrahepatic_metastases
    if sites is None:
        return _row(
            "extrahepatic disease",
            None,
            NOT_KNOWN,
            effect,
            population,
            source,
            missing=["extrahepatic_metastases"],
        )
    if not sites:
        return _row("extrahepatic disease", "none found", "favourable", effect, population, source)
    return _row(
        "extrahepatic disease", ", ".join(sites), "unfavourable", effect, population, source
    )


def _histology(case: Case) -> dict[str, Any]:
    text = " ".join(
        x for x in (case.primary_tumour.histology_variant, case.primary_tumour.histology) if x
    )
    low = text.lower()
    effect = (
        "leiomyosarcoma worse than GIST and other sarcomas (multivariate p = 0.01, Marudanayagam); "
        "CD117-positive 3-year survival 80 % vs 33 % (Chua); GIST with adjuvant imatinib longest "
        "survival (Pawlik)"
    )
    population = "sarcoma liver metastases resected (n = 36, 15, 66)"
    source = f"{MARUDANAYAGAM}; {CHUA}; {PAWLIK}"
    if "leiomyosarcoma" in low:
        direction: Direction = "unfavourable"
    elif "gist" in low or "gastrointestinal stromal" in low:
        direction = "favourable"
    else:
        direction = NOT_KNOWN
    note = (
        None
        if direction != NOT_KNOWN
        else "the sources compare leiomyosarcoma with GIST; no effect is reported for this type"
    )
    return _row("histology", text, direction, effect, population, source, note=note)


def _sizes(case: Case) -> tuple[list[float], list[str]]:
    sizes: list[float] = []
    missing: list[str] = []
    for i, lesion in enumerate(case.liver_lesions):
        m = measure(lesion.size, "size")
        if m is None:
            missing.append(f"liver_lesions[{i}].size")
        else:
            sizes.append(m.value)
    return sizes, missing


def _size(case: Case) -> dict[str, Any]:
    effect = (
        f">= {SIZE_ADVERSE_OS_MM:g} mm shorter overall survival (Tirotta); "
        f"> {SIZE_ADVERSE_RFS_ABOVE_MM:g} mm shorter recurrence-free survival "
        "(p = 0.042, Zacherl)"
    )
    population = "non-GIST sarcoma (Tirotta); sarcoma, n = 15 (Zacherl)"
    source = f"{TIROTTA}; {ZACHERL}"
    if not case.liver_lesions:
        return _row(
            "largest liver lesion",
            None,
            NOT_KNOWN,
            effect,
            population,
            source,
            missing=["liver_lesions"],
        )
    sizes, missing = _sizes(case)
    largest = max(sizes) if sizes else None
    if largest is not None and largest > SIZE_ADVERSE_RFS_ABOVE_MM:
        direction: Direction = "unfavourable"  # decided whatever the unmeasured lesions measure
    elif missing:
        direction = NOT_KNOWN
    else:
        direction = "favourable"
    value: dict[str, Any] | None = None if largest is None else {"size_mm": round(largest, 1)}
    if value is not None and missing:
        value["note"] = "largest of the measured lesions"
    return _row(
        "largest liver lesion",
        value,
        direction,
        effect,
        population,
        source,
        missing=missing if direction == NOT_KNOWN else [],
    )


def _number(case: Case) -> dict[str, Any]:
    effect = "more lesions worse (univariate); no sarcoma-specific effect found"
    population = "non-colorectal non-neuroendocrine metastases, n = 78"
    if not case.liver_lesions:
        return _row(
            "number of liver lesions",
            None,
            NOT_KNOWN,
            effect,
            population,
            SIM,
            missing=["liver_lesions"],
        )
    count = sum(lesion.number for lesion in case.liver_lesions)
    direction: Direction = "favourable" if count <= SOLITARY_VS_MULTIPLE else "unfavourable"
    return _row(
        "number of liver lesions",
        count,
        direction,
        effect,
        population,
        SIM,
        note="solitary vs multiple is an engineering choice: the source gives no cut-off",
    )


def _response(data: dict[str, Any]) -> dict[str, Any]:
    effect = "non-response to chemotherapy adverse (overall survival)"
    population = "non-GIST sarcoma, the largest series in the review"
    source = f"{TIROTTA}; response by RECIST 1.1 (Eisenhauer EA, et al. Eur J Cancer 2009)"
    rec = (data.get("response") or {}).get("recist") or {}
    category = rec.get("category")
    if rec.get("status") != "assessed" or category is None:
        return _row(
            "response to chemotherapy",
            None,
            NOT_KNOWN,
            effect,
            population,
            source,
            missing=list(rec.get("missing") or ["RECIST response"]),
        )
    regimens = rec.get("systemic_therapy_between") or []
    if not regimens:
        return _row(
            "response to chemotherapy",
            {"recist": category, "systemic_therapy": None},
            NOT_KNOWN,
            effect,
            population,
            source,
            missing=["systemic therapy between the imaging time points"],
        )
    if category == "NE":
        return _row(
            "response to chemotherapy",
            {"recist": category, "systemic_therapy": regimens},
            NOT_KNOWN,
            effect,
            population,
            source,
            missing=["a measurement of every target lesion at the current time point"],
        )
    direction: Direction = "favourable" if category in RESPONDING else "unfavourable"
    return _row(
        "response to chemotherapy",
        {
            "recist": category,
            "percent_change_from_baseline": rec.get("percent_change_from_baseline"),
            "systemic_therapy": regimens,
        },
        direction,
        effect,
        population,
        source,
        note="response = RECIST CR or PR (objective response); stable disease counts as no "
        "response (documented default; the source does not define response)",
    )


def _segments(values: list[int | str], path: str) -> set[int]:
    return set(anatomy.parse_segments(values, field=path)) if values else set()


def _margin(case: Case) -> dict[str, Any]:
    effect = (
        "R0 better: positive margin adverse (univariate p = 0.04, Marudanayagam); R2 adverse "
        "(multivariate, Adam)"
    )
    population = "sarcoma liver metastases (Marudanayagam); non-colorectal non-endocrine (Adam)"
    source = f"{MARUDANAYAGAM}; {ADAM}"
    factor = "liver resection margin (expected)"
    proc = case.procedure("liver_resection")
    if proc is None:
        return _row(
            factor,
            None,
            NOT_KNOWN,
            effect,
            population,
            source,
            missing=["a planned or performed liver resection"],
        )
    if proc.status == "performed":
        if proc.margin is None:
            return _row(
                factor, None, NOT_KNOWN, effect, population, source, missing=["procedures[].margin"]
            )
        return _row(
            "liver resection margin",
            proc.margin,
            "favourable" if proc.margin == "R0" else "unfavourable",
            effect,
            population,
            source,
        )
    i = case.procedures.index(proc)
    if not proc.segments_resected:
        return _row(
            factor,
            None,
            NOT_KNOWN,
            effect,
            population,
            source,
            missing=[f"procedures[{i}].segments_resected"],
        )
    # The lesions against the plan, as the plan's own assessment compares them (one rule).
    coverage = lesion_coverage(case)
    name = {c.index: c.id or "segment " + ", ".join(c.labels) for c in coverage}
    outside = [name[c.index] for c in coverage if c.covered_by_plan is False]
    to_ablate = [
        name[c.index] for c in coverage if c.covered_by in {"ablation", "resection + ablation"}
    ]
    if outside:
        return _row(
            factor,
            "R2 expected: lesion(s) outside the planned resection (" + ", ".join(outside) + ")",
            "unfavourable",
            effect,
            population,
            source,
        )
    if to_ablate:
        return _row(
            factor,
            "resection with ablation of " + ", ".join(to_ablate),
            NOT_KNOWN,
            effect,
            population,
            source,
            note="a resection margin does not apply to ablated lesions; ablation was "
            "associated with shorter disease-free survival (Pawlik 2006)",
        )
    return _row(
        factor,
        "R0 intended: every lesion lies within the planned resection",
        "favourable",
        effect,
        population,
        source,
        note="the margin is known only from the pathology of the specimen",
    )


def _primary_margin(case: Case) -> dict[str, Any]:
    effect = "R0 resection of the primary: median survival 69 vs 38 months"
    population = "leiomyosarcoma liver metastases, n = 54"
    proc = case.procedure("primary_resection")
    if proc is None or proc.status != "performed" or proc.margin is None:
        return _row(
            "margin of the primary resection",
            None,
            NOT_KNOWN,
            effect,
            population,
            JAIN,
            missing=["primary resection margin"],
        )
    return _row(
        "margin of the primary resection",
        proc.margin,
        "favourable" if proc.margin == "R0" else "unfavourable",
        effect,
        population,
        JAIN,
    )


def _grade(data: dict[str, Any]) -> dict[str, Any]:
    effect = "high grade worse (univariate p = 0.04)"
    population = "sarcoma liver metastases resected, n = 36"
    fn = (data.get("grading") or {}).get("fnclcc") or {}
    grade = fn.get("grade")
    if grade is None:
        bounds = grade_range(data.get("grading") or {})
        value = None if bounds is None else {"grade_min": bounds[0], "grade_max": bounds[1]}
        return _row(
            "grade of the primary (FNCLCC)",
            value,
            NOT_KNOWN,
            effect,
            population,
            MARUDANAYAGAM,
            missing=["FNCLCC components: " + ", ".join(_missing_fnclcc(fn))],
            note=None if bounds is None else f"grade undecided: {bounds[0]}-{bounds[1]}",
        )
    direction: Direction = (
        "unfavourable" if grade == 3 else "favourable" if grade == 1 else NOT_KNOWN
    )
    return _row(
        "grade of the primary (FNCLCC)",
        grade,
        direction,
        effect,
        population,
        MARUDANAYAGAM,
        note=None if grade != 2 else "intermediate grade: the source contrasts high with low",
    )


def _missing_fnclcc(fn: dict[str, Any]) -> list[str]:
    names = ("mitosis_score", "necrosis_score", "differentiation_score")
    return [name.removesuffix("_score") for name in names if fn.get(name) is None]


def _age(case: Case) -> dict[str, Any]:
    effect = f"age > {AGE_ADVERSE_ABOVE_YEARS} years adverse"
    population = "non-colorectal non-endocrine liver metastases (not sarcoma-specific)"
    age = case.patient.age_years
    if age is None:
        return _row("age", None, NOT_KNOWN, effect, population, ADAM, missing=["patient.age_years"])
    direction: Direction = "unfavourable" if age > AGE_ADVERSE_ABOVE_YEARS else "favourable"
    return _row("age", age, direction, effect, population, ADAM)


def prognostic_factors(case: Case, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the panel, one row per factor, from the case and the assessment built so far.

    Reads ``timeline.disease_free_interval_months`` (absent → "not known"),
    ``response.recist`` and ``grading.fnclcc`` from ``data``.
    """
    return [
        _dfi(data),
        _extrahepatic(case),
        _histology(case),
        _size(case),
        _number(case),
        _response(data),
        _margin(case),
        _primary_margin(case),
        _grade(data),
        _age(case),
    ]


def grade_range(grading: dict[str, Any]) -> tuple[int, int] | None:
    """Return the (lowest, highest) FNCLCC grade the known components allow.

    From ``grading.fnclcc``'s ``total_min`` / ``total_max`` (None when either is absent).
    """
    fn = grading.get("fnclcc") or {}
    low, high = fn.get("total_min"), fn.get("total_max")
    if not isinstance(low, int) or not isinstance(high, int):
        return None

    def grade(total: int) -> int:
        return 1 + sum(total >= bound for bound in fnclcc.GRADE_LOWER_BOUNDS)

    return grade(low), grade(high)
