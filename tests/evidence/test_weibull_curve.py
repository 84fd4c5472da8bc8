"""The pooled Weibull curve on a time grid: :func:`livermet.evidence.survival.weibull_curve`."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.errors import InputError
from livermet.evidence.dataset import load_literature
from livermet.evidence.survival import WeibullSynthesis, weibull_curve, weibull_synthesis


@pytest.fixture(scope="module")
def model() -> WeibullSynthesis:
    return weibull_synthesis(load_literature())


def test_default_grid_is_every_half_month_to_ten_years(model: WeibullSynthesis) -> None:
    curve = weibull_curve(model)
    assert curve.times.shape == (241,) and curve.times[0] == 0 and curve.times[-1] == 120
    assert np.allclose(np.diff(curve.times), 0.5)
    s, lo, hi = model.curve(curve.times)
    assert np.array_equal(curve.survival, s)
    assert np.array_equal(curve.lower, lo) and np.array_equal(curve.upper, hi)
    assert curve.median[0] == model.median and curve.median[1:] == model.median_ci


def test_curve_starts_at_one_and_falls_inside_its_band(model: WeibullSynthesis) -> None:
    curve = weibull_curve(model, horizon=60.0, steps=61)
    assert curve.survival[0] == curve.lower[0] == curve.upper[0] == 1.0
    assert np.all(np.diff(curve.survival) <= 0)
    assert np.all(curve.lower <= curve.survival) and np.all(curve.survival <= curve.upper)


def test_points_are_the_fitted_series_points(model: WeibullSynthesis) -> None:
    curve = weibull_curve(model)
    assert len(curve.points) == len(model.points)
    ids = set(model.points["id"].astype(str))
    assert all(0 < s < 1 and t > 0 and label in ids for t, s, label in curve.points)


@pytest.mark.parametrize("horizon", [0.0, -12.0, math.nan, math.inf])
def test_a_horizon_that_is_not_a_positive_number_of_months_is_refused(
    model: WeibullSynthesis, horizon: float
) -> None:
    with pytest.raises(InputError, match="horizon must be a finite number of months") as err:
        weibull_curve(model, horizon)
    assert err.value.field == "horizon"


def test_a_grid_of_one_point_is_refused(model: WeibullSynthesis) -> None:
    with pytest.raises(InputError) as err:
        weibull_curve(model, steps=1)
    assert err.value.field == "steps"


@settings(max_examples=25, deadline=None)
@given(horizon=st.floats(0.5, 600.0), steps=st.integers(2, 400))
def test_any_grid_spans_zero_to_the_horizon(horizon: float, steps: int) -> None:
    curve = weibull_curve(_MODEL, horizon, steps)
    assert curve.times.shape == curve.survival.shape == (steps,)
    assert curve.times[0] == 0 and math.isclose(curve.times[-1], horizon)
    assert np.all((curve.survival > 0) & (curve.survival <= 1))


_MODEL = weibull_synthesis(load_literature())
