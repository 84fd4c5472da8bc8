"""The stored form of a case: its JSON document, and the checks a case passes before storage."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from livermet.case.limits import check_document
from livermet.case.load import case_from_data
from livermet.case.model import Case
from livermet.errors import InputError

SYNTHETIC_SOURCE = "synthetic"
SYNTHETIC_ID_PREFIX = "SYN-"


def case_document(case: Case) -> dict[str, Any]:
    """Return the JSON document of ``case`` as the registry stores it.

    ``model_dump(mode="json", exclude_none=True)`` without the values equal to their defaults:
    an empty segment list (the default of ``imaging[].segments`` and
    ``procedures[].segments_resected``) is refused by the case model when it is given explicitly,
    so a document that spells the defaults out would not validate again. ``schema_version`` is
    always written, so that a later schema can tell old documents apart.
    """
    doc = case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return {"schema_version": case.schema_version, **doc}


def stored_document(case: Case) -> dict[str, Any]:
    """:func:`case_document`, checked against the limits of a case document.

    The last guard before the database: a ``Case`` built in Python (or copied with
    ``model_copy``) skips the checks of ``case_from_data``, and a NUL character or a lone
    surrogate makes PostgreSQL fail the whole transaction.

    Raises
    ------
    InputError
        naming the field (see :func:`livermet.case.limits.check_document`).
    """
    document = case_document(case)
    check_document(document)
    return document


def case_from_document(document: dict[str, Any]) -> Case:
    """Return the ``Case`` a stored document holds (validated when it was written)."""
    try:
        return Case.model_validate(document)
    except ValidationError as exc:  # a document edited outside the registry
        raise InputError(f"stored case document is not a valid case: {exc}", "document") from None


def is_synthetic(case: Case) -> bool:
    """Synthetic cases say so: ``source: synthetic`` (and ids starting ``SYN-``)."""
    return case.source == SYNTHETIC_SOURCE


def check_case(case: Any) -> Case:
    """Return the case, checked for storage.

    A ``Case`` (or a mapping, validated with its timeline), and a synthetic flag that the id
    agrees with. The timeline of a ``Case`` is checked when its columns are derived
    (``livermet.registry.derive``).

    Raises
    ------
    InputError
        naming the field: not a case, an impossible timeline, a real case with a ``SYN-`` id or a
        synthetic case without one.
    """
    if isinstance(case, Case):
        checked = case
    elif isinstance(case, dict):
        checked = case_from_data(case)
    else:
        raise InputError(f"expected a case, got {type(case).__name__}", "(case)")
    synthetic_id = checked.id.startswith(SYNTHETIC_ID_PREFIX)
    if synthetic_id and not is_synthetic(checked):
        raise InputError(
            f"ids starting {SYNTHETIC_ID_PREFIX!r} are reserved for synthetic cases "
            f"(source: {SYNTHETIC_SOURCE})",
            "id",
        )
    if is_synthetic(checked) and not synthetic_id:
        raise InputError(
            f"a synthetic case needs an id starting {SYNTHETIC_ID_PREFIX!r}, so that it is "
            "never taken for a real one",
            "id",
        )
    return checked
