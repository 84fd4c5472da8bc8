"""Read a case file (YAML or JSON) into a validated ``Case``; every error names its field path."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from livermet.case.limits import MAX_CASE_FILE_BYTES, MAX_DEPTH, check_document
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
    check_document(data)
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        raise _from_validation_error(exc) from None
    build_timeline(case)  # raises on impossible times (discharge before the operation, ...)
    return case


def read_text_file(path: Path, field: str, max_bytes: int | None = None) -> str:
    """The text of a UTF-8 file (a byte-order mark is dropped; Excel's "CSV UTF-8" writes one).

    Only UTF-8 is read, so that a file means the same on every machine: a UTF-16 or Latin-1 file
    is refused with a message naming the file and what to do, not decoded by guesswork.

    Raises
    ------
    InputError
        (``field``) for a missing file, one over ``max_bytes``, or one that is not UTF-8.
    """
    if not path.is_file():
        raise InputError(f"no such file: {path}", field)
    if max_bytes is not None and path.stat().st_size > max_bytes:
        raise InputError(
            f"{path.name} is {path.stat().st_size:,} bytes; the limit is {max_bytes:,}", field
        )
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(f"{path.name} is UTF-16 text; save it as UTF-8 and try again", field)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path.name} is not UTF-8 text (byte {raw[exc.start]:#04x} on line {line}, e.g. "
            "Latin-1 or Windows-1252); save it as UTF-8 and try again",
            field,
        ) from None


def parse_error(exc: Exception) -> str:
    """What is wrong with a JSON or YAML text, for the parse errors of :func:`parse_text`."""
    if isinstance(exc, RecursionError):
        return f"it is nested too deeply (a case nests at most {MAX_DEPTH} levels)"
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return "a number has more than 4300 digits"
    return str(exc)


class CaseYamlLoader(yaml.SafeLoader):
    """YAML's safe loader, with dates left as text: the case model reads them, so that an
    impossible date (2024-13-01) is an error naming its field, not a YAML parse error."""


CaseYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """One YAML document, read by :class:`CaseYamlLoader`."""
    return yaml.load(text, Loader=CaseYamlLoader)


def load_yaml_all(text: str) -> list[Any]:
    """Every YAML document of a text, read by :class:`CaseYamlLoader`."""
    return list(yaml.load_all(text, Loader=CaseYamlLoader))


PARSE_ERRORS = (json.JSONDecodeError, yaml.YAMLError, RecursionError, ValueError)
"""What parsing JSON or YAML may raise on bad input (ValueError: a number over 4300 digits)."""


def parse_text(text: str, name: str, *, json_only: bool = False, field: str = "CASE") -> Any:
    """The data of a JSON (``json_only``) or YAML text; any parse failure is an InputError.

    YAML is read with a safe loader: tags such as ``!!python/object`` are refused.
    """
    try:
        return json.loads(text) if json_only else load_yaml(text)
    except PARSE_ERRORS as exc:
        raise InputError(f"cannot parse {name}: {parse_error(exc)}", field) from None


def load_case(path: str | Path) -> Case:
    """Read and validate a YAML (``.yaml``/``.yml``) or JSON case file (UTF-8, at most
    :data:`~livermet.case.limits.MAX_CASE_FILE_BYTES`)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such case file: {p}", "CASE")
    text = read_text_file(p, "CASE", MAX_CASE_FILE_BYTES)
    return case_from_data(parse_text(text, p.name, json_only=p.suffix.lower() == ".json"))
