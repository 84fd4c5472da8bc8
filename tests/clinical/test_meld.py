"""Test MELD, MELD-Na and MELD 3.0.

Worked examples (clinical-scores.md §5, Appendix B), UNOS bounds, rounding (half up, including
values exactly on .x5), unknowns, errors and properties.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.meld import meld, meld_3, meld_na, round_half_up
from livermet.errors import InputError

CASE = {"creatinine_mg_dl": 1.9, "bilirubin_mg_dl": 4.2, "inr": 1.2}


# --- worked examples ----------------------------------------------------------------------------


def test_medscape_example_meld_20() -> None:
    r = meld(**CASE)
    assert r.score == 20
    assert r.meld_i == pytest.approx(2.0039, abs=1e-4)  # recomputed in the spec


def test_meld_na_example_24_62_rounds_to_25() -> None:
    r = meld_na(**CASE, sodium_mmol_l=130)
    assert r.raw == pytest.approx(24.62, abs=1e-9)
    assert r.score == 25
    assert r.meld == 20


def test_meld_3_example_25_02_rounds_to_25() -> None:
    r = meld_3(**CASE, sodium_mmol_l=130, albumin_g_dl=3.0, female=False)
    assert r.raw == pytest.approx(25.02, abs=5e-3)
    assert r.score == 25


def test_normal_labs_floor_to_minimum_6() -> None:
    r = meld(creatinine_mg_dl=0.8, bilirubin_mg_dl=0.6, inr=1.0)
    assert r.score == 6
    assert r.meld_i == pytest.approx(0.643)
    assert r.components == {"creatinine_mg_dl": 1.0, "bilirubin_mg_dl": 1.0, "inr": 1.0}


# --- UNOS bounds --------------------------------------------------------------------------------


def test_creatinine_capped_at_4_and_dialysis_sets_4() -> None:
    at_cap = meld(creatinine_mg_dl=4.0, bilirubin_mg_dl=1.0, inr=1.0)
    above = meld(creatinine_mg_dl=7.5, bilirubin_mg_dl=1.0, inr=1.0)
    on_dialysis = meld(creatinine_mg_dl=1.2, bilirubin_mg_dl=1.0, inr=1.0, dialysis=True)
    # 0.957 ln 4 + 0.643 = 1.9697 -> 2.0 -> 20
    assert at_cap.score == above.score == on_dialysis.score == 20
    assert on_dialysis.components["creatinine_mg_dl"] == 4.0


def test_score_capped_at_40() -> None:
    r = meld(creatinine_mg_dl=10.0, bilirubin_mg_dl=40.0, inr=8.0)
    assert r.meld_i > 4.0
    assert r.score == 40


def test_dialysis_makes_creatinine_unnecessary() -> None:
    r = meld(creatinine_mg_dl=None, bilirubin_mg_dl=1.0, inr=1.0, dialysis=True)
    assert r.score == 20


def test_unknown_dialysis_decides_only_when_creatinine_at_cap() -> None:
    assert meld(creatinine_mg_dl=1.5, bilirubin_mg_dl=1.0, inr=1.0, dialysis=None).score is None
    assert meld(creatinine_mg_dl=4.5, bilirubin_mg_dl=1.0, inr=1.0, dialysis=None).score == 20


# --- rounding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (2.05, 1, 2.1),  # 2.05 is 2.04999... in binary; half up gives 2.1
        (0.25, 1, 0.3),
        (2.675, 2, 2.68),
        (24.5, 0, 25.0),
        (24.49, 0, 24.0),
        (6.4999, 0, 6.0),
        (0.0, 0, 0.0),
    ],
)
def test_round_half_up(value: float, decimals: int, expected: float) -> None:
    assert round_half_up(value, decimals) == pytest.approx(expected, abs=1e-12)


def test_meld_i_exactly_on_a_half_tenth_rounds_up() -> None:
    # Choose bilirubin so that MELD(i) = 0.378 ln(b) + 0.643 = 0.65 exactly (up to float noise):
    # rounded to the tenth (half up) 0.7 -> MELD 7.
    b = math.exp((0.65 - 0.643) / 0.378)
    r = meld(creatinine_mg_dl=1.0, bilirubin_mg_dl=b, inr=1.0)
    assert r.meld_i == pytest.approx(0.65, abs=1e-12)
    assert r.score == 7
    below = meld(creatinine_mg_dl=1.0, bilirubin_mg_dl=b * 0.999, inr=1.0)
    assert below.score == 6


# --- MELD-Na ------------------------------------------------------------------------------------


def test_meld_na_correction_only_above_11() -> None:
    # Cr 1.61: 0.957 ln 1.61 + 0.643 = 1.0988 -> 11; Cr 1.79: 1.2002 -> 12 (computed by hand)
    eleven = meld_na(creatinine_mg_dl=1.61, bilirubin_mg_dl=1.0, inr=1.0, sodium_mmol_l=125)
    assert (eleven.meld, eleven.score) == (11, 11)
    twelve = meld_na(creatinine_mg_dl=1.79, bilirubin_mg_dl=1.0, inr=1.0, sodium_mmol_l=130)
    # 12 + 1.32*7 - 0.033*12*7 = 18.468 -> 18
    assert twelve.meld == 12
    assert twelve.raw == pytest.approx(18.468)
    assert twelve.score == 18


def test_meld_na_sodium_clamped_to_125_137() -> None:
    low = meld_na(**CASE, sodium_mmol_l=118)
    at_125 = meld_na(**CASE, sodium_mmol_l=125)
    assert low.score == at_125.score
    assert low.sodium_used == 125.0
    high = meld_na(**CASE, sodium_mmol_l=142)
    assert high.sodium_used == 137.0
    assert high.score == 20  # no correction at Na 137


def test_meld_na_unknown_sodium_not_needed_when_meld_at_most_11() -> None:
    assert (
        meld_na(creatinine_mg_dl=0.8, bilirubin_mg_dl=0.6, inr=1.0, sodium_mmol_l=None).score == 6
    )
    assert meld_na(**CASE, sodium_mmol_l=None).score is None


def test_meld_na_capped_at_40() -> None:
    r = meld_na(creatinine_mg_dl=3.5, bilirubin_mg_dl=30.0, inr=4.0, sodium_mmol_l=120)
    assert r.score == 40


# --- MELD 3.0 -----------------------------------------------------------------------------------


def test_meld_3_female_adds_1_33() -> None:
    male = meld_3(**CASE, sodium_mmol_l=130, albumin_g_dl=3.0, female=False)
    female = meld_3(**CASE, sodium_mmol_l=130, albumin_g_dl=3.0, female=True)
    assert female.raw - male.raw == pytest.approx(1.33)
    assert female.score == 26  # 26.35


def test_meld_3_bounds() -> None:
    base = {"bilirubin_mg_dl": 2.0, "inr": 1.5, "sodium_mmol_l": 133, "female": False}
    cr3 = meld_3(creatinine_mg_dl=3.0, albumin_g_dl=3.0, **base)
    assert meld_3(creatinine_mg_dl=3.6, albumin_g_dl=3.0, **base).raw == pytest.approx(cr3.raw)
    dial = meld_3(creatinine_mg_dl=1.1, albumin_g_dl=3.0, dialysis=True, **base)
    assert dial.raw == pytest.approx(cr3.raw)
    assert dial.components["creatinine_mg_dl"] == 3.0
    alb35 = meld_3(creatinine_mg_dl=1.5, albumin_g_dl=3.5, **base)
    assert meld_3(creatinine_mg_dl=1.5, albumin_g_dl=4.4, **base).raw == pytest.approx(alb35.raw)
    alb15 = meld_3(creatinine_mg_dl=1.5, albumin_g_dl=1.5, **base)
    assert meld_3(creatinine_mg_dl=1.5, albumin_g_dl=1.1, **base).raw == pytest.approx(alb15.raw)


def test_meld_3_normal_labs_give_6() -> None:
    r = meld_3(
        creatinine_mg_dl=0.8,
        bilirubin_mg_dl=0.6,
        inr=1.0,
        sodium_mmol_l=140,
        albumin_g_dl=4.0,
        female=False,
    )
    assert r.raw == pytest.approx(6.0)
    assert r.score == 6


def test_meld_3_unknown_sex_gives_unknown_score() -> None:
    r = meld_3(**CASE, sodium_mmol_l=130, albumin_g_dl=3.0, female=None)
    assert r.score is None and r.raw is None


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("creatinine_mg_dl", 30.0),
        ("creatinine_mg_dl", 0.0),
        ("bilirubin_mg_dl", 80.0),
        ("inr", 0.2),
        ("dialysis", 2),
        ("dialysis", "yes"),
    ],
)
def test_meld_errors_name_the_field(field: str, value: object) -> None:
    with pytest.raises(InputError) as excinfo:
        meld(**{**CASE, field: value})
    assert field in str(excinfo.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [("sodium_mmol_l", 90.0), ("albumin_g_dl", 0.5), ("female", 3)],
)
def test_meld_3_errors_name_the_field(field: str, value: object) -> None:
    kwargs: dict[str, object] = {
        **CASE,
        "sodium_mmol_l": 135,
        "albumin_g_dl": 3.0,
        "female": False,
        field: value,
    }
    with pytest.raises(InputError) as excinfo:
        meld_3(**kwargs)
    assert field in str(excinfo.value)


# --- properties ---------------------------------------------------------------------------------

crs = st.floats(0.1, 25.0)
bilis = st.floats(0.1, 50.0)
inrs = st.floats(0.8, 10.0)
sodiums = st.floats(100.0, 180.0)
albumins = st.floats(1.0, 6.0)


@given(crs, bilis, inrs)
def test_meld_matches_independent_unos_restatement(cr: float, bili: float, inr: float) -> None:
    r = meld(creatinine_mg_dl=cr, bilirubin_mg_dl=bili, inr=inr)
    c, b, i = min(max(cr, 1.0), 4.0), max(bili, 1.0), max(inr, 1.0)
    meld_i = 0.957 * math.log(c) + 0.378 * math.log(b) + 1.120 * math.log(i) + 0.643
    assert r.meld_i == pytest.approx(meld_i)
    tenths = 10 * meld_i
    if abs(tenths - math.floor(tenths) - 0.5) > 1e-6:  # away from a tie
        assert r.score == min(40, math.floor(tenths + 0.5))
    assert 6 <= r.score <= 40


@given(crs, crs, bilis, inrs, sodiums)
def test_scores_monotone_in_creatinine(
    c1: float, c2: float, bili: float, inr: float, na: float
) -> None:
    lo, hi = sorted([c1, c2])
    labs = {"bilirubin_mg_dl": bili, "inr": inr}
    assert meld(creatinine_mg_dl=lo, **labs).score <= meld(creatinine_mg_dl=hi, **labs).score
    assert (
        meld_na(creatinine_mg_dl=lo, sodium_mmol_l=na, **labs).score
        <= meld_na(creatinine_mg_dl=hi, sodium_mmol_l=na, **labs).score
    )


@given(bilis, bilis, crs, inrs)
def test_meld_monotone_in_bilirubin(b1: float, b2: float, cr: float, inr: float) -> None:
    lo, hi = sorted([b1, b2])
    assert (
        meld(creatinine_mg_dl=cr, bilirubin_mg_dl=lo, inr=inr).score
        <= meld(creatinine_mg_dl=cr, bilirubin_mg_dl=hi, inr=inr).score
    )


@given(crs, bilis, inrs, sodiums, albumins, st.booleans(), st.booleans())
def test_meld_na_and_meld_3_bounded(
    cr: float, bili: float, inr: float, na: float, alb: float, female: bool, dialysis: bool
) -> None:
    labs = {"creatinine_mg_dl": cr, "bilirubin_mg_dl": bili, "inr": inr, "dialysis": dialysis}
    r_na = meld_na(**labs, sodium_mmol_l=na)
    assert 6 <= r_na.score <= 40
    r3 = meld_3(**labs, sodium_mmol_l=na, albumin_g_dl=alb, female=female)
    assert 6 <= r3.score <= 40


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), crs),
            bilis,
            inrs,
            st.one_of(st.none(), sodiums),
            albumins,
            st.one_of(st.none(), st.booleans()),
            st.one_of(st.none(), st.booleans()),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_array_form_equals_scalar_form(rows: list[tuple[object, ...]]) -> None:
    cr, bili, inr, na, alb, female, dial = (list(c) for c in zip(*rows, strict=True))
    labs = {"creatinine_mg_dl": cr, "bilirubin_mg_dl": bili, "inr": inr, "dialysis": dial}
    arr = meld(**labs)
    arr_na = meld_na(**labs, sodium_mmol_l=na)
    arr3 = meld_3(**labs, sodium_mmol_l=na, albumin_g_dl=alb, female=female)
    for i, row in enumerate(rows):
        one = {
            "creatinine_mg_dl": row[0],
            "bilirubin_mg_dl": row[1],
            "inr": row[2],
            "dialysis": row[6],
        }
        pairs = [
            (arr.score[i], meld(**one).score),
            (arr_na.score[i], meld_na(**one, sodium_mmol_l=row[3]).score),
            (
                arr3.score[i],
                meld_3(**one, sodium_mmol_l=row[3], albumin_g_dl=row[4], female=row[5]).score,
            ),
        ]
        for got, expected in pairs:
            np.testing.assert_equal(got, math.nan if expected is None else expected)


def test_meld_3_dialysis_worked_by_hand() -> None:
    # Cr 1.9 on dialysis -> 3.0 (Kim 2021); bili 4.2, INR 1.2, Na 130, albumin 3.0, male:
    # 4.56 ln4.2 = 6.5440; 0.82 x 7 = 5.74; -0.24 x 7 x ln4.2 = -2.4109; 9.09 ln1.2 = 1.6573;
    # 11.14 ln3 = 12.2385; 1.85 x 0.5 = 0.925; -1.83 x 0.5 x ln3 = -1.0052; + 6 -> 29.689 -> 30
    r = meld_3(**CASE, sodium_mmol_l=130, albumin_g_dl=3.0, female=False, dialysis=True)
    assert r.raw == pytest.approx(29.6887, abs=5e-4)
    assert r.score == 30
    assert r.components["creatinine_mg_dl"] == 3.0


def test_meld_3_uterine_example_by_hand() -> None:
    # Female, bili 0.9 -> 1.0, INR 1.0, Cr 0.8 -> 1.0, Na 140 -> 137, albumin 4.1 -> 3.5:
    # every log and deficit term is 0, so 1.33 + 6 = 7.33 -> 7 (UNOS MELD of the same labs: 6)
    r = meld_3(
        creatinine_mg_dl=0.8,
        bilirubin_mg_dl=0.9,
        inr=1.0,
        sodium_mmol_l=140,
        albumin_g_dl=4.1,
        female=True,
    )
    assert r.raw == pytest.approx(7.33)
    assert r.score == 7
