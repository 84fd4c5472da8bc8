"""Age, ECOG and ASA as recorded: wording and sources, no invented cut-off.

ECOG wording: Oken 1982. ASA classes and examples (hypertension and diabetes: II when well
controlled, III when poorly controlled). Age groups and pooled mortality after hepatectomy:
Ghanie A, et al. Surgery 2022 (>= 80: 30-day 1.7 %, 90-day 2.4 %).
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from livermet.case.assess import assess
from livermet.case.fitness import fitness_section
from livermet.case.load import case_from_data
from livermet.clinical import fitness
from livermet.errors import InputError
from tests.conftest import ROOT, SEED_CASE

SEED = yaml.safe_load(SEED_CASE.read_text())
UTERINE = yaml.safe_load((ROOT / "examples" / "preop-uterine-lms.yaml").read_text())


@pytest.mark.parametrize(
    ("age", "group", "d30", "d90"),
    [
        (64, None, None, None),  # below the meta-analysis's youngest group
        (65, 65, 1.3, 2.7),
        (69, 65, 1.3, 2.7),
        (70, 70, 2.8, 2.8),
        (74, 70, 2.8, 2.8),
        (75, 75, 3.0, 5.1),
        (79, 75, 3.0, 5.1),
        (80, 80, 1.7, 2.4),
        (95, 80, 1.7, 2.4),
    ],
)
def test_age_groups_of_the_meta_analysis(
    age: int, group: int | None, d30: float | None, d90: float | None
) -> None:
    result = fitness.age_mortality(age)
    if group is None:
        assert result is None
    else:
        assert result is not None
        assert (result.age_group_min, result.mortality_30d_percent) == (group, d30)
        assert result.mortality_90d_percent == d90


def test_age_unknown_and_out_of_range() -> None:
    assert fitness.age_mortality(None) is None
    with pytest.raises(InputError) as info:
        fitness.age_mortality(121)
    assert info.value.field == "patient.age_years"


@given(st.integers(min_value=0, max_value=120))
def test_age_group_is_never_above_the_age(age: int) -> None:
    result = fitness.age_mortality(age)
    assert result is None or result.age_group_min <= age


@pytest.mark.parametrize("grade", [0, 1, 2, 3, 4])
def test_ecog_wording(grade: int) -> None:
    assert fitness.ecog_description(grade) == fitness.ECOG_GRADES[grade]


@pytest.mark.parametrize("bad", [-1, 5, True])
def test_ecog_out_of_range(bad: int) -> None:
    with pytest.raises(InputError) as info:
        fitness.ecog_description(bad)
    assert info.value.field == "patient.ecog"


def test_asa_recorded() -> None:
    result = fitness.asa_assessment(3, ["hypertension"])
    assert (result.asa_class, result.low, result.high, result.status) == (3, 3, 3, "recorded")


def test_asa_bounded_from_hypertension_and_diabetes() -> None:
    result = fitness.asa_assessment(None, ["hypertension", "diabetes mellitus"])
    assert (result.low, result.high, result.status) == (2, 3, "not assessable")
    assert "anaesthetist" in result.basis


def test_asa_not_known_without_a_listed_systemic_disease() -> None:
    result = fitness.asa_assessment(None, ["appendectomy 1990"])
    assert (result.low, result.high, result.status) == (None, None, "not known")


@pytest.mark.parametrize("bad", [0, 7])
def test_asa_out_of_range(bad: int) -> None:
    with pytest.raises(InputError) as info:
        fitness.asa_assessment(bad, [])
    assert info.value.field == "patient.asa"


def test_seed_case_fitness() -> None:
    block = assess(case_from_data(copy.deepcopy(SEED)), today=dt.date(2025, 1, 1)).to_dict()[
        "fitness"
    ]
    assert block["age"]["years"] == 80 and block["age"]["age_group"] == ">= 80"
    assert block["age"]["mortality_30d_percent"] == 1.7
    assert "Surgery 2022" in block["age"]["source"]
    assert block["ecog"]["grade"] is None and block["ecog"]["status"] == "not known"
    assert block["ecog"]["reported"] == "general condition good"
    assert block["asa"]["range"] == [2, 3] and block["asa"]["status"] == "not assessable"
    assert block["trial_context"]["within_collision_criteria"] is None  # ECOG not recorded


def test_uterine_fitness() -> None:
    block = fitness_section(case_from_data(copy.deepcopy(UTERINE)))
    assert block["age"] == {"years": 55}  # no age group applies
    assert block["ecog"]["grade"] == 1 and "light or sedentary" in block["ecog"]["description"]
    assert (block["asa"]["class"], block["asa"]["label"]) == (2, "II")
    assert block["trial_context"]["within_collision_criteria"] is True  # ECOG 1 <= 2, ASA II <= III


@pytest.mark.parametrize(
    ("ecog", "asa", "within"), [(2, 3, True), (3, 3, False), (2, 4, False), (0, 1, True)]
)
def test_collision_criteria_at_their_limits(ecog: int, asa: int, within: bool) -> None:
    data = copy.deepcopy(UTERINE)
    data["patient"].update(ecog=ecog, asa=asa)
    assert fitness_section(case_from_data(data))["trial_context"]["within_collision_criteria"] is (
        within
    )
