"""Text cells of CSV and REDCap files: each kind of value written so that it reads back the same.

An empty cell is "not given" (None). The few values that would otherwise be ambiguous are written
as JSON strings (in double quotes):

- a text that is empty, starts with a double quote, has leading/trailing white space or contains
  control characters other than tab and newline (``""`` is the empty text);
- a reported value (``"1.2 mg/dL"`` or a bare number) that is a *text* looking like a number:
  ``42`` is the number 42.0, ``"42"`` the text "42" (both mean 42 in the canonical unit).

Spreadsheet formulas (OWASP "CSV injection"): a text cell that begins with ``=``, ``+``, ``-`` or
``@`` would run as a formula when the file is opened in Excel or LibreOffice (``=HYPERLINK(...)``,
``+cmd|...``), so it is written with a leading single quote (``'=1+1``), which spreadsheets show
as text; tab and carriage return at the start are already JSON-quoted (above). Reading drops the
quote again, so round trips stay lossless: a cell ``'`` + (trigger or ``'``) reads as the text
after the quote, and a text that itself begins ``'`` + (trigger or ``'``) is written with one more
quote. A lone leading quote (``'t Hooft``) is kept as it is. Numeric cells (``-2.5``) are numbers,
not formulas, and are left alone.

Numbers are written without exponent (``0.0000001``, never ``1e-07``; ``7`` for 7.0), which
REDCap's number validation accepts and which reads back as the same float.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from decimal import Decimal
from typing import Any

NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")


class CellError(ValueError):
    """A cell that cannot be read; the message says what was expected."""


def _needs_json(text: str) -> bool:
    return (
        text == ""
        or text.startswith('"')
        or text != text.strip()
        or any(unicodedata.category(ch) == "Cc" and ch not in "\t\n" for ch in text)
    )


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""

_QUOTED = (*FORMULA_TRIGGERS, "'")


def neutralise(text: str) -> str:
    """Return ``text`` made safe from spreadsheet formulas.

    That is ``'`` + ``text`` when a spreadsheet would take ``text`` for a formula, or when the
    quote would otherwise be taken for one added here; else ``text`` (see the module docstring).
    """
    if text.startswith(FORMULA_TRIGGERS) or (text.startswith("'") and text[1:].startswith(_QUOTED)):
        return "'" + text
    return text


def restore(cell: str) -> str:
    """Inverse of :func:`neutralise`: the quote it added is dropped."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_QUOTED) else cell


def encode_text(value: str | None) -> str:
    """Return the cell of a text: JSON-quoted when ambiguous, else formula-neutralised."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False) if _needs_json(value) else neutralise(value)


def decode_text(cell: str) -> str | None:
    """Return the text a cell holds (None for an empty cell), undoing :func:`encode_text`."""
    if cell == "":
        return None
    if cell.startswith("'"):
        return restore(cell)
    if cell.startswith('"'):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError:
            raise CellError(
                f"{cell!r} starts with a double quote but is not a JSON string "
                '(write "" for an empty text, or remove the leading quote)'
            ) from None
        if not isinstance(value, str):
            raise CellError(f"{cell!r} is not a JSON string")
        return value
    return cell


def encode_number(value: float | None) -> str:
    """Positional notation, shortest digits that read back as the same float; ``7`` for 7.0."""
    if value is None:
        return ""
    return format(Decimal(repr(float(value))), "f").removesuffix(".0")


def decode_number(cell: str) -> float | None:
    """Return the finite number a cell holds, None for an empty cell."""
    if cell == "":
        return None
    text = cell.strip()
    if not NUMBER.match(text):
        raise CellError(f"expected a number, got {cell!r}")
    value = float(text)
    if not math.isfinite(value):
        raise CellError(f"{cell!r} is not a finite number")
    return value


def encode_int(value: int | None) -> str:
    """Return the cell of a whole number; None is an empty cell."""
    return "" if value is None else str(value)


def decode_int(cell: str) -> int | None:
    """Return the whole number a cell holds, None for an empty cell."""
    if cell == "":
        return None
    text = cell.strip()
    if not re.fullmatch(r"[-+]?\d+", text):
        raise CellError(f"expected a whole number, got {cell!r}")
    return int(text)


def encode_reported(value: str | float | None) -> str:
    """Return the cell of a number (canonical unit) or a text with its unit (module docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        if _needs_json(value) or NUMBER.match(value):
            return json.dumps(value, ensure_ascii=False)
        return neutralise(value)
    return encode_number(value)


def decode_reported(cell: str) -> str | float | None:
    """Return a reported value: a number for a bare number, else the text (None when empty)."""
    if cell == "":
        return None
    if cell.startswith(('"', "'")):
        return decode_text(cell)
    if NUMBER.match(cell):
        return decode_number(cell)
    return cell


TRUE_WORDS = {"true", "yes", "1", "y"}
FALSE_WORDS = {"false", "no", "0", "n"}


def encode_bool(value: bool | None, true: str = "true", false: str = "false") -> str:
    """Return the cell of a yes/no value, written as ``true`` / ``false``; None is empty."""
    if value is None:
        return ""
    return true if value else false


def decode_bool(cell: str) -> bool | None:
    """Return the yes/no value of a cell (true/false, yes/no, y/n, 1/0), None when empty."""
    if cell == "":
        return None
    word = cell.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"expected true/false (or yes/no, 1/0), got {cell!r}")


def encode_date(value: dt.date | None) -> str:
    """Return the cell of a date, ``YYYY-MM-DD``; None is an empty cell."""
    return "" if value is None else value.isoformat()


def decode_date(cell: str) -> dt.date | None:
    """Return the date (``YYYY-MM-DD``) a cell holds, None for an empty cell."""
    if cell == "":
        return None
    try:
        return dt.date.fromisoformat(cell.strip())
    except ValueError:
        raise CellError(f"expected a date YYYY-MM-DD, got {cell!r}") from None


def encode_when(value: Any) -> str:
    """Return the cell of a time.

    That is a date ``YYYY-MM-DD``, or an offset as a JSON object (``{"after": "op",
    "months": 4}``); None is an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return encode_date(value)
    return encode_json(value.model_dump(mode="json", exclude_none=True))


def decode_when(cell: str) -> Any:
    """Inverse of :func:`encode_when`: a date, or the offset's mapping (validated by the model)."""
    if cell == "":
        return None
    if cell.lstrip().startswith("{"):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError as exc:
            raise CellError(
                f'expected an offset as a JSON object, e.g. {{"after": "op", "months": 4}}; '
                f"cannot parse: {exc.msg}"
            ) from None
        if not isinstance(value, dict):
            raise CellError("expected an offset as a JSON object")
        return value
    try:
        return decode_date(cell)
    except CellError:
        raise CellError(
            f'expected a date YYYY-MM-DD or an offset {{"after": ..., "months": ...}}, got {cell!r}'
        ) from None


def encode_json(value: Any) -> str:
    """Return a list (or mapping) as compact JSON; None is an empty cell."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def decode_json_list(cell: str) -> list[Any] | None:
    """Return the JSON list a cell holds, None for an empty cell."""
    if cell == "":
        return None
    try:
        value = json.loads(cell)
    except json.JSONDecodeError as exc:
        raise CellError(f"expected a JSON list, e.g. [6, 7]; cannot parse: {exc.msg}") from None
    if not isinstance(value, list):
        raise CellError(f"expected a JSON list, e.g. [6, 7], got {type(value).__name__}")
    return value


def encode_choice(value: Any) -> str:
    """Return the cell of a choice: its text; None is an empty cell."""
    return "" if value is None else str(value)


def decode_choice(cell: str, choices: tuple[Any, ...]) -> Any:
    """Return the choice whose text is ``cell`` (3 and "3" are told apart by the model's type)."""
    if cell == "":
        return None
    for choice in choices:
        if str(choice) == cell.strip():
            return choice
    raise CellError(f"{cell!r} is not one of: {', '.join(str(c) for c in choices)}")
