"""Times on one axis: offsets, real dates, and impossible timelines refused with their path."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from livermet.case.load import case_from_data, field_path
from livermet.case.model import Case
from livermet.case.timeline import DAYS_PER_MONTH, build_timeline
from livermet.errors import InputError
from tests.conftest import SEED_CASE

SEED = yaml.safe_load(SEED_CASE.read_text())


def _case(mutate: Callable[[dict[str, Any]], None] | None = None) -> Case:
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
    def dated(d: dict[str, Any]) -> None:
        d["procedures"][0]["when"] = dt.date(2021, 1, 10)
        d["procedures"][1]["when"] = dt.date(2021, 5, 10)
        d["procedures"][1]["discharge"] = dt.date(2021, 5, 21)

    tl = build_timeline(_case(dated))
    assert tl.procedure_day["liver-resection"] == 120
    assert tl.length_of_stay_days("liver-resection") == 11
    assert tl.index_date == dt.date(2021, 1, 10)


def test_a_date_needs_a_dated_index() -> None:
    def mixed(d: dict[str, Any]) -> None:
        d["procedures"][1]["when"] = "2021-05-10"

    with pytest.raises(InputError) as info:
        _case(mixed)
    assert info.value.field == "procedures[1].when"


def test_circular_reference() -> None:
    def loop(d: dict[str, Any]) -> None:
        d["index_event"] = "liver-resection"
        d["procedures"][0]["when"] = {"after": "liver-resection", "months": -1}

    with pytest.raises(InputError):
        _case(loop)  # negative offsets are refused by the model first

    def cycle(d: dict[str, Any]) -> None:
        d["procedures"].append({"id": "a", "kind": "other", "when": {"after": "b", "days": 1}})
        d["procedures"].append({"id": "b", "kind": "other", "when": {"after": "a", "days": 1}})

    with pytest.raises(InputError) as info:
        _case(cycle)
    assert "circular" in info.value.message


def test_discharge_before_operation_names_the_path() -> None:
    def early(d: dict[str, Any]) -> None:
        d["procedures"][1]["discharge"] = {"after": "primary-resection", "months": 3}

    with pytest.raises(InputError) as info:
        _case(early)
    assert info.value.field == "procedures[1].discharge"
    assert "before the operation" in info.value.message


def test_offset_needs_exactly_one_amount() -> None:
    def two(d: dict[str, Any]) -> None:
        d["procedures"][1]["when"] = {"after": "primary-resection", "months": 4, "days": 2}

    with pytest.raises(InputError) as info:
        _case(two)
    assert info.value.field == "procedures[1].when"


def test_unknown_index_event() -> None:
    with pytest.raises(InputError) as info:
        _case(lambda d: d.update(index_event="diagnosis"))
    assert info.value.field == "index_event"


def test_duplicate_procedure_ids() -> None:
    def dup(d: dict[str, Any]) -> None:
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
def test_field_paths(loc: tuple[Any, ...], path: str) -> None:
    assert field_path(loc) == path


def test_model_dump_round_trips() -> None:
    """What the registry stores (a JSON dump) validates back to the same case."""
    from livermet.case.model import Case

    case = _case()
    assert Case.model_validate(case.model_dump(mode="json")) == case
    assert Case.model_validate(case.model_dump(mode="json", exclude_none=True)) == case


def test_zero_size_is_refused() -> None:
    def zero(d: dict[str, Any]) -> None:
        d["primary_tumour"]["sizes"][0]["greatest_dimension"] = "0 mm"

    with pytest.raises(InputError) as info:
        _case(zero)
    assert info.value.field == "primary_tumour.sizes[0].greatest_dimension"


# --- the new times: diagnosis, detection, imaging, biopsy, therapy, planned operations ----------

UTERINE = yaml.safe_load((SEED_CASE.parent / "preop-uterine-lms.yaml").read_text())


def _uterine(mutate: Callable[[dict[str, Any]], None] | None = None) -> Case:
    data = copy.deepcopy(UTERINE)
    if mutate:
        mutate(data)
    return case_from_data(data)


def test_every_time_of_the_uterine_example_resolves() -> None:
    tl = build_timeline(_uterine())
    assert tl.index_date == dt.date(2022, 10, 3)  # the hysterectomy
    assert tl.diagnosis_day == -23  # 2022-09-10 is 23 days before
    assert tl.lesion_detected_day == [791, 791]  # 2024-12-02
    assert tl.imaging_day == [791, 932]  # 2024-12-02, 2025-04-22
    assert tl.therapy_days == [(826, 917)]  # 2025-01-06 -> 2025-04-07
    assert tl.assessed_on == dt.date(2025, 5, 15) and tl.assessed_day == 955
    # The planned operation keeps its planned day but has not happened.
    assert tl.procedure_day["liver-resection"] == 973  # 2025-06-02
    assert tl.performed_day("liver-resection") is None
    assert not tl.happened("liver-resection")
    assert tl.performed_day("hysterectomy") == 0 and tl.happened("hysterectomy")
    assert tl.date_of(973) == dt.date(2025, 6, 2)


def test_offsets_from_a_procedure_resolve_for_the_new_times() -> None:
    def offsets(d: dict[str, Any]) -> None:
        d["primary_tumour"]["diagnosed"] = {"after": "hysterectomy", "days": 0}
        d["liver_lesions"][0]["detected"] = {"after": "hysterectomy", "months": 26}
        d["systemic_therapy"][0]["started"] = {"after": "hysterectomy", "weeks": 118}
        d["systemic_therapy"][0]["ended"] = None

    tl = build_timeline(_uterine(offsets))
    assert tl.diagnosis_day == 0
    assert tl.lesion_detected_day[0] == pytest.approx(26 * DAYS_PER_MONTH)
    assert tl.therapy_days == [(826, None)]  # 118 weeks = 826 days; ongoing


def test_a_therapy_that_ends_before_it_starts() -> None:
    def backwards(d: dict[str, Any]) -> None:
        d["systemic_therapy"][0]["ended"] = dt.date(2025, 1, 1)

    with pytest.raises(InputError) as info:
        build_timeline(_uterine(backwards))
    assert info.value.field == "systemic_therapy[0].ended"
    assert "5 days before it starts" in info.value.message


def test_a_planned_operation_has_no_discharge() -> None:
    def discharged(d: dict[str, Any]) -> None:
        d["procedures"][1]["discharge"] = dt.date(2025, 6, 12)

    with pytest.raises(InputError) as info:
        build_timeline(_uterine(discharged))
    assert info.value.field == "procedures[1].discharge"


def test_unknown_event_in_a_new_time_names_its_path() -> None:
    def unknown(d: dict[str, Any]) -> None:
        d["imaging"][1]["when"] = {"after": "chemotherapy", "weeks": 2}

    with pytest.raises(InputError) as info:
        build_timeline(_uterine(unknown))
    assert info.value.field == "imaging[1].when.after"


def test_a_date_in_an_undated_case_is_refused_for_the_new_times() -> None:
    def dated_diagnosis(d: dict[str, Any]) -> None:
        d["primary_tumour"]["diagnosed"] = "2020-01-01"

    with pytest.raises(InputError) as info:
        build_timeline(_case(dated_diagnosis))
    assert info.value.field == "primary_tumour.diagnosed"


def test_the_assessment_date_without_a_dated_index() -> None:
    tl = build_timeline(_case(), today=dt.date(2024, 2, 29))
    assert tl.assessed_on == dt.date(2024, 2, 29) and tl.assessed_day is None
