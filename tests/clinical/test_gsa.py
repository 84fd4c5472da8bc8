"""99mTc-GSA HH15/LHL15 assessment (clinical-scores.md §8): case, cut-offs both sides, unknowns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.gsa import HH15_UPPER_NORMAL, LHL15_LOWER_NORMAL, gsa_assessment
from livermet.errors import InputError


def test_case_values_are_normal() -> None:
    r = gsa_assessment(hh15=0.535, lhl15=0.933)
    assert r.assessment == "normal"
    assert (r.hh15, r.lhl15) == (0.535, 0.933)
    assert len(r.reasons) == 2
    assert "not verified" in r.reference and "0.60" in r.reference and "0.90" in r.reference
    assert "UNV" not in r.reference  # no internal verification tags in user-facing text


def test_default_cut_offs() -> None:
    assert HH15_UPPER_NORMAL == 0.60
    assert LHL15_LOWER_NORMAL == 0.90


@pytest.mark.parametrize(
    ("hh15", "lhl15", "expected"),
    [
        (0.60, 0.90, "normal"),  # both exactly on the cut-off -> normal
        (0.6001, 0.95, "indeterminate"),
        (0.55, 0.8999, "indeterminate"),
        (0.6001, 0.8999, "impaired"),
        (0.75, 0.80, "impaired"),
    ],
)
def test_cut_offs_both_sides(hh15: float, lhl15: float, expected: str) -> None:
    assert gsa_assessment(hh15=hh15, lhl15=lhl15).assessment == expected


def test_reasons_name_the_abnormal_index() -> None:
    r = gsa_assessment(hh15=0.70, lhl15=0.95)
    assert any("HH15" in reason and "abnormal" in reason for reason in r.reasons)
    assert any("LHL15" in reason and "(normal)" in reason for reason in r.reasons)


def test_configurable_cut_offs() -> None:
    r = gsa_assessment(hh15=0.535, lhl15=0.933, hh15_upper_normal=0.50)
    assert r.assessment == "indeterminate"
    assert "0.50" in r.reference


def test_unknowns() -> None:
    one = gsa_assessment(hh15=None, lhl15=0.95)
    assert one.assessment == "indeterminate"
    assert any("unknown" in reason for reason in one.reasons)
    assert gsa_assessment(hh15=None, lhl15=None).assessment is None


def test_array_mode() -> None:
    r = gsa_assessment(hh15=[0.535, 0.7, None], lhl15=[0.933, 0.85, None])
    assert list(r.assessment) == ["normal", "impaired", None]
    assert len(r.reasons) == 3


@pytest.mark.parametrize(
    ("field", "value"), [("hh15", 0.0), ("hh15", 1.0), ("lhl15", 1.2), ("lhl15", -0.1)]
)
def test_ratios_must_be_inside_0_1(field: str, value: float) -> None:
    kwargs = {"hh15": 0.5, "lhl15": 0.9, field: value}
    with pytest.raises(InputError) as excinfo:
        gsa_assessment(**kwargs)
    assert field in str(excinfo.value)


ratios = st.floats(0.01, 0.99)


@given(ratios, ratios, ratios, ratios)
def test_better_indices_never_worsen_the_assessment(
    hh_a: float, hh_b: float, lhl_a: float, lhl_b: float
) -> None:
    rank = {"normal": 0, "indeterminate": 1, "impaired": 2}
    better = gsa_assessment(hh15=min(hh_a, hh_b), lhl15=max(lhl_a, lhl_b)).assessment
    worse = gsa_assessment(hh15=max(hh_a, hh_b), lhl15=min(lhl_a, lhl_b)).assessment
    assert rank[better] <= rank[worse]


@given(
    st.lists(
        st.tuples(st.one_of(st.none(), ratios), st.one_of(st.none(), ratios)),
        min_size=1,
        max_size=8,
    )
)
def test_array_form_equals_scalar_form(rows: list[tuple[float | None, float | None]]) -> None:
    hh, lhl = (list(c) for c in zip(*rows, strict=True))
    arr = gsa_assessment(hh15=hh, lhl15=lhl)
    for i, (h, lv) in enumerate(rows):
        one = gsa_assessment(hh15=h, lhl15=lv)
        assert arr.assessment[i] == one.assessment
        assert arr.reasons[i] == one.reasons
