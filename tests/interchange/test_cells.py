"""Cell codecs: each value reads back as itself, and ambiguous cells are written apart."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.interchange import cells


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        ("", '""'),
        ("plain text", "plain text"),
        (" lead", '" lead"'),
        ('"quoted" at start', '"\\"quoted\\" at start"'),
        ("a\tb\nc", "a\tb\nc"),  # tab and newline are fine in CSV cells
        ("bell\x07", '"bell\\u0007"'),
    ],
)
def test_text_cells(value: str | None, cell: str) -> None:
    assert cells.encode_text(value) == cell
    assert cells.decode_text(cell) == value


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (1.2, "1.2"),
        (7.0, "7"),
        (1e-07, "0.0000001"),  # no exponent: REDCap's number validation refuses 1e-07
        (1e22, "10000000000000000000000"),
        ("1.2 mg/dL", "1.2 mg/dL"),
        ("42", '"42"'),  # a text that looks like a number
        ("1e3", '"1e3"'),
    ],
)
def test_reported_cells(value: str | float, cell: str) -> None:
    assert cells.encode_reported(value) == cell
    back = cells.decode_reported(cell)
    assert back == value and type(back) is type(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_read_back_as_the_same_float(x: float) -> None:
    assert cells.decode_number(cells.encode_number(x)) == x


@given(st.text())
def test_texts_read_back(text: str) -> None:
    assert cells.decode_text(cells.encode_text(text)) == text


def test_bad_cells_say_what_was_expected() -> None:
    with pytest.raises(cells.CellError, match="whole number"):
        cells.decode_int("4.5")
    with pytest.raises(cells.CellError, match="finite"):
        cells.decode_number("1e999")
    with pytest.raises(cells.CellError, match="true/false"):
        cells.decode_bool("perhaps")
    with pytest.raises(cells.CellError, match="YYYY-MM-DD"):
        cells.decode_date("01/02/2021")
    with pytest.raises(cells.CellError, match="JSON string"):
        cells.decode_text('"unterminated')
    with pytest.raises(cells.CellError, match="one of"):
        cells.decode_choice("4", (1, 2, 3))
    assert cells.decode_choice("3", (1, 2, 3)) == 3
    assert cells.decode_date("2021-02-01") == dt.date(2021, 2, 1)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", '"\\t=1"'),  # leading white space: a JSON string, which begins with a quote
        ("\r=1", '"\\r=1"'),
        ("'=1", "''=1"),  # a text that begins like an escaped cell gets one more quote
        ("''", "'''"),
        ("'t Hooft", "'t Hooft"),  # a lone leading quote is left alone
        ("'", "'"),
        ("a=b", "a=b"),
    ],
)
def test_formula_texts_are_neutralised_and_read_back(value: str, cell: str) -> None:
    assert cells.encode_text(value) == cell
    assert cells.decode_text(cell) == value
    assert not cell.startswith(cells.FORMULA_TRIGGERS)


def test_reported_texts_are_neutralised_but_numbers_stay_numbers() -> None:
    assert cells.encode_reported("-2 mg/dL") == "'-2 mg/dL"
    assert cells.decode_reported("'-2 mg/dL") == "-2 mg/dL"
    assert cells.encode_number(-2.5) == "-2.5" and cells.decode_number("-2.5") == -2.5
    assert cells.encode_reported(-2.5) == "-2.5" and cells.decode_reported("-2.5") == -2.5
    assert cells.encode_reported("-2.5") == '"-2.5"'  # a text that looks like a number
    assert cells.encode_int(-3) == "-3"


@given(st.text())
def test_no_text_cell_begins_a_formula(text: str) -> None:
    cell = cells.encode_text(text)
    assert not cell.startswith(cells.FORMULA_TRIGGERS)
    assert cells.decode_text(cell) == text
