"""Properties that hold for every data set (hypothesis), not just the reference cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from livermet.analysis import (
    CoxPH,
    CumulativeIncidence,
    KaplanMeier,
    concordance,
    cox_partial_likelihood,
    survdiff,
)
from livermet.errors import InputError

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# integer times in a small range: many ties, as in registries recorded in whole months
times = st.lists(st.integers(0, 25), min_size=1, max_size=60)


@st.composite
def survival_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    t = draw(times)
    e = draw(st.lists(st.integers(0, 1), min_size=len(t), max_size=len(t)))
    return np.array(t, dtype=float), np.array(e)


@st.composite
def competing_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    t = draw(times)
    k = draw(st.lists(st.integers(0, 2), min_size=len(t), max_size=len(t)))
    return np.array(t, dtype=float), np.array(k)


@SETTINGS
@given(survival_data(), st.sampled_from(["log-log", "log", "plain"]))
def test_km_is_a_non_increasing_probability_inside_its_band(
    data: tuple[np.ndarray, np.ndarray], conf_type: str
) -> None:
    t, e = data
    km = KaplanMeier(conf_type=conf_type).fit(t, e)  # type: ignore[arg-type]
    s = km.survival_
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 0)
    # R's NA: S = 0 (no band), and S = 1 at an observed time with log-log (log(-log 1))
    missing = (s <= 0) | ((s >= 1) & (conf_type == "log-log"))
    assert np.array_equal(np.isnan(km.lower_), missing)
    ok = ~missing
    assert np.all(km.lower_[ok] <= s[ok] + 1e-12)
    assert np.all(s[ok] <= km.upper_[ok] + 1e-12)
    median = km.median_.estimate
    if median is not None:
        assert km.survival_at([median])[0] <= 0.5 + 1e-9


@SETTINGS
@given(competing_data())
def test_cif_non_decreasing_and_sums_with_km_to_one(data: tuple[np.ndarray, np.ndarray]) -> None:
    t, kind = data
    fit = CumulativeIncidence().fit(t, kind, ["recurrence", "death"])
    cif = fit.pstate_[:, 1:]
    assert np.all((cif >= -1e-15) & (cif <= 1 + 1e-15))
    assert np.all(np.diff(cif, axis=0) >= -1e-15)
    km_any = KaplanMeier().fit(t, kind > 0).survival_  # the other path to P(event-free)
    assert cif[:, 0] + cif[:, 1] + km_any == pytest.approx(np.ones(cif.shape[0]))
    assert np.all(np.isfinite(fit.std_err_))


@SETTINGS
@given(st.lists(st.integers(0, 40), min_size=2, max_size=50), st.floats(1.0, 45.0))
def test_rmst_without_censoring_is_the_mean_of_min_t_tau(values: list[int], tau: float) -> None:
    # no censoring: the KM curve is the empirical one, so RMST = mean of min(T, tau) and
    # R's variance reduces to sum (x - mean)^2 / n^2
    t = np.array(values, dtype=float)
    r = KaplanMeier().fit(t, np.ones_like(t)).rmst(tau)
    x = np.minimum(t, tau)
    assert r.estimate == pytest.approx(x.mean(), rel=1e-12, abs=1e-12)
    assert r.std_err**2 == pytest.approx(x.var() / x.size, rel=1e-9, abs=1e-12)


def _pairs_by_brute_force(t: np.ndarray, e: np.ndarray, risk: np.ndarray) -> tuple[int, ...]:
    conc = disc = tied = 0
    for i in range(t.size):
        if not e[i]:
            continue
        for j in range(t.size):
            if t[j] > t[i] or (t[j] == t[i] and not e[j]):
                conc += risk[i] > risk[j]
                disc += risk[i] < risk[j]
                tied += risk[i] == risk[j]
    return conc, disc, tied


@SETTINGS
@given(survival_data(), st.data())
def test_concordance_counts_every_comparable_pair(
    data: tuple[np.ndarray, np.ndarray], draw: st.DataObject
) -> None:
    t, e = data
    risk = np.array(draw.draw(st.lists(st.integers(0, 4), min_size=t.size, max_size=t.size)))
    c = concordance(t, e, risk)
    assert (c.concordant, c.discordant, c.tied_risk) == _pairs_by_brute_force(t, e, risk)


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_logrank_is_the_cox_score_test_without_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 40))
    t = rng.permutation(np.arange(1, n + 1)).astype(float)  # distinct times
    e = (rng.random(n) < 0.7).astype(float)
    g = rng.integers(0, 2, n)
    assume(e.sum() > 0 and 0 < g.sum() < n)
    lr = survdiff(t, e, g)
    _, u, info = cox_partial_likelihood(np.zeros(1), g[:, None].astype(float), t, e)
    if info[0, 0] == 0.0:  # every event with one group alone at risk: no information, no test
        assert lr.chisq == 0.0 and u[0] == 0.0
        return
    assert lr.chisq == pytest.approx(u[0] ** 2 / info[0, 0], rel=1e-10)


def _cox_data(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 80))
    age = rng.normal(60, 10, n)
    group = rng.choice(["a", "b"], n)
    hazard = np.exp(0.03 * (age - 60) + 0.5 * (group == "b"))
    time = np.ceil(rng.exponential(20 / hazard))  # whole months: ties
    event = (rng.random(n) < 0.8).astype(int)
    return pd.DataFrame({"time": time, "event": event, "age": age, "group": group})


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.floats(-1000, 1000), st.floats(0.01, 100))
def test_cox_invariances(seed: int, shift: float, scale: float) -> None:
    data = _cox_data(seed)
    try:
        base = CoxPH().fit(data, "time", "event", ["age", "group"])
    except InputError:
        assume(False)  # e.g. no events, or a group without patients
        return
    shifted = CoxPH().fit(data.assign(age=data["age"] + shift), "time", "event", ["age", "group"])
    scaled = CoxPH().fit(data.assign(age=data["age"] * scale), "time", "event", ["age", "group"])
    shuffled = CoxPH().fit(data.sample(frac=1.0, random_state=1), "time", "event", ["age", "group"])
    # shifting a covariate changes no hazard ratio, standard error or likelihood
    assert shifted.hr_ == pytest.approx(base.hr_, rel=1e-8)
    assert shifted.se_ == pytest.approx(base.se_, rel=1e-8)
    assert shifted.loglik_ == pytest.approx(base.loglik_, rel=1e-10)
    # rescaling it rescales its coefficient only
    assert scaled.coef_ == pytest.approx(base.coef_ / np.array([scale, 1.0]), rel=1e-7)
    # the order of the rows does not matter
    assert shuffled.coef_ == pytest.approx(base.coef_, rel=1e-9)
    assert shuffled.concordance_ == base.concordance_
