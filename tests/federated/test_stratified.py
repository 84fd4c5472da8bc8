"""Analyses stratified by site against R: ``coxph(... + strata(site))`` and ``survdiff``.

The reference numbers are ``data/federated-refs.json``, written by ``data/federated-refs.R``
(R 4.2.2, survival 3.5-3, Newton iterated to 1e-14) on ``cohort.csv`` with the sites of
``data/cohort-sites.csv``. Both the federated protocol (each site sends only its
log-likelihood, score and information per round) and the pooled ``CoxPH(strata=...)`` (the
one-site case of the same code) must reproduce them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.analysis import CoxPH, logrank_test
from livermet.evidence import rma
from livermet.federated import (
    CoxAggregate,
    CoxCentral,
    LogRankStrataRequest,
    MetaRequest,
    logrank_strata_central,
    meta_central,
)
from tests.federated.helpers import APPROACH_LEVELS, COVARIATES, ask, run_cox, split

COX_VS_R = 1e-8  # R iterated to 1e-14 in the reference script, so both sit at the optimum
CLOSED = 1e-12


def _stratified_central() -> CoxCentral:
    return CoxCentral(
        "os_months", "death", COVARIATES, levels={"approach": APPROACH_LEVELS}, stratified=True
    )


def _pooled_stratified(data: pd.DataFrame) -> CoxPH:
    return CoxPH().fit(
        data, "os_months", "death", COVARIATES, levels={"approach": APPROACH_LEVELS}, strata="site"
    )


def _assert_matches_r(fit: CoxPH, ref: dict[str, Any]) -> None:
    assert fit.terms_ == ref["terms"]
    assert (fit.n_, fit.events_) == (ref["n"], ref["events"])
    for ours, theirs in [
        (fit.coef_, "coef"),
        (fit.se_, "se"),
        (fit.hr_, "hr"),
        (fit.hr_lower_, "hr_lower"),
        (fit.hr_upper_, "hr_upper"),
        (fit.p_, "p"),
    ]:
        assert ours.tolist() == pytest.approx(ref[theirs], rel=COX_VS_R, abs=0)
    assert list(fit.loglik_) == pytest.approx(ref["loglik"], rel=CLOSED, abs=0)
    assert fit.concordance_.concordance == pytest.approx(ref["concordance"], rel=CLOSED, abs=0)


def test_federated_stratified_cox_matches_r(
    cohort_sites: pd.DataFrame, federated_ref: dict[str, Any]
) -> None:
    sites = split(cohort_sites, cohort_sites["site"])
    assert [len(s) for s in sites] == list(federated_ref["sites"].values())
    _assert_matches_r(run_cox(_stratified_central(), sites), federated_ref["cox_strata_site"])


def test_pooled_stratified_cox_matches_r(
    cohort_sites: pd.DataFrame, federated_ref: dict[str, Any]
) -> None:
    _assert_matches_r(_pooled_stratified(cohort_sites), federated_ref["cox_strata_site"])


def test_stratified_sites_send_no_event_time(cohort_sites: pd.DataFrame) -> None:
    sites = split(cohort_sites, cohort_sites["site"])
    central = _stratified_central()
    request: Any = central.start()
    seen: list[CoxAggregate] = []
    while not isinstance(request, CoxPH):
        answers = ask(request, sites)
        seen += answers
        request = central.step(answers)
    assert all(a.event_times is None and a.sums is None for a in seen)
    assert request.iterations_ == _pooled_stratified(cohort_sites).iterations_
    # describe, one round per likelihood evaluation (beta = 0, each step), finish
    assert central.newton is not None
    assert central.newton.evaluations == request.iterations_ + 1  # no step was halved
    assert central.round_trips == central.newton.evaluations + 2


@settings(max_examples=8, deadline=None)
@given(k=st.integers(2, 10), seed=st.integers(0, 2**32 - 1))
def test_stratified_cox_any_split_equals_pooled(
    cohort_sites: pd.DataFrame, k: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.permutation(
        np.concatenate([np.arange(k), rng.integers(0, k, len(cohort_sites) - k)])
    )
    data = cohort_sites.assign(site=labels)
    ours = run_cox(_stratified_central(), split(data, labels))
    theirs = _pooled_stratified(data)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=COX_VS_R)
    np.testing.assert_allclose(ours.vcov_, theirs.vcov_, rtol=COX_VS_R)
    np.testing.assert_allclose(ours.loglik_, theirs.loglik_, rtol=CLOSED)
    assert ours.concordance_ == theirs.concordance_


def test_stratified_logrank_matches_r(
    cohort_sites: pd.DataFrame, federated_ref: dict[str, Any]
) -> None:
    ref = federated_ref["logrank_approach_strata_site"]
    request = LogRankStrataRequest(time="os_months", event="death", by="approach")
    sites = split(cohort_sites, cohort_sites["site"])
    ours = logrank_strata_central(request, ask(request, sites), levels=APPROACH_LEVELS)
    pooled = logrank_test(
        cohort_sites, "os_months", "death", "approach", levels=APPROACH_LEVELS, strata="site"
    )
    for result in (ours, pooled):
        assert result.df == ref["df"]
        assert [result.chisq, result.p] == pytest.approx([ref["chisq"], ref["p"]], rel=CLOSED)
        assert result.observed == ref["observed"]
        assert result.expected == pytest.approx(ref["expected"], rel=CLOSED, abs=0)
        assert result.n == [216, 84]


def test_two_stage_meta_analysis_pools_the_sites_that_can_fit(cohort_sites: pd.DataFrame) -> None:
    request = MetaRequest(time="os_months", event="death", covariates=["age", "grade"])
    sites = split(cohort_sites, cohort_sites["site"])
    answers = ask(request, sites)
    # H1 (one censored patient) and H2 (no death) cannot fit a model and say why
    assert [a.reason is not None for a in answers] == [True, True, False, False, False, False]
    assert "no events" in (answers[1].reason or "")
    fits = [CoxPH().fit(s, "os_months", "death", ["age", "grade"]) for s in sites[2:]]
    expected = rma([f.coef_[0] for f in fits], [f.se_[0] ** 2 for f in fits], method="REML")
    pooled = meta_central(request, answers, "age")
    assert pooled.k == 4
    assert pooled.beta == pytest.approx(expected.beta, rel=1e-12)
    assert pooled.tau2 == pytest.approx(expected.tau2, rel=1e-12, abs=1e-15)
    # the exact federated fit and the two-stage estimate are different estimators
    exact = run_cox(CoxCentral("os_months", "death", ["age", "grade"]), sites)
    assert abs(pooled.beta - exact.coef_[0]) < 0.01
