"""The estimators run on tables of counts and sums; tables of parts add up to the whole.

This is what makes the federated analyses exact (``livermet.federated``): the pooled fit of a
set of patients equals the fit of the tables of any partition of them, summed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.analysis import CumulativeIncidence, KaplanMeier
from livermet.analysis.cox import (
    CoxNewton,
    cox_partial_likelihood,
    efron_loglik,
    risk_set_sums,
)
from livermet.analysis.km import event_table
from livermet.analysis.logrank import group_table, logrank_parts
from livermet.errors import InputError

# times on a coarse grid so that ties (within and across parts) are common
patients = st.integers(2, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 12), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),  # part (site) of each patient
        st.lists(st.floats(-2, 2), min_size=n, max_size=n),  # a covariate
    )
)


def _summed_table(t: np.ndarray, e: np.ndarray, part: np.ndarray) -> tuple[np.ndarray, ...]:
    grid = np.unique(t)
    events, censor = np.zeros(grid.size), np.zeros(grid.size)
    for p in np.unique(part):
        times, d, c = event_table(t[part == p], e[part == p])
        at = np.searchsorted(grid, times)
        events[at] += d
        censor[at] += c
    return grid, events, censor


@settings(max_examples=60, deadline=None)
@given(patients)
def test_kaplan_meier_of_summed_tables_is_the_pooled_curve(data: tuple[list[int], ...]) -> None:
    t, e, part = (np.asarray(v, dtype=float) for v in data[:3])
    whole = KaplanMeier().fit(t, e)
    summed = KaplanMeier().fit_table(*_summed_table(t, e, part))
    np.testing.assert_array_equal(summed.survival_, whole.survival_)
    np.testing.assert_array_equal(summed.n_risk_, whole.n_risk_)
    np.testing.assert_array_equal(summed.se_log_, whole.se_log_)
    assert summed.median_ == whole.median_
    assert (summed.n_, summed.events_) == (whole.n_, whole.events_)


@settings(max_examples=60, deadline=None)
@given(patients)
def test_cumulative_incidence_of_summed_tables_is_the_pooled_one(
    data: tuple[list[int], ...],
) -> None:
    t = np.asarray(data[0], dtype=float)
    kind = np.asarray(data[1]) * (1 + np.asarray(data[2]) % 2)  # 0 censored, 1 or 2
    whole = CumulativeIncidence().fit(t, kind, ["a", "b"])
    grid = np.unique(t)
    counts = np.zeros((grid.size, 3))
    np.add.at(counts, (np.searchsorted(grid, t), kind), 1.0)
    summed = CumulativeIncidence().fit_table(grid, counts[:, 1:], counts[:, 0], ["a", "b"])
    np.testing.assert_allclose(summed.pstate_, whole.pstate_, rtol=1e-13, atol=0)
    np.testing.assert_allclose(summed.std_err_, whole.std_err_, rtol=1e-12, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(patients)
def test_logrank_parts_add_over_strata(data: tuple[list[int], ...]) -> None:
    t, e = np.asarray(data[0], dtype=float), np.asarray(data[1], dtype=float)
    g = np.asarray(data[2]) % 2
    _, ending, deaths = group_table(t, e, g, 2)
    whole = logrank_parts(ending, deaths)
    # the pooled test from tables of two halves summed time by time on a common grid
    half = np.arange(t.size) % 2
    grid = np.unique(t)
    end_sum, death_sum = np.zeros((grid.size, 2)), np.zeros((grid.size, 2))
    for h in (0, 1):
        times, end_h, death_h = group_table(t[half == h], e[half == h], g[half == h], 2)
        end_sum[np.searchsorted(grid, times)] += end_h
        death_sum[np.searchsorted(grid, times)] += death_h
    summed = logrank_parts(end_sum, death_sum)
    np.testing.assert_allclose(summed.observed, whole.observed)
    np.testing.assert_allclose(summed.expected, whole.expected, rtol=1e-12)
    np.testing.assert_allclose(summed.variance, whole.variance, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(patients, st.floats(-1, 1))
def test_risk_set_sums_add_over_parts(data: tuple[list[int], ...], beta0: float) -> None:
    t, e, part = (np.asarray(v, dtype=float) for v in data[:3])
    x = np.column_stack([np.asarray(data[3]), part])
    if e.sum() == 0:
        with pytest.raises(InputError, match="no events"):
            cox_partial_likelihood(np.zeros(2), x, t, e)
        return
    beta = np.array([beta0, -0.5])
    grid = np.unique(t[e > 0])
    sums = [risk_set_sums(beta, x[part == p], t[part == p], e[part == p], grid) for p in (0, 1, 2)]
    total = sums[0] + sums[1] + sums[2]
    whole = cox_partial_likelihood(beta, x, t, e)
    for ties in ("efron", "breslow"):
        ours = efron_loglik(total, beta, ties)
        theirs = cox_partial_likelihood(beta, x, t, e, ties)
        assert ours[0] == pytest.approx(theirs[0], rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-10, atol=1e-10)
    assert whole[0] == pytest.approx(efron_loglik(total, beta)[0], rel=1e-12, abs=1e-12)


def test_an_event_time_missing_from_the_grid_is_refused() -> None:
    t = np.array([1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="missing from the event times"):
        risk_set_sums(np.zeros(1), np.ones((3, 1)), t, np.ones(3), np.array([1.0, 3.0]))


def test_newton_one_evaluation_at_a_time_reaches_the_optimum() -> None:
    # a one-parameter quadratic log-likelihood: one Newton step lands on the optimum
    newton = CoxNewton(1)
    newton.run(lambda b: (-((b[0] - 2.0) ** 2), np.array([-2.0 * (b[0] - 2.0)]), np.eye(1) * 2.0))
    assert newton.done and newton.beta == pytest.approx([2.0])
    assert (newton.iterations, newton.evaluations) == (2, 3)


def test_newton_that_does_not_converge_says_so() -> None:
    # a likelihood that keeps increasing: the steps never shrink
    newton = CoxNewton(1, max_iter=5)
    with pytest.raises(InputError, match="did not converge in 5 steps"):
        newton.run(lambda b: (float(b[0]), np.array([1.0]), np.eye(1)))


def test_table_with_a_negative_count_is_refused() -> None:
    with pytest.raises(InputError, match="whole numbers >= 0") as info:
        KaplanMeier().fit_table([1.0, 2.0], [1, -1], [0, 1])
    assert info.value.field == "n_event"
    with pytest.raises(InputError, match="distinct and ascending"):
        KaplanMeier().fit_table([2.0, 1.0], [1, 1], [0, 1])
    with pytest.raises(InputError, match="distinct and ascending"):
        CumulativeIncidence().fit_table([2.0, 1.0], [[1], [1]], [0, 1], ["a"])
