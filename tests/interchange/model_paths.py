"""Every field of the case model as a dotted path (list items as ``[]``), walked from the model so
that a field added later without an interchange home makes the coverage tests fail."""

from __future__ import annotations

import typing

from pydantic import BaseModel

from livermet.case.model import Case


def _models_in(annotation: typing.Any) -> list[type[BaseModel]]:
    found = []
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            found.append(arg)
    return found


def leaf_paths(model: type[BaseModel] = Case, prefix: str = "") -> set[str]:
    """Paths of the leaves: fields that are not (optional) sub-models or lists of sub-models.

    A time (``date | Offset``) is a leaf: each format writes it as one value.
    """
    out: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        origin = typing.get_origin(annotation)
        if origin is list:
            (item,) = typing.get_args(annotation)
            if isinstance(item, type) and issubclass(item, BaseModel):
                out |= leaf_paths(item, f"{path}[].")
                continue
        sub = [m for m in _models_in(annotation) if m.__name__ != "Offset"]
        if sub and "date" not in str(annotation):
            out |= leaf_paths(sub[0], f"{path}.")
        else:
            out.add(path)
    return out
