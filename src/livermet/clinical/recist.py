"""RECIST 1.1 tumour response from imaging time points.

Source: Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247 (criteria also
reproduced in the tables of several later reviews).

Rules implemented (pure functions on plain data):

- Sum of diameters (SoD): longest diameters of the non-nodal target lesions plus the short axes
  of the nodal target lesions.
- Baseline: the first time point with target measurements. Nadir: the smallest SoD on study
  *before* the time point being assessed, baseline included (the reference for progression).
- Target response: **CR** every non-nodal target gone (0 mm) and every nodal target < 10 mm
  short axis (the SoD may stay above 0); **PR** SoD at least 30 % below baseline; **PD** SoD at
  least 20 % above the nadir **and** at least 5 mm above it; **SD** otherwise. A baseline target
  lesion without a measurement at the time point: not all evaluated (**NE**).
- Non-target lesions (measured here only to know whether they have gone): **CR** every non-nodal
  non-target gone and every non-target node < 10 mm; **non-CR/non-PD** otherwise; not evaluated
  when a baseline non-target lesion is not measured. Unequivocal non-target progression is a
  radiologist's judgement, not a number: it is not derived here.
- Overall response (measurable disease): new lesions → PD; target PD → PD; target NE → NE; target
  CR with non-target CR (or none at baseline) → CR; target CR with non-target non-CR or not
  evaluated → PR; PR → PR; SD → SD. Disease with non-target lesions only: new lesions → PD;
  non-target CR → CR; otherwise "non-CR/non-PD"; not evaluated → NE.
- Measurability notes (not errors): a non-nodal target below 10 mm or a nodal target below 15 mm
  short axis at baseline, more than 5 targets or more than 2 per organ.

Not implemented: confirmation of a response (needed only where response is a trial's primary
endpoint), the 5 mm default for "too small to measure" (the case file gives a diameter), FDG-PET
rules, and the Choi criteria (GIST on tyrosine-kinase inhibitors only; leiomyosarcoma uses RECIST).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from livermet.clinical.units import parse_quantity
from livermet.errors import InputError

SOURCE: Final = "Eisenhauer EA, et al. Eur J Cancer 2009;45:228-247 (RECIST 1.1)"

PR_DECREASE_FROM_BASELINE: Final = 0.30
"""PR: SoD at least 30 % below the baseline SoD (Eisenhauer 2009)."""
PD_INCREASE_FROM_NADIR: Final = 0.20
"""PD: SoD at least 20 % above the nadir ... (Eisenhauer 2009)."""
PD_ABSOLUTE_INCREASE_MM: Final = 5.0
"""... and at least 5 mm above it (Eisenhauer 2009)."""
NODE_NORMAL_BELOW_MM: Final = 10.0
"""A lymph node below 10 mm short axis is normal (counts as gone for CR) (Eisenhauer 2009)."""
NODE_MEASURABLE_MM: Final = 15.0
"""A lymph node is measurable (can be a target) from 15 mm short axis (Eisenhauer 2009)."""
LESION_MEASURABLE_MM: Final = 10.0
"""A non-nodal lesion is measurable from 10 mm longest diameter on CT (slice <= 5 mm)
(Eisenhauer 2009)."""
MAX_TARGETS: Final = 5
MAX_TARGETS_PER_ORGAN: Final = 2
"""Up to 5 target lesions in total, at most 2 per organ (Eisenhauer 2009)."""

COMPARISON_TOLERANCE_MM: Final = 1e-9
"""Engineering choice: thresholds are compared with a 1e-9 mm tolerance so that an increase of
exactly 20 % (or a decrease of exactly 30 %) counts despite floating-point noise."""

Category = Literal["CR", "PR", "SD", "PD", "NE", "non-CR/non-PD"]
NonTarget = Literal["CR", "non-CR/non-PD", "not evaluated", "none"]


@dataclass(frozen=True)
class Lesion:
    """One lesion measured at one time point.

    Attributes
    ----------
    lesion
        Label, the same at every time point.
    diameter_mm
        Longest diameter (short axis for a lymph node) in mm; 0 for a lesion that has gone.
    organ
        Organ of the lesion.
    target
        A target lesion (else non-target).
    lymph_node
        A lymph node (its short axis is measured).
    """

    lesion: str
    diameter_mm: float
    organ: str = "liver"
    target: bool = True
    lymph_node: bool = False


@dataclass(frozen=True)
class TimePoint:
    """One imaging time point: its label (e.g. an ISO date), lesions and new lesions.

    ``new_lesions`` None = not recorded.
    """

    label: str
    lesions: tuple[Lesion, ...]
    new_lesions: bool | None = None


@dataclass(frozen=True)
class TimePointResponse:
    """Response at one time point after baseline."""

    label: str
    sum_mm: float | None
    nadir_mm: float
    nadir_label: str
    percent_change_from_baseline: float | None
    percent_change_from_nadir: float | None
    change_from_nadir_mm: float | None
    target_response: Category | None
    non_target_response: NonTarget
    new_lesions: bool | None
    category: Category
    rule: str


@dataclass(frozen=True)
class RecistResult:
    """RECIST 1.1 over a series of time points.

    ``responses`` has one entry per time point after baseline; ``current`` is the last one.
    ``baseline_mm`` is None when no time point has target lesions (non-target disease only).
    """

    baseline_label: str
    baseline_mm: float | None
    responses: tuple[TimePointResponse, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def current(self) -> TimePointResponse:
        """Return the response at the last time point."""
        return self.responses[-1]


def sum_of_diameters(lesions: Sequence[Lesion]) -> float:
    """SoD of the target lesions: longest diameters (non-nodal) + short axes (nodal), in mm."""
    return math.fsum(les.diameter_mm for les in lesions if les.target)


def _pct(value: float, reference: float) -> float | None:
    return None if reference == 0 else 100.0 * (value - reference) / reference


def _check(points: Sequence[TimePoint]) -> None:
    for i, tp in enumerate(points):
        seen: set[str] = set()
        for j, les in enumerate(tp.lesions):
            d = les.diameter_mm
            if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d):
                raise InputError(f"expected a diameter in mm, got {d!r}", f"[{i}].lesions[{j}]")
            if not 0 <= d <= 1000:
                raise InputError(
                    f"{d!r} mm is outside the accepted range for a diameter (0-1000 mm)",
                    f"[{i}].lesions[{j}]",
                )
            if les.lesion in seen:
                raise InputError(
                    f"lesion {les.lesion!r} is measured twice at one time point",
                    f"[{i}].lesions[{j}]",
                )
            seen.add(les.lesion)


def _notes(baseline: TimePoint) -> list[str]:
    notes: list[str] = []
    targets = [les for les in baseline.lesions if les.target]
    for les in targets:
        if les.lymph_node and les.diameter_mm < NODE_MEASURABLE_MM:
            notes.append(
                f"Target node {les.lesion} measures {les.diameter_mm:g} mm short axis at baseline;"
                f" RECIST 1.1 target nodes measure at least {NODE_MEASURABLE_MM:g} mm."
            )
        elif not les.lymph_node and les.diameter_mm < LESION_MEASURABLE_MM:
            notes.append(
                f"Target lesion {les.lesion} measures {les.diameter_mm:g} mm at baseline; RECIST "
                f"1.1 measurable lesions measure at least {LESION_MEASURABLE_MM:g} mm."
            )
    if len(targets) > MAX_TARGETS:
        notes.append(f"{len(targets)} target lesions; RECIST 1.1 allows at most {MAX_TARGETS}.")
    organs: dict[str, int] = {}
    for les in targets:
        organs[les.organ] = organs.get(les.organ, 0) + 1
    for organ, n in sorted(organs.items()):
        if n > MAX_TARGETS_PER_ORGAN:
            notes.append(
                f"{n} target lesions in the {organ}; RECIST 1.1 allows at most "
                f"{MAX_TARGETS_PER_ORGAN} per organ."
            )
    return notes


def _gone(les: Lesion) -> bool:
    if les.lymph_node:
        return les.diameter_mm < NODE_NORMAL_BELOW_MM
    return les.diameter_mm == 0


def _non_target(baseline: TimePoint, tp: TimePoint) -> NonTarget:
    labels = [les.lesion for les in baseline.lesions if not les.target]
    if not labels:
        return "none"
    by_label = {les.lesion: les for les in tp.lesions}
    if any(label not in by_label for label in labels):
        return "not evaluated"
    extra = [les for les in tp.lesions if not les.target and les.lesion not in labels]
    if all(_gone(by_label[label]) for label in labels) and all(_gone(x) for x in extra):
        return "CR"
    return "non-CR/non-PD"


def _target(
    baseline_mm: float, nadir_mm: float, targets: list[str], tp: TimePoint
) -> tuple[Category, float | None, str]:
    """Target response, SoD (None when not all evaluated) and the rule applied."""
    by_label = {les.lesion: les for les in tp.lesions}
    missing = [label for label in targets if label not in by_label]
    if missing:
        return "NE", None, "not all target lesions measured (" + ", ".join(missing) + ")"
    current = [by_label[label] for label in targets]
    total = math.fsum(les.diameter_mm for les in current)
    tol = COMPARISON_TOLERANCE_MM
    rise = total - nadir_mm
    if rise >= PD_INCREASE_FROM_NADIR * nadir_mm - tol and rise >= PD_ABSOLUTE_INCREASE_MM - tol:
        return (
            "PD",
            total,
            (
                f"sum {total:g} mm is {rise:+g} mm from the nadir {nadir_mm:g} mm: at least "
                f"{PD_INCREASE_FROM_NADIR * 100:g} % and at least {PD_ABSOLUTE_INCREASE_MM:g} mm "
                "above it"
            ),
        )
    if all(_gone(les) for les in current):
        return (
            "CR",
            total,
            (
                "every target lesion has gone (lymph nodes below "
                f"{NODE_NORMAL_BELOW_MM:g} mm short axis)"
            ),
        )
    if total - baseline_mm <= -PR_DECREASE_FROM_BASELINE * baseline_mm + tol:
        return (
            "PR",
            total,
            (
                f"sum {total:g} mm is at least {PR_DECREASE_FROM_BASELINE * 100:g} % below the "
                "baseline "
                f"{baseline_mm:g} mm"
            ),
        )
    why = []
    if rise > 0:
        why.append(
            f"{rise:+g} mm from the nadir {nadir_mm:g} mm (PD needs at least "
            f"+{PD_INCREASE_FROM_NADIR * 100:g} % and +{PD_ABSOLUTE_INCREASE_MM:g} mm)"
        )
    pct = _pct(total, baseline_mm)
    if pct is not None:
        why.append(
            f"{pct:+.1f} % from the baseline (PR needs {-PR_DECREASE_FROM_BASELINE * 100:g} % "
            "or less)"
        )
    return "SD", total, f"sum {total:g} mm: " + "; ".join(why)


def recist_response(points: Sequence[TimePoint]) -> RecistResult:
    """RECIST 1.1 response at every time point after baseline, in the order given.

    Parameters
    ----------
    points
        Imaging time points in chronological order. Time points before the first one with any
        measured lesion are ignored; the first one with target lesions is the baseline (with
        non-target lesions only, the first one with any lesion).

    Returns
    -------
    RecistResult

    Raises
    ------
    InputError
        Fewer than two time points with measurements after the baseline ("imaging"), a diameter
        outside 0-1000 mm, a lesion measured twice at one time point, a baseline without
        lesions above 0 mm.
    """
    _check(points)
    measured = [i for i, tp in enumerate(points) if tp.lesions]
    with_targets = [i for i in measured if any(les.target for les in points[i].lesions)]
    if not measured:
        raise InputError("no imaging time point has lesion measurements", "imaging")
    start = with_targets[0] if with_targets else measured[0]
    baseline = points[start]
    later = list(points[start + 1 :])
    if not later:
        raise InputError(
            "RECIST needs a time point after the baseline; only the baseline is measured",
            "imaging",
        )
    notes = _notes(baseline)
    if not with_targets:
        return RecistResult(
            baseline.label,
            None,
            tuple(_non_target_only(baseline, tp) for tp in later),
            tuple(notes),
        )
    targets = [les.lesion for les in baseline.lesions if les.target]
    baseline_mm = sum_of_diameters(baseline.lesions)
    if baseline_mm <= 0:
        raise InputError("the baseline target lesions sum to 0 mm", "imaging")
    nadir_mm, nadir_label = baseline_mm, baseline.label
    responses: list[TimePointResponse] = []
    for tp in later:
        target, total, rule = _target(baseline_mm, nadir_mm, targets, tp)
        notes.extend(_unseen_lesions_note(baseline, tp))
        non_target = _non_target(baseline, tp)
        category, rule = _overall(target, rule, non_target, tp.new_lesions)
        if tp.new_lesions is None and category != "PD":
            notes.append(
                f"New lesions are not recorded at {tp.label}; the response assumes none "
                "(an unequivocal new lesion would make it PD)."
            )
        responses.append(
            TimePointResponse(
                label=tp.label,
                sum_mm=total,
                nadir_mm=nadir_mm,
                nadir_label=nadir_label,
                percent_change_from_baseline=None if total is None else _pct(total, baseline_mm),
                percent_change_from_nadir=None if total is None else _pct(total, nadir_mm),
                change_from_nadir_mm=None if total is None else total - nadir_mm,
                target_response=target,
                non_target_response=non_target,
                new_lesions=tp.new_lesions,
                category=category,
                rule=rule,
            )
        )
        if total is not None and total < nadir_mm:
            nadir_mm, nadir_label = total, tp.label
    return RecistResult(baseline.label, baseline_mm, tuple(responses), tuple(notes))


def _unseen_lesions_note(baseline: TimePoint, tp: TimePoint) -> list[str]:
    """Return a note on lesions first measured after the baseline (none: an empty list)."""
    known = {les.lesion for les in baseline.lesions}
    unseen = [les.lesion for les in tp.lesions if les.lesion not in known]
    if not unseen:
        return []
    return [
        f"{', '.join(unseen)} first measured at {tp.label}, after the baseline: not a "
        "target; an unequivocal new lesion is progression (record it as a new lesion)."
    ]


def _overall(
    target: Category, rule: str, non_target: NonTarget, new_lesions: bool | None
) -> tuple[Category, str]:
    """Return the overall response and its rule from the target and non-target responses.

    New lesions are progression; target PD or NE decides; a target CR is a PR unless the
    non-target lesions have gone too (RECIST 1.1, docs/clinical.md#recist-11).
    """
    if new_lesions:
        return "PD", "new lesion(s)" + (f"; target {target}: {rule}")
    if target == "PD":
        return "PD", f"target lesions: {rule}"
    if target == "NE":
        return "NE", rule
    if target == "CR":
        if non_target in ("CR", "none"):
            return "CR", rule
        return "PR", rule + f"; non-target lesions {non_target}, so the overall response is PR"
    return target, rule


def _non_target_only(baseline: TimePoint, tp: TimePoint) -> TimePointResponse:
    non_target = _non_target(baseline, tp)
    category: Category
    if tp.new_lesions:
        category, rule = "PD", "new lesion(s)"
    elif non_target == "CR":
        category, rule = "CR", "every non-target lesion has gone (no target lesions)"
    elif non_target == "not evaluated":
        category, rule = "NE", "not every non-target lesion was assessed (no target lesions)"
    else:
        category, rule = "non-CR/non-PD", "non-target lesions persist (no target lesions)"
    return TimePointResponse(
        label=tp.label,
        sum_mm=None,
        nadir_mm=0.0,
        nadir_label=baseline.label,
        percent_change_from_baseline=None,
        percent_change_from_nadir=None,
        change_from_nadir_mm=None,
        target_response=None,
        non_target_response=non_target,
        new_lesions=tp.new_lesions,
        category=category,
        rule=rule,
    )


_ZERO = re.compile(r"^\s*0+(?:\.0*)?\s*(?:mm|cm|m)?\s*$")


def diameter_mm(value: str | float, field: str) -> float:
    """Return a lesion diameter in mm.

    The value is a size with its unit (``"22 mm"``, ``"2.2 cm"``, a bare number in mm), or 0 for a
    lesion that has gone (RECIST records a vanished lesion as 0 mm).

    Raises
    ------
    InputError
        naming ``field`` for an unreadable value, an unknown unit or a size outside 0-1000 mm.
    """
    if (isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0) or (
        isinstance(value, str) and _ZERO.match(value)
    ):
        return 0.0
    return parse_quantity(value, "size", field).value
