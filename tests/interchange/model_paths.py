"""Every field of the case model as a dotted path (list items as ``[]``), walked from the model.

A field added later without an interchange home thus makes the coverage tests fail.
"""

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


def unset_leaves(case: BaseModel, model: type[BaseModel] = Case, prefix: str = "") -> set[str]:
    """Return the leaf paths that ``case`` never gives a value (as :func:`leaf_paths` names them).

    A leaf is unset when it is None or the field's default in every item of every list.
    """
    values = _leaf_values(case, model, prefix)
    return {path for path in leaf_paths(model, prefix) if not values.get(path)}


def _leaf_values(obj: BaseModel, model: type[BaseModel], prefix: str) -> dict[str, bool]:
    found: dict[str, bool] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        value = getattr(obj, name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, BaseModel) and type(item).__name__ != "Offset":
                inner = "[]." if isinstance(value, list) else "."
                for key, given in _leaf_values(item, type(item), f"{path}{inner}").items():
                    found[key] = found.get(key, False) or given
            else:
                given = value is not None and value != info.get_default(call_default_factory=True)
                found[path] = found.get(path, False) or given
    return found
