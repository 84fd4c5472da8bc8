"""Thermal-ablation eligibility: size, number, extrahepatic disease and bile-duct distance.

Limits: <= 30 mm and <= 10 lesions (COLLISION protocol, Puijk 2018), >= 10 mm from the bile ducts
(Lin 2017), heat sink above 3 mm vessels (Lu 2002); zone = diameter + 2 x margin.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.ablation import (
    ABLATION_MAX_COUNT,
    ABLATION_MAX_DIAMETER_MM,
    LesionAblation,
    ablation_candidates,
    lesion_ablation,
)
from livermet.errors import InputError


def _status(result: LesionAblation, name: str) -> str:
    return str(next(c.status for c in result.criteria if c.name == name))


def _ok(**kw: Any) -> LesionAblation:
    args: dict[str, Any] = {
        "diameter_mm": 20.0,
        "lesion_count": 1,
        "extrahepatic_disease": False,
        "bile_duct_distance_mm": 15.0,
    }
    args.update(kw)
    return lesion_ablation(**args)


def test_seed_lesion_worked_example() -> None:
    # 21 mm solitary S7 lesion, distances not reported (spec worked example).
    r = lesion_ablation(diameter_mm=21, lesion_count=1, extrahepatic_disease=False)
    assert _status(r, "size") == "met"
    assert _status(r, "number") == "met"
    assert _status(r, "extrahepatic disease") == "met"
    assert _status(r, "bile-duct distance") == "not assessable"
    assert r.eligible is None  # never "eligible" with an unknown criterion
    # 21 + 2 x 5 = 31 mm; 21 + 2 x 10 = 41 mm; 31 > 30 (lower end of a single RFA zone).
    assert r.zone_needed_mm == ((5.0, 31.0), (10.0, 41.0))
    assert r.overlapping_zones_likely is True


@pytest.mark.parametrize(("mm", "status"), [(30.0, "met"), (30.1, "not met"), (29.9, "met")])
def test_size_threshold_both_sides(mm: float, status: str) -> None:
    assert ABLATION_MAX_DIAMETER_MM == 30.0
    assert _status(_ok(diameter_mm=mm), "size") == status


def test_twelve_centimetre_lesion_is_not_a_candidate() -> None:
    r = _ok(diameter_mm=120.0)
    assert r.eligible is False
    assert [c.name for c in r.failed] == ["size"]
    assert "120 mm > 30 mm" in r.failed[0].text


@pytest.mark.parametrize(("count", "status"), [(10, "met"), (11, "not met"), (1, "met")])
def test_number_threshold_both_sides(count: int, status: str) -> None:
    assert ABLATION_MAX_COUNT == 10
    assert _status(_ok(lesion_count=count), "number") == status


@pytest.mark.parametrize(
    ("mm", "status"), [(10.0, "met"), (9.9, "not met"), (None, "not assessable")]
)
def test_bile_duct_distance_both_sides(mm: float | None, status: str) -> None:
    assert _status(_ok(bile_duct_distance_mm=mm), "bile-duct distance") == status


@pytest.mark.parametrize(
    ("extra", "status", "eligible"),
    [(False, "met", True), (True, "not met", False), (None, "not assessable", None)],
)
def test_extrahepatic_disease(extra: bool | None, status: str, eligible: bool | None) -> None:
    r = _ok(extrahepatic_disease=extra)
    assert _status(r, "extrahepatic disease") == status
    assert r.eligible is eligible


def test_all_known_and_met_is_eligible() -> None:
    assert _ok().eligible is True


@pytest.mark.parametrize(("mm", "flag"), [(3.0, False), (3.1, True), (None, None), (0.0, False)])
def test_heat_sink_flag_above_3_mm(mm: float | None, flag: bool | None) -> None:
    r = _ok(abutting_vessel_mm=mm)
    assert r.heat_sink_risk is flag
    assert r.eligible is True  # a flag, not an exclusion


def test_zone_at_the_single_rfa_lower_end() -> None:
    # 20 + 2 x 5 = 30 mm: not above 30 -> a single zone may do.
    assert _ok(diameter_mm=20.0).overlapping_zones_likely is False
    assert _ok(diameter_mm=20.5).overlapping_zones_likely is True


def test_candidates_count_the_lesions() -> None:
    rows = ablation_candidates([28.0, 34.0], extrahepatic_disease=False)
    assert [r.eligible for r in rows] == [None, False]  # 28 mm: distance unknown; 34 mm > 30
    eleven = ablation_candidates([10.0] * 11, extrahepatic_disease=False)
    assert all(_status(r, "number") == "not met" for r in eleven)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"diameter_mm": -1.0}, "diameter_mm"),
        ({"diameter_mm": 501.0}, "diameter_mm"),
        ({"lesion_count": 0}, "lesion_count"),
        ({"bile_duct_distance_mm": -0.1}, "bile_duct_distance_mm"),
        ({"abutting_vessel_mm": True}, "abutting_vessel_mm"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        _ok(**kwargs)
    assert err.value.field == field


_RANK = {"met": 0, "not assessable": 1, "not met": 2}


@given(
    st.floats(min_value=0, max_value=500, allow_nan=False),
    st.floats(min_value=0, max_value=500, allow_nan=False),
    st.integers(min_value=1, max_value=30),
)
def test_smaller_lesion_never_less_eligible(a: float, b: float, count: int) -> None:
    small, large = sorted((a, b))
    rs = _ok(diameter_mm=small, lesion_count=count)
    rl = _ok(diameter_mm=large, lesion_count=count)
    assert _RANK[_status(rs, "size")] <= _RANK[_status(rl, "size")]
    if rl.eligible:
        assert rs.eligible
    zones_s = [z for _, z in rs.zone_needed_mm]
    zones_l = [z for _, z in rl.zone_needed_mm]
    assert all(s <= lg for s, lg in zip(zones_s, zones_l, strict=True))
