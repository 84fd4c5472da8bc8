"""Federated = pooled = R, for any split of the reference cohort into sites.

``cohort.csv`` (300 patients) is split into k = 2..10 sites, at random (hypothesis) and at the
edges: a site with one patient, a site with no event, a group absent from some sites. Every
message goes through JSON. Each federated result must equal the pooled analysis of the whole
file (closed-form estimators to 1e-12 relative, Cox to 1e-8) and therefore R's numbers in
``tests/analysis/data/survival-3.5-3-cohort.json``, to the tolerances of
``tests/analysis/test_r_parity.py``.

One number differs by design: the concordance of the common-baseline Cox fit is counted within
sites (pairs of patients of two sites are never compared); it equals the pooled fit's
concordance stratified by site, which is checked instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livermet.analysis import (
    CoxPH,
    CumulativeIncidence,
    KaplanMeier,
    LogRankResult,
    cumulative_incidence,
    kaplan_meier,
    kaplan_meier_by_group,
    logrank_test,
)
from livermet.analysis.concordance import concordance
from livermet.analysis.design import design_matrix
from livermet.federated import (
    CoxCentral,
    CumincRequest,
    SurvivalRequest,
    cumulative_incidence_central,
    kaplan_meier_by_group_central,
    kaplan_meier_central,
    logrank_central,
)
from tests.analysis.conftest import COHORT_CSV
from tests.analysis.test_r_parity import LEAVES, REFERENCE, _get, _tolerance, r_layout
from tests.federated.helpers import (
    APPROACH_LEVELS,
    COVARIATES,
    FIRST_EVENT_TYPES,
    ask,
    run_cox,
    split,
)

TIMES = [12, 36, 60]
CLOSED = 1e-12  # relative tolerance of closed-form estimators (test_r_parity.py)
COX = 1e-8  # federated against pooled Cox (both iterate to the optimum)
COHORT = pd.read_csv(COHORT_CSV)


def federated(sites: Sequence[pd.DataFrame], *, stratified: bool = False) -> dict[str, Any]:
    """Run every federated analysis of the sites; return the result objects."""
    table = SurvivalRequest(time="os_months", event="death", by="approach")
    answers = ask(table, sites)
    cuminc = CumincRequest(
        time="efs_months", event="first_event", censored=["censored"], event_types=FIRST_EVENT_TYPES
    )
    central = CoxCentral(
        "os_months",
        "death",
        COVARIATES,
        levels={"approach": APPROACH_LEVELS},
        stratified=stratified,
    )
    return {
        "km": kaplan_meier_central(table, answers),
        "groups": kaplan_meier_by_group_central(table, answers, levels=APPROACH_LEVELS),
        "logrank": logrank_central(table, answers, levels=APPROACH_LEVELS),
        "cox": run_cox(central, sites),
        "cuminc": cumulative_incidence_central(cuminc, ask(cuminc, sites)),
    }


def pooled(data: pd.DataFrame, strata: str | None = None) -> dict[str, Any]:
    """Run the same analyses on the whole table (``strata``: the Cox model stratified)."""
    return {
        "km": kaplan_meier(data, "os_months", "death"),
        "groups": kaplan_meier_by_group(
            data, "os_months", "death", "approach", levels=APPROACH_LEVELS
        ),
        "logrank": logrank_test(data, "os_months", "death", "approach", levels=APPROACH_LEVELS),
        "cox": CoxPH().fit(
            data,
            "os_months",
            "death",
            COVARIATES,
            levels={"approach": APPROACH_LEVELS},
            strata=strata,
        ),
        "cuminc": cumulative_incidence(
            data, "efs_months", "first_event", censored=["censored"], event_types=FIRST_EVENT_TYPES
        ),
    }


def _close(actual: Any, expected: Any, rel: float) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=rel, atol=0
    )


def assert_same_km(ours: KaplanMeier, theirs: KaplanMeier) -> None:
    """Assert the same curve: times and counts exactly, estimates to 1e-12, median, RMST."""
    np.testing.assert_array_equal(ours.time_, theirs.time_)
    np.testing.assert_array_equal(ours.n_risk_, theirs.n_risk_)
    np.testing.assert_array_equal(ours.n_event_, theirs.n_event_)
    np.testing.assert_array_equal(ours.n_censor_, theirs.n_censor_)
    for name in ("survival_", "se_log_", "lower_", "upper_"):
        _close(getattr(ours, name), getattr(theirs, name), CLOSED)
    assert ours.median_ == theirs.median_
    assert (ours.n_, ours.events_, ours.label) == (theirs.n_, theirs.events_, theirs.label)
    a, b = ours.rmst(60).to_dict(), theirs.rmst(60).to_dict()
    _close(list(a.values()), list(b.values()), CLOSED)


def assert_same_logrank(ours: LogRankResult, theirs: LogRankResult) -> None:
    assert (ours.groups, ours.n, ours.df) == (theirs.groups, theirs.n, theirs.df)
    _close([ours.chisq, ours.p], [theirs.chisq, theirs.p], CLOSED)
    _close(ours.observed, theirs.observed, CLOSED)
    _close(ours.expected, theirs.expected, CLOSED)
    _close(ours.variance, theirs.variance, CLOSED)


def assert_same_cox(ours: CoxPH, theirs: CoxPH, *, concordance_too: bool) -> None:
    assert ours.terms_ == theirs.terms_
    assert ours.factors_ == theirs.factors_
    assert (ours.n_, ours.events_, ours.iterations_) == (
        theirs.n_,
        theirs.events_,
        theirs.iterations_,
    )
    for name in ("coef_", "se_", "hr_", "hr_lower_", "hr_upper_", "z_", "p_", "vcov_"):
        _close(getattr(ours, name), getattr(theirs, name), COX)
    _close(ours.loglik_, theirs.loglik_, CLOSED)
    _close([ours.lr_test_.chisq, ours.lr_test_.p], [theirs.lr_test_.chisq, theirs.lr_test_.p], COX)
    if concordance_too:
        assert ours.concordance_ == theirs.concordance_


def assert_same_cuminc(ours: CumulativeIncidence, theirs: CumulativeIncidence) -> None:
    assert ours.states_ == theirs.states_
    np.testing.assert_array_equal(ours.time_, theirs.time_)
    np.testing.assert_array_equal(ours.n_risk_, theirs.n_risk_)
    np.testing.assert_array_equal(ours.n_event_, theirs.n_event_)
    for name in ("pstate_", "std_err_", "lower_", "upper_"):
        _close(getattr(ours, name), getattr(theirs, name), CLOSED)


def within_site_concordance(sites: Sequence[pd.DataFrame], cox: CoxPH) -> Any:
    """Return the concordance of ``cox`` counted within each site and summed."""
    total = None
    for site in sites:
        x = design_matrix(
            site, COVARIATES, levels=cox.factors_, rows=None, keep_empty_levels=True
        ).matrix
        part = concordance(site["os_months"], site["death"], x @ cox.coef_)
        total = part if total is None else total + part
    return total


def assert_federated_equals_pooled(sites: Sequence[pd.DataFrame]) -> None:
    ours, theirs = federated(sites), pooled(pd.concat(sites, ignore_index=True))
    assert_same_km(ours["km"], theirs["km"])
    assert list(ours["groups"]) == list(theirs["groups"])
    for name, curve in ours["groups"].items():
        assert_same_km(curve, theirs["groups"][name])
    assert_same_logrank(ours["logrank"], theirs["logrank"])
    assert_same_cox(ours["cox"], theirs["cox"], concordance_too=False)
    assert ours["cox"].concordance_ == within_site_concordance(sites, ours["cox"])
    assert_same_cuminc(ours["cuminc"], theirs["cuminc"])


def site_labels(k: int, seed: int) -> Any:
    """Return a random split into k sites, each with at least one patient."""
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.arange(k), rng.integers(0, k, size=len(COHORT) - k)])
    return rng.permutation(labels)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.integers(2, 10), seed=st.integers(0, 2**32 - 1))
def test_any_random_split_gives_the_pooled_result(k: int, seed: int) -> None:
    assert_federated_equals_pooled(split(COHORT, site_labels(k, seed)))


def _edge_split(kind: str, k: int) -> Any:
    labels = site_labels(k, 20261201 + k).copy()
    if kind == "one patient":
        labels[:] = np.where(labels == 0, 1, labels)
        labels[7] = 0
    elif kind == "no event":
        labels[(labels == 0) & (COHORT["death"] == 1).to_numpy()] = 1
        labels[(COHORT["death"] == 0).to_numpy() & (np.arange(len(COHORT)) % 9 == 0)] = 0
    else:  # no laparoscopic case at site 0, nor at the last site
        lap = (COHORT["approach"] == "laparoscopic").to_numpy()
        labels[lap & np.isin(labels, [0, k - 1])] = 1
    return labels


@pytest.mark.parametrize("k", [2, 3, 5, 10])
@pytest.mark.parametrize("kind", ["one patient", "no event", "group absent"])
def test_edge_splits_give_the_pooled_result(kind: str, k: int) -> None:
    labels = _edge_split(kind, k)
    sites = split(COHORT, labels)
    assert len(sites) == k
    if kind == "one patient":
        assert len(sites[0]) == 1
    elif kind == "no event":
        assert sites[0]["death"].sum() == 0 and len(sites[0]) > 0
    else:
        assert (sites[0]["approach"] == "laparoscopic").sum() == 0
    assert_federated_equals_pooled(sites)


def _layout(result: dict[str, Any]) -> dict[str, Any]:
    """Return the numbers in the layout of R's output list (as the pooled parity test)."""
    return r_layout(
        result["km"], result["groups"], result["logrank"], result["cox"], result["cuminc"]
    )


@pytest.fixture(scope="module")
def six_sites_layout(cohort_sites: pd.DataFrame) -> dict[str, Any]:
    return _layout(federated(split(cohort_sites, cohort_sites["site"])))


R_LEAVES = [leaf for leaf in LEAVES if leaf[0] != "cox.concordance"]


@pytest.mark.parametrize(
    ("quantity", "path", "expected"), R_LEAVES, ids=[p for _, p, _ in R_LEAVES]
)
def test_six_sites_match_r(
    six_sites_layout: dict[str, Any], quantity: str, path: str, expected: Any
) -> None:
    actual = _get(six_sites_layout, path)
    rel = _tolerance(quantity)
    if rel is None or isinstance(expected, str):
        assert actual == expected
    else:
        assert actual == pytest.approx(expected, rel=rel, abs=0)


def test_every_r_number_but_the_pooled_concordance_is_checked(
    six_sites_layout: dict[str, Any],
) -> None:
    assert len(R_LEAVES) == len(LEAVES) - 1 == 96
    # counted within the six sites, the concordance is not R's pooled one
    assert six_sites_layout["cox"]["concordance"] != pytest.approx(
        REFERENCE["cox"]["concordance"], abs=1e-3
    )
