"""ICG-K and ICG-Kf: worked examples (clinical-scores.md §7, Appendix B), limits, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.icg import ICG_KF_MIN_ACCEPTABLE, icg_clearance, icg_k, icg_kf
from livermet.errors import InputError


def test_case_r15_4_3_gives_k_0_2098() -> None:
    assert icg_k(4.3) == pytest.approx(0.2098, abs=5e-5)
    r = icg_clearance(4.3)
    assert r.r15_percent == 4.3
    assert r.k_per_min == pytest.approx(0.20977, abs=5e-6)
    assert r.pdr_percent_per_min == pytest.approx(20.98, abs=5e-3)


@pytest.mark.parametrize(("r15", "k"), [(10.0, 0.154), (20.0, 0.107), (30.0, 0.080), (40.0, 0.061)])
def test_reference_conversions(r15: float, k: float) -> None:
    assert icg_k(r15) == pytest.approx(k, abs=5e-4)


def test_case_kf_with_flr_fraction_0_75() -> None:
    r = icg_kf(k_per_min=0.2098, flr_fraction=0.75)
    assert r.kf == pytest.approx(0.157, abs=5e-4)
    assert r.acceptable is True
    assert r.threshold == ICG_KF_MIN_ACCEPTABLE == 0.05


@pytest.mark.parametrize(
    ("k", "fraction", "acceptable"),
    [
        (0.1, 0.5, True),  # exactly 0.05
        (0.25, 0.2, True),  # 0.05000000000000001 in floating point, still exactly 0.05
        (0.1, 0.4999, False),  # 0.04999
        (0.1, 0.5001, True),
    ],
)
def test_kf_threshold_both_sides(k: float, fraction: float, acceptable: bool) -> None:
    assert icg_kf(k_per_min=k, flr_fraction=fraction).acceptable is acceptable


def test_kf_threshold_is_configurable() -> None:
    r = icg_kf(k_per_min=0.1, flr_fraction=0.45, threshold=0.04)
    assert r.acceptable is True
    assert r.threshold == 0.04
    assert icg_kf(k_per_min=0.1, flr_fraction=0.45).acceptable is False


def test_unknown_inputs() -> None:
    assert icg_k(None) is None
    r = icg_kf(k_per_min=None, flr_fraction=0.6)
    assert r.kf is None and r.acceptable is None


def test_array_mode() -> None:
    k = icg_k(np.array([10.0, 20.0, np.nan]))
    np.testing.assert_allclose(k[:2], [0.154, 0.107], atol=5e-4)
    assert math.isnan(k[2])
    r = icg_kf(k_per_min=[0.2, 0.08, None], flr_fraction=0.6)
    assert list(r.acceptable) == [True, False, None]


@pytest.mark.parametrize("r15", [140.0, 100.0, 0.0, -1.0])
def test_r15_outside_open_interval_rejected_naming_field(r15: float) -> None:
    with pytest.raises(InputError) as excinfo:
        icg_k(r15)
    assert "icg_r15_percent" in str(excinfo.value)
    assert excinfo.value.field == "icg_r15_percent"


@pytest.mark.parametrize(
    ("field", "value"),
    [("flr_fraction", 1.2), ("flr_fraction", 0.0), ("k_per_min", 0.0), ("k_per_min", 1.5)],
)
def test_kf_inputs_out_of_range(field: str, value: float) -> None:
    kwargs = {"k_per_min": 0.2, "flr_fraction": 0.5, field: value}
    with pytest.raises(InputError) as excinfo:
        icg_kf(**kwargs)
    assert field in str(excinfo.value)


r15s = st.floats(0.01, 99.99)


@given(r15s, r15s)
def test_k_decreases_as_retention_increases(a: float, b: float) -> None:
    lo, hi = sorted([a, b])
    assert icg_k(lo) >= icg_k(hi) > 0.0


@given(r15s)
def test_k_inverts_mono_exponential_model(r15: float) -> None:
    # R15 = 100 exp(-15 K)
    assert 100.0 * math.exp(-15.0 * icg_k(r15)) == pytest.approx(r15)


@given(st.floats(0.001, 1.0), st.floats(0.001, 1.0))
def test_kf_never_exceeds_k(k: float, fraction: float) -> None:
    r = icg_kf(k_per_min=k, flr_fraction=fraction)
    assert 0.0 < r.kf <= k
    assert r.acceptable == (r.kf >= 0.05 - 1e-9)


@given(st.lists(st.one_of(st.none(), r15s), min_size=1, max_size=8))
def test_array_form_equals_scalar_form(values: list[float | None]) -> None:
    arr = icg_k(values)
    for i, v in enumerate(values):
        one = icg_k(v)
        np.testing.assert_equal(arr[i], math.nan if one is None else one)
