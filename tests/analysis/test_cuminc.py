"""Aalen-Johansen cumulative incidence: variance, codings, ties and refused input."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from livermet.analysis import CumulativeIncidence, KaplanMeier, cumulative_incidence
from livermet.errors import InputError


def _weighted_aj(
    t: npt.NDArray[np.float64], kind: npt.NDArray[np.int64], w: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Case-weighted Aalen-Johansen written directly from its definition (a slow reference)."""
    state = np.array([1.0, 0.0, 0.0])
    out = []
    for tj in np.unique(t):
        at_risk = w[t >= tj].sum()
        d = np.array([w[(t == tj) & (kind == k)].sum() for k in (1, 2)])
        before = state[0]
        state = np.r_[before * (1 - d.sum() / at_risk), state[1:] + before * d / at_risk]
        out.append(state)
    return np.array(out)


def test_standard_errors_are_the_infinitesimal_jackknife() -> None:
    # R's std.err is sqrt(sum_i U_i^2), U_i = d(estimate)/d(weight of patient i): check the
    # closed form against central differences of the weighted estimator, with tied times.
    rng = np.random.default_rng(20240611)
    n = 40
    t = np.round(rng.exponential(8.0, n))
    kind = rng.integers(0, 3, n)
    fit = CumulativeIncidence().fit(t, kind, ["a", "b"])
    h = 1e-6
    eye = np.eye(n)
    influence = np.array(
        [
            (_weighted_aj(t, kind, 1 + h * eye[i]) - _weighted_aj(t, kind, 1 - h * eye[i]))
            / (2 * h)
            for i in range(n)
        ]
    )
    assert fit.pstate_ == pytest.approx(_weighted_aj(t, kind, np.ones(n)), abs=1e-15)
    assert fit.std_err_**2 == pytest.approx((influence**2).sum(axis=0), abs=1e-9)


def test_without_censoring_it_is_the_binomial_variance() -> None:
    # no censoring: F_k(t) is a plain proportion, its jackknife variance p (1 - p) / n
    t = np.array([1, 2, 2, 3, 4, 4, 4, 6, 7, 9], dtype=float)
    kind = np.array([1, 2, 1, 1, 2, 1, 2, 1, 2, 1])
    fit = CumulativeIncidence().fit(t, kind, ["a", "b"])
    at4 = fit.at([4]).set_index("state")
    p_a = np.mean((t <= 4) & (kind == 1))
    assert at4.loc["a", "probability"] == pytest.approx(p_a, abs=1e-15)
    assert at4.loc["a", "std_err"] == pytest.approx(np.sqrt(p_a * (1 - p_a) / 10), rel=1e-12)


def test_states_sum_to_one_and_event_free_is_kaplan_meier(cohort: pd.DataFrame) -> None:
    fit = cumulative_incidence(cohort, "efs_months", "first_event")
    assert fit.states_ == ["event-free", "death", "recurrence"]  # sorted by default
    assert fit.pstate_.sum(axis=1) == pytest.approx(np.ones(fit.time_.size), abs=1e-14)
    any_event = KaplanMeier().fit(cohort["efs_months"], cohort["first_event"] != "censored")
    assert fit.incidence("event-free") == pytest.approx(any_event.survival_, abs=1e-14)


def test_tied_times_of_different_types_are_not_jittered() -> None:
    # two events at t = 2 of different types: each takes half of the drop, every run
    data = pd.DataFrame({"t": [1, 2, 2, 3], "what": ["censored", "a", "b", "a"]})
    fit = cumulative_incidence(data, "t", "what")
    at2 = fit.at([2]).set_index("state")["probability"]
    assert at2.to_dict() == pytest.approx({"event-free": 1 / 3, "a": 1 / 3, "b": 1 / 3})


def test_two_column_coding_gives_the_same_estimates(cohort: pd.DataFrame) -> None:
    labels = cumulative_incidence(
        cohort, "efs_months", "first_event", event_types=["recurrence", "death"]
    )
    flags = cohort.assign(
        recurrence=(cohort["first_event"] == "recurrence").astype(int),
        death_first=(cohort["first_event"] == "death").astype(int),
    )
    columns = cumulative_incidence(flags, "efs_months", "recurrence", competing="death_first")
    assert columns.states_ == ["event-free", "recurrence", "death_first"]
    assert columns.pstate_ == pytest.approx(labels.pstate_, abs=0)
    assert columns.std_err_ == pytest.approx(labels.std_err_, abs=0)


def test_bounds_use_the_log_transform_by_default(cohort: pd.DataFrame) -> None:
    fit = cumulative_incidence(cohort, "efs_months", "first_event")
    row = fit.at([12]).set_index("state").loc["recurrence"]
    z = 1.959963984540054
    se_log = row["std_err"] / row["probability"]
    assert row["lower"] == pytest.approx(row["probability"] * np.exp(-z * se_log), rel=1e-12)
    assert row["upper"] == pytest.approx(row["probability"] * np.exp(z * se_log), rel=1e-12)


def test_unknown_outcome_label_names_row_and_column() -> None:
    data = pd.DataFrame({"t": [1, 2, 3], "what": ["censored", "relapse", "death"]})
    with pytest.raises(InputError) as info:
        cumulative_incidence(data, "t", "what", event_types=["recurrence", "death"])
    assert info.value.field == "what"
    assert "row 2: 'relapse' is not a known outcome" in info.value.message


def test_both_flags_set_is_refused() -> None:
    data = pd.DataFrame({"t": [1, 2], "rec": [1, 1], "dead": [0, 1]})
    with pytest.raises(InputError) as info:
        cumulative_incidence(data, "t", "rec", competing="dead")
    assert info.value.field == "dead"
    assert "row 2" in info.value.message


def test_censoring_code_cannot_be_an_event_type() -> None:
    data = pd.DataFrame({"t": [1, 2], "what": ["none", "death"]})
    with pytest.raises(InputError, match="both a censoring code and an event type"):
        cumulative_incidence(data, "t", "what", event_types=["none", "death"])
