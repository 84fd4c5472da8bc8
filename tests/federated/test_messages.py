"""Requests and aggregates: documented, versioned, exact through JSON; bad input refused."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError

import livermet.federated as federated
from livermet.analysis import CoxPH
from livermet.errors import InputError
from livermet.federated import (
    CoxCentral,
    CumincRequest,
    LogRankStrataRequest,
    MetaRequest,
    SurvivalAggregate,
    SurvivalRequest,
    kaplan_meier_central,
    respond,
    survival_site,
)
from livermet.federated._messages import Message
from livermet.federated.cox import Moments, Sums
from tests.federated.helpers import APPROACH_LEVELS, COVARIATES, ask, run_cox, split

MODELS: list[type[BaseModel]] = [
    *(getattr(federated, name) for name in federated.__all__ if name[0].isupper()),
    Sums,
    Moments,
]
MESSAGE_MODELS = [m for m in MODELS if isinstance(m, type) and issubclass(m, Message)]
KM = SurvivalRequest(time="os_months", event="death", by="approach")


@pytest.fixture(scope="module")
def sites(cohort_sites: pd.DataFrame) -> list[pd.DataFrame]:
    return split(cohort_sites, cohort_sites["site"])


@pytest.mark.parametrize("model", MESSAGE_MODELS, ids=lambda m: m.__name__)
def test_every_field_is_documented(model: type[BaseModel]) -> None:
    assert model.__doc__
    for name, info in model.model_fields.items():
        assert info.description, f"{model.__name__}.{name} has no description"


def test_every_request_kind_is_answered(sites: list[pd.DataFrame]) -> None:
    requests = [
        KM,
        LogRankStrataRequest(time="os_months", event="death", by="approach"),
        CumincRequest(time="efs_months", event="first_event", censored=["censored"]),
        CoxCentral("os_months", "death", ["age"]).start(),
        MetaRequest(time="os_months", event="death", covariates=["age"]),
    ]
    for request in requests:
        answer = respond(sites[3], request)
        assert answer.request_id == federated.request_id(request)
        assert answer.version == federated.FORMAT_VERSION == 1
        assert answer.n == len(sites[3])


def test_aggregates_go_through_json_unchanged(sites: list[pd.DataFrame]) -> None:
    answer = respond(sites[4], KM)
    text = answer.model_dump_json()
    assert SurvivalAggregate.model_validate_json(text) == answer
    assert json.loads(text)["times"] == [float(t) for t in np.unique(sites[4]["os_months"])]


def test_another_version_is_refused(sites: list[pd.DataFrame]) -> None:
    data = json.loads(respond(sites[3], KM).model_dump_json())
    data["version"] = 2
    with pytest.raises(ValidationError, match="version"):
        SurvivalAggregate.model_validate(data)


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        SurvivalRequest.model_validate({"time": "t", "event": "e", "patients": [1]})


def test_an_answer_to_another_request_is_refused(sites: list[pd.DataFrame]) -> None:
    other = SurvivalRequest(time="efs_months", event="death", by="approach")
    answers = [survival_site(sites[3], KM), survival_site(sites[4], other)]
    with pytest.raises(InputError, match="aggregate 2 answers another request") as info:
        kaplan_meier_central(KM, answers)
    assert info.value.field == "request_id"


def test_no_answer_is_refused() -> None:
    with pytest.raises(InputError, match="no site answered"):
        kaplan_meier_central(KM, [])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["n_event"][0].__setitem__(0, -1), "greater than or equal to 0"),
        (lambda d: d["n_censor"][1].pop(), "one per label and time"),
        (lambda d: d["times"].reverse(), "distinct and ascending"),
        (lambda d: d["groups"].append("robotic"), "one per label and time"),
    ],
    ids=["negative count", "short list", "times out of order", "extra group"],
)
def test_an_inconsistent_table_is_refused(
    sites: list[pd.DataFrame], edit: Any, message: str
) -> None:
    data = json.loads(respond(sites[3], KM).model_dump_json())
    edit(data)
    with pytest.raises(ValidationError, match=message):
        SurvivalAggregate.model_validate(data)


def test_a_site_lacking_a_column_says_which(sites: list[pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="column not found") as info:
        respond(sites[3].drop(columns=["approach"]), KM)
    assert info.value.field == "approach"


def test_a_site_with_zero_patients_is_refused(sites: list[pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="no patients to analyse") as info:
        respond(sites[3].iloc[:0], KM)
    assert info.value.field == "os_months"
    incomplete = sites[3].assign(death=np.nan)
    with pytest.raises(InputError, match="no patients to analyse"):
        respond(incomplete, KM.model_copy(update={"dropna": True}))


def test_a_bad_value_names_its_row_as_the_pooled_analysis(sites: list[pd.DataFrame]) -> None:
    bad = sites[3].copy()
    bad.loc[2, "os_months"] = -1.0
    with pytest.raises(InputError, match="row 3: negative time") as info:
        respond(bad, KM)
    assert info.value.field == "os_months"


def test_an_unknown_request_is_refused(sites: list[pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="unknown kind of request"):
        respond(sites[3], Message())


def test_cox_without_any_event_is_refused(sites: list[pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="no events") as info:
        run_cox(CoxCentral("os_months", "death", ["age"]), sites[:2])
    assert info.value.field == "death"


def test_cox_refuses_a_constant_term_across_sites(sites: list[pd.DataFrame]) -> None:
    same = [s.assign(age=60) for s in sites]
    with pytest.raises(InputError, match="same value for every patient") as info:
        run_cox(CoxCentral("os_months", "death", ["age", "grade"]), same)
    assert info.value.field == "age"


def test_cox_refuses_a_factor_that_is_numeric_elsewhere(sites: list[pd.DataFrame]) -> None:
    mixed = [sites[3].assign(grade=sites[3]["grade"].map({1: "G1", 2: "G2", 3: "G3"})), sites[4]]
    with pytest.raises(InputError, match="factor at some sites and numeric at others") as info:
        run_cox(CoxCentral("os_months", "death", ["grade"]), mixed)
    assert info.value.field == "grade"


def test_cox_refuses_an_answer_from_another_phase(sites: list[pd.DataFrame]) -> None:
    central = CoxCentral("os_months", "death", ["age"])
    request = central.start()
    answers = ask(request, sites)
    central.step(answers)
    with pytest.raises(InputError, match="answers another request"):
        central.step(answers)


def test_cox_with_a_level_absent_from_a_site_codes_all_levels(sites: list[pd.DataFrame]) -> None:
    # H3 has no laparoscopic case: its design still has the approachlaparoscopic column
    fit = run_cox(
        CoxCentral("os_months", "death", COVARIATES, levels={"approach": APPROACH_LEVELS}),
        sites[2:4],
    )
    pooled = CoxPH().fit(
        pd.concat(sites[2:4]),
        "os_months",
        "death",
        COVARIATES,
        levels={"approach": APPROACH_LEVELS},
    )
    assert fit.terms_ == pooled.terms_
    np.testing.assert_allclose(fit.coef_, pooled.coef_, rtol=1e-8)


def test_cox_sums_cost_scales_with_event_times(sites: list[pd.DataFrame]) -> None:
    central = CoxCentral("os_months", "death", ["age", "grade"])
    describe = ask(central.start(), sites)
    evaluate = central.step(describe)
    assert not isinstance(evaluate, CoxPH)
    grid = evaluate.event_times or []
    answer: Any = respond(sites[3], evaluate)
    assert (
        len(answer.sums.d)
        == len(grid)
        == len(np.unique(pd.concat(sites).query("death == 1")["os_months"]))
    )


def test_numeric_factor_levels_sort_by_value_as_the_pooled_fit(sites: list[pd.DataFrame]) -> None:
    # grades 9 and 10 as factor levels: R's factor() sorts them by value, not as text
    recoded = [s.assign(grade=s["grade"] + 7) for s in sites]
    fit = run_cox(
        CoxCentral("os_months", "death", ["age", "grade"], categorical=["grade"]), recoded
    )
    pooled = CoxPH().fit(
        pd.concat(recoded), "os_months", "death", ["age", "grade"], categorical=["grade"]
    )
    assert fit.terms_ == pooled.terms_ == ["age", "grade9", "grade10"]
    assert fit.factors_ == pooled.factors_
    np.testing.assert_allclose(fit.coef_, pooled.coef_, rtol=1e-8)
