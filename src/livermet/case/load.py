"""Read a case file (YAML or JSON) into a validated ``Case``; every error names its field path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from livermet.case.model import Case
from livermet.case.timeline import build_timeline
from livermet.errors import InputError


def field_path(loc: tuple[int | str, ...]) -> str:
    """``('procedures', 1, 'blood_loss')`` -> ``procedures[1].blood_loss``.

    Pydantic adds the names of union members and validators to the location
    (``str``, ``function-after[...]``); they are not part of the document and are dropped.
    """
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {"str", "float", "int", "date", "Offset", "bool"} or "[" in part:
            continue
        else:
            path += f".{part}" if path else part
    return path or "(case)"


def _from_validation_error(exc: ValidationError) -> InputError:
    errors = exc.errors(include_url=False)
    # A value that fits no member of a union yields one error per member; report the most telling.
    # The member whose error lies deepest (or a validator's own message) is the one meant.
    first = max(
        errors, key=lambda e: (e["type"] == "value_error", len(field_path(tuple(e["loc"]))))
    )
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "is not a field of the case file (check the spelling)"
    elif first["type"] == "missing":
        message = "is required"
    err = InputError(message, field_path(tuple(first["loc"])))
    err.all_errors = [  # type: ignore[attr-defined]
        (field_path(tuple(e["loc"])), str(e["msg"]).removeprefix("Value error, ")) for e in errors
    ]
    return err


def case_from_data(data: Any) -> Case:
    """Validate a parsed case document (a mapping) and its timeline."""
    if not isinstance(data, dict):
        raise InputError("a case file must be a mapping of fields", "(case)")
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        raise _from_validation_error(exc) from None
    build_timeline(case)  # raises on impossible times (discharge before the operation, ...)
    return case


def load_case(path: str | Path) -> Case:
    """Read and validate a YAML (``.yaml``/``.yml``) or JSON case file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such case file: {p}", "CASE")
    text = p.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot parse {p.name}: {exc}", "CASE") from None
    return case_from_data(data)
