"""The exact concordance of a common-baseline federated Cox fit: the pooled fit's, and R's.

With ``concordance="exact"`` the finish round returns each site's events (time, linear
predictor) and one more round counts, at every site, the pairs of a listed event and a patient
of the site comparable with it (docs/federated.md#the-exact-concordance). Summed, these must
be the pooled fit's pair counts exactly (`livermet.analysis.concordance`, R-parity tested), so
Harrell's C equals the pooled one (and R's ``coxph`` concordance on ``cohort.csv``) for any split
into k = 2..10 sites, sites of one patient and sites without an event among them. Malformed
answers to the new rounds are refused, naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from livermet.analysis import CoxPH
from livermet.errors import InputError
from livermet.federated import CoxAggregate, CoxCentral, CoxRequest
from livermet.federated.cox import EventScores, cross_pairs
from livermet.federated.disclosure import coarsen_months
from tests.analysis.test_r_parity import REFERENCE
from tests.federated.helpers import APPROACH_LEVELS, COVARIATES, ask, run_cox, split
from tests.federated.test_exactness import COHORT, _edge_split, site_labels

LEVELS = {"approach": APPROACH_LEVELS}


def exact_fit(sites: Sequence[pd.DataFrame]) -> tuple[CoxPH, CoxCentral]:
    """Run the federated fit with the exact concordance (every message through JSON)."""
    central = CoxCentral("os_months", "death", COVARIATES, levels=LEVELS, concordance="exact")
    return run_cox(central, sites), central


def pooled_fit(data: pd.DataFrame) -> CoxPH:
    return CoxPH().fit(data, "os_months", "death", COVARIATES, levels=LEVELS)


def assert_exact_concordance(sites: Sequence[pd.DataFrame]) -> None:
    """Assert the federated pair counts and C are the pooled fit's (C to 1e-12 and exactly)."""
    ours, _ = exact_fit(sites)
    theirs = pooled_fit(pd.concat(sites, ignore_index=True))
    assert ours.concordance_ == theirs.concordance_
    assert abs(ours.concordance_.concordance - theirs.concordance_.concordance) <= 1e-12
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8, atol=0)


def test_six_sites_give_r_pooled_concordance(cohort_sites: pd.DataFrame) -> None:
    """The six-site split of the reference cohort: R's pooled ``coxph`` concordance."""
    sites = split(cohort_sites, cohort_sites["site"])
    ours, central = exact_fit(sites)
    assert ours.concordance_.concordance == pytest.approx(
        REFERENCE["cox"]["concordance"], rel=1e-12, abs=0
    )
    assert ours.concordance_ == pooled_fit(COHORT).concordance_
    within = run_cox(
        CoxCentral("os_months", "death", COVARIATES, levels=LEVELS), sites
    ).concordance_
    assert within.concordance != pytest.approx(REFERENCE["cox"]["concordance"], abs=1e-3)
    assert ours.to_dict()["concordance"] == pooled_fit(COHORT).to_dict()["concordance"]
    # one round more than within sites: describe, the evaluations, finish, concordance
    assert central.round_trips == central.newton.evaluations + 3  # type: ignore[union-attr]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.integers(2, 10), seed=st.integers(0, 2**32 - 1))
def test_any_random_split_gives_the_pooled_concordance(k: int, seed: int) -> None:
    assert_exact_concordance(split(COHORT, site_labels(k, seed)))


@pytest.mark.parametrize("k", [2, 3, 5, 10])
@pytest.mark.parametrize("kind", ["one patient", "no event", "group absent"])
def test_edge_splits_give_the_pooled_concordance(kind: str, k: int) -> None:
    sites = split(COHORT, _edge_split(kind, k))
    if kind == "one patient":
        assert len(sites[0]) == 1
    if kind == "no event":
        assert sites[0]["death"].sum() == 0
    assert_exact_concordance(sites)


def test_coarsened_times_give_the_concordance_of_the_coarsened_cohort() -> None:
    """Whole months (many tied event times): the pooled fit of the cohort with ⌈t⌉ times."""
    coarse = coarsen_months(COHORT, "os_months")
    theirs = pooled_fit(coarse)
    assert theirs.concordance_.tied_time > pooled_fit(COHORT).concordance_.tied_time
    assert_exact_concordance(split(coarse, site_labels(4, 7)))


def brute_force_pairs(
    time: np.ndarray, event: np.ndarray, eta: np.ndarray, listed: EventScores
) -> tuple[int, int, int]:
    """Count (listed event i, patient j) comparable pairs one by one (R's rule)."""
    concordant = discordant = tied = 0
    for ti, ei in zip(listed.time, listed.eta, strict=True):
        for tj, dj, ej in zip(time, event, eta, strict=True):
            if tj > ti or (tj == ti and dj == 0):
                concordant += ej < ei
                discordant += ej > ei
                tied += ej == ei
    return concordant, discordant, tied


@settings(max_examples=60, deadline=None)
@given(
    patients=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 1), st.integers(-3, 3)), min_size=1, max_size=25
    ),
    listed=st.lists(st.tuples(st.integers(0, 5), st.integers(-3, 3)), max_size=25),
)
def test_cross_pairs_count_every_comparable_pair(
    patients: list[tuple[int, int, int]], listed: list[tuple[int, int]]
) -> None:
    """Ties in time and in η everywhere (small integers): the counts of a pair-by-pair loop."""
    t, e, eta = (np.asarray(v, dtype=float) for v in zip(*patients, strict=True))
    scores = EventScores(time=[float(a) for a, _ in listed], eta=[float(b) for _, b in listed])
    assert cross_pairs(t, e, eta, scores) == brute_force_pairs(t, e, eta, scores)


# --- refusals ------------------------------------------------------------------------------


def central_at(phase: str) -> tuple[CoxCentral, CoxRequest, list[pd.DataFrame]]:
    """Return a coordinator whose current request is the ``phase`` round (three sites)."""
    sites = split(COHORT, site_labels(3, 11))
    central = CoxCentral("os_months", "death", COVARIATES, levels=LEVELS, concordance="exact")
    request: Any = central.start()
    while request.phase != phase:
        request = central.step(ask(request, sites))
    return central, request, sites


@pytest.fixture(scope="module")
def at_finish() -> tuple[CoxCentral, CoxRequest, list[pd.DataFrame]]:
    return central_at("finish")


def _answers(state: tuple[CoxCentral, CoxRequest, list[pd.DataFrame]]) -> list[CoxAggregate]:
    _, request, sites = state
    answers: list[CoxAggregate] = ask(request, sites)
    return answers


def assert_refused(central: CoxCentral, answers: list[CoxAggregate], field: str) -> None:
    """Assert the coordinator refuses the round naming ``field``, and does not fit."""
    before = central.request
    with pytest.raises(InputError) as info:
        central.step(answers)
    assert info.value.field == field
    assert not hasattr(central.model, "concordance_")
    assert central.request == before


def test_finish_answers_are_checked(
    at_finish: tuple[CoxCentral, CoxRequest, list[pd.DataFrame]],
) -> None:
    central, request, _ = at_finish
    good = _answers(at_finish)
    assert all(a.scores is not None and a.pairs is None for a in good)
    first = good[0]
    assert first.scores is not None
    bad = [
        first.model_copy(update={"scores": None}),
        first.model_copy(
            update={"scores": EventScores(time=first.scores.time[1:], eta=first.scores.eta[1:])}
        ),
        first.model_copy(
            update={
                "scores": EventScores(time=[0.123456, *first.scores.time[1:]], eta=first.scores.eta)
            }
        ),
        first.model_copy(
            update={
                "scores": EventScores(time=first.scores.time, eta=[np.inf, *first.scores.eta[1:]])
            }
        ),
    ]
    for wrong in bad:
        assert_refused(central, [wrong, *good[1:]], "scores")
    assert request.phase == "finish"


def test_concordance_answers_are_checked() -> None:
    state = central_at("concordance")
    central, request, sites = state
    assert request.events is not None
    assert len(request.events.time) == int(sum(s["death"].sum() for s in sites))
    good = _answers(state)
    assert all(a.pairs is not None and len(a.pairs) == 3 for a in good)
    first = good[0]
    assert first.pairs is not None
    too_many = len(request.events.time) * first.n + 1
    for pairs in ([1, 2], [1, 2, 3, 4], [-1, *first.pairs[1:]], [too_many, 0, 0], None):
        assert_refused(central, [first.model_copy(update={"pairs": pairs}), *good[1:]], "pairs")
    fit = central.step(good)
    assert isinstance(fit, CoxPH)
    assert fit.concordance_ == pooled_fit(pd.concat(sites, ignore_index=True)).concordance_


def test_event_scores_need_one_eta_per_time() -> None:
    with pytest.raises(ValidationError, match="one each"):
        EventScores(time=[1.0, 2.0], eta=[0.5])


def test_exact_concordance_options_are_checked() -> None:
    with pytest.raises(InputError) as info:
        CoxCentral("t", "e", ["age"], stratified=True, concordance="exact")
    assert info.value.field == "concordance"
    with pytest.raises(InputError) as info:
        CoxCentral("t", "e", ["age"], concordance="all")  # type: ignore[arg-type]
    assert info.value.field == "concordance"


def test_default_requests_keep_their_json() -> None:
    """Within sites (the default) the request's JSON has no new field: old request ids hold."""
    plain = json.loads(CoxCentral("t", "e", ["age"]).start().model_dump_json())
    assert "concordance" not in plain and "events" not in plain
    exact = CoxCentral("t", "e", ["age"], concordance="exact").start()
    assert json.loads(exact.model_dump_json())["concordance"] == "exact"
    assert CoxRequest.model_validate_json(exact.model_dump_json()) == exact
