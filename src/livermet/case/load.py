"""Read a case file (YAML or JSON) into a validated ``Case``; every error names its field path."""

from __future__ import annotations

import codecs
import difflib
import json
import re
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from livermet.case.limits import MAX_CASE_FILE_BYTES, MAX_DEPTH, check_document
from livermet.case.model import Case
from livermet.case.timeline import build_timeline
from livermet.errors import InputError


def field_path(loc: tuple[int | str, ...]) -> str:
    """Return ``('procedures', 1, 'blood_loss')`` as ``procedures[1].blood_loss``.

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


_DECIMAL_COMMA_NUMBER = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_DATE_ERRORS = {
    "date_from_datetime_parsing",
    "date_parsing",
    "date_type",
    "date_from_datetime_inexact",
}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Return the pydantic models an annotation may hold (through ``list``, ``| None``...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def known_fields(loc: tuple[int | str, ...]) -> list[str]:
    """Return the field names allowed beside the last part of ``loc`` (in the same mapping)."""
    models: list[type[BaseModel]] = [Case]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        found: list[type[BaseModel]] = []
        for model in models:
            if part == model.__name__:  # a union member named in the location
                found.append(model)
            elif part in model.model_fields:
                found += _models_in(model.model_fields[part].annotation)
        if found:
            models = found
    names = {name for model in models for name in model.model_fields}
    return sorted(names)


def _unknown_field_message(loc: tuple[int | str, ...]) -> str:
    name = str(loc[-1]) if loc else ""
    known = known_fields(loc)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if re.match(r"^\d", name):  # {diameter: 22,5 mm}: in a {...} mapping a comma ends a field
        return (
            f"unknown field '{name}': was a decimal comma meant? The decimal separator is a "
            "point (e.g. 22.5 mm); in a {...} mapping a comma separates fields"
        )
    if close:
        return f"unknown field '{name}'; did you mean '{close[0]}'?"
    if known and len(known) <= 12:
        return f"unknown field '{name}'; the fields here are: {', '.join(known)}"
    return f"unknown field '{name}' (check the spelling)"


def _own_error(error: Any) -> InputError | None:
    """Return the InputError a validator of the case model raised (it names its field)."""
    raised = error.get("ctx", {}).get("error") if error["type"] == "value_error" else None
    return raised if isinstance(raised, InputError) and raised.field else None


def _error_path(error: Any) -> str:
    """Return the field of one pydantic error; a validator's InputError names it within."""
    own = _own_error(error)
    path = field_path(tuple(error["loc"]))
    if own is None or own.field is None:
        return path
    return own.field if path == "(case)" else f"{path}.{own.field}"


def _message(error: Any) -> str:
    """Return a user's message for one pydantic error (pydantic's words only where clear)."""
    own = _own_error(error)
    if own is not None:
        return own.message
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        return _unknown_field_message(tuple(error["loc"]))
    if kind == "missing":
        return "is required"
    if kind in {"bool_parsing", "bool_type"}:
        return f"expected true or false, got {value!r}"
    if isinstance(value, str) and _DECIMAL_COMMA_NUMBER.match(value):
        return f"cannot read {value!r}: the decimal separator is a point (e.g. '1.5')"
    if kind in _DATE_ERRORS:
        reason = str(error.get("ctx", {}).get("error", "")).strip()
        why = f" ({reason})" if reason else ""
        return f"{value!r} is not a valid date{why}; write a date as YYYY-MM-DD, e.g. 2024-02-29"
    return str(error["msg"]).removeprefix("Value error, ")


def _from_validation_error(exc: ValidationError) -> InputError:
    errors = exc.errors(include_url=False)

    # A value that fits no member of a union yields one error per member; report the most telling.
    # The member whose error lies deepest (or a validator's own message) is the one meant; a date
    # that is not a date is meant as a date, not as an offset mapping.
    # A misspelt field (unknown) explains the required one it leaves missing: it comes first.
    def rank(e: Any) -> tuple[bool, bool, bool, int]:
        return (
            e["type"] == "value_error",
            e["type"] in _DATE_ERRORS,
            e["type"] == "extra_forbidden",
            len(_error_path(e)),
        )

    first = max(errors, key=rank)
    err = InputError(_message(first), _error_path(first))
    best: dict[str, Any] = {}
    for e in errors:  # one line per field: the most telling error of each
        path = _error_path(e)
        if path not in best or rank(e) > rank(best[path]):
            best[path] = e
    first_path = _error_path(first)
    err.all_errors = [  # type: ignore[attr-defined]
        (first_path, err.message),
        *((path, _message(e)) for path, e in best.items() if path != first_path),
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
    """Return the text of a UTF-8 file, without its byte-order mark.

    Excel's "CSV UTF-8" writes a byte-order mark; it is dropped. Only UTF-8 is read, so that a
    file means the same on every machine: a UTF-16 or Latin-1 file is refused with a message
    naming the file and what to do, not decoded by guesswork.

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
    sample = raw[:4096]
    zeros = sorted((sample[0::2].count(0), sample[1::2].count(0)))
    half = max(len(sample) // 2, 1)
    # UTF-16 without a byte-order mark: every other byte of ASCII text is zero, the others not.
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        zeros[1] > 0.4 * half and zeros[0] < 0.05 * half
    )
    if utf16:
        raise InputError(f"{path.name} is UTF-16 text; save it as UTF-8 and try again", field)
    if b"\x00" in sample:
        raise InputError(
            f"{path.name} is a binary file, not a text file (YAML, JSON or CSV); "
            "choose the case file itself, saved as text",
            field,
        )
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
    """Return what is wrong with a JSON or YAML text, for the errors of :func:`parse_text`."""
    if isinstance(exc, RecursionError):
        return f"it is nested too deeply (a case nests at most {MAX_DEPTH} levels)"
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return "a number has more than 4300 digits"
    return str(exc)


class CaseYamlLoader(yaml.SafeLoader):
    """YAML's safe loader, with dates left as text, that refuses a repeated key.

    The case model reads the dates, so that an impossible date (2024-13-01) is an error naming
    its field, not a YAML parse error.

    A key given twice in one mapping is refused (YAML's safe loader keeps the last one silently,
    so that ``ecog: 1`` followed by ``ecog: 3`` would assess ECOG 3 without a word): the error
    names the field and both lines.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        """Return the document's data, after refusing a mapping that repeats a key."""
        check_duplicate_keys(node)
        return super().construct_document(node)


def check_duplicate_keys(node: yaml.Node, path: str = "") -> None:
    """Raise InputError, naming the field and both lines, when a mapping repeats a key."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if (
                not isinstance(key_node, yaml.ScalarNode)
                or key_node.tag == "tag:yaml.org,2002:merge"
            ):
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            where = f"{path}.{key}" if path else str(key)
            if key in seen:
                lines = f"lines {seen[key]} and {line}" if seen[key] != line else f"line {line}"
                raise InputError(
                    f"duplicate key '{key}' on {lines}: a field may be given "
                    "only once; keep the right value and delete the other",
                    where,
                )
            seen[key] = line
            check_duplicate_keys(value_node, where)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            check_duplicate_keys(item, f"{path}[{i}]")


CaseYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Read one YAML document with :class:`CaseYamlLoader`."""
    return yaml.load(text, Loader=CaseYamlLoader)


def load_yaml_all(text: str) -> list[Any]:
    """Read every YAML document of a text with :class:`CaseYamlLoader`."""
    return list(yaml.load_all(text, Loader=CaseYamlLoader))


PARSE_ERRORS = (json.JSONDecodeError, yaml.YAMLError, RecursionError, ValueError)
"""What parsing JSON or YAML may raise on bad input (ValueError: a number over 4300 digits)."""


def parse_text(text: str, name: str, *, json_only: bool = False, field: str = "CASE") -> Any:
    """Return the data of a JSON (``json_only``) or YAML text; a parse failure is an InputError.

    YAML is read with a safe loader: tags such as ``!!python/object`` are refused.
    """
    try:
        return json.loads(text) if json_only else load_yaml(text)
    except InputError:  # a duplicate key: already names its field and lines
        raise
    except PARSE_ERRORS as exc:
        raise InputError(f"cannot parse {name}: {parse_error(exc)}", field) from None


def load_case(path: str | Path) -> Case:
    """Read and validate a YAML (``.yaml``/``.yml``) or JSON case file.

    The file is UTF-8 text of at most :data:`~livermet.case.limits.MAX_CASE_FILE_BYTES`.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such case file: {p}", "CASE")
    text = read_text_file(p, "CASE", MAX_CASE_FILE_BYTES)
    return case_from_data(parse_text(text, p.name, json_only=p.suffix.lower() == ".json"))


def case_from_text(text: str, field: str = "case_text") -> Case:
    """Return the case of pasted or uploaded YAML or JSON text (JSON is tried first).

    Parameters
    ----------
    text
        The case file's text, at most :data:`~livermet.case.limits.MAX_CASE_FILE_BYTES`
        characters.
    field
        The name the errors about the text itself (empty, too long, unreadable) carry; the
        errors of the case name their field path.

    Raises
    ------
    InputError
        for an empty or too long text, one that is neither JSON nor YAML, or an invalid case.
    """
    if not text.strip():
        raise InputError("paste a case file or choose one to upload", field)
    if len(text) > MAX_CASE_FILE_BYTES:
        raise InputError(f"a case file is at most {MAX_CASE_FILE_BYTES:,} bytes", field)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = load_yaml(text)
        except PARSE_ERRORS as exc:
            raise InputError(
                f"cannot read the case file as YAML or JSON: {parse_error(exc)}", field
            ) from None
    except PARSE_ERRORS as exc:  # valid JSON syntax, but nested too deeply or a huge number
        raise InputError(f"cannot read the case file: {parse_error(exc)}", field) from None
    return case_from_data(data)
