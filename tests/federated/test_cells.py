"""The cells of each federated result (livermet.federated.cells) and the rule applied to them.

Every expected cell is counted with pandas on the pooled cohort, independently of the estimators:
for any split into sites, the cells computed from the central result are those counts (totals
over all sites, not per site), and `cox_step` refuses a Cox fit as soon as a small cell is known.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livermet.analysis.cox import CoxPH
from livermet.federated import (
    CoxCentral,
    CoxRequest,
    CumincRequest,
    LogRankStrataRequest,
    MetaRequest,
    SurvivalRequest,
    cumulative_incidence_central,
    kaplan_meier_by_group_central,
    kaplan_meier_central,
    logrank_central,
    logrank_strata_central,
)
from livermet.federated.cells import (
    cox_describe_cells,
    cox_level_cells,
    cox_step,
    cuminc_cells,
    km_cells,
    logrank_cells,
    meta_cells,
)
from livermet.federated.disclosure import Refusal, check_cells
from tests.analysis.conftest import COHORT_CSV
from tests.federated.helpers import APPROACH_LEVELS, ask, split

COHORT = pd.read_csv(COHORT_CSV)
SPLIT_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _labels(k: int, rnd: Any) -> np.ndarray:
    """Return a random split of the cohort into ``k`` sites, each with a patient."""
    labels = np.array([rnd.randrange(k) for _ in range(len(COHORT))])
    labels[:k] = np.arange(k)
    return labels


def _group_counts(data: pd.DataFrame, by: str, event: str = "death") -> dict[str, float]:
    """Return pandas' counts of patients and events of each group of ``by``."""
    cells: dict[str, float] = {}
    for name, rows in data.groupby(by):
        cells[f"patients with {by} = {name}"] = float(len(rows))
        cells[f"events with {by} = {name}"] = float(rows[event].sum())
    return cells


@SPLIT_SETTINGS
@given(st.integers(2, 8), st.randoms(use_true_random=False))
def test_km_and_logrank_cells_are_the_pooled_counts(k: int, rnd: Any) -> None:
    sites = split(COHORT, _labels(k, rnd))
    request = SurvivalRequest(time="os_months", event="death", by="approach")
    answers = ask(request, sites)
    overall = kaplan_meier_central(request, answers)
    groups = kaplan_meier_by_group_central(request, answers, levels=APPROACH_LEVELS)
    expected = {"patients": float(len(COHORT)), "events": float(COHORT["death"].sum())}
    expected |= _group_counts(COHORT, "approach")
    assert km_cells(overall, groups, "approach") == expected
    assert km_cells(overall) == {k: v for k, v in expected.items() if "with" not in k}
    test = logrank_central(request, answers, levels=APPROACH_LEVELS)
    assert logrank_cells(test, "approach") == _group_counts(COHORT, "approach")


def test_stratified_logrank_cells_are_the_pooled_counts() -> None:
    sites = split(COHORT, np.arange(len(COHORT)) % 4)
    request = LogRankStrataRequest(time="os_months", event="death", by="timing")
    test = logrank_strata_central(request, ask(request, sites))
    assert logrank_cells(test, "timing") == _group_counts(COHORT, "timing")


def test_cuminc_cells_are_patients_and_first_events_of_each_type() -> None:
    sites = split(COHORT, np.arange(len(COHORT)) % 3)
    request = CumincRequest(time="efs_months", event="first_event")
    fit = cumulative_incidence_central(request, ask(request, sites))
    counts = COHORT["first_event"].value_counts()
    assert cuminc_cells(fit) == {
        "patients": float(len(COHORT)),
        "first events death": float(counts["death"]),
        "first events recurrence": float(counts["recurrence"]),
    }


def test_meta_cells_are_the_patients_and_events_of_all_sites() -> None:
    sites = split(COHORT, np.arange(len(COHORT)) % 3)
    request = MetaRequest(time="os_months", event="death", covariates=["age"])
    assert meta_cells(ask(request, sites)) == {
        "patients": float(len(COHORT)),
        "events": float(COHORT["death"].sum()),
    }


def _first_evaluation(
    central: CoxCentral, sites: list[pd.DataFrame]
) -> tuple[CoxRequest, list[Any]]:
    """Take the describe round; return the first evaluate request and the sites' answers."""
    request = central.step(ask(central.start(), sites))
    assert isinstance(request, CoxRequest) and request.phase == "evaluate"
    return request, ask(request, sites)


@SPLIT_SETTINGS
@given(st.integers(2, 8), st.randoms(use_true_random=False))
def test_cox_cells_are_the_pooled_level_counts(k: int, rnd: Any) -> None:
    sites = split(COHORT, _labels(k, rnd))
    central = CoxCentral(
        "os_months", "death", ["approach", "age", "grade"], reference={"grade": "2"}
    )
    request, answers = _first_evaluation(central, sites)
    assert cox_describe_cells(central) == {
        "patients": float(len(COHORT)),
        "events": float(COHORT["death"].sum()),
    }
    expected = {
        f"patients with {column} = {level}": float(count)
        for column in ("approach", "grade")
        for level, count in COHORT[column].astype(str).value_counts().items()
    }
    cells = cox_level_cells(central, request, answers)
    assert cells == pytest.approx(expected, rel=1e-12)
    assert list(cells)[:3] == [  # the reference level first
        "patients with approach = laparoscopic",
        "patients with approach = open",
        "patients with grade = 2",
    ]


def _few_laparoscopic(kept: int) -> list[pd.DataFrame]:
    """Return three sites of the cohort with only ``kept`` laparoscopic patients in all."""
    lap = COHORT.index[COHORT["approach"] == "laparoscopic"]
    data = COHORT.drop(lap[kept:]).reset_index(drop=True)
    return split(data, np.arange(len(data)) % 3)


def _run(central: CoxCentral, sites: list[pd.DataFrame], minimum: int) -> tuple[Any, int]:
    """Drive a Cox fit through `cox_step`; return its end and the rounds answered."""
    request: Any = central.start()
    rounds = 0
    while not isinstance(request, CoxPH):
        answers = ask(request, sites)
        rounds += 1
        request = cox_step(central, request, answers, minimum)
    return request, rounds


def test_cox_step_refuses_a_small_level_at_the_first_evaluation() -> None:
    sites = _few_laparoscopic(3)
    central = CoxCentral("os_months", "death", ["approach", "age"])
    with pytest.raises(Refusal) as refused:
        _run(central, sites, 5)
    assert refused.value.field == "min_cell"
    assert "refused: 3 patients with approach = laparoscopic in total" in refused.value.message
    assert central.round_trips == 1  # refused before the first evaluation is taken
    allowed = CoxCentral("os_months", "death", ["approach", "age"])
    fit, rounds = _run(allowed, sites, 3)  # at the minimum: released
    assert isinstance(fit, CoxPH) and fit.n_ == sum(len(s) for s in sites)
    assert rounds == allowed.round_trips >= 3  # describe, evaluations, finish


def test_cox_step_refuses_few_events_after_the_describe_round() -> None:
    data = COHORT.assign(death=0)
    data.loc[:3, "death"] = 1  # four deaths in all
    sites = split(data, np.arange(len(data)) % 3)
    central = CoxCentral("os_months", "death", ["age"])
    with pytest.raises(Refusal, match="refused: 4 events in total over all sites"):
        cox_step(central, central.start(), ask(central.start(), sites), 5)


def test_refusal_names_how_the_minimum_is_set() -> None:
    with pytest.raises(Refusal, match="'livermet federated request --min-cell'"):
        check_cells({"patients": 2}, 5)
    with pytest.raises(Refusal, match="lower the minimum with the spec's min_cell"):
        check_cells({"patients": 2}, 5, "the spec's min_cell")
