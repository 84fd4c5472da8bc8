"""Clavien-Dindo and CCI: spec §12 worked examples, Appendix B vectors, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.complications import (
    CCI_WEIGHTS,
    CLAVIEN_DINDO_GRADES,
    cci_from_counts,
    comprehensive_complication_index,
    has_disability_suffix,
    highest_grade,
    parse_clavien_dindo,
    suggest_clavien_dindo,
)
from livermet.errors import InputError

# --- grades and parsing --------------------------------------------------------------------


def test_grade_order() -> None:
    assert CLAVIEN_DINDO_GRADES == ("I", "II", "IIIa", "IIIb", "IVa", "IVb", "V")


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("II", "II"),
        ("2", "II"),
        ("grade II", "II"),
        ("Grade 2", "II"),
        ("IIIa", "IIIa"),
        ("IIIA", "IIIa"),
        ("3a", "IIIa"),
        ("3b", "IIIb"),
        ("IVb-d", "IVb"),
        ("IVa d", "IVa"),
        ("IIIa(d)", "IIIa"),
        ("IId", "II"),
        ("I", "I"),
        ("1", "I"),
        ("V", "V"),
        ("5", "V"),
        ("Clavien-Dindo IIIb", "IIIb"),
        (" grade IVa ", "IVa"),
    ],
)
def test_parse(text: str, grade: str) -> None:
    assert parse_clavien_dindo(text) == grade


@pytest.mark.parametrize("text", ["III", "3", "IV", "IIId", "IIa", "Va", "VI", "0", "x", "", "6"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_clavien_dindo(text)
    assert info.value.field == "clavien_dindo"


def test_disability_suffix() -> None:
    assert has_disability_suffix("IVb-d")
    assert has_disability_suffix("IId")
    assert not has_disability_suffix("IVb")


def test_highest_grade() -> None:
    assert highest_grade([]) is None
    assert highest_grade(["II", "IIIa", "I"]) == "IIIa"
    assert highest_grade(["IVb", "V"]) == "V"
    assert highest_grade(["3b", "IVa-d"]) == "IVa"


# --- CCI -----------------------------------------------------------------------------------


def test_cci_weights() -> None:
    assert CCI_WEIGHTS == {
        "I": 300,
        "II": 1750,
        "IIIa": 2750,
        "IIIb": 4550,
        "IVa": 7200,
        "IVb": 8550,
    }


@pytest.mark.parametrize(
    ("grade", "cci"),
    [
        ("I", 8.7),
        ("II", 20.9),
        ("IIIa", 26.2),
        ("IIIb", 33.7),
        ("IVa", 42.4),
        ("IVb", 46.2),
        ("V", 100.0),
    ],
)
def test_single_complication_cci(grade: str, cci: float) -> None:
    assert comprehensive_complication_index([grade]) == cci


def test_worked_examples() -> None:
    # Spec §12: the liver resection (no complication) and the thigh resection (grade II).
    assert comprehensive_complication_index([]) == 0.0
    assert comprehensive_complication_index(["II"]) == 20.9
    assert comprehensive_complication_index(["II", "I"]) == 22.6
    assert comprehensive_complication_index(["II", "IIIa"]) == 33.5


def test_cap_at_100_and_any_death() -> None:
    assert comprehensive_complication_index(["IVb"] * 10) == 100.0
    assert comprehensive_complication_index(["I", "V"]) == 100.0


def test_cci_rejects_single_string() -> None:
    with pytest.raises(InputError):
        comprehensive_complication_index("II")


def test_cci_from_counts_vectors() -> None:
    result = cci_from_counts(
        grade_i=np.array([0, 1, 0, 0, 0]),
        grade_ii=np.array([1, 1, 1, 0, np.nan]),
        grade_iiia=np.array([0, 0, 1, 0, 0]),
        grade_v=np.array([0, 0, 0, 1, 1]),
    )
    np.testing.assert_allclose(result, [20.9, 22.6, 33.5, 100.0, 100.0])
    assert cci_from_counts() == 0.0
    assert cci_from_counts(grade_ii=None) is None
    assert cci_from_counts(grade_ii=1) == 20.9


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"grade_i": -1}, "grade_i"),
        ({"grade_iiia": 1.5}, "grade_iiia"),
        ({"grade_v": 101}, "grade_v"),
    ],
)
def test_cci_counts_input_errors(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError) as info:
        cci_from_counts(**kwargs)
    assert info.value.field == field


grade_lists = st.lists(st.sampled_from(CLAVIEN_DINDO_GRADES), max_size=12)


@given(grade_lists, st.sampled_from(CLAVIEN_DINDO_GRADES))
def test_adding_a_complication_never_lowers_cci(grades: list[str], extra: str) -> None:
    before = comprehensive_complication_index(grades)
    after = comprehensive_complication_index([*grades, extra])
    assert 0.0 <= before <= after <= 100.0


@given(grade_lists)
def test_counts_form_equals_list_form(grades: list[str]) -> None:
    counts = {f"grade_{g.lower()}": grades.count(g) for g in CLAVIEN_DINDO_GRADES}
    assert cci_from_counts(**counts) == comprehensive_complication_index(grades)


@given(st.lists(grade_lists, min_size=1, max_size=10))
def test_counts_array_equals_scalar(patients: list[list[str]]) -> None:
    columns = {
        f"grade_{g.lower()}": np.array([p.count(g) for p in patients]) for g in CLAVIEN_DINDO_GRADES
    }
    arrays = cci_from_counts(**columns)
    for i, grades in enumerate(patients):
        assert math.isclose(arrays[i], comprehensive_complication_index(grades))


# --- treatment -> grade --------------------------------------------------------------------


def test_regression_uti_with_antibiotics_is_grade_ii_not_i() -> None:
    # Spec §12: an open-source suite calls this grade I; Dindo 2004 makes it II.
    assert suggest_clavien_dindo("UTI treated with antibiotics") == "II"


@pytest.mark.parametrize(
    ("treatment", "grade"),
    [
        ("wound infection treated with antibiotics", "II"),  # Appendix B (the case's thigh)
        ("blood transfusion", "II"),
        ("total parenteral nutrition", "II"),
        ("TPN for ileus", "II"),
        ("nausea, antiemetics", "I"),
        ("pain managed with analgesics", "I"),
        ("wound infection opened at the bedside", "I"),
        ("diuretics and electrolyte replacement", "I"),
        ("percutaneous drainage of a biloma", "IIIa"),
        ("endoscopy (ERCP) with stent", "IIIa"),
        ("endoscopic haemostasis under sedation", "IIIa"),
        ("drainage not under general anaesthesia", "IIIa"),
        ("reoperation under local anesthesia", "IIIa"),
        ("relaparotomy for bleeding", "IIIb"),
        ("reoperation under general anaesthesia", "IIIb"),
        ("endoscopy under general anesthesia", "IIIb"),
        ("ICU admission for respiratory failure", "IVa"),
        ("dialysis for renal failure", "IVa"),
        ("multi-organ dysfunction in ICU", "IVb"),
        ("patient died on POD 12", "V"),
        ("wound infection opened at the bedside and treated with antibiotics", "II"),
    ],
)
def test_suggest_grade(treatment: str, grade: str) -> None:
    assert suggest_clavien_dindo(treatment) == grade


def test_suggest_none_when_no_keyword() -> None:
    assert suggest_clavien_dindo("observation only") is None
