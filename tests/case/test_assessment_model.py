"""The typed assessment model: the JSON output generated from it is the dict the sections build.

``Assessment.data`` is the nested dict the sections build; ``Assessment.to_dict()`` validates it
against :class:`AssessmentModel` and dumps the model. The two must be identical, key for key and
in the same order (``json.dumps`` compared as text): nothing lost, renamed, reordered or
converted (``12`` stays ``12``, ``7.0`` stays ``7.0``, null stays null). Every key must also be
named by the model (no key carried only as an "extra"), so the published schema is complete.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel, ValidationError

from livermet.case.assess import Assessment, assess
from livermet.case.assessment_model import AssessmentModel, assessment_json_schema
from livermet.case.load import load_case
from livermet.case.model import Case
from livermet.errors import InputError
from tests.interchange.strategies import cases, dated_si_case, every_field_case, minimal_case

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_NAMES = (
    "seed-case",
    "preop-uterine-lms",
    "preop-retroperitoneal-lms",
    "preop-plan-misses-lesions",
)


def undocumented(model: Any, path: str = "$") -> list[str]:
    """Paths of the keys the model carries only as extras (not named by a field)."""
    out: list[str] = []
    if isinstance(model, BaseModel):
        out += [f"{path}.{key}" for key in model.model_extra or {}]
        for name in type(model).model_fields:
            out += undocumented(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, list):
        for i, item in enumerate(model):
            out += undocumented(item, f"{path}[{i}]")
    return out


def assert_identical(assessment: Assessment) -> None:
    before = json.dumps(assessment.data, ensure_ascii=False)
    after = json.dumps(assessment.to_dict(), ensure_ascii=False)
    assert after == before
    assert undocumented(assessment.model()) == []


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_the_json_output_of_each_example_is_the_dict_the_sections_build(name: str) -> None:
    assert_identical(assess(load_case(EXAMPLES / f"{name}.yaml")))


@pytest.mark.parametrize("make", [every_field_case, minimal_case, dated_si_case])
def test_the_json_output_of_the_edge_cases_is_the_dict_the_sections_build(make: Any) -> None:
    assert_identical(assess(make(), today=dt.date(2025, 1, 1)))


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=cases())
def test_the_json_output_of_any_case_is_the_dict_the_sections_build(case: Case) -> None:
    try:
        assessment = assess(case)
    except InputError:
        return  # refused with a field: tests/case/test_assess_any_case.py
    assert_identical(assessment)


def test_the_seed_case_model_is_typed() -> None:
    model = assess(load_case(EXAMPLES / "seed-case.yaml")).model()
    assert model.phase == "post-operative"
    assert isinstance(model.assessed_on, dt.date)
    assert model.grading.fnclcc.grade == 3
    assert model.staging.at_diagnosis.system == "ajcc8-extremity-trunk"
    # whole numbers stay integers, fractions floats (no 15 -> 15.0 on the way through)
    dumped = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert dumped["staging"]["ajcc8"]["size_cm"] == 15
    assert isinstance(dumped["staging"]["ajcc8"]["size_cm"], int)
    # a key written only in some cases is absent, not null, when not written
    assert "reason" not in dumped["staging"]["ajcc8"]
    assert "class" in dumped["liver_function"]["child_pugh"]


def test_the_uterine_example_model_names_its_recurrence_and_alternatives() -> None:
    model = assess(load_case(EXAMPLES / "preop-uterine-lms.yaml")).model()
    assert model.phase == "pre-operative"
    assert model.staging.system == "figo-uterine-sarcoma"
    assert model.staging.recurrence is not None
    assert model.staging.recurrence.classification == "rM1"
    assert [lesion.segments for lesion in model.liver_lesions] == [[4], [8]]


def test_a_value_outside_a_vocabulary_is_refused() -> None:
    data = copy.deepcopy(assess(load_case(EXAMPLES / "seed-case.yaml")).data)
    data["options"][0]["verdict"] = "maybe"
    with pytest.raises(ValidationError, match="verdict"):
        AssessmentModel.model_validate(data)
    data = copy.deepcopy(assess(load_case(EXAMPLES / "seed-case.yaml")).data)
    del data["resection"]["coverage"]
    with pytest.raises(ValidationError, match="coverage"):
        AssessmentModel.model_validate(data)


def test_a_key_the_model_does_not_name_is_kept_and_reported() -> None:
    data = copy.deepcopy(assess(load_case(EXAMPLES / "seed-case.yaml")).data)
    data["resection"]["new_key"] = [1, 2]
    model = AssessmentModel.model_validate(data)
    assert model.model_dump(mode="json", by_alias=True, exclude_unset=True)["resection"][
        "new_key"
    ] == [1, 2]
    assert undocumented(model) == ["$.resection.new_key"]


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, definition in schema.get("$defs", {}).items():
        out += [(f"{name}.{key}", prop) for key, prop in definition.get("properties", {}).items()]
    out += [(f"$.{key}", prop) for key, prop in schema["properties"].items()]
    return out


def test_the_schema_describes_every_key() -> None:
    schema = assessment_json_schema()
    assert set(schema["required"]) >= {"phase", "assessed_on", "resection", "staging", "findings"}
    undescribed = [name for name, prop in _properties(schema) if not prop.get("description")]
    assert undescribed == []
    child_pugh = schema["$defs"]["ChildPugh"]["properties"]
    assert "class" in child_pugh and "child_class" not in child_pugh  # the JSON key, not ours
    verdicts = schema["$defs"]["TreatmentOption"]["properties"]["verdict"]["enum"]
    assert verdicts == ["favoured", "possible", "not favoured"]
