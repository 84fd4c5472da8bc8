"""Property tests: a curve made from known patients is reconstructed faithfully.

Simulate patients, fit their Kaplan-Meier curve with the project's own estimator
(`livermet.analysis.km`, checked against R survival elsewhere), "digitise" it exactly (both
corners of every step, and the curve at each risk-table time, as docs/reconstruction.md advises
a digitiser to do), publish its numbers at risk every 6 or 12 months, reconstruct, and compare.

Stated tolerances (docs/reconstruction.md#limits):

- numbers at risk at the published times: equal, except where the algorithm reports that it
  lowered a published number it could not reach (then the reconstructed one is lower);
- survival up to the last published time: within one patient's share of the number truly at
  risk, |S_rec(t) - S(t)| < 1 / n(t) (so below 0.05 wherever 20 or more are at risk); beyond
  the last published time the censoring is extrapolated and nothing is promised.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from livermet.analysis.km import KaplanMeier
from livermet.evidence.reconstruct import DigitisedCurve, RiskTableInput, clean_curve, reconstruct
from livermet.evidence.reconstruct.risk import unit_mismatch


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, float]:
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(10, 250))
    rng = np.random.default_rng(seed)
    shape, scale = rng.uniform(0.6, 2.5), rng.uniform(8, 60)
    death = np.round(scale * rng.weibull(shape, n), 2)
    censor = np.round(rng.uniform(0, rng.uniform(15, 150), n), 2)
    time = np.maximum(np.minimum(death, censor), 0.01)
    event = (death <= censor).astype(np.int64)
    step = draw(st.sampled_from([3.0, 6.0, 12.0]))
    return time, event, step


def _digitise(km: KaplanMeier, risk_times: np.ndarray, end: float) -> DigitisedCurve:
    drops = km.n_event_ > 0
    t, s = km.time_[drops], km.survival_[drops]
    before = np.r_[1.0, s][:-1]
    times = np.r_[0.0, np.repeat(t, 2), risk_times, end]
    surv = np.r_[
        1.0, np.column_stack([before, s]).ravel(), km.survival_at(risk_times), km.survival_at([end])
    ]
    return DigitisedCurve.from_arrays(times, surv)


def assert_numbers_at_risk_kept(risk) -> None:  # type: ignore[no-untyped-def]
    kept = ~risk["lowered"]
    assert (risk.loc[kept, "reconstructed"] == risk.loc[kept, "published"]).all(), risk
    assert (risk.loc[~kept, "reconstructed"] < risk.loc[~kept, "published"]).all(), risk


@settings(max_examples=150, deadline=None)
@given(cohorts())
def test_known_patients_are_reconstructed_within_tolerance(
    cohort: tuple[np.ndarray, np.ndarray, float],
) -> None:
    time, event, step = cohort
    truth = KaplanMeier().fit(time, event)
    risk_times = np.arange(0.0, float(time.max()), step)
    published = truth.at(risk_times)["n_risk"].to_numpy(dtype=float)
    curve = clean_curve(_digitise(truth, risk_times, float(time.max())))
    result = reconstruct(
        curve, RiskTableInput(risk_times, published, np.arange(2, risk_times.size + 2))
    )
    assert result.ipd.shape[0] == time.size
    assert set(result.ipd["event"].unique()) <= {0, 1}
    assert_numbers_at_risk_kept(result.risk)
    rebuilt = KaplanMeier().fit(result.ipd["time"], result.ipd["event"])
    grid = np.linspace(0.0, float(risk_times.max()), 300)
    diff = np.abs(rebuilt.survival_at(grid) - truth.survival_at(grid))
    n_true = truth.at(grid)["n_risk"].to_numpy(dtype=float)
    assert np.all(diff < 1.0 / np.maximum(n_true, 1.0))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(0, 40), min_size=2, max_size=60),
    st.lists(st.floats(-0.049, 1.049), min_size=2, max_size=60),
)
def test_cleaning_always_gives_a_curve_from_the_origin_that_never_rises(
    times: list[float], surv: list[float]
) -> None:
    k = min(len(times), len(surv))
    out = clean_curve(DigitisedCurve.from_arrays(times[:k], surv[:k]), scale="proportion")
    assert (out.time[0], out.survival[0]) == (0.0, 1.0)
    assert np.all(np.diff(out.time) >= 0)
    assert np.all(np.diff(out.survival) <= 0)
    assert np.all((out.survival >= 0) & (out.survival <= 1))
    assert out.time.size - int(out.added_origin) + len(out.removed) + len(out.dropped_start) == k


@settings(max_examples=60, deadline=None)
@given(cohorts())
def test_reconstruction_is_deterministic_and_counts_every_patient(
    cohort: tuple[np.ndarray, np.ndarray, float],
) -> None:
    time, event, step = cohort
    truth = KaplanMeier().fit(time, event)
    risk_times = np.arange(0.0, float(time.max()), step)
    table = RiskTableInput(
        risk_times, truth.at(risk_times)["n_risk"].to_numpy(dtype=float), np.arange(risk_times.size)
    )
    curve = clean_curve(_digitise(truth, risk_times, float(time.max())))
    first, second = reconstruct(curve, table), reconstruct(curve, table)
    assert first.ipd.equals(second.ipd)
    t = first.table
    assert int(t.n_event.sum()) == int(first.ipd["event"].sum())
    assert np.all(t.n_event >= 0) and np.all(t.n_censor >= 0)


@st.composite
def messy_inputs(draw: st.DrawFn) -> tuple[DigitisedCurve, RiskTableInput, int | None]:
    """Draw a hand-digitised curve and a risk table that need not agree with it.

    The curve has noise, points out of order, a little below 0 or above 1.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(2, 60))
    t = np.round(rng.uniform(-0.5, 40, k), 2)
    drop = np.sort(rng.uniform(0, 1, k)) * rng.uniform(0, 1)
    s = np.round(np.clip(1 - drop + rng.normal(0, 0.03, k), -0.049, 1.049), 3)
    end = float(max(t.max(), 0.0))
    m = draw(st.integers(0, 4))
    times = np.unique(np.r_[0.0, np.round(rng.uniform(0, end, m), 1)])
    times = times[times <= end]
    n0 = draw(st.integers(1, 300))
    n = np.sort(rng.integers(0, n0 + 1, times.size))[::-1]
    n[0] = n0
    total = draw(st.one_of(st.none(), st.integers(0, n0)))
    return (
        DigitisedCurve.from_arrays(t, s),
        RiskTableInput(times, n.astype(float), np.arange(2, times.size + 2)),
        total,
    )


@settings(max_examples=200, deadline=None)
@given(messy_inputs())
def test_any_consistent_input_gives_a_valid_cohort(
    case: tuple[DigitisedCurve, RiskTableInput, int | None],
) -> None:
    curve, table, total = case
    zero = np.flatnonzero(table.n_risk == 0)
    if zero.size:  # no curve after the first time with no one at risk (that is refused)
        kept = curve.time <= table.time[zero[0]]
        assume(bool(kept.any()))
        curve = DigitisedCurve.from_arrays(curve.time[kept], curve.survival[kept])
    cleaned = clean_curve(curve, scale="proportion")
    inside = table.time <= cleaned.time[-1]  # cleaning may remove the last point
    table = RiskTableInput(table.time[inside], table.n_risk[inside], table.lines[inside])
    assume(unit_mismatch(table, cleaned) is None)  # refused as a unit mismatch
    assume(not (total == 0 and cleaned.survival.min() < 1))  # 0 events on a drop: refused
    result = reconstruct(cleaned, table, total_events=total)
    ipd, t = result.ipd, result.table
    assert ipd.shape[0] == int(table.n_risk[0])
    assert ipd["time"].between(0, float(result.curve.time[-1])).all()
    assert np.all(t.n_event >= 0) and np.all(t.n_censor >= 0) and np.all(t.n_risk >= 0)
    assert np.all(t.reached <= t.published)
    assert (result.risk["algorithm"] >= 0).all()
