"""The scalar/array plumbing: the one-patient fast paths give what the array paths give."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical import _vector as V
from livermet.errors import InputError

BOOL0 = st.booleans().map(np.array)
CHOICE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.integers(-5, 5),
    st.sampled_from(["met", "failed", None]).map(lambda v: np.array(v, dtype=object)),
    st.floats(-1e6, 1e6).map(np.array),
)


def assert_same(a: object, b: object) -> None:
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    assert a_arr.dtype == b_arr.dtype
    assert a_arr.shape == b_arr.shape
    if a_arr.dtype.kind == "f":
        np.testing.assert_array_equal(a_arr, b_arr)  # NaN equals NaN here
    else:
        assert a_arr.tolist() == b_arr.tolist()


@given(st.data(), st.integers(1, 4))
def test_select_matches_numpy_for_one_patient(data: st.DataObject, n: int) -> None:
    conds = data.draw(st.lists(BOOL0, min_size=n, max_size=n))
    kinds = data.draw(st.sampled_from(["float", "object"]))
    pool = CHOICE.filter(lambda v: (np.asarray(v).dtype == object) == (kinds == "object"))
    choices = data.draw(st.lists(pool, min_size=n, max_size=n))
    default = data.draw(pool)
    assert_same(V.select(conds, choices, default), np.select(conds, choices, default))


@given(st.lists(st.floats(-10, 10), min_size=1, max_size=6))
def test_select_matches_numpy_for_arrays(values: list[float]) -> None:
    x = np.asarray(values)
    conds, choices = [x < 0, x < 5], [x * 2, np.full_like(x, 7.0)]
    assert_same(V.select(conds, choices, np.nan), np.select(conds, choices, np.nan))


def test_select_keeps_numpy_errors() -> None:
    with pytest.raises(TypeError):  # a condition must be boolean, as np.select requires
        V.select([np.array(1)], [1.0], 0.0)
    with pytest.raises(ValueError):
        V.select([np.array(True)], [1.0, 2.0], 0.0)


@given(st.one_of(st.integers(-1000, 1000), st.floats(allow_nan=True), st.booleans()))
def test_as_float_array_scalar_path_matches_array_path(value: float) -> None:
    fast = V.as_float_array(value, "x")
    general = V.as_float_array([value], "x")[0]
    assert fast.shape == () and fast.dtype == np.float64
    np.testing.assert_array_equal(fast, general)


@given(st.one_of(st.none(), st.sampled_from(["G1", "G2", "G3", "GX", "G4", "g1", ""])))
def test_as_label_array_scalar_path_matches_array_path(value: str | None) -> None:
    allowed = ("G1", "G2", "G3", "GX")
    try:
        general = V.as_label_array(np.asarray([value], dtype=object), "grade", allowed)
    except InputError as err:
        with pytest.raises(InputError) as fast_err:
            V.as_label_array(value, "grade", allowed)
        assert (fast_err.value.message, fast_err.value.field) == (err.message, err.field)
        return
    fast = V.as_label_array(value, "grade", allowed)
    assert fast.shape == () and fast.dtype == object
    assert fast.item() == general[0]


@given(st.lists(st.one_of(st.sampled_from([1.0, 2.0, 3.0, np.nan]), st.floats(-5, 5))))
def test_first_not_in(values: list[float]) -> None:
    allowed = (1.0, 2.0, 3.0)
    expected = next((v for v in values if not np.isnan(v) and v not in allowed), None)
    assert V.first_not_in(np.asarray(values, dtype=float), allowed) == expected
    for v in values:  # one patient at a time
        want = None if np.isnan(v) or v in allowed else v
        assert V.first_not_in(np.array(v), allowed) == want


def test_is_scalar() -> None:
    assert V.is_scalar(1, 2.5, "G3", None, np.float64(1.0), np.array(2.0))
    assert not V.is_scalar(1, [1, 2])
    assert not V.is_scalar(np.array([1.0]))


@given(st.one_of(st.floats(allow_nan=True), st.none()))
def test_check_range_scalar_and_array_agree(value: float | None) -> None:
    arr = V.as_float_array(value, "x")
    outcomes = []
    for values in (arr, arr.reshape(1)):
        try:
            V.check_range(values, "x", 0.0, 100.0, "%")
            outcomes.append("ok")
        except InputError as err:
            outcomes.append(err.message)
    assert outcomes[0] == outcomes[1]


# --- fast paths of the batch: band codes, flag columns, unknown labels --------------------------

BOUNDS = st.lists(st.floats(-50, 50), min_size=1, max_size=5, unique=True).map(sorted)
VALUES = st.lists(
    st.one_of(st.floats(-60, 60), st.just(math.nan), st.sampled_from([-10.0, 0.0, 10.0, 20.0])),
    min_size=1,
    max_size=40,
)


@given(VALUES, BOUNDS, st.booleans())
def test_band_codes_number_bands_as_digitize(
    values: list[float], bounds: list[float], right: bool
) -> None:
    x = np.asarray(values + bounds)  # the bounds themselves are the boundary values
    codes = V.band_codes(x, bounds, right=right)
    want = np.where(np.isnan(x), -1, np.digitize(x, bounds, right=right))
    assert codes.dtype == np.int8
    np.testing.assert_array_equal(codes, want)


@given(VALUES, BOUNDS, st.data())
def test_band_codes_with_a_side_per_bound(
    values: list[float], bounds: list[float], data: st.DataObject
) -> None:
    sides = data.draw(st.lists(st.booleans(), min_size=len(bounds), max_size=len(bounds)))
    x = np.asarray(values + bounds)
    want = np.zeros(x.shape, dtype=int)
    for bound, strict in zip(bounds, sides, strict=True):
        want += (x > bound) if strict else (x >= bound)
    want[np.isnan(x)] = -1
    np.testing.assert_array_equal(V.band_codes(x, bounds, right=sides), want)
    for value in x[:5]:  # one patient (0-d) as in the cohort
        assert (
            V.band_codes(np.array(value), bounds, right=sides).item()
            == V.band_codes(np.array([value]), bounds, right=sides)[0]
        )


FLAG_LIKE = [True, False, 1, 0, 1.0, 0.0, np.True_, np.False_, np.int64(1), None, math.nan]
OTHER = ["1", "yes", 2, 0.5, pd.NA, math.inf]


def _objects(values: list[object]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@given(st.lists(st.sampled_from(FLAG_LIKE + OTHER), max_size=30))
def test_flags_as_float_reads_flags_as_pandas_does(values: list[object]) -> None:
    array = _objects(values)
    fast = V.flags_as_float(array)
    if all(any(v is f for f in FLAG_LIKE) for v in values):
        assert fast is not None and fast.dtype == np.float64
        want = pd.to_numeric(pd.Series(array, dtype=object)).to_numpy(np.float64, na_value=np.nan)
        np.testing.assert_array_equal(fast, want)
    else:  # anything else is left to the general conversion
        assert fast is None


@given(st.lists(st.sampled_from(["a", "b", None, math.nan, pd.NA]), max_size=30))
def test_unknowns_as_none(values: list[object]) -> None:
    array = _objects(values)
    out = V.unknowns_as_none(array)
    unknown = pd.isna(array).tolist()
    assert [None if u else v for v, u in zip(values, unknown, strict=True)] == out.tolist()
    if all(v is None for v, u in zip(values, unknown, strict=True) if u):
        assert out is array  # None is the only unknown: no copy
    else:
        assert array.tolist() == values  # the input is left as it was
