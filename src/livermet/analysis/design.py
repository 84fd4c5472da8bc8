"""Covariate columns of a cohort table → a numeric design matrix, coded as R's model.matrix.

Numeric columns enter as they are; a mostly numeric column with some text is refused as a
probable typo, naming the row, unless declared categorical. Text, boolean and categorical
columns (and numeric columns named in ``categorical``) are factors with treatment contrasts:
the first level is the reference and each other level gets a 0/1 column named
``<column><level>`` (R's term names, e.g. ``approachlaparoscopic``; booleans give
``<column>TRUE``). Level order: ``levels`` for that column, else the categories of a pandas
Categorical, else the sorted distinct values (R's ``factor()``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from livermet.analysis._data import (
    BoolArray,
    group_values,
    numeric_values,
    row_label,
    show_value,
)
from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]

__all__ = ["Design", "design_matrix", "factor_terms", "is_factor", "shown_levels"]


@dataclass(frozen=True)
class Design:
    """A design matrix with R-style term names and, per factor, its levels (reference first)."""

    matrix: FloatArray
    terms: list[str]
    factors: dict[str, list[str]]
    term_covariate: dict[str, str]


def is_factor(data: pd.DataFrame, name: str, categorical: Sequence[str] = ()) -> bool:
    """Return whether covariate ``name`` is a factor (text, boolean, categorical or declared).

    Raises
    ------
    InputError
        A mostly numeric column with some text (a probable typo), naming the row.
    """
    values = data[name]
    if name in categorical:
        return True
    if pd.api.types.is_bool_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_numeric_dtype(values):
        return False
    present = values.notna() & values.astype(str).str.strip().ne("")
    parsed = pd.to_numeric(values[present], errors="coerce")
    failed = np.flatnonzero(parsed.isna().to_numpy())
    if failed.size == 0:
        return False  # numbers read as text
    if failed.size < parsed.size / 2:
        # mostly numbers: a typo is likelier than a factor; say how to force a factor
        position = int(np.flatnonzero(present.to_numpy())[failed[0]])
        shown = show_value(values.iloc[position])
        raise InputError(
            f"{row_label(data, position)}: {shown} is not a number (the column is otherwise "
            "numeric; declare it categorical if it is a factor)",
            name,
        )
    return True


def shown_levels(names: Sequence[str]) -> list[str]:
    """Return factor levels as R prints them: TRUE and FALSE for booleans."""
    return ["TRUE" if n == "True" else "FALSE" if n == "False" else n for n in names]


def factor_terms(name: str, names: Sequence[str]) -> list[str]:
    """Return the term names of a factor: ``<column><level>`` for every level but the first."""
    return [f"{name}{level}" for level in shown_levels(names)[1:]]


def design_matrix(
    data: pd.DataFrame,
    covariates: Sequence[str],
    *,
    levels: Mapping[str, Sequence[Any]] | None = None,
    categorical: Sequence[str] = (),
    rows: BoolArray | None = None,
    keep_empty_levels: bool = False,
) -> Design:
    """Build the design matrix of ``covariates`` for the ``rows`` used (all by default).

    With ``keep_empty_levels`` every level in ``levels`` gets its column even when no row used
    has it (a site of a federated analysis codes the levels of all sites).

    Raises
    ------
    InputError
        A covariate listed twice, text in a numeric covariate, a level not in ``levels``, or a
        factor with a single level among the rows used (naming the column and row).
    """
    levels = dict(levels or {})
    unknown = set(levels) - set(covariates)
    if unknown:
        name = sorted(unknown)[0]
        raise InputError("levels given for a column that is not a covariate", name)
    seen: set[str] = set()
    columns: list[FloatArray] = []
    terms: list[str] = []
    factors: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for name in covariates:
        if name in seen:
            raise InputError("covariate listed twice", name)
        seen.add(name)
        values = data[name]
        if is_factor(data, name, [*categorical, *levels]):
            order = levels.get(name)
            if order is None and pd.api.types.is_bool_dtype(values):
                order = [False, True]
            codes, names = group_values(data, name, order, rows, keep_empty=keep_empty_levels)
            if len(names) < 2:
                raise InputError(
                    f"has a single value ({names[0] if names else 'none'}) among the patients "
                    "analysed; a factor needs at least two levels",
                    name,
                )
            shown = shown_levels(names)
            factors[name] = shown
            for i, term in enumerate(factor_terms(name, names), start=1):
                columns.append((codes == i).astype(float))
                terms.append(term)
                owner[term] = name
        else:
            columns.append(numeric_values(data, name, rows))
            terms.append(name)
            owner[name] = name
    n = int(np.count_nonzero(rows)) if rows is not None else len(data)
    matrix = np.column_stack(columns) if columns else np.empty((n, 0))
    return Design(matrix, terms, factors, owner)
