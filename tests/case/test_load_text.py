"""Pasted case text (YAML or JSON) read into a case: :func:`livermet.case.load.case_from_text`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from livermet.case.limits import MAX_CASE_FILE_BYTES
from livermet.case.load import case_from_text, load_case
from livermet.errors import InputError

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed-case.yaml"


def test_yaml_and_json_text_give_the_case_of_the_file() -> None:
    text = SEED.read_text(encoding="utf-8")
    expected = load_case(SEED)
    assert case_from_text(text) == expected
    as_json = json.dumps(yaml.safe_load(text), default=str)
    assert case_from_text(as_json) == expected


@pytest.mark.parametrize("text", ["", "   \n\t ", "\n"])
def test_empty_text_asks_for_a_case_file(text: str) -> None:
    with pytest.raises(InputError) as err:
        case_from_text(text, "case_json")
    assert err.value.field == "case_json"
    assert err.value.message == "paste a case file or choose one to upload"


def test_text_that_is_neither_yaml_nor_json_names_the_problem() -> None:
    with pytest.raises(InputError) as err:
        case_from_text("id: x\n  histology: [unclosed\n")
    assert err.value.field == "case_text"
    assert err.value.message.startswith("cannot read the case file as YAML or JSON: ")


def test_json_nested_too_deeply_is_refused_without_a_crash() -> None:
    with pytest.raises(InputError) as err:
        case_from_text("[" * 100_000 + "]" * 100_000)
    assert err.value.field == "case_text"
    assert "cannot read the case file" in err.value.message


def test_text_over_the_size_limit_is_refused() -> None:
    with pytest.raises(InputError, match="at most") as err:
        case_from_text("#" * (MAX_CASE_FILE_BYTES + 1))
    assert err.value.field == "case_text"


def test_a_yaml_list_is_not_a_case() -> None:
    with pytest.raises(InputError) as err:
        case_from_text("- id: x\n- id: y\n")
    assert (err.value.field, err.value.message) == (
        "(case)",
        "a case file must be a mapping of fields",
    )


def test_a_wrong_field_is_named_by_its_path() -> None:
    text = SEED.read_text(encoding="utf-8").replace("  age_years:", "  age_yaers:", 1)
    with pytest.raises(InputError) as err:
        case_from_text(text)
    assert err.value.field == "patient.age_yaers"
    assert err.value.message == "unknown field 'age_yaers'; did you mean 'age_years'?"


def test_a_repeated_key_is_refused() -> None:
    with pytest.raises(InputError, match="duplicate key 'id'"):
        case_from_text("id: a\nid: b\n")
