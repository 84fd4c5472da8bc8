"""TOLS (2022 Delphi): spec §13 worked example, tri-state rule, array form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.textbook_outcome import (
    TOLS_CRITERIA,
    textbook_outcome,
    textbook_outcome_array,
)
from livermet.errors import InputError

ALL_GOOD: dict[str, bool] = {
    "intraoperative_incident_grade2_or_more": False,
    "bile_leak_grade_b_or_c": False,
    "liver_failure_grade_b_or_c": False,
    "major_complication": False,
    "readmission_90d": False,
    "mortality_90d": False,
    "r0_resection": True,
}


def test_criteria_list_order_and_sources() -> None:
    assert [c.name for c in TOLS_CRITERIA] == list(ALL_GOOD)
    assert all(c.description and c.source for c in TOLS_CRITERIA)
    assert [c.name for c in TOLS_CRITERIA if c.true_is_good] == ["r0_resection"]


def test_case_readmission_unknown_is_not_assessable() -> None:
    # Spec §13: criteria 1-4, 6, 7 met; readmission not stated -> not assessable.
    kwargs = {**ALL_GOOD, "readmission_90d": None}
    result = textbook_outcome(**kwargs)
    assert result.status == "not assessable"
    assert result.achieved is None
    assert result.missing == ["readmission_90d"]
    assert result.criteria["readmission_90d"] == "not assessable"
    assert all(s == "met" for k, s in result.criteria.items() if k != "readmission_90d")


def test_case_no_readmission_is_achieved() -> None:
    result = textbook_outcome(**ALL_GOOD)
    assert result.status == "achieved"
    assert result.achieved is True
    assert result.missing == []
    assert set(result.criteria.values()) == {"met"}


@pytest.mark.parametrize("criterion", list(ALL_GOOD))
def test_any_single_failure_is_not_achieved(criterion: str) -> None:
    kwargs = {**ALL_GOOD, criterion: not ALL_GOOD[criterion]}
    result = textbook_outcome(**kwargs)
    assert result.status == "not achieved"
    assert result.achieved is False
    assert result.criteria[criterion] == "failed"


def test_failure_beats_unknown() -> None:
    result = textbook_outcome(mortality_90d=True)
    assert result.status == "not achieved"
    assert len(result.missing) == 6


def test_all_unknown() -> None:
    result = textbook_outcome()
    assert result.status == "not assessable"
    assert result.missing == list(ALL_GOOD)


def test_integer_flags_accepted() -> None:
    assert textbook_outcome(**{k: int(v) for k, v in ALL_GOOD.items()}).status == "achieved"


@pytest.mark.parametrize("bad", [2, -1, 0.5])
def test_non_boolean_rejected(bad: float) -> None:
    with pytest.raises(InputError) as info:
        textbook_outcome(major_complication=bad)
    assert info.value.field == "major_complication"


def test_array_form_rejects_unknown_keyword() -> None:
    with pytest.raises(InputError, match="readmission_30d"):
        textbook_outcome_array(readmission_30d=[0])


def test_array_form() -> None:
    columns = {k: np.array([float(v)] * 3) for k, v in ALL_GOOD.items()}
    columns["readmission_90d"] = np.array([0.0, np.nan, 1.0])
    result = textbook_outcome_array(**columns)
    assert list(result.status) == ["achieved", "not assessable", "not achieved"]
    assert list(result.achieved) == [True, None, False]
    assert list(result.criteria["readmission_90d"]) == ["met", "not assessable", "failed"]
    assert list(result.missing[1]) == ["readmission_90d"]


flags = st.sampled_from([True, False, None])


def _as_float(flag: bool | None) -> float:
    return math.nan if flag is None else float(flag)


@given(st.lists(st.tuples(*[flags] * 7), min_size=1, max_size=15))
def test_scalar_equals_array_and_tri_state(rows: list[tuple[bool | None, ...]]) -> None:
    names = list(ALL_GOOD)
    columns = {name: np.array([_as_float(r[j]) for r in rows]) for j, name in enumerate(names)}
    arrays = textbook_outcome(**columns)
    for i, row in enumerate(rows):
        one = textbook_outcome(**dict(zip(names, row, strict=True)))
        assert arrays.status[i] == one.status
        assert list(arrays.missing[i]) == one.missing
        failed = any(s == "failed" for s in one.criteria.values())
        unknown = any(v is None for v in row)
        expected = "not achieved" if failed else "not assessable" if unknown else "achieved"
        assert one.status == expected


@given(st.lists(st.tuples(*[flags] * 7), min_size=1, max_size=15))
def test_array_criteria_and_achieved_equal_one_patient(rows: list[tuple[bool | None, ...]]) -> None:
    # criteria and missing are computed from the bit patterns on first access, once
    names = list(ALL_GOOD)
    columns = {name: np.array([_as_float(r[j]) for r in rows]) for j, name in enumerate(names)}
    arrays = textbook_outcome(**columns)
    assert arrays.criteria is arrays.criteria
    for i, row in enumerate(rows):
        one = textbook_outcome(**dict(zip(names, row, strict=True)))
        assert arrays.achieved[i] == one.achieved
        assert {k: v[i] for k, v in arrays.criteria.items()} == one.criteria
        for name, flag in zip(names, row, strict=True):
            bad = flag is not None and flag != ALL_GOOD[name]
            assert one.criteria[name] == (
                "not assessable" if flag is None else "failed" if bad else "met"
            )
