"""What a tired person types into the new fields.

Accepted when it means one thing, otherwise an error naming the field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from livermet.case.load import load_case
from livermet.errors import InputError

UTERINE = Path(__file__).resolve().parents[2] / "examples" / "preop-uterine-lms.yaml"


def _with(tmp_path: Path, old: str, new: str) -> Path:
    text = UTERINE.read_text("utf-8")
    assert old in text
    path = tmp_path / "case.yaml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


@pytest.mark.parametrize(
    ("typed", "asa"), [("III", 3), ("ASA III", 3), ("asa 2", 2), ("VI", 6), ("1", 1), ("4", 4)]
)
def test_asa_in_roman_or_arabic_numerals(tmp_path: Path, typed: str, asa: int) -> None:
    assert load_case(_with(tmp_path, "  asa: 2", f"  asa: {typed}")).patient.asa == asa


@pytest.mark.parametrize("typed", ["0", "7", "VII", "IIIE", "three"])
def test_no_asa_class_is_refused_by_name(tmp_path: Path, typed: str) -> None:
    with pytest.raises(InputError) as err:
        load_case(_with(tmp_path, "  asa: 2", f"  asa: {typed}"))
    assert err.value.field == "patient.asa"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("    detected: 2024-12-02", "    detected: 2024-13-01", "liver_lesions[0].detected"),
        ("assessed_on: 2025-05-15", "assessed_on: 2025-02-30", "assessed_on"),
        ("  diagnosed: 2022-09-10", "  diagnosed: 2022-9-10", "primary_tumour.diagnosed"),
    ],
)
def test_an_impossible_date_names_its_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    # YAML would read 2024-13-01 itself and fail without naming the field; the case model does.
    with pytest.raises(InputError) as err:
        load_case(_with(tmp_path, old, new))
    assert err.value.field == field


def test_dates_are_still_dates(tmp_path: Path) -> None:
    case = load_case(UTERINE)
    assert str(case.primary_tumour.diagnosed) == "2022-09-10"
    assert str(case.assessed_on) == "2025-05-15"
