"""FNCLCC grade: spec §1 worked example, Appendix B vectors, every threshold, bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.fnclcc import (
    NECROSIS_CATEGORY_SCORES,
    differentiation_score_for,
    fnclcc_grade,
    grading_not_applicable_reason,
    mitoses_per_reference_10hpf,
    mitosis_score,
    necrosis_score,
)
from livermet.errors import InputError

# --- worked examples -----------------------------------------------------------------------


def test_case_conventional_lms_appendix_b() -> None:
    # Appendix B: conventional LMS, 42 mitoses, necrosis 60 % -> total 7, grade 3.
    result = fnclcc_grade(
        mitoses_per_10hpf=42,
        necrosis_percent=60,
        differentiation_score=differentiation_score_for("conventional leiomyosarcoma"),
    )
    assert (result.mitosis_score, result.necrosis_score, result.differentiation_score) == (3, 2, 2)
    assert result.total == 7
    assert result.grade == 3


def test_case_differentiation_unknown_is_bounded_grade_3() -> None:
    # Spec §1 / Appendix B: 42 mitoses, necrosis > 50 %, differentiation unknown -> 6-8, grade 3.
    result = fnclcc_grade(mitoses_per_10hpf=42, necrosis_category=">=50%")
    assert result.mitosis_score == 3
    assert result.necrosis_score == 2
    assert result.differentiation_score is None
    assert result.total is None
    assert (result.total_min, result.total_max) == (6, 8)
    assert (result.grade, result.grade_min, result.grade_max) == (3, 3, 3)


@pytest.mark.parametrize(("differentiation", "total"), [(1, 6), (2, 7), (3, 8)])
def test_case_grade_3_whatever_the_differentiation(differentiation: int, total: int) -> None:
    # Spec §1: pleomorphic LMS -> 8, even differentiation 1 -> 6; all grade 3.
    result = fnclcc_grade(
        mitoses_per_10hpf=42, necrosis_percent=60, differentiation_score=differentiation
    )
    assert result.total == total
    assert result.grade == 3


# --- component thresholds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mitoses", "score"),
    [(0, 1), (9, 1), (9.9, 1), (10, 2), (19, 2), (19.9, 2), (20, 3), (42, 3), (500, 3)],
)
def test_mitosis_score_thresholds(mitoses: float, score: int) -> None:
    assert mitosis_score(mitoses) == score


@pytest.mark.parametrize(
    ("percent", "score"), [(0, 0), (0.1, 1), (1, 1), (49.9, 1), (50, 2), (50.1, 2), (100, 2)]
)
def test_necrosis_score_thresholds(percent: float, score: int) -> None:
    assert necrosis_score(percent) == score


def test_necrosis_category_table() -> None:
    assert NECROSIS_CATEGORY_SCORES == {"none": 0, "<50%": 1, ">=50%": 2}
    for label, points in NECROSIS_CATEGORY_SCORES.items():
        assert fnclcc_grade(necrosis_category=label).necrosis_score == points
    assert fnclcc_grade(necrosis_category="≥ 50 %").necrosis_score == 2


@pytest.mark.parametrize(
    ("total_parts", "grade"),
    [
        ((1, 0, 1), 1),  # total 2
        ((1, 1, 1), 1),  # 3
        ((2, 1, 1), 2),  # 4
        ((2, 1, 2), 2),  # 5
        ((2, 2, 2), 3),  # 6
        ((3, 2, 3), 3),  # 8
    ],
)
def test_total_to_grade_boundaries(total_parts: tuple[int, int, int], grade: int) -> None:
    mitosis_points, necrosis_points, differentiation = total_parts
    mitoses = {1: 5, 2: 15, 3: 25}[mitosis_points]
    necrosis = {0: 0, 1: 20, 2: 70}[necrosis_points]
    result = fnclcc_grade(
        mitoses_per_10hpf=mitoses, necrosis_percent=necrosis, differentiation_score=differentiation
    )
    assert result.total == sum(total_parts)
    assert result.grade == grade


# --- unknown components --------------------------------------------------------------------


def test_all_unknown_gives_full_range_and_no_grade() -> None:
    result = fnclcc_grade()
    assert (result.total_min, result.total_max) == (2, 8)
    assert (result.grade_min, result.grade_max) == (1, 3)
    assert result.grade is None


def test_bounds_spanning_two_grades_give_no_grade() -> None:
    # mitosis 1 + necrosis 0, differentiation unknown: 2-4 -> grade 1 or 2.
    result = fnclcc_grade(mitoses_per_10hpf=3, necrosis_percent=0)
    assert (result.total_min, result.total_max) == (2, 4)
    assert result.grade is None
    assert (result.grade_min, result.grade_max) == (1, 2)


def test_missing_necrosis_bounded_to_same_grade() -> None:
    # mitosis 3 + differentiation 3, necrosis unknown (0-2) -> total 6-8 -> grade 3.
    result = fnclcc_grade(mitoses_per_10hpf=30, differentiation_score=3)
    assert (result.total_min, result.total_max) == (6, 8)
    assert result.grade == 3


# --- histology table -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("histology", "score"),
    [
        ("well-differentiated leiomyosarcoma", 1),
        ("conventional leiomyosarcoma", 2),
        ("Leiomyosarcoma", 2),  # unqualified -> conventional (documented default)
        ("LMS", 2),
        ("poorly differentiated leiomyosarcoma", 3),
        ("Pleomorphic LMS", 3),
        ("epithelioid leiomyosarcoma", 3),
        ("well differentiated liposarcoma", 1),
        ("myxoid liposarcoma", 2),
        ("round-cell liposarcoma", 3),
        ("pleomorphic liposarcoma", 3),
        ("dedifferentiated liposarcoma", 3),
        ("myxofibrosarcoma", 2),
        ("conventional MPNST", 2),
        ("poorly differentiated MPNST", 3),
        ("malignant Triton tumor", 3),
        ("synovial sarcoma", 3),
        ("rhabdomyosarcoma", 3),
        ("extraskeletal Ewing sarcoma", 3),
        ("undifferentiated pleomorphic sarcoma", 3),
        ("conventional angiosarcoma", 2),
        ("epithelioid angiosarcoma", 3),
        ("extraskeletal myxoid chondrosarcoma", 2),
    ],
)
def test_differentiation_table(histology: str, score: int) -> None:
    assert differentiation_score_for(histology) == score


@pytest.mark.parametrize("histology", ["liposarcoma", "sarcoma", "banana", ""])
def test_unknown_histology_is_none(histology: str) -> None:
    assert differentiation_score_for(histology) is None


def test_grading_not_applicable() -> None:
    assert grading_not_applicable_reason("alveolar soft part sarcoma") is not None
    assert grading_not_applicable_reason("clear cell sarcoma") is not None
    assert grading_not_applicable_reason("leiomyosarcoma", post_neoadjuvant=True) is not None
    assert grading_not_applicable_reason("leiomyosarcoma") is None


def test_hpf_normalisation() -> None:
    # 10 fields of 0.3468 mm² are twice the reference area: count halves.
    assert mitoses_per_reference_10hpf(20, 0.3468) == pytest.approx(10.0)
    assert mitoses_per_reference_10hpf(20, 0.1734) == pytest.approx(20.0)


# --- input errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mitoses_per_10hpf": -1}, "mitoses_per_10hpf"),
        ({"mitoses_per_10hpf": 501}, "mitoses_per_10hpf"),
        ({"necrosis_percent": -0.1}, "necrosis_percent"),
        ({"necrosis_percent": 100.1}, "necrosis_percent"),
        ({"necrosis_category": "lots"}, "necrosis_category"),
        ({"differentiation_score": 4}, "differentiation_score"),
        ({"differentiation_score": 0}, "differentiation_score"),
        ({"necrosis_percent": 10, "necrosis_category": ">=50%"}, "necrosis_category"),
        ({"mitoses_per_10hpf": "many"}, "mitoses_per_10hpf"),
    ],
)
def test_input_errors_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as info:
        fnclcc_grade(**kwargs)
    assert field in str(info.value)
    assert info.value.field == field


def test_hpf_area_out_of_range() -> None:
    with pytest.raises(InputError, match="hpf_area_mm2"):
        mitoses_per_reference_10hpf(10, 0)


# --- properties ----------------------------------------------------------------------------

counts = st.one_of(st.none(), st.integers(0, 500))
percents = st.one_of(st.none(), st.floats(0, 100))
diffs = st.one_of(st.none(), st.integers(1, 3))


@given(st.lists(st.tuples(counts, percents, diffs), min_size=1, max_size=20))
def test_scalar_equals_array(rows: list[tuple[int | None, float | None, int | None]]) -> None:
    as_nan = [
        [math.nan if v is None else float(v) for v in column] for column in zip(*rows, strict=True)
    ]
    arrays = fnclcc_grade(
        mitoses_per_10hpf=np.array(as_nan[0]),
        necrosis_percent=np.array(as_nan[1]),
        differentiation_score=np.array(as_nan[2]),
    )
    for i, (m, n, d) in enumerate(rows):
        one = fnclcc_grade(mitoses_per_10hpf=m, necrosis_percent=n, differentiation_score=d)
        for field in ("mitosis_score", "total", "total_min", "total_max", "grade", "grade_max"):
            got = getattr(arrays, field)[i]
            want = getattr(one, field)
            assert (math.isnan(got) and want is None) or got == want


@given(counts, percents, diffs)
def test_bounded_and_consistent(m: int | None, n: float | None, d: int | None) -> None:
    result = fnclcc_grade(mitoses_per_10hpf=m, necrosis_percent=n, differentiation_score=d)
    assert 2 <= result.total_min <= result.total_max <= 8
    assert 1 <= result.grade_min <= result.grade_max <= 3
    if result.total is not None:
        assert result.total_min == result.total == result.total_max
    if result.grade is not None:
        assert result.grade_min <= result.grade <= result.grade_max


@given(st.integers(0, 499), st.integers(1, 3), st.floats(0, 100))
def test_grade_monotone_in_mitoses(m: int, d: int, n: float) -> None:
    low = fnclcc_grade(mitoses_per_10hpf=m, necrosis_percent=n, differentiation_score=d)
    high = fnclcc_grade(mitoses_per_10hpf=m + 1, necrosis_percent=n, differentiation_score=d)
    assert high.total >= low.total
    assert high.grade >= low.grade


@given(st.floats(0, 99), st.floats(0, 1))
def test_necrosis_monotone(percent: float, step: float) -> None:
    assert necrosis_score(min(percent + step, 100.0)) >= necrosis_score(percent)
