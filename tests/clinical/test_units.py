"""Units at the boundary: conversions (clinical-scores.md Appendix A), refusals, plausibility."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.units import parse_quantity
from livermet.errors import InputError


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1.2 mg/dL", "bilirubin", 1.2),
        ("20 umol/L", "bilirubin", 20 / 17.1),  # 1 mg/dL = 17.1 µmol/L
        ("20 µmol/L", "bilirubin", 20 / 17.1),
        ("20 μmol/l", "bilirubin", 20 / 17.1),  # Greek mu, lower-case l
        ("12 mg/L", "bilirubin", 1.2),
        ("3.5 g/dL", "albumin", 3.5),
        ("35 g/L", "albumin", 3.5),  # 1 g/dL = 10 g/L
        ("88.4 umol/L", "creatinine", 1.0),  # 1 mg/dL = 88.4 µmol/L
        ("137 mEq/L", "sodium", 137.0),
        ("4.3 %", "icg_r15", 4.3),
        ("4.3%", "icg_r15", 4.3),
        ("1.2 L", "volume", 1200.0),
        ("2.5 cm", "size", 25.0),
        ("1.65 m", "height", 165.0),
        (1.1, "inr", 1.1),
        ({"value": 35, "unit": "g/L"}, "albumin", 3.5),
        (0.7, "bilirubin", 0.7),  # a bare number is in the canonical unit
    ],
)
def test_conversions(text: object, kind: str, expected: float) -> None:
    assert parse_quantity(text, kind, "field").value == pytest.approx(expected, rel=1e-12)


def test_reported_unit_is_kept() -> None:
    m = parse_quantity("34 umol/L", "bilirubin", "labs.bilirubin")
    assert (m.reported_value, m.reported_unit, m.unit) == (34.0, "umol/L", "mg/dL")
    assert m.reported_in_si
    assert not parse_quantity("2 mg/dL", "bilirubin", "x").reported_in_si


@pytest.mark.parametrize(
    ("text", "kind", "needle"),
    [
        ("1.2 mg", "bilirubin", "unknown unit 'mg'"),
        ("1.2", "bilirubin", None),  # bare number is fine
        ("-3 mg/dL", "bilirubin", "outside the plausible range"),
        ("0.05 mg/dL", "bilirubin", "outside the plausible range"),  # below 0.1
        ("51 mg/dL", "bilirubin", "outside the plausible range"),  # above 50
        ("35 g/dL", "albumin", "outside the plausible range"),  # g/L written as g/dL
        ("140 %", "icg_r15", "outside the plausible range"),
        ("high", "bilirubin", "cannot read"),
        ("1.2 mg/dL/h", "bilirubin", "unknown unit"),
        (True, "inr", "expected"),
        ([1.2], "inr", "expected"),
    ],
)
def test_refusals_name_the_field(text: object, kind: str, needle: str | None) -> None:
    if needle is None:
        parse_quantity(text, kind, "labs.bilirubin")
        return
    with pytest.raises(InputError) as info:
        parse_quantity(text, kind, "labs.x")
    assert info.value.field == "labs.x"
    assert needle in info.value.message


@pytest.mark.parametrize(
    ("value", "ok"), [(0.1, True), (0.099, False), (50.0, True), (50.01, False)]
)
def test_bilirubin_plausibility_edges(value: float, ok: bool) -> None:
    if ok:
        assert parse_quantity(f"{value} mg/dL", "bilirubin", "b").value == value
    else:
        with pytest.raises(InputError):
            parse_quantity(f"{value} mg/dL", "bilirubin", "b")


@given(st.floats(min_value=1.8, max_value=850.0))
def test_umol_and_mg_agree(umol: float) -> None:
    """A bilirubin in µmol/L equals the same bilirubin in mg/dL (bounded by the range)."""
    si = parse_quantity(f"{umol!r} umol/L", "bilirubin", "b").value
    conventional = parse_quantity(f"{umol / 17.1!r} mg/dL", "bilirubin", "b").value
    assert si == pytest.approx(conventional, rel=1e-12)
