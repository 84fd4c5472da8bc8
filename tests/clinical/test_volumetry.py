"""BSA, standard liver volume, FLR % and minimum FLR (clinical-scores.md §9, Appendix B)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.volumetry import (
    MINIMUM_FLR_PERCENT,
    bsa_dubois,
    bsa_mosteller,
    flr_assessment,
    flr_percent,
    minimum_flr_percent,
    standard_liver_volume_urata,
    standard_liver_volume_vauthey,
    standardised_flr_percent,
)
from livermet.errors import InputError

# --- worked example (165 cm, 60 kg) -------------------------------------------------------------


def test_bsa_worked_example() -> None:
    assert bsa_mosteller(height_cm=165, weight_kg=60) == pytest.approx(1.658, abs=5e-4)
    assert bsa_dubois(height_cm=165, weight_kg=60) == pytest.approx(1.659, abs=5e-4)


def test_standard_liver_volume_worked_example() -> None:
    bsa = bsa_mosteller(height_cm=165, weight_kg=60)
    assert round(standard_liver_volume_urata(bsa)) == 1174
    assert round(standard_liver_volume_vauthey(bsa)) == 1307


def test_standard_liver_volume_formulas_at_bsa_1_658() -> None:
    assert standard_liver_volume_urata(1.658) == pytest.approx(706.2 * 1.658 + 2.4)
    assert standard_liver_volume_vauthey(1.658) == pytest.approx(-794.41 + 1267.28 * 1.658)


def test_standardised_flr_worked_example() -> None:
    bsa = bsa_mosteller(height_cm=165, weight_kg=60)
    urata = standardised_flr_percent(
        flr_ml=900, standard_liver_volume_ml=standard_liver_volume_urata(bsa)
    )
    vauthey = standardised_flr_percent(
        flr_ml=900, standard_liver_volume_ml=standard_liver_volume_vauthey(bsa)
    )
    assert round(urata, 1) == 76.7
    assert round(vauthey, 1) == 68.9
    assert flr_assessment(flr_percent=vauthey, liver_condition="normal").adequate is True


def test_measured_flr_subtracts_tumour() -> None:
    # 900 / (1500 - 100) * 100 = 64.29 %
    assert flr_percent(flr_ml=900, total_liver_ml=1500, tumour_ml=100) == pytest.approx(
        64.2857, abs=1e-4
    )
    assert flr_percent(flr_ml=300, total_liver_ml=1500) == pytest.approx(20.0)


# --- minimum FLR ------------------------------------------------------------------------------


def test_minimum_flr_by_condition() -> None:
    assert minimum_flr_percent("normal") == 20
    assert minimum_flr_percent("chemotherapy") == 30
    assert minimum_flr_percent("cirrhosis") == 40
    assert minimum_flr_percent(None) is None
    assert {"normal", "chemotherapy", "cirrhosis"} <= set(MINIMUM_FLR_PERCENT)


@pytest.mark.parametrize(
    ("flr", "condition", "adequate"),
    [
        (20.0, "normal", True),
        (19.99, "normal", False),
        (30.0, "chemotherapy", True),
        (29.99, "chemotherapy", False),
        (40.0, "cirrhosis", True),
        (39.99, "cirrhosis", False),
    ],
)
def test_flr_adequacy_threshold_both_sides(flr: float, condition: str, adequate: bool) -> None:
    r = flr_assessment(flr_percent=flr, liver_condition=condition)
    assert r.adequate is adequate
    assert r.minimum_percent == MINIMUM_FLR_PERCENT[condition]


def test_flr_threshold_after_volume_division() -> None:
    # 300/1500*100 is exactly 20 %, computed through a division
    flr = flr_percent(flr_ml=300, total_liver_ml=1600, tumour_ml=100)
    assert flr_assessment(flr_percent=flr, liver_condition="normal").adequate is True


def test_unknowns_and_array_mode() -> None:
    r = flr_assessment(flr_percent=[25.0, None, 35.0], liver_condition=["normal", "normal", None])
    assert list(r.adequate) == [True, None, None]
    np.testing.assert_array_equal(r.minimum_percent, [20.0, 20.0, np.nan])
    assert bsa_mosteller(height_cm=None, weight_kg=60) is None


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("height_cm", 99.0), ("height_cm", 231.0), ("weight_kg", 24.0), ("weight_kg", 251.0)],
)
def test_anthropometric_plausibility(field: str, value: float) -> None:
    kwargs = {"height_cm": 170.0, "weight_kg": 70.0, field: value}
    for bsa in (bsa_mosteller, bsa_dubois):
        with pytest.raises(InputError) as excinfo:
            bsa(**kwargs)
        assert field in str(excinfo.value)


def test_volume_errors_name_the_field() -> None:
    with pytest.raises(InputError, match="tumour_ml"):
        flr_percent(flr_ml=100, total_liver_ml=500, tumour_ml=500)
    with pytest.raises(InputError, match="flr_ml"):
        flr_percent(flr_ml=1500, total_liver_ml=1500, tumour_ml=100)
    with pytest.raises(InputError, match="flr_ml"):
        flr_percent(flr_ml=-5, total_liver_ml=1500)
    with pytest.raises(InputError, match="standard_liver_volume_ml"):
        standardised_flr_percent(flr_ml=500, standard_liver_volume_ml=0)
    with pytest.raises(InputError, match="bsa_m2"):
        standard_liver_volume_vauthey(0.3)
    with pytest.raises(InputError, match="liver_condition"):
        flr_assessment(flr_percent=30, liver_condition="fatty")
    with pytest.raises(InputError, match="flr_percent"):
        flr_assessment(flr_percent=-1, liver_condition="normal")


# --- properties ---------------------------------------------------------------------------------

heights = st.floats(100.0, 230.0)
weights = st.floats(25.0, 250.0)


@given(heights, heights, weights, weights)
def test_bsa_monotone(h1: float, h2: float, w1: float, w2: float) -> None:
    for bsa in (bsa_mosteller, bsa_dubois):
        small = bsa(height_cm=min(h1, h2), weight_kg=min(w1, w2))
        large = bsa(height_cm=max(h1, h2), weight_kg=max(w1, w2))
        assert small <= large


@given(heights, weights)
def test_bsa_and_slv_consistent(h: float, w: float) -> None:
    m = bsa_mosteller(height_cm=h, weight_kg=w)
    assert m == pytest.approx(math.sqrt(h * w / 3600))
    assert 0.7 <= m <= 4.5
    assert standard_liver_volume_vauthey(m) > 0
    assert standard_liver_volume_urata(m) > 0


@given(st.floats(0.0, 5000.0), st.floats(1.0, 5000.0))
def test_flr_percent_bounded(flr: float, extra: float) -> None:
    total = flr + extra  # at most 10 000 mL
    pct = flr_percent(flr_ml=flr, total_liver_ml=total)
    assert 0.0 <= pct <= 100.0


@given(
    st.lists(
        st.tuples(st.one_of(st.none(), heights), st.one_of(st.none(), weights)),
        min_size=1,
        max_size=8,
    )
)
def test_array_form_equals_scalar_form(rows: list[tuple[float | None, float | None]]) -> None:
    h, w = (list(c) for c in zip(*rows, strict=True))
    arr = bsa_dubois(height_cm=h, weight_kg=w)
    for i, (hi, wi) in enumerate(rows):
        one = bsa_dubois(height_cm=hi, weight_kg=wi)
        np.testing.assert_equal(arr[i], math.nan if one is None else one)
