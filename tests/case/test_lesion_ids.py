"""Liver-lesion ids are unique: imaging measurements and the plan's coverage refer to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from livermet.case.load import case_from_data
from livermet.errors import InputError

CASE = Path(__file__).parents[1] / "report" / "data" / "qa-uterine-3-lesions.yaml"


def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CASE.read_text(encoding="utf-8"))
    return data


def test_a_lesion_id_used_twice_is_refused_naming_the_field() -> None:
    data = _data()
    data["liver_lesions"][1]["id"] = "L1"
    with pytest.raises(InputError) as info:
        case_from_data(data)
    assert info.value.field == "liver_lesions[1].id"
    assert "'L1' is used twice" in info.value.message
    assert "liver_lesions[0].id" in info.value.message


def test_lesions_without_ids_are_accepted() -> None:
    data = _data()
    for lesion in data["liver_lesions"]:
        del lesion["id"]
    assert [lesion.id for lesion in case_from_data(data).liver_lesions] == [None, None, None]


def test_a_procedure_id_used_twice_names_its_field() -> None:
    data = _data()
    data["procedures"][1]["id"] = "hysterectomy"
    data["index_event"] = "hysterectomy"
    with pytest.raises(InputError) as info:
        case_from_data(data)
    assert info.value.field == "procedures[1].id"
    assert "used twice" in info.value.message
