"""Follow-up after resection of soft-tissue sarcoma or its metastases.

Definitions: docs/clinical.md#surveillance.

Sources and how far they were checked (docs/clinical.md#conventions):

- ESMO: Gronchi A, Miah AB, Dei Tos AP, et al. Soft tissue and visceral sarcomas:
  ESMO-EURACAN-GENTURIS Clinical Practice Guidelines. Ann Oncol 2021;32:1348-1365. Wording seen in
  the 2010 version (Casali PG, Blay JY), assumed unchanged in 2021 [one source for the wording, not
  verified for 2021]: intermediate/high grade every 3-4 months in years 1-2/3, every 6 months to
  year 5, then yearly; low grade local checks every 4-6 months, chest imaging at longer intervals
  for 3-5 years, then yearly; MRI (or US) of the primary site, chest CT (or X-ray).
- NCCN Soft Tissue Sarcoma guideline (patient version 1.2014 seen) [one source]: stage IV, including
  after metastasectomy, history/physical, chest imaging and imaging of metastatic sites every 3-6
  months for 2-3 years, then every 6 months for 2 years, then yearly; stage I/II-III details [not
  verified].

Toolkit default (docs/clinical.md#surveillance) for a resected liver metastasis (stage IV, high
grade): CT chest + abdomen/pelvis every 3-4 months in years 1-2, every 6 months in years 3-5, then
yearly; MRI or US of the primary site at the same visits in years 1-3.

Engineering choices (not published rules), stated where they are made: an unknown grade and stage
get the intermediate/high-grade plan (the more intensive one); the low-grade 4-6-monthly phase
runs to year 5 (the upper end of ESMO's 3-5 years); visit dates use the lower bound of each
interval unless ``bound="high"``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final, Literal

from livermet.errors import InputError

ESMO_SOURCE: Final = (
    "ESMO-EURACAN-GENTURIS 2021 (Gronchi A, et al. Ann Oncol 2021;32:1348-1365; schedule "
    "worded as in the 2010 guideline, Casali PG, Blay JY)"
)
NCCN_SOURCE: Final = "NCCN Soft Tissue Sarcoma guideline (patient version 1.2014)"
TOOLKIT_SOURCE: Final = (
    "livermet default for stage IV / after metastasectomy (engineering choice following NCCN)"
)

HIGH_GRADE_INTERVALS: Final[tuple[tuple[float, float | None, tuple[float, float]], ...]] = (
    (0.0, 2.0, (3.0, 4.0)),
    (2.0, 5.0, (6.0, 6.0)),
    (5.0, None, (12.0, 12.0)),
)
"""Intermediate/high grade: (from year, to year, interval months) — ESMO 3-4 months in years
1-2 (the "/3" of "1-2/3" is taken as 2, per the docs/clinical.md#surveillance default), 6-monthly to
year 5, then yearly [one source for the wording]."""

NCCN_STAGE_IV_TEXT: Final = (
    "NCCN stage IV: every 3-6 months for 2-3 years, then every 6 months for 2 years, then yearly"
)

LOW_GRADE_INTERVALS: Final[tuple[tuple[float, float | None, tuple[float, float]], ...]] = (
    (0.0, 5.0, (4.0, 6.0)),
    (5.0, None, (12.0, 12.0)),
)
"""Low grade: local checks every 4-6 months for 3-5 years (taken to year 5), then yearly (ESMO)
[one source for the wording]."""

PRIMARY_SITE_IMAGING_YEARS: Final = 3.0
"""Stage IV default: MRI/US of the primary site in years 1-3 only (docs/clinical.md#surveillance
toolkit default)."""

STAGES: Final[tuple[str, ...]] = ("I", "IA", "IB", "II", "III", "IIIA", "IIIB", "IV")
"""AJCC 8th edition stage groups for trunk/extremity STS (docs/clinical.md#ajcc-8-staging), plus the
ungrouped I and III."""

RiskGroup = Literal["high", "low"]


@dataclass(frozen=True)
class SurveillanceRow:
    """One band of years of the follow-up plan.

    Attributes
    ----------
    from_year, to_year
        Years after the index operation; ``to_year`` None = indefinitely.
    interval_months
        (low, high) visit interval in months.
    modalities
        Examinations at each visit in the band.
    source
        Guideline(s) behind the row, with verification tags.
    """

    from_year: float
    to_year: float | None
    interval_months: tuple[float, float]
    modalities: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class SurveillancePlan:
    """A follow-up plan: rows of (years, interval, modalities), and why it was chosen.

    Attributes
    ----------
    rows
        The plan, by band of years after the index operation.
    risk_group
        "high" (intermediate/high grade, stage II-IV or after metastasectomy) or "low".
    basis
        Sentence naming the inputs that chose the plan (and any default taken).
    start_month
        Month of the index operation on the caller's timeline (see :func:`visit_schedule`).
    """

    rows: tuple[SurveillanceRow, ...]
    risk_group: RiskGroup
    basis: str
    start_month: float

    def visit_schedule(
        self, horizon_years: float = 10, *, bound: Literal["low", "high"] = "low"
    ) -> list[float]:
        """Visit times; see :func:`visit_schedule`."""
        return visit_schedule(self, horizon_years, bound=bound)


def _normalise_stage(stage: str | None) -> str | None:
    if stage is None:
        return None
    if not isinstance(stage, str):
        raise InputError(f"expected an AJCC stage group, got {stage!r}", "stage")
    text = re.sub(r"^stage\s*", "", stage.strip(), flags=re.IGNORECASE).upper().replace(" ", "")
    if text not in STAGES:
        raise InputError(
            f"unknown stage {stage!r}; expected one of {', '.join(STAGES)} (AJCC 8th edition)",
            "stage",
        )
    return text


def _risk_group(
    grade: int | None,
    stage: str | None,
    metastasectomy: bool,
    grade_range: tuple[int, int] | None = None,
) -> tuple[RiskGroup, str]:
    """Plan intensity from grade, stage and metastasectomy, with the reason.

    An undecided grade whose range reaches grade 2 or 3 gets the intermediate/high-grade plan
    (the more frequent schedule): ESMO's low-grade plan applies only to a grade known to be 1.
    "More frequent" is read on the first two years, when the two ESMO rows differ most
    (3-4-monthly with chest CT vs 4-6-monthly local checks with chest imaging "at longer
    intervals"); in years 3-5 the toolkit's low-grade 4-6-monthly local checks are nominally more
    frequent than the high-grade 6-monthly visits. Engineering choice, as for an unknown grade.
    """
    reasons = []
    if grade is None and grade_range is not None and grade_range[1] >= 2:
        reasons.append(
            f"FNCLCC grade undecided ({grade_range[0]}-{grade_range[1]}): the more frequent "
            "schedule"
        )
    if metastasectomy:
        reasons.append("after metastasectomy")
    if stage == "IV":
        reasons.append("stage IV")
    if grade is not None and grade >= 2:
        reasons.append(f"FNCLCC grade {grade}")
    if stage is not None and stage.startswith(("II", "III")):
        reasons.append(f"stage {stage}")
    if reasons:
        return "high", "intermediate/high-grade plan: " + ", ".join(reasons)
    if grade == 1 or (stage is not None and stage.startswith("I")):
        known = [f"FNCLCC grade {grade}"] if grade is not None else []
        known += [f"stage {stage}"] if stage is not None else []
        return "low", "low-grade plan: " + ", ".join(known)
    return "high", "grade and stage unknown: intermediate/high-grade plan by default (safer)"


def _check_grade(grade: int | None) -> int | None:
    if grade is None:
        return None
    if isinstance(grade, bool) or not isinstance(grade, int) or grade not in (1, 2, 3):
        raise InputError(f"FNCLCC grade must be 1, 2 or 3; got {grade!r}", "grade")
    return grade


def _check_grade_range(grade_range: tuple[int, int] | None) -> tuple[int, int] | None:
    if grade_range is None:
        return None
    try:
        low, high = grade_range
    except (TypeError, ValueError):
        raise InputError(
            f"expected (lowest, highest) FNCLCC grade, got {grade_range!r}", "grade_range"
        ) from None
    for g in (low, high):
        if isinstance(g, bool) or not isinstance(g, int) or g not in (1, 2, 3):
            raise InputError(f"FNCLCC grades must be 1, 2 or 3; got {g!r}", "grade_range")
    if low > high:
        raise InputError(f"lowest grade {low} is above the highest {high}", "grade_range")
    return int(low), int(high)


def _check_months(value: float, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"expected a number of months, got {value!r}", field)
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{value!r} months is outside the accepted range [0, inf) months", field)
    return float(value)


def _site(primary_site: str | None) -> str:
    return f" ({primary_site})" if primary_site else ""


def _metastatic_rows(primary_site: str | None) -> tuple[SurveillanceRow, ...]:
    """Stage IV / after metastasectomy: the docs/clinical.md#surveillance toolkit default."""
    ct = "CT chest + abdomen/pelvis with contrast"
    exam = "history and physical examination"
    primary = f"MRI or US of the primary site{_site(primary_site)}"
    esmo_nccn = f"{ESMO_SOURCE}; {NCCN_STAGE_IV_TEXT} ({NCCN_SOURCE}); {TOOLKIT_SOURCE}"
    rows = []
    for start, end, interval in HIGH_GRADE_INTERVALS:
        # Split a band at year 3, where primary-site imaging stops.
        inside = start < PRIMARY_SITE_IMAGING_YEARS and (
            end is None or end > PRIMARY_SITE_IMAGING_YEARS
        )
        bands = (
            [(start, PRIMARY_SITE_IMAGING_YEARS), (PRIMARY_SITE_IMAGING_YEARS, end)]
            if inside
            else [(start, end)]
        )
        for lo, hi in bands:
            modalities = (exam, ct) + ((primary,) if lo < PRIMARY_SITE_IMAGING_YEARS else ())
            rows.append(SurveillanceRow(lo, hi, interval, modalities, esmo_nccn))
    return tuple(rows)


def _high_grade_rows(primary_site: str | None) -> tuple[SurveillanceRow, ...]:
    """Intermediate/high grade without known metastases (ESMO)."""
    modalities = (
        "clinical examination",
        f"MRI (or US) of the primary site{_site(primary_site)}",
        "chest CT (or chest X-ray)",
    )
    return tuple(
        SurveillanceRow(start, end, interval, modalities, ESMO_SOURCE)
        for start, end, interval in HIGH_GRADE_INTERVALS
    )


def _low_grade_rows(primary_site: str | None) -> tuple[SurveillanceRow, ...]:
    """Low grade (ESMO): local checks every 4-6 months, chest imaging less often, then yearly."""
    (first_start, first_end, first_interval), (late_start, late_end, late_interval) = (
        LOW_GRADE_INTERVALS
    )
    local = f"MRI (or US) of the primary site{_site(primary_site)}"
    return (
        SurveillanceRow(
            first_start,
            first_end,
            first_interval,
            (
                "clinical examination",
                local,
                "chest imaging (X-ray or CT) at longer intervals (ESMO gives no number)",
            ),
            f"{ESMO_SOURCE}; 4-6-monthly phase 3-5 years in ESMO, taken to year 5",
        ),
        SurveillanceRow(
            late_start,
            late_end,
            late_interval,
            ("clinical examination", local, "chest imaging (X-ray or CT)"),
            ESMO_SOURCE,
        ),
    )


def surveillance_plan(
    *,
    grade: int | None,
    stage: str | None,
    metastasectomy: bool = False,
    primary_site: str | None = None,
    start_month: float = 0.0,
    grade_range: tuple[int, int] | None = None,
) -> SurveillancePlan:
    """Follow-up plan after resection of a sarcoma or of its metastases.

    Parameters
    ----------
    grade
        FNCLCC grade 1, 2 or 3; None if unknown.
    stage
        AJCC 8th edition stage group ("IA", "IB", "II", "IIIA", "IIIB", "IV"; "stage IV" accepted);
        None if unknown.
    metastasectomy
        The index operation resected a metastasis (e.g. a liver metastasis).
    primary_site
        Where the primary was (e.g. "right thigh"), named in the imaging modality.
    start_month
        Month of the index operation on the caller's timeline (e.g. months after the primary
        operation; 0 = count from the index operation). Must be >= 0.
    grade_range
        (lowest, highest) FNCLCC grade the known components allow when ``grade`` is None
        (FNCLCC ``grade_min``, ``grade_max``): a range reaching grade 2 or 3 gets the
        intermediate/high-grade plan, the more frequent schedule.

    Returns
    -------
    SurveillancePlan
        Stage IV or after metastasectomy: the docs/clinical.md#surveillance toolkit default (CT
        chest + abdomen/pelvis 3-4-monthly in years 1-2, 6-monthly in years 3-5, then yearly;
        primary-site MRI/US in years 1-3). Intermediate/high grade or stage II-III: ESMO, chest CT
        and primary-site imaging. Grade 1 / stage I: ESMO low grade. Unknown grade and stage: the
        intermediate/high plan.

    Raises
    ------
    InputError
        Grade not in {1, 2, 3} ("grade"), unknown stage ("stage"), negative or non-finite
        start_month ("start_month").
    """
    checked_grade = _check_grade(grade)
    checked_range = _check_grade_range(grade_range)
    checked_stage = _normalise_stage(stage)
    start = _check_months(start_month, "start_month")
    if primary_site is not None and not isinstance(primary_site, str):
        raise InputError(f"expected a site name, got {primary_site!r}", "primary_site")
    risk, basis = _risk_group(checked_grade, checked_stage, bool(metastasectomy), checked_range)
    if metastasectomy or checked_stage == "IV":
        rows = _metastatic_rows(primary_site)
    elif risk == "high":
        rows = _high_grade_rows(primary_site)
    else:
        rows = _low_grade_rows(primary_site)
    return SurveillancePlan(rows=rows, risk_group=risk, basis=basis, start_month=start)


def visit_schedule(
    plan: SurveillancePlan,
    horizon_years: float = 10,
    *,
    bound: Literal["low", "high"] = "low",
) -> list[float]:
    """Return the planned visit times, in months on the caller's timeline.

    Times are ``plan.start_month`` + months after the index operation; with the default
    start_month 0, months after the operation.

    Each visit follows the previous one by the interval of the row in which the previous visit
    falls (the first by the first row's interval): lower bounds by default (3, 6, 9 ... for a
    3-4-monthly band), upper bounds with ``bound="high"``. Visits up to and including
    ``horizon_years`` after the index operation are listed.

    Raises
    ------
    InputError
        ``horizon_years`` not a positive finite number ("horizon_years"); unknown ``bound``.
    """
    if isinstance(horizon_years, bool) or not isinstance(horizon_years, (int, float)):
        raise InputError(f"expected a number of years, got {horizon_years!r}", "horizon_years")
    if not math.isfinite(horizon_years) or horizon_years <= 0:
        raise InputError(
            f"{horizon_years!r} years is outside the accepted range (0, inf) years",
            "horizon_years",
        )
    if bound not in ("low", "high"):
        raise InputError(f"bound must be 'low' or 'high'; got {bound!r}", "bound")
    pick = 0 if bound == "low" else 1
    horizon = horizon_years * 12.0
    visits: list[float] = []
    elapsed = 0.0
    while True:
        row = _row_at(plan.rows, elapsed / 12.0)
        elapsed += row.interval_months[pick]
        if elapsed > horizon + 1e-9:
            return [plan.start_month + t for t in visits]
        visits.append(elapsed)


def _row_at(rows: tuple[SurveillanceRow, ...], year: float) -> SurveillanceRow:
    for row in rows:
        if row.from_year <= year + 1e-9 and (row.to_year is None or year < row.to_year - 1e-9):
            return row
    return rows[-1]
