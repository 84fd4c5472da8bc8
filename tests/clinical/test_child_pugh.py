"""Child-Pugh: worked examples, every threshold on both sides, unknowns, errors, properties.

Expected values come from clinical-scores.md §3 and Appendix B (Pugh 1973 table), not from the code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.child_pugh import (
    THRESHOLDS_CONVENTIONAL,
    THRESHOLDS_SI,
    ChildPughResult,
    child_pugh,
    child_pugh_class,
)
from livermet.errors import InputError

NORMAL: dict[str, Any] = {
    "bilirubin_mg_dl": 0.7,
    "albumin_g_dl": 3.9,
    "inr": 1.0,
    "ascites": "none",
    "encephalopathy": "none",
}


def score(**overrides: Any) -> ChildPughResult:
    return child_pugh(**{**NORMAL, **overrides})


# --- worked examples (Appendix B) ---------------------------------------------------------------


def test_normal_labs_give_5_points_class_a() -> None:
    r = child_pugh(
        bilirubin_mg_dl=0.7, albumin_g_dl=3.9, inr=1.0, ascites="none", encephalopathy="none"
    )
    assert r.points == 5
    assert r.child_class == "A"
    assert r.points_min == r.points_max == 5
    assert r.components == {
        "bilirubin": 1,
        "albumin": 1,
        "inr": 1,
        "ascites": 1,
        "encephalopathy": 1,
    }
    assert r.thresholds == THRESHOLDS_CONVENTIONAL


def test_second_worked_example_gives_9_points_class_b() -> None:
    r = child_pugh(
        bilirubin_mg_dl=2.5, albumin_g_dl=3.0, inr=1.8, ascites="mild", encephalopathy="none"
    )
    assert r.points == 9
    assert r.child_class == "B"
    assert r.components == {
        "bilirubin": 2,
        "albumin": 2,
        "inr": 2,
        "ascites": 2,
        "encephalopathy": 1,
    }


# --- thresholds, both sides (closed middle band) ------------------------------------------------


@pytest.mark.parametrize(
    ("bilirubin", "points"), [(1.99, 1), (2.0, 2), (2.5, 2), (3.0, 2), (3.01, 3), (10.0, 3)]
)
def test_bilirubin_mg_dl_bands(bilirubin: float, points: int) -> None:
    assert score(bilirubin_mg_dl=bilirubin).components["bilirubin"] == points


@pytest.mark.parametrize(
    ("albumin", "points"), [(3.51, 1), (3.5, 2), (3.0, 2), (2.8, 2), (2.79, 3), (1.5, 3)]
)
def test_albumin_g_dl_bands(albumin: float, points: int) -> None:
    assert score(albumin_g_dl=albumin).components["albumin"] == points


@pytest.mark.parametrize(("inr", "points"), [(1.69, 1), (1.7, 2), (2.0, 2), (2.3, 2), (2.31, 3)])
def test_inr_bands(inr: float, points: int) -> None:
    assert score(inr=inr).components["inr"] == points


@pytest.mark.parametrize(("label", "points"), [("none", 1), ("mild", 2), ("moderate-severe", 3)])
def test_ascites_points(label: str, points: int) -> None:
    assert score(ascites=label).components["ascites"] == points


@pytest.mark.parametrize(("label", "points"), [("none", 1), ("grade 1-2", 2), ("grade 3-4", 3)])
def test_encephalopathy_points(label: str, points: int) -> None:
    assert score(encephalopathy=label).components["encephalopathy"] == points


def test_bilirubin_converted_from_umol_at_upper_limit_stays_in_middle_band() -> None:
    # 51.3 µmol/L / 17.1 = 3.0000000000000004 in floating point; it is 3.0 mg/dL -> 2 points.
    assert score(bilirubin_mg_dl=51.3 / 17.1).components["bilirubin"] == 2


# --- SI table (applied when the value was reported in µmol/L, g/L) ------------------------------


@pytest.mark.parametrize(
    ("umol_l", "points"), [(33.9, 1), (34.0, 2), (42.0, 2), (50.0, 2), (50.1, 3)]
)
def test_si_bilirubin_bands(umol_l: float, points: int) -> None:
    r = score(bilirubin_mg_dl=umol_l / 17.1, si_units=True)
    assert r.components["bilirubin"] == points
    assert r.thresholds == THRESHOLDS_SI


@pytest.mark.parametrize(("g_l", "points"), [(35.1, 1), (35.0, 2), (28.0, 2), (27.9, 3)])
def test_si_albumin_bands(g_l: float, points: int) -> None:
    assert score(albumin_g_dl=g_l / 10, si_units=True).components["albumin"] == points


def test_si_and_conventional_tables_differ_between_34_and_34_2_umol() -> None:
    # 34 µmol/L = 1.988 mg/dL: 2 points by the SI table, 1 point by the mg/dL table (spec §0).
    assert score(bilirubin_mg_dl=34 / 17.1, si_units=True).components["bilirubin"] == 2
    assert score(bilirubin_mg_dl=34 / 17.1).components["bilirubin"] == 1


# --- classes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "expected"),
    [(5, "A"), (6, "A"), (7, "B"), (9, "B"), (10, "C"), (15, "C")],
)
def test_class_limits(points: int, expected: str) -> None:
    assert child_pugh_class(points) == expected


def test_class_limits_through_the_score() -> None:
    assert score(inr=1.8).points == 6 and score(inr=1.8).child_class == "A"
    assert score(inr=1.8, ascites="mild").child_class == "B"  # 7
    r = score(
        bilirubin_mg_dl=2.5, albumin_g_dl=3.0, inr=1.8, ascites="mild", encephalopathy="grade 1-2"
    )
    assert (r.points, r.child_class) == (10, "C")
    worst = child_pugh(
        bilirubin_mg_dl=5.0,
        albumin_g_dl=2.0,
        inr=3.0,
        ascites="moderate-severe",
        encephalopathy="grade 3-4",
    )
    assert (worst.points, worst.child_class) == (15, "C")


def test_class_out_of_range_rejected() -> None:
    with pytest.raises(ValueError):
        child_pugh_class(4)


# --- unknown components -------------------------------------------------------------------------


def test_unknown_component_gives_bounds_and_undecided_class() -> None:
    r = score(bilirubin_mg_dl=None)
    assert r.points is None
    assert (r.points_min, r.points_max) == (5, 7)
    assert r.child_class is None  # 5-7 straddles A/B
    assert r.components["bilirubin"] is None


def test_unknown_component_class_decided_when_bounds_agree() -> None:
    r = child_pugh(
        bilirubin_mg_dl=None,
        albumin_g_dl=2.0,
        inr=3.0,
        ascites="moderate-severe",
        encephalopathy="grade 3-4",
    )
    assert r.points is None
    assert (r.points_min, r.points_max) == (13, 15)
    assert r.child_class == "C"


def test_two_unknowns_inside_class_b() -> None:
    # known: bili 2, albumin 2, INR 2 = 6; ascites & encephalopathy unknown -> 8..12 (B or C)
    r = child_pugh(
        bilirubin_mg_dl=2.5, albumin_g_dl=3.0, inr=1.8, ascites=None, encephalopathy=None
    )
    assert (r.points_min, r.points_max) == (8, 12)
    assert r.child_class is None


def test_all_unknown() -> None:
    r = child_pugh(
        bilirubin_mg_dl=None, albumin_g_dl=None, inr=None, ascites=None, encephalopathy=None
    )
    assert (r.points, r.child_class, r.points_min, r.points_max) == (None, None, 5, 15)


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bilirubin_mg_dl", 60.0),
        ("bilirubin_mg_dl", 0.05),
        ("albumin_g_dl", 0.5),
        ("albumin_g_dl", 7.0),
        ("inr", 0.5),
        ("inr", 12.0),
        ("ascites", "severe"),
        ("encephalopathy", "grade 2"),
        ("bilirubin_mg_dl", "high"),
    ],
)
def test_out_of_domain_input_names_the_field(field: str, value: object) -> None:
    with pytest.raises(InputError) as excinfo:
        score(**{field: value})
    assert field in str(excinfo.value)
    assert excinfo.value.field == field


# --- array mode ---------------------------------------------------------------------------------


def test_array_mode_with_unknowns() -> None:
    r = child_pugh(
        bilirubin_mg_dl=np.array([0.7, np.nan, 2.5]),
        albumin_g_dl=[3.9, 3.9, 3.0],
        inr=np.array([1.0, 1.0, 1.8]),
        ascites=["none", "none", "mild"],
        encephalopathy=["none", "none", None],
    )
    np.testing.assert_array_equal(r.points, [5.0, np.nan, np.nan])
    np.testing.assert_array_equal(r.points_min, [5.0, 5.0, 9.0])
    np.testing.assert_array_equal(r.points_max, [5.0, 7.0, 11.0])
    assert list(r.child_class) == ["A", None, None]
    assert r.child_class.dtype == object


# --- properties ---------------------------------------------------------------------------------

bilirubins = st.floats(0.1, 50.0)
albumins = st.floats(1.0, 6.0)
inrs = st.floats(0.8, 10.0)
ascites_labels = st.sampled_from(["none", "mild", "moderate-severe", None])
enc_labels = st.sampled_from(["none", "grade 1-2", "grade 3-4", None])


@given(bilirubins, bilirubins, albumins, inrs)
def test_points_monotone_in_bilirubin(b1: float, b2: float, alb: float, inr: float) -> None:
    lo, hi = sorted([b1, b2])
    p_lo = score(bilirubin_mg_dl=lo, albumin_g_dl=alb, inr=inr).points
    p_hi = score(bilirubin_mg_dl=hi, albumin_g_dl=alb, inr=inr).points
    assert p_lo <= p_hi


@given(albumins, albumins, inrs)
def test_points_monotone_decreasing_in_albumin(a1: float, a2: float, inr: float) -> None:
    lo, hi = sorted([a1, a2])
    assert score(albumin_g_dl=lo, inr=inr).points >= score(albumin_g_dl=hi, inr=inr).points


@given(
    st.one_of(st.none(), bilirubins),
    st.one_of(st.none(), albumins),
    st.one_of(st.none(), inrs),
    ascites_labels,
    enc_labels,
)
def test_bounds_hold(
    bili: float | None, alb: float | None, inr: float | None, asc: str | None, enc: str | None
) -> None:
    r = child_pugh(bilirubin_mg_dl=bili, albumin_g_dl=alb, inr=inr, ascites=asc, encephalopathy=enc)
    assert 5 <= r.points_min <= r.points_max <= 15
    if r.points is not None:
        assert r.points_min == r.points == r.points_max
        assert r.child_class == child_pugh_class(r.points)
    if r.child_class is not None:
        assert child_pugh_class(r.points_min) == child_pugh_class(r.points_max) == r.child_class


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), bilirubins),
            st.one_of(st.none(), albumins),
            st.one_of(st.none(), inrs),
            ascites_labels,
            enc_labels,
        ),
        min_size=1,
        max_size=8,
    ),
    st.booleans(),
)
def test_array_form_equals_scalar_form(rows: list[tuple[object, ...]], si: bool) -> None:
    cols = list(zip(*rows, strict=True))
    arr = child_pugh(
        bilirubin_mg_dl=np.array([np.nan if v is None else v for v in cols[0]]),
        albumin_g_dl=list(cols[1]),
        inr=list(cols[2]),
        ascites=list(cols[3]),
        encephalopathy=list(cols[4]),
        si_units=si,
    )
    for i, (b, a, n, asc, enc) in enumerate(rows):
        one = child_pugh(
            bilirubin_mg_dl=b, albumin_g_dl=a, inr=n, ascites=asc, encephalopathy=enc, si_units=si
        )
        expected_points = math.nan if one.points is None else one.points
        np.testing.assert_equal(arr.points[i], expected_points)
        assert arr.points_min[i] == one.points_min
        assert arr.points_max[i] == one.points_max
        assert arr.child_class[i] == one.child_class


# --- bounded class at the class limits (A 5-6 | B 7-9 | C 10-15) -------------------------------


@pytest.mark.parametrize(
    ("known", "expected_range", "expected_class"),
    [
        # four known items score 1 each (4) + unknown encephalopathy 1..3 -> 5..7: A or B
        ({"ascites": "none"}, (5, 7), None),
        # known 5 (ascites mild) -> 6..8: straddles 6/7
        ({"ascites": "mild"}, (6, 8), None),
        # known 6 (ascites mild, INR 1.8) -> 7..9: B whatever the encephalopathy
        ({"ascites": "mild", "inr": 1.8}, (7, 9), "B"),
        # known 7 -> 8..10: straddles 9/10
        ({"ascites": "mild", "inr": 1.8, "albumin_g_dl": 3.0}, (8, 10), None),
        # bili 3 + albumin 2 + INR 2 + ascites 2 = 9 known -> 10..12: C
        (
            {"ascites": "mild", "inr": 1.8, "albumin_g_dl": 3.0, "bilirubin_mg_dl": 3.5},
            (10, 12),
            "C",
        ),
    ],
)
def test_one_unknown_item_at_the_class_limits(
    known: dict[str, Any], expected_range: tuple[int, int], expected_class: str | None
) -> None:
    r = score(encephalopathy=None, **known)
    assert r.points is None
    assert (r.points_min, r.points_max) == expected_range
    assert r.child_class == expected_class


def test_two_unknown_items_decide_c_from_known_10() -> None:
    # bili 3 + albumin 3 + INR 3 = 9 known; ascites, encephalopathy unknown -> 11..15: C
    r = child_pugh(
        bilirubin_mg_dl=4.0, albumin_g_dl=2.5, inr=2.5, ascites=None, encephalopathy=None
    )
    assert (r.points_min, r.points_max, r.child_class) == (11, 15, "C")


_ITEMS = ("bilirubin_mg_dl", "albumin_g_dl", "inr", "ascites", "encephalopathy")


@given(
    bilirubins,
    albumins,
    inrs,
    st.sampled_from(["none", "mild", "moderate-severe"]),
    st.sampled_from(["none", "grade 1-2", "grade 3-4"]),
    st.sets(st.sampled_from(_ITEMS), min_size=1),
)
def test_range_always_contains_the_complete_data_points(
    bili: float, alb: float, inr: float, asc: str, enc: str, hidden: set[str]
) -> None:
    full: dict[str, Any] = dict(zip(_ITEMS, (bili, alb, inr, asc, enc), strict=True))
    complete = child_pugh(**full)
    kwargs: dict[str, Any] = {k: (None if k in hidden else v) for k, v in full.items()}
    partial = child_pugh(**kwargs)
    assert partial.points_min <= complete.points <= partial.points_max
    if partial.child_class is not None:  # a decided class is the class of the complete data
        assert partial.child_class == complete.child_class
