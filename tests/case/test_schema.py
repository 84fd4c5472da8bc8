"""The shipped JSON Schema is the model's, and it accepts the seed case."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, cast

import jsonschema
import yaml

from livermet.case.model import case_json_schema
from tests.conftest import SEED_CASE


def _shipped() -> dict[str, Any]:
    text = resources.files("livermet.case").joinpath("schema/case.schema.json").read_text()
    return cast(dict[str, Any], json.loads(text))


def test_shipped_schema_is_up_to_date() -> None:
    # Regenerate with: livermet schema > src/livermet/case/schema/case.schema.json
    assert _shipped() == case_json_schema()


def test_seed_case_conforms_to_the_schema() -> None:
    data = json.loads(json.dumps(yaml.safe_load(SEED_CASE.read_text()), default=str))
    errors = list(jsonschema.Draft202012Validator(_shipped()).iter_errors(data))
    assert errors == []


def test_schema_rejects_an_unknown_field() -> None:
    data = json.loads(json.dumps(yaml.safe_load(SEED_CASE.read_text()), default=str))
    data["patient"]["weigth"] = "70 kg"
    errors = list(jsonschema.Draft202012Validator(_shipped()).iter_errors(data))
    assert any("weigth" in e.message for e in errors)
