"""Follow-up plans after resection of sarcoma / sarcoma metastases (clinical-scores.md §15).

Expected intervals come from the spec's ESMO/NCCN text, its toolkit default and worked example.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.clinical.surveillance import SurveillancePlan, surveillance_plan, visit_schedule
from livermet.errors import InputError


def _case_plan(start_month: float = 0.0) -> SurveillancePlan:
    # The case: LMS of the thigh, FNCLCC grade 3, resected liver metastasis = stage IV.
    return surveillance_plan(
        grade=3,
        stage="IV",
        metastasectomy=True,
        primary_site="right thigh",
        start_month=start_month,
    )


def _row_at(plan: SurveillancePlan, year: float):  # type: ignore[no-untyped-def]
    return next(
        r for r in plan.rows if r.from_year <= year and (r.to_year is None or year < r.to_year)
    )


def test_default_stage_iv_plan_intervals() -> None:
    plan = _case_plan()
    assert plan.risk_group == "high"
    # Years 1-2: every 3-4 months (ESMO); years 3-5: 6-monthly; then yearly.
    assert _row_at(plan, 0.0).interval_months == (3.0, 4.0)
    assert _row_at(plan, 1.99).interval_months == (3.0, 4.0)
    assert _row_at(plan, 2.0).interval_months == (6.0, 6.0)
    assert _row_at(plan, 4.99).interval_months == (6.0, 6.0)
    assert _row_at(plan, 5.0).interval_months == (12.0, 12.0)
    assert _row_at(plan, 30.0).interval_months == (12.0, 12.0)
    assert plan.rows[-1].to_year is None


def test_default_stage_iv_plan_modalities() -> None:
    plan = _case_plan()
    for row in plan.rows:
        assert any("CT chest + abdomen/pelvis" in m for m in row.modalities)
        assert "ESMO" in row.source and "NCCN" in row.source
    # MRI/US of the primary site in years 1-3 only.
    assert any("primary site (right thigh)" in m for m in _row_at(plan, 2.99).modalities)
    assert not any("primary site" in m for m in _row_at(plan, 3.0).modalities)
    assert not any("primary site" in m for m in _row_at(plan, 6.0).modalities)


def test_worked_example_visits_after_liver_resection() -> None:
    # §15: visits at +3-4, +6-8, +9-12 months ... to 2-3 years, then 6-monthly to 5 years, yearly.
    low = visit_schedule(_case_plan(), 10)
    assert low[:3] == [3.0, 6.0, 9.0]
    assert low[:8] == [3.0 * k for k in range(1, 9)]
    assert [t for t in low if 24 < t <= 60] == [30.0, 36.0, 42.0, 48.0, 54.0, 60.0]
    assert [t for t in low if t > 60] == [72.0, 84.0, 96.0, 108.0, 120.0]
    high = visit_schedule(_case_plan(), 1, bound="high")
    assert high == [4.0, 8.0, 12.0]


def test_start_month_shifts_the_timeline() -> None:
    # Liver resection at month 4 after the primary: visits on the primary's timeline.
    shifted = _case_plan(start_month=4.0).visit_schedule(1)
    assert shifted == [7.0, 10.0, 13.0, 16.0]


def test_horizon_boundary_is_inclusive() -> None:
    assert visit_schedule(_case_plan(), 2)[-1] == 24.0
    assert visit_schedule(_case_plan(), 23.9 / 12)[-1] == 21.0


def test_low_grade_plan() -> None:
    plan = surveillance_plan(grade=1, stage="IA")
    assert plan.risk_group == "low"
    assert _row_at(plan, 0.0).interval_months == (4.0, 6.0)
    assert _row_at(plan, 4.99).interval_months == (4.0, 6.0)
    assert _row_at(plan, 5.0).interval_months == (12.0, 12.0)
    assert any("chest imaging" in m for m in _row_at(plan, 0.0).modalities)
    assert plan.visit_schedule(1) == [4.0, 8.0, 12.0]
    assert plan.visit_schedule(1, bound="high") == [6.0, 12.0]


def test_intermediate_high_grade_without_metastases() -> None:
    plan = surveillance_plan(grade=2, stage="II")
    assert plan.risk_group == "high"
    assert _row_at(plan, 1.0).interval_months == (3.0, 4.0)
    assert any("chest CT" in m for m in _row_at(plan, 1.0).modalities)
    assert not any("abdomen" in m for m in _row_at(plan, 1.0).modalities)


@pytest.mark.parametrize(
    ("grade", "stage", "metastasectomy", "risk"),
    [
        (1, None, False, "low"),
        (None, "IB", False, "low"),
        (2, None, False, "high"),
        (3, None, False, "high"),
        (None, "IIIA", False, "high"),
        (None, "stage IV", False, "high"),
        (1, "IA", True, "high"),  # metastasectomy overrides low grade
        (None, None, False, "high"),  # unknown: the intensive plan by default
    ],
)
def test_risk_group(grade: int | None, stage: str | None, metastasectomy: bool, risk: str) -> None:
    plan = surveillance_plan(grade=grade, stage=stage, metastasectomy=metastasectomy)
    assert plan.risk_group == risk


def test_unknown_grade_and_stage_says_default() -> None:
    assert "default" in surveillance_plan(grade=None, stage=None).basis


def test_metastasectomy_uses_abdominal_ct_even_for_grade_1() -> None:
    plan = surveillance_plan(grade=1, stage=None, metastasectomy=True)
    assert any("abdomen/pelvis" in m for m in plan.rows[0].modalities)


@pytest.mark.parametrize("grade", [0, 4, "3", True, 2.5])
def test_invalid_grade_raises(grade: object) -> None:
    with pytest.raises(InputError) as info:
        surveillance_plan(grade=grade, stage=None)  # type: ignore[arg-type]
    assert info.value.field == "grade"


@pytest.mark.parametrize("stage", ["V", "IIC", "4", ""])
def test_invalid_stage_raises(stage: str) -> None:
    with pytest.raises(InputError) as info:
        surveillance_plan(grade=None, stage=stage)
    assert info.value.field == "stage"


@pytest.mark.parametrize("start", [-1.0, math.nan, math.inf])
def test_invalid_start_month_raises(start: float) -> None:
    with pytest.raises(InputError) as info:
        surveillance_plan(grade=3, stage="IV", start_month=start)
    assert "start_month" in str(info.value)


@pytest.mark.parametrize("horizon", [0, -1, math.nan])
def test_invalid_horizon_raises(horizon: float) -> None:
    with pytest.raises(InputError) as info:
        visit_schedule(_case_plan(), horizon)
    assert "horizon_years" in str(info.value)


def test_invalid_bound_raises() -> None:
    with pytest.raises(InputError):
        visit_schedule(_case_plan(), 5, bound="mid")  # type: ignore[arg-type]


plans = st.builds(
    surveillance_plan,
    grade=st.sampled_from([None, 1, 2, 3]),
    stage=st.sampled_from([None, "IA", "IB", "II", "IIIA", "IIIB", "IV"]),
    metastasectomy=st.booleans(),
    start_month=st.floats(min_value=0, max_value=120, allow_nan=False),
)


@settings(max_examples=150)
@given(plans, st.floats(min_value=0.1, max_value=20), st.sampled_from(["low", "high"]))
def test_schedule_is_increasing_bounded_and_follows_the_rows(
    plan: SurveillancePlan, horizon: float, bound: str
) -> None:
    visits = visit_schedule(plan, horizon, bound=bound)  # type: ignore[arg-type]
    relative = [round(t - plan.start_month, 6) for t in visits]
    assert all(b > a for a, b in itertools.pairwise(relative))
    assert all(0 < t <= horizon * 12 + 1e-6 for t in relative)
    previous = 0.0
    for t in relative:
        low, high = _row_at(plan, previous / 12).interval_months
        assert low - 1e-9 <= t - previous <= high + 1e-9
        previous = t


@settings(max_examples=100)
@given(plans, st.floats(min_value=0.1, max_value=10), st.floats(min_value=0, max_value=10))
def test_longer_horizon_extends_the_schedule(
    plan: SurveillancePlan, horizon: float, extra: float
) -> None:
    short = visit_schedule(plan, horizon)
    long = visit_schedule(plan, horizon + extra)
    assert long[: len(short)] == short
    assert len(visit_schedule(plan, horizon, bound="high")) <= len(short)


# --- an undecided grade gets the more frequent schedule ---------------------------------------


def test_undecided_grade_with_stage_ia_gets_the_high_grade_plan() -> None:
    # AJCC 8 groups GX with G1 (stage IA for T1 N0 M0), so the stage alone would choose the
    # low-grade plan; an FNCLCC range of 1-2 may be grade 2: ESMO's 3-4-monthly schedule.
    low = surveillance_plan(grade=None, stage="IA")
    assert low.risk_group == "low"
    assert low.rows[0].interval_months == (4.0, 6.0)
    plan = surveillance_plan(grade=None, stage="IA", grade_range=(1, 2))
    assert plan.risk_group == "high"
    assert plan.rows[0].interval_months == (3.0, 4.0)  # more frequent than 4-6 months
    assert "undecided (1-2)" in plan.basis


def test_grade_range_is_ignored_when_the_grade_is_decided() -> None:
    plan = surveillance_plan(grade=1, stage="IA", grade_range=(1, 1))
    assert plan.risk_group == "low"


def test_undecided_grade_visits_are_more_frequent_in_years_1_2() -> None:
    # ESMO rows: high grade 3-4-monthly in years 1-2 (visits 3, 6, ..., 24: 8), low grade
    # 4-6-monthly (4, 8, ..., 24: 6). In years 3-5 the low-grade 4-6-monthly local checks are
    # nominally more frequent than the high-grade 6-monthly visits (which add chest CT each time).
    low = surveillance_plan(grade=None, stage="IB").visit_schedule(2)
    high = surveillance_plan(grade=None, stage="IB", grade_range=(1, 3)).visit_schedule(2)
    assert (len(low), len(high)) == (6, 8)


@pytest.mark.parametrize("bad", [(0, 2), (2, 1), (1, 4), (1,), "1-2", (True, 2)])
def test_invalid_grade_range_raises(bad: object) -> None:
    with pytest.raises(InputError) as exc:
        surveillance_plan(grade=None, stage=None, grade_range=bad)  # type: ignore[arg-type]
    assert exc.value.field == "grade_range"
