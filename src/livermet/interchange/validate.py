"""Validate an assembled case document and report *every* problem with its path.

``livermet.case.load.case_from_data`` stops at the most telling error; importers of files need all
of them, mapped back to rows and columns, so they use this instead (same model, same timeline
checks).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from livermet.case.limits import check_document
from livermet.case.model import Case
from livermet.case.timeline import build_timeline
from livermet.errors import InputError

Path = tuple[str | int, ...]

_UNION_TAGS = {"str", "float", "int", "date", "Offset", "bool"}


def _is_tag(part: str | int) -> bool:
    return isinstance(part, str) and (part in _UNION_TAGS or "[" in part)


def clean_path(loc: tuple[str | int, ...]) -> Path:
    """Drop the union-member and validator names pydantic adds to an error location."""
    return tuple(part for part in loc if not _is_tag(part))


def path_text(path: Path) -> str:
    """``('procedures', 1, 'blood_loss')`` -> ``procedures[1].blood_loss``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(case)"


def parse_path(text: str) -> Path:
    """Inverse of :func:`path_text` (for the field names of ``InputError``)."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts)


def validate_case(data: dict[str, Any]) -> tuple[Case | None, list[tuple[Path, str]]]:
    """Return the case, or None and every problem as ``(path, message)``.

    A value that fits no member of a union (``date | Offset``) gives one error per member; only
    the most telling one per value is kept (a validator's own message, else the deepest path).
    """
    try:
        check_document(data)
    except InputError as exc:
        where = exc.field if exc.field and exc.field != "(case)" else ""
        return None, [(parse_path(where), exc.message)]
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        best: dict[Path, tuple[tuple[bool, int], Path, str]] = {}
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            first_tag = next((i for i, part in enumerate(loc) if _is_tag(part)), len(loc))
            group = clean_path(loc[:first_tag])
            path = clean_path(loc)
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "is not a field of the case model"
            elif err["type"] == "missing":
                message = "is required"
            rank = (err["type"] == "value_error", len(path))
            if group not in best or rank > best[group][0]:
                best[group] = (rank, path, message)
        return None, [(path, message) for _, path, message in best.values()]
    try:
        build_timeline(case)
    except InputError as exc:
        return None, [(parse_path(exc.field or ""), exc.message)]
    return case, []
