"""Limits of a case document, checked once wherever a document enters livermet.

A case is a few kilobytes; the limits are far above any real case and far below what would
hurt the server or the database. :func:`check_document` runs before the case model sees a
document (API bodies, web forms and pastes, case files, interchange imports) and again on the
document the registry stores. It walks the document without recursion, so a document nested a
million levels deep is refused, not a ``RecursionError``.
"""

from __future__ import annotations

import math
from typing import Any

from livermet.errors import InputError

MAX_DOCUMENT_BYTES = 1_000_000
"""Largest case document, in bytes of compact UTF-8 JSON (1 MB): a real case is 2-20 kB."""

MAX_CASE_FILE_BYTES = 2 * MAX_DOCUMENT_BYTES
"""Largest case file (YAML or JSON text, 2 MB): YAML's indentation makes the text longer."""

MAX_DEPTH = 32
"""Deepest nesting of mappings and lists in a case document (a real case nests 6 levels)."""

MAX_INT = 2**63 - 1
"""Largest whole number (absolute value) in a case document: it must fit a 64-bit integer."""

_SEQUENCES = (list, tuple, set, frozenset)


# The path of a value, as a chain (parent chain, key) built only as deep as the walk goes: a
# tuple per value is cheap, and the text of a path is made only for an error.
Link = tuple[Any, str | int] | None


def _path(link: Link) -> str:
    """Return the chain of ``procedures`` -> 1 -> ``notes`` as ``procedures[1].notes``."""
    parts: list[str | int] = []
    while link is not None:
        link, key = link
        parts.append(key)
    out = ""
    for part in reversed(parts):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(case)"


def _text_bytes(text: str, link: Link) -> int:
    if "\x00" in text:
        raise InputError("contains a NUL character (\\x00), which cannot be stored", _path(link))
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InputError(
            "contains a lone surrogate (\\ud800-\\udfff), which is not valid Unicode", _path(link)
        ) from None


def _int_bytes(value: int, link: Link, max_int: int | None) -> int:
    """Return the JSON size of a whole number, refusing one beyond ``max_int``."""
    if max_int is not None and abs(value) > max_int:
        raise InputError(f"is a whole number out of range (the limit is ±{max_int})", _path(link))
    return 20 if max_int is not None else len(str(value))


def _scalar_bytes(value: Any, link: Link, max_int: int | None) -> int:
    """Return the JSON size of a value that is not a text, a mapping or a list, after checking it.

    A whole number counts 20 (its digits when ``max_int`` is None), a float 24, a boolean or
    null 5, anything else (a date, bytes... from YAML: the case model decides whether it fits)
    the length of its text.
    """
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return _int_bytes(value, link, max_int)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError("is not a finite number (NaN or infinity)", _path(link))
        return 24
    return len(str(value))


def _push_children(value: Any, depth: int, link: Link, stack: list[tuple[Any, int, Link]]) -> int:
    """Put the items of a mapping or list on the walk's stack; return its own JSON size.

    The size counts the brackets, the separators and a mapping's keys (each checked as a text).
    """
    if depth >= MAX_DEPTH:
        raise InputError(
            f"is nested deeper than {MAX_DEPTH} levels of mappings and lists", _path(link)
        )
    size = 2 + len(value)
    if isinstance(value, dict):
        for key, item in value.items():
            name = key if isinstance(key, str) else str(key)
            child = (link, name)
            size += _text_bytes(name, child) + 3
            stack.append((item, depth + 1, child))
    else:
        stack.extend((item, depth + 1, (link, i)) for i, item in enumerate(value))
    return size


def check_document(
    data: Any, *, max_bytes: int = MAX_DOCUMENT_BYTES, max_int: int | None = MAX_INT
) -> None:
    """Refuse a document that is too large or too deep, or holds a value no store can keep.

    Checks: at most ``max_bytes`` (counted as compact JSON), :data:`MAX_DEPTH` levels, finite
    numbers (no NaN or infinity), whole numbers within ``max_int`` (None: any; a FHIR bundle
    writes a float of 1e22 as a 23-digit integer), and texts (keys too) without NUL characters or
    lone surrogates. The document's *meaning* is the case model's.

    Raises
    ------
    InputError
        naming the path of the offending value (``procedures[0].notes``).
    """
    size = 0
    stack: list[tuple[Any, int, Link]] = [(data, 0, None)]
    while stack:
        value, depth, link = stack.pop()
        if isinstance(value, str):  # the commonest value: checked here, without a call
            size += _text_bytes(value, link) + 2
        elif isinstance(value, (dict, *_SEQUENCES)):
            size += _push_children(value, depth, link, stack)
        else:
            size += _scalar_bytes(value, link, max_int)
        if size > max_bytes:
            raise InputError(
                f"makes the case document larger than the limit of {max_bytes:,} bytes "
                f"({max_bytes / 1e6:g} MB of JSON)",
                _path(link),
            )
