"""Findings: inconsistencies and gaps in a case that a tumour board should know about.

Each finding has a severity (``warning``: the data contradict each other or a result rests on an
assumption; ``info``: something is missing that would sharpen a result), a stable ``code`` and a
message that names the values involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from livermet.case.date_checks import future_date_issues
from livermet.case.model import Case
from livermet.case.plan import plan_findings
from livermet.case.size_checks import lesion_size_issues
from livermet.case.staging import staging_issues
from livermet.case.timeline import DAYS_PER_MONTH, Timeline
from livermet.case.timing import timing_issues
from livermet.clinical import ajcc
from livermet.clinical.units import parse_quantity

Severity = Literal["warning", "info"]

MONTH_TOLERANCE = 0.5
"""A stated period and the period the dated events give may differ by rounding to whole months;
a larger gap is a contradiction (engineering choice)."""


@dataclass(frozen=True)
class Finding:
    """One inconsistency or gap of the case: its severity, a stable code and the message."""

    severity: Severity
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Return the finding as a plain dict."""
        return {"severity": self.severity, "code": self.code, "message": self.message}


def _primary_size(case: Case) -> list[Finding]:
    """Find sizes of the primary that fall in different AJCC 8 T categories.

    Such sizes contradict each other.
    """
    sizes = [
        (s.method, parse_quantity(s.greatest_dimension, "size", "size").value)
        for s in case.primary_tumour.sizes
    ]
    if len(sizes) <= 1:
        return []
    categories = set(ajcc.ajcc8_t_category([mm / 10.0 for _, mm in sizes]))
    if len(categories) <= 1:
        return []
    listed = ", ".join(
        f"{_METHOD_LABELS.get(method, method)} {_fmt_mm(mm)}" for method, mm in sizes
    )
    return [
        Finding(
            "warning",
            "primary-size-discordant",
            f"The primary tumour's size disagrees between methods ({listed}), spanning AJCC T "
            f"categories {', '.join(sorted(categories))}. Staging uses the pathology size.",
        )
    ]


_METHOD_LABELS = {"ct": "CT", "mri": "MRI", "pet": "PET", "ultrasound": "ultrasound"}


def _fmt_mm(mm: float) -> str:
    return f"{mm / 10:g} cm" if mm >= 100 else f"{mm:g} mm"


def _observation_period(case: Case, timeline: Timeline) -> list[Finding]:
    out: list[Finding] = []
    last = timeline.last_follow_up_day()
    checks = [
        (
            case.statements.observation_period_after_liver_resection_months,
            case.performed("liver_resection"),
            "liver resection",
        ),
        (
            case.statements.observation_period_after_primary_months,
            case.performed("primary_resection"),
            "primary resection",
        ),
    ]
    for stated, proc, label in checks:
        if stated is None or proc is None or last is None:
            continue
        start = timeline.procedure_day.get(proc.id)
        if start is None:
            continue
        computed = (last - start) / DAYS_PER_MONTH
        if abs(computed - stated) > MONTH_TOLERANCE:
            out.append(
                Finding(
                    "warning",
                    "observation-period-discordant",
                    f"The stated observation period after the {label} ({stated:g} months) "
                    f"disagrees with the intervals given ({computed:.1f} months to the last "
                    "follow-up).",
                )
            )
    return out


def _readmission(case: Case, data: dict[str, Any]) -> list[Finding]:
    proc = case.performed("liver_resection")  # a planned operation has no outcome yet
    if proc is None or proc.readmission_90d is not None:
        return []
    tols = (data["outcomes"]["liver_resection"] or {}).get("textbook_outcome", {})
    return [
        Finding(
            "warning",
            "readmission-not-reported",
            "Readmission within 90 days of the liver resection is not reported, so textbook "
            f"outcome rests on an assumption (status: {tols.get('status')}; it would be achieved "
            "only if there was no readmission).",
        )
    ]


def _grade(case: Case, data: dict[str, Any]) -> list[Finding]:
    fn = data["grading"]["fnclcc"]
    out: list[Finding] = []
    reported, computed = case.primary_tumour.reported_grade, fn["grade"]
    if reported is not None and computed is not None and reported != computed:
        out.append(
            Finding(
                "warning",
                "grade-discordant",
                f"The reported FNCLCC grade ({reported}) differs from the grade the components "
                f"give ({computed}).",
            )
        )
    if fn["differentiation_score"] is None:
        decided = "; the grade is decided whatever its value" if computed is not None else ""
        out.append(
            Finding(
                "info",
                "differentiation-not-stated",
                "The FNCLCC differentiation score (or histologic variant) is not stated "
                f"(total {fn['total_min']}-{fn['total_max']}){decided}.",
            )
        )
    return out


def _labs(case: Case) -> list[Finding]:
    labs = case.labs
    if labs.bilirubin is None and labs.albumin is None and labs.within_normal_limits:
        return [
            Finding(
                "info",
                "lab-values-not-given",
                "Laboratory values are reported only as normal: Child-Pugh, ALBI and MELD cannot "
                "be computed, and the Makuuchi criteria assume a normal bilirubin.",
            )
        ]
    return []


def _nodes(case: Case) -> list[Finding]:
    if case.primary_tumour.nodal_status is None:
        return [
            Finding(
                "info",
                "nodal-status-not-stated",
                "Regional nodal status is not stated (NX, grouped with N0 by AJCC 8).",
            )
        ]
    return []


def _resection_name(case: Case, data: dict[str, Any]) -> list[Finding]:
    proc = case.procedure("liver_resection")
    computed = data["resection"]["procedure_name"]
    if proc is None or not proc.name or computed is None:
        return []
    named = proc.name.lower()
    names = [computed, *data["resection"].get("synonyms", [])]
    if any(n.lower() in named for n in names):
        return []
    return [
        Finding(
            "warning",
            "resection-name-discordant",
            f"The operation is named '{proc.name}' but the segments resected "
            f"({', '.join(map(str, data['resection']['segments']))}) make a {computed}.",
        )
    ]


def detect_findings(case: Case, timeline: Timeline, data: dict[str, Any]) -> list[Finding]:
    """Return every finding for ``case``, warnings first."""
    found = [
        *_primary_size(case),
        *_observation_period(case, timeline),
        *(Finding(*issue) for issue in timing_issues(case, timeline)),
        *(Finding(*issue) for issue in future_date_issues(case, timeline)),
        *(Finding(*issue) for issue in lesion_size_issues(case)),
        *(Finding(*issue) for issue in plan_findings(case, data)),
        *(Finding(*issue) for issue in staging_issues(data["staging"])),
        *_readmission(case, data),
        *_grade(case, data),
        *_resection_name(case, data),
        *_labs(case),
        *_nodes(case),
    ]
    return sorted(found, key=lambda f: f.severity != "warning")
