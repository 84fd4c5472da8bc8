"""ALBI: worked examples (clinical-scores.md §4 / Appendix B), cut-offs both sides, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.albi import (
    ALBI_ALBUMIN_COEFFICIENT,
    ALBI_ALBUMIN_COEFFICIENT_PRECISE,
    albi,
    albi_grade,
    malbi_grade,
)
from livermet.errors import InputError


def test_default_coefficient_is_the_published_rounded_value() -> None:
    assert ALBI_ALBUMIN_COEFFICIENT == -0.085
    assert ALBI_ALBUMIN_COEFFICIENT_PRECISE == -0.0852


def test_worked_example_grade_1() -> None:
    r = albi(bilirubin_mg_dl=0.5, albumin_g_dl=4.2)
    assert r.score == pytest.approx(-2.955, abs=5e-4)
    assert r.grade == 1
    assert r.malbi_grade == "1"
    assert r.bilirubin_umol_l == pytest.approx(8.55)
    assert r.albumin_g_l == pytest.approx(42.0)


def test_worked_example_grade_2b() -> None:
    r = albi(bilirubin_mg_dl=1.0, albumin_g_dl=3.5)
    assert r.score == pytest.approx(-2.161, abs=5e-4)
    assert r.grade == 2
    assert r.malbi_grade == "2b"


def test_boundary_vector_both_coefficients_grade_1() -> None:
    default = albi(bilirubin_mg_dl=0.7, albumin_g_dl=3.9)
    precise = albi(
        bilirubin_mg_dl=0.7,
        albumin_g_dl=3.9,
        albumin_coefficient=ALBI_ALBUMIN_COEFFICIENT_PRECISE,
    )
    assert default.score == pytest.approx(-2.603, abs=5e-4)
    assert precise.score == pytest.approx(-2.611, abs=5e-4)
    assert default.grade == precise.grade == 1
    assert precise.albumin_coefficient == -0.0852


@pytest.mark.parametrize(
    ("score", "grade", "malbi"),
    [
        (-3.5, 1, "1"),
        (-2.60, 1, "1"),
        (-2.5999, 2, "2a"),
        (-2.27, 2, "2a"),
        (-2.2699, 2, "2b"),
        (-1.39, 2, "2b"),
        (-1.3899, 3, "3"),
        (0.0, 3, "3"),
    ],
)
def test_cut_offs_both_sides(score: float, grade: int, malbi: str) -> None:
    assert albi_grade(score) == grade
    assert malbi_grade(score) == malbi


def test_unknown_input_gives_unknown_result() -> None:
    r = albi(bilirubin_mg_dl=None, albumin_g_dl=4.0)
    assert (r.score, r.grade, r.malbi_grade) == (None, None, None)


def test_array_mode() -> None:
    r = albi(bilirubin_mg_dl=[0.5, 1.0, None], albumin_g_dl=np.array([4.2, 3.5, 4.0]))
    np.testing.assert_allclose(r.score[:2], [-2.955, -2.161], atol=5e-4)
    assert math.isnan(r.score[2])
    np.testing.assert_array_equal(r.grade, [1.0, 2.0, np.nan])
    assert list(r.malbi_grade) == ["1", "2b", None]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bilirubin_mg_dl", 0.0),
        ("bilirubin_mg_dl", 0.05),  # 0.855 µmol/L < 1
        ("bilirubin_mg_dl", 50.0),  # 855 µmol/L > 850
        ("albumin_g_dl", 0.9),
        ("albumin_g_dl", 6.1),
    ],
)
def test_out_of_range_names_the_field(field: str, value: float) -> None:
    kwargs = {"bilirubin_mg_dl": 1.0, "albumin_g_dl": 4.0, field: value}
    with pytest.raises(InputError) as excinfo:
        albi(**kwargs)
    assert field in str(excinfo.value)


bilirubins = st.floats(0.06, 49.0)
albumins = st.floats(1.0, 6.0)


@given(bilirubins, bilirubins, albumins)
def test_score_increases_with_bilirubin(b1: float, b2: float, alb: float) -> None:
    lo, hi = sorted([b1, b2])
    r_lo = albi(bilirubin_mg_dl=lo, albumin_g_dl=alb)
    r_hi = albi(bilirubin_mg_dl=hi, albumin_g_dl=alb)
    assert r_lo.score <= r_hi.score
    assert r_lo.grade <= r_hi.grade


@given(bilirubins, albumins, albumins)
def test_score_decreases_with_albumin(bili: float, a1: float, a2: float) -> None:
    lo, hi = sorted([a1, a2])
    assert (
        albi(bilirubin_mg_dl=bili, albumin_g_dl=lo).score
        >= albi(bilirubin_mg_dl=bili, albumin_g_dl=hi).score
    )


@given(bilirubins, albumins)
def test_formula_and_coefficient_variant_gap(bili: float, alb: float) -> None:
    r = albi(bilirubin_mg_dl=bili, albumin_g_dl=alb)
    # independent restatement of Johnson 2015
    assert r.score == pytest.approx(0.66 * math.log10(bili * 17.1) - 0.085 * alb * 10)
    precise = albi(bilirubin_mg_dl=bili, albumin_g_dl=alb, albumin_coefficient=-0.0852)
    assert 0.0 < r.score - precise.score <= 0.0121
    assert r.grade in (1, 2, 3)


@given(
    st.lists(
        st.tuples(st.one_of(st.none(), bilirubins), st.one_of(st.none(), albumins)),
        min_size=1,
        max_size=8,
    )
)
def test_array_form_equals_scalar_form(rows: list[tuple[float | None, float | None]]) -> None:
    bili, alb = (list(c) for c in zip(*rows, strict=True))
    arr = albi(bilirubin_mg_dl=bili, albumin_g_dl=alb)
    for i, (b, a) in enumerate(rows):
        one = albi(bilirubin_mg_dl=b, albumin_g_dl=a)
        np.testing.assert_equal(arr.score[i], math.nan if one.score is None else one.score)
        np.testing.assert_equal(arr.grade[i], math.nan if one.grade is None else one.grade)
        assert arr.malbi_grade[i] == one.malbi_grade
