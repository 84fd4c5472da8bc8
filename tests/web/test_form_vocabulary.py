"""The add-a-case form offers exactly the words the case model accepts.

The form's choice lists are written for the form (in the order a clinician reads them); the
case model (:mod:`livermet.case.model`, whose clinical vocabularies come from the score
contracts) is the one source of the words. A word added to the model and not to the form, or a
form choice the model refuses, fails here.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Literal

from pydantic import BaseModel

from livermet.case.model import Case
from livermet.web.caseform import FIELDS

NUMERIC = {"ecog", "asa"}
"""Choices of bounded integers (no vocabulary in the model: its range is checked instead)."""
PARTIAL = {"liver_kind"}
"""Fields that offer a part of the model's vocabulary on purpose (the liver procedures)."""


def _arguments(annotation: Any) -> list[Any]:
    """Return the members of a union, list or Annotated type, recursively."""
    if typing.get_origin(annotation) in {typing.Union, types.UnionType, list, typing.Annotated}:
        args = typing.get_args(annotation)
        if typing.get_origin(annotation) is typing.Annotated:
            args = args[:1]
        return [leaf for arg in args for leaf in _arguments(arg)]
    return [annotation]


def leaf_annotation(path: str) -> Any:
    """Return the annotation of the case model's field at ``path`` (list indices ignored)."""
    model: type[BaseModel] = Case
    annotation: Any = None
    for part in re.sub(r"\[[^\]]*\]", "", path).split("."):
        annotation = model.model_fields[part].annotation
        models = [a for a in _arguments(annotation) if isinstance(a, type)]
        inner = [a for a in models if issubclass(a, BaseModel)]
        if inner:
            model = inner[0]
    return annotation


def vocabulary(path: str) -> set[str] | None:
    """Return the words the case model accepts at ``path``, or None when it has no vocabulary."""
    words: set[str] = set()
    for arg in _arguments(leaf_annotation(path)):
        if typing.get_origin(arg) is Literal:
            words |= {str(v) for v in typing.get_args(arg)}
    return words or None


def test_every_choice_list_is_the_models_vocabulary() -> None:
    """Each form field with choices offers the model's words (and the empty choice if optional)."""
    checked = set()
    for field in FIELDS:
        if not field.choices:
            continue
        offered = set(field.choices) - {""}
        words = vocabulary(field.path)
        if field.name in NUMERIC:
            assert words is None, f"{field.name}: the model now has a vocabulary"
            assert all(c.isdigit() for c in offered), field.name
            continue
        assert words is not None, f"{field.name}: {field.path} has no vocabulary in the model"
        assert offered <= words, f"{field.name}: the model refuses {sorted(offered - words)}"
        if field.name not in PARTIAL:
            assert offered == words, f"{field.name}: the form lacks {sorted(words - offered)}"
        checked.add(field.name)
    assert len(checked) >= 14


def test_the_walk_finds_a_vocabulary_and_its_absence() -> None:
    """The helper reads nested, optional and list fields, and says when there is no word list."""
    assert vocabulary("patient.sex") == {"male", "female", "other"}
    assert vocabulary("procedures[1].margin") == {"R0", "R1", "R2"}
    assert vocabulary("primary_tumour.histology") is None
