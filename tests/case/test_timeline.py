"""Times on one axis: offsets, real dates, and impossible timelines refused with their path."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
import yaml

from livermet.case.load import case_from_data, field_path
from livermet.case.timeline import DAYS_PER_MONTH, build_timeline
from livermet.errors import InputError
from tests.conftest import SEED_CASE

SEED = yaml.safe_load(SEED_CASE.read_text())


def _case(mutate=None):
    data = copy.deepcopy(SEED)
    if mutate:
        mutate(data)
    return case_from_data(data)


def test_offsets_resolve_from_the_index_event() -> None:
    tl = build_timeline(_case())
    assert tl.procedure_day["primary-resection"] == 0
    assert tl.procedure_day["liver-resection"] == pytest.approx(4 * DAYS_PER_MONTH)
    assert tl.length_of_stay_days("primary-resection") == 25
    assert tl.length_of_stay_days("liver-resection") == 11
    assert tl.months_between("primary-resection", "liver-resection") == pytest.approx(4)


def test_real_dates() -> None:
    def dated(d: dict) -> None:
        d["procedures"][0]["when"] = dt.date(2021, 1, 10)
        d["procedures"][1]["when"] = dt.date(2021, 5, 10)
        d["procedures"][1]["discharge"] = dt.date(2021, 5, 21)

    tl = build_timeline(_case(dated))
    assert tl.procedure_day["liver-resection"] == 120
    assert tl.length_of_stay_days("liver-resection") == 11
    assert tl.index_date == dt.date(2021, 1, 10)


def test_a_date_needs_a_dated_index() -> None:
    def mixed(d: dict) -> None:
        d["procedures"][1]["when"] = "2021-05-10"

    with pytest.raises(InputError) as info:
        _case(mixed)
    assert info.value.field == "procedures[1].when"


def test_circular_reference() -> None:
    def loop(d: dict) -> None:
        d["index_event"] = "liver-resection"
        d["procedures"][0]["when"] = {"after": "liver-resection", "months": -1}

    with pytest.raises(InputError):
        _case(loop)  # negative offsets are refused by the model first

    def cycle(d: dict) -> None:
        d["procedures"].append({"id": "a", "kind": "other", "when": {"after": "b", "days": 1}})
        d["procedures"].append({"id": "b", "kind": "other", "when": {"after": "a", "days": 1}})

    with pytest.raises(InputError) as info:
        _case(cycle)
    assert "circular" in info.value.message


def test_discharge_before_operation_names_the_path() -> None:
    def early(d: dict) -> None:
        d["procedures"][1]["discharge"] = {"after": "primary-resection", "months": 3}

    with pytest.raises(InputError) as info:
        _case(early)
    assert info.value.field == "procedures[1].discharge"
    assert "before the operation" in info.value.message


def test_offset_needs_exactly_one_amount() -> None:
    def two(d: dict) -> None:
        d["procedures"][1]["when"] = {"after": "primary-resection", "months": 4, "days": 2}

    with pytest.raises(InputError) as info:
        _case(two)
    assert info.value.field == "procedures[1].when"


def test_unknown_index_event() -> None:
    with pytest.raises(InputError) as info:
        _case(lambda d: d.update(index_event="diagnosis"))
    assert info.value.field == "index_event"


def test_duplicate_procedure_ids() -> None:
    def dup(d: dict) -> None:
        d["procedures"][1]["id"] = "primary-resection"

    with pytest.raises(InputError) as info:
        _case(dup)
    assert "used twice" in info.value.message


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("procedures", 1, "blood_loss"), "procedures[1].blood_loss"),
        (("procedures", 1, "when", "Offset", "months"), "procedures[1].when.months"),
        (("labs", "bilirubin", "function-after[check(), union[str,float]]"), "labs.bilirubin"),
        ((), "(case)"),
    ],
)
def test_field_paths(loc: tuple, path: str) -> None:
    assert field_path(loc) == path


def test_model_dump_round_trips() -> None:
    """What the registry stores (a JSON dump) validates back to the same case."""
    from livermet.case.model import Case

    case = _case()
    assert Case.model_validate(case.model_dump(mode="json")) == case
    assert Case.model_validate(case.model_dump(mode="json", exclude_none=True)) == case


def test_zero_size_is_refused() -> None:
    def zero(d: dict) -> None:
        d["primary_tumour"]["sizes"][0]["greatest_dimension"] = "0 mm"

    with pytest.raises(InputError) as info:
        _case(zero)
    assert info.value.field == "primary_tumour.sizes[0].greatest_dimension"
