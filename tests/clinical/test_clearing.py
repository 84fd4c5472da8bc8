"""Smallest resections clearing every lesion, marked within / beyond the Makuuchi limit.

Expected values: the spec's worked examples (U = {7}, {4,5}, {2,7}) and the rungs of the Makuuchi
ladder (3 segmentectomy, 4 sectionectomy / left hemihepatectomy, 5 right hemihepatectomy /
trisectionectomy / central hepatectomy).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.clearing import ClearingResection, clearing_resections, within_limit
from livermet.clinical.extent import ResectionExtent as E
from livermet.errors import InputError


def _names(rows: list[ClearingResection]) -> list[str]:
    return [r.name for r in rows]


def test_seed_s7_all_within_with_icg_4_3() -> None:
    rows = clearing_resections([[7]], E.RIGHT_HEMIHEPATECTOMY)
    assert _names(rows) == [
        "partial (non-anatomical) resection of segment 7",
        "segmentectomy 7",  # 1 segment, rung 3
        "right posterior sectionectomy",  # 2 segments, rung 4, Brisbane name first
        "bisegmentectomy 7,8",
        "right hemihepatectomy",  # 4 segments, rung 5
        "right trisectionectomy",  # 5 segments, rung 5
    ]
    assert all(r.within_safe_extent for r in rows)
    assert rows[0].condition is not None and not rows[0].anatomical  # surgeon's judgement


def test_s7_with_icg_25_percent() -> None:
    # ICG-R15 25 % -> segmentectomy at most (rung 3): within = partial, segmentectomy 7;
    # right posterior sectionectomy (rung 4) is not (spec worked example).
    rows = clearing_resections([[7]], E.SEGMENTECTOMY)
    assert _names(within_limit(rows)) == [
        "partial (non-anatomical) resection of segment 7",
        "segmentectomy 7",
    ]
    rps = next(r for r in rows if r.name == "right posterior sectionectomy")
    assert rps.within_safe_extent is False


def test_s4_s5_smallest_is_bisegmentectomy() -> None:
    rows = clearing_resections([[4], [5]], None, partial_feasible=False)
    assert _names(rows)[:2] == ["bisegmentectomy 4,5", "central hepatectomy"]
    assert all(r.within_safe_extent is None for r in rows)  # limit not known


def test_s2_s7_needs_a_combination() -> None:
    rows = clearing_resections([[2], [7]], E.SECTIONECTOMY, partial_feasible=False)
    assert all(r.combination for r in rows)  # no single resection contains S2 and S7
    # smallest: segmentectomy 2 + segmentectomy 7 (2 segments -> rung 4)
    assert rows[0].name == "segmentectomy 2 + segmentectomy 7"
    assert rows[0].extent == E.SECTIONECTOMY
    # the spec's example, one segment more: left lateral sectionectomy + segmentectomy 7, rung 4
    lls = next(r for r in rows if r.name == "left lateral sectionectomy + segmentectomy 7")
    assert lls.segments == (2, 3, 7) and lls.extent == E.SECTIONECTOMY and lls.within_safe_extent
    assert all(r.engineering_choice for r in rows)
    assert max(len(r.segments) for r in rows) == 3  # smallest (2) + slack 1


def test_uterine_s4_s8_with_icg_12_percent() -> None:
    # bilirubin 0.9 <= 1.0, ICG-R15 12 % in [10, 20) -> rung 4.
    rows = clearing_resections([[4], [8]], E.SECTIONECTOMY, partial_feasible=False)
    assert [(r.name, r.within_safe_extent) for r in rows] == [
        ("bisegmentectomy 4,8", True),  # 2 segments, rung 4
        ("central hepatectomy", False),  # S4+S5+S8, rung 5
        ("left trisectionectomy", False),
        ("right trisectionectomy", False),
    ]


def test_caudate_only_when_a_lesion_involves_it() -> None:
    assert all(1 not in r.segments for r in clearing_resections([[7]], None))
    rows = clearing_resections([[1]], E.SEGMENTECTOMY, partial_feasible=False)
    assert rows[0].name == "segmentectomy 1" and rows[0].within_safe_extent  # rung 3


def test_partial_flags() -> None:
    assert clearing_resections([[7]], None, partial_feasible=True)[0].condition is None
    assert not any(
        not r.anatomical for r in clearing_resections([[7]], None, partial_feasible=False)
    )
    # partial is rung 2: within "limited", beyond "enucleation"
    assert clearing_resections([[7]], E.LIMITED)[0].within_safe_extent is True
    assert clearing_resections([[7]], E.ENUCLEATION)[0].within_safe_extent is False


def test_whole_liver_is_never_an_anatomical_option() -> None:
    rows = clearing_resections([list(range(1, 9))], E.RIGHT_HEMIHEPATECTOMY)
    assert [r.anatomical for r in rows] == [False]


def test_no_lesion_no_resection() -> None:
    assert clearing_resections([], E.RIGHT_HEMIHEPATECTOMY) == []


@pytest.mark.parametrize("bad", [[0], [9], ["S10"]])
def test_bad_segment(bad: list[object]) -> None:
    with pytest.raises(InputError) as err:
        clearing_resections([bad], None)
    assert err.value.field == "liver_lesions[0].segments"


def test_bad_rank() -> None:
    with pytest.raises(InputError):
        clearing_resections([[7]], 6)


lesion_sets = st.lists(
    st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=2), min_size=1, max_size=3
)


@given(lesion_sets, st.integers(min_value=0, max_value=5))
def test_every_entry_clears_every_lesion(lesions: list[list[int]], rank: int) -> None:
    union = {s for lesion in lesions for s in lesion}
    rows = clearing_resections(lesions, rank, partial_feasible=False)
    assert all(union <= set(r.segments) for r in rows)
    sizes = [len(r.segments) for r in rows]
    assert sizes == sorted(sizes)
    assert all(r.within_safe_extent == (int(r.extent) <= rank) for r in rows)


@given(lesion_sets, st.integers(min_value=0, max_value=4))
def test_raising_the_limit_never_removes_an_option(lesions: list[list[int]], rank: int) -> None:
    low = {r.name for r in within_limit(clearing_resections(lesions, rank))}
    high = {r.name for r in within_limit(clearing_resections(lesions, rank + 1))}
    assert low <= high
