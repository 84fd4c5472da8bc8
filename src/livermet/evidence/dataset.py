"""Published series of hepatectomy for liver metastases of leiomyosarcoma: loading and subsets.

The shipped file ``evidence/data/literature.csv`` holds the ten series of the case report's
Table 1 (Tsuzaka S et al., Surg Case Rep 2022, DOI 10.1186/s40792-022-01400-1) with the
publication each row most likely comes from, identified from abstracts only
(``evidence/data/PROVENANCE.md``; docs/evidence.md#dataset), followed by further published
series of hepatectomy for sarcoma liver metastases (``source_set`` = ``added``). The added
series are used only on request (``include_added=True``); by default every function here gives
Table 1 alone. Survival columns are percentages exactly as printed; blank means "not available".

`load_series` reads a user's own CSV in the same columns and validates every cell, collecting
all problems before raising one `SeriesInputError` (an `InputError`) whose message names the
data row, the CSV line and the column of each problem.

`subset` gives the sensitivity analyses the dataset invites (docs/evidence.md#dataset):
leiomyosarcoma-only rows, verified rows, ``n_source`` instead of ``n_table``, one row per
institution.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from livermet.errors import InputError
from livermet.evidence.csv_rows import read_rows
from livermet.evidence.text_files import read_text

__all__ = [
    "CHOICES",
    "COLUMNS",
    "IDENTIFICATION_LEVELS",
    "INSTITUTIONS",
    "OWN_SERIES_SOURCE",
    "SOURCE_SETS",
    "SURVIVAL_COLUMNS",
    "RowProblem",
    "SeriesInputError",
    "load_literature",
    "load_series",
    "resolve_n",
    "select_source",
    "series_label",
    "subset",
    "with_own_series",
]

# --------------------------------------------------------------------------------------------
# Column specification
# --------------------------------------------------------------------------------------------

ColumnKind = Literal["text", "integer", "count", "positive", "percent", "choice"]

COLUMNS: dict[str, ColumnKind] = {
    "id": "text",
    "seed_table_ref": "integer",
    "first_author": "text",
    "year": "integer",
    "journal": "text",
    "doi": "text",
    "pmid": "integer",
    "period": "text",
    "population": "text",
    "n_table": "count",
    "n_source": "count",
    "mst_months": "positive",
    "os1": "percent",
    "os3": "percent",
    "os5": "percent",
    "approach": "text",
    "identification": "choice",
    "note": "text",
    "source_set": "choice",
}
"""Canonical columns and their kinds, in the order of the shipped CSV.

``count``: whole number > 0; ``positive``: number > 0; ``percent``: number in [0, 100];
``integer``: whole number; ``choice``: one of the values in `CHOICES` for that column."""

SURVIVAL_COLUMNS: dict[str, float] = {"os1": 12.0, "os3": 36.0, "os5": 60.0}
"""Overall-survival columns (percent) and the time in months each refers to."""

IDENTIFICATION_LEVELS = ("verified", "probable", "unknown")
"""Values of ``identification`` (PROVENANCE.md): verified against the abstract, probable,
unknown."""

SOURCE_SETS = ("table1", "added")
"""Values of ``source_set`` (PROVENANCE.md): ``table1`` = a row of the case report's Table 1;
``added`` = a further published series added by the project, used only with
``include_added=True`` (`load_literature`, `subset`, `select_source`). Blank (a user's own
series) counts as neither and is always kept."""

CHOICES: dict[str, tuple[str, ...]] = {
    "identification": IDENTIFICATION_LEVELS,
    "source_set": SOURCE_SETS,
}
"""Allowed values (lower case) of each ``choice`` column."""

REQUIRED_OUTCOMES = ("mst_months", "os1", "os3", "os5")
"""A series file must have at least one of these columns, and each row at least one value."""

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "–", "—"})
"""Cell texts read as "not available" (case-insensitive, after stripping blanks)."""

_DTYPES: dict[ColumnKind, str] = {
    "text": "string",
    "choice": "string",
    "integer": "Int64",
    "count": "Int64",
    "positive": "float64",
    "percent": "float64",
}

INSTITUTIONS: dict[str, str] = {
    "jaques1995": "MSKCC",
    "dematteo2001": "MSKCC",
    "pawlik2006": "MD Anderson",
    "brudvik2015": "MD Anderson",
    "goumard2018": "MD Anderson",
    "jain2023": "MD Anderson",
}
"""Institution of the series known to share patients (docs/evidence.md#dataset).

MSKCC: Jaques 1995 and DeMatteo 2001. MD Anderson: Pawlik 2006 (1996-2005), Brudvik 2015
(1998-2013), Goumard 2018 and Jain 2023 (1999-2020). Keys are series ids (matched
case-insensitively); a non-blank ``institution`` column in the data overrides this mapping.
Jaques 1995, Pawlik 2006 and Jain 2023 are rows of the shipped file (``source_set`` =
``added``); Goumard 2018 is not (no survival figures seen) and is listed for users' own files.
Every other series is its own institution: Chen 1998, Chua 2011, Zacherl 2011 and Kim 2017 come
from institutions with no other series in the file. Groeschl 2012 (multi-institutional, US) and
Grimme 2019 (Dutch nationwide) could overlap with others only in ways the abstracts do not show.
Tirotta 2020 is a pooled review that overlaps several series; it is not a row of the file
(PROVENANCE.md), because its pooled figures cannot be expressed as one institution."""

_LMS_POPULATION = re.compile(r"^\s*(lms|leiomyosarcoma)\b", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    """One problem found while validating a series CSV.

    Attributes
    ----------
    row : int | None
        1-based data row (the first row after the header is row 1); None for the header.
    line : int | None
        1-based line of the CSV file where the row starts (the header is line 1).
    column : str
        The column concerned.
    message : str
        What is wrong.
    """

    row: int | None
    line: int | None
    column: str
    message: str

    def __str__(self) -> str:
        """Return the problem with its place: row or header, CSV line and column."""
        where = ("header" if self.line == 1 else "file") if self.row is None else f"row {self.row}"
        if self.line is not None:
            where += f" (CSV line {self.line})"
        return f"{where}, column '{self.column}': {self.message}"


class SeriesInputError(InputError):
    """A series CSV failed validation; ``errors`` lists every problem (`RowProblem`)."""

    def __init__(self, problems: list[RowProblem], source: str) -> None:
        self.errors = problems
        columns = {p.column for p in problems}
        field = next(iter(columns)) if len(columns) == 1 else None
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {count}:\n{lines}", field)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load_literature(*, include_added: bool = False) -> pd.DataFrame:
    """Return the case report's Table 1 with provenance, as shipped with the package.

    Parameters
    ----------
    include_added : bool
        Also return the further published series the project added (``source_set`` =
        ``added``, after the ten Table 1 rows). Default: Table 1 only.

    Returns
    -------
    pandas.DataFrame
        One row per series, columns as in `COLUMNS` (``string``, nullable ``Int64`` and
        ``float64`` dtypes; missing values are ``<NA>``/``NaN``). ``os1``/``os3``/``os5`` are
        percentages as printed. Provenance: ``evidence/data/PROVENANCE.md``.
    """
    resource = files("livermet").joinpath("evidence", "data", "literature.csv")
    df = _parse_text(resource.read_text(encoding="utf-8"), "literature.csv")
    return select_source(df, include_added=include_added)


def select_source(df: pd.DataFrame, *, include_added: bool = False) -> pd.DataFrame:
    """Drop the added series (``source_set`` = ``added``) unless ``include_added``.

    Rows of Table 1 (``table1``) and rows without a ``source_set`` (a user's own series) are
    always kept; a table without the column is returned unchanged. Order and index are kept.
    """
    if include_added or "source_set" not in df:
        return df
    added = df["source_set"].astype("string").str.strip().str.lower().eq("added")
    return df[~added.fillna(False).astype(bool)]


def _given(value: Any) -> bool:
    """Tell whether a cell holds a value (not None, NaN, ``<NA>`` or blank text)."""
    if value is None or value is pd.NA:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


def series_label(row: Mapping[Any, Any] | pd.Series[Any], *, short: bool = False) -> str:
    """How a series is named to a reader: in tables, forest plots and the CLI.

    - A series with a known publication: first author and year, "Foster 1978".
    - A row of the case report's Table 1 whose publication was not identified
      (``identification`` = ``unknown``, ``seed_table_ref`` set; PROVENANCE.md): a published
      series of uncertain source, named by the case report's reference number: "Series of
      uncertain source (case report ref. 19)", or with ``short=True`` (a plot's axis)
      "Uncertain source (ref. 19)".
    - Anything else is a user's own series (no author, no reference of the case report):
      "<id> (your series)".

    ``row`` is a mapping of the dataset's columns (a ``DataFrame`` row, a record dict); missing
    cells may be None, NaN or ``<NA>``.
    """
    author: Any = row.get("first_author")
    year: Any = row.get("year")
    if _given(author):
        return f"{str(author).strip()} {int(year)}" if _given(year) else str(author).strip()
    ref: Any = row.get("seed_table_ref")
    if _given(ref):
        if short:
            return f"Uncertain source (ref. {int(ref)})"
        return f"Series of uncertain source (case report ref. {int(ref)})"
    return f"{row.get('id')} (your series)"


def load_series(path: str | Path, field: str = "path") -> pd.DataFrame:
    """Read and validate a user's CSV of series in the columns of the shipped dataset.

    Required columns: ``id``, ``n_table`` (or ``n``, renamed to ``n_table``) and at least one of
    ``mst_months``, ``os1``, ``os3``, ``os5``. Other canonical columns (`COLUMNS`) are optional
    and added as missing when absent; unknown columns are kept as text.

    Rules checked for every row (all problems are collected, then one error is raised):

    - ``id`` present and unique;
    - ``n_table`` (and ``n_source`` when given) a whole number > 0;
    - ``os1``/``os3``/``os5`` percentages in [0, 100] (a trailing ``%`` is accepted);
      ``mst_months`` > 0; ``year``, ``pmid``, ``seed_table_ref`` whole numbers;
    - survival not increasing with time (``os1`` >= ``os3`` >= ``os5``);
    - at least one of ``mst_months``/``os1``/``os3``/``os5`` given;
    - ``identification`` one of ``verified``, ``probable``, ``unknown``;
    - ``source_set`` (optional) one of ``table1``, ``added`` (`SOURCE_SETS`);
    - and, for the file, not every survival value <= 1 (proportions given for percentages).

    Blank cells and ``NA``, ``N/A``, ``-`` mean "not available".

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8, optional BOM, comma-separated, header in the first line).
    field : str
        What a missing, folder or non-UTF-8 file is reported under (the option that gave it).

    Returns
    -------
    pandas.DataFrame
        Same columns and dtypes as `load_literature`, plus any extra columns.

    Raises
    ------
    SeriesInputError
        (an `InputError`) naming the data row, CSV line and column of every problem; the list
        is in ``.errors``.
    """
    p = Path(path)
    return _parse_text(read_text(p, field), p.name)


OWN_SERIES_SOURCE = "your-series.csv"
"""The name `with_own_series` gives a user's own series in its messages."""


def with_own_series(csv_text: str | None, *, source: str = OWN_SERIES_SOURCE) -> pd.DataFrame:
    """Return the literature's series (`load_literature`) plus a user's own, given as CSV text.

    The text is validated like a file given to `load_series` (a leading byte-order mark is
    ignored, line endings are normalised), its problems reported under the name ``source``.
    Only the literature's columns of the user's rows are kept. Without text (None or empty),
    the literature alone.

    Raises
    ------
    SeriesInputError
        (an `InputError`) when the user's rows fail validation, as `load_series`.
    InputError
        (field ``id``) when a user's series has the ``id`` of a series in the literature.
    """
    df = load_literature()
    if not csv_text:
        return df
    text = csv_text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    own = _parse_text(text, source)  # as load_series reads a file: universal newlines
    clash = sorted(set(own["id"]) & set(df["id"]))
    if clash:
        raise InputError(f"series id {', '.join(clash)} is in the literature already", "id")
    return pd.concat([df, own[[c for c in own.columns if c in df.columns]]], ignore_index=True)


def _parse_text(text: str, source: str) -> pd.DataFrame:
    """Parse and validate CSV text; raise `SeriesInputError` listing every problem."""
    header, rows = read_rows(text)
    problems: list[RowProblem] = []
    renamed_n = "n" in header and "n_table" not in header
    header = _check_header(header, problems)
    columns: dict[str, list[Any]] = {name: [] for name in header}
    seen_ids: dict[str, int] = {}
    for number, (line, cells) in enumerate(rows, start=1):
        if len(cells) != len(header):
            problems.append(
                RowProblem(
                    number,
                    line,
                    header[min(len(cells), len(header)) - 1] if header else "?",
                    f"{len(cells)} fields but the header has {len(header)}",
                )
            )
            cells = (cells + [""] * len(header))[: len(header)]
        values = {
            name: _parse_cell(name, cell, number, line, problems)
            for name, cell in zip(header, cells, strict=True)
        }
        _check_row(values, number, line, seen_ids, problems)
        for name in header:
            columns[name].append(values[name])
    _check_percent_scale(columns, problems)
    if problems:
        if renamed_n:  # name the column as the user wrote it
            problems = [
                replace(p, column="n") if p.column == "n_table" and p.row else p for p in problems
            ]
        raise SeriesInputError(problems, source)
    return _frame(columns, header)


def _check_header(header: list[str], problems: list[RowProblem]) -> list[str]:
    """Check required and duplicate columns; rename ``n`` to ``n_table``."""
    for name in sorted({h for h in header if header.count(h) > 1}):
        problems.append(RowProblem(None, 1, name, "column appears more than once"))
    if "n" in header:
        if "n_table" in header:
            problems.append(RowProblem(None, 1, "n", "give either 'n' or 'n_table', not both"))
        else:
            header = ["n_table" if h == "n" else h for h in header]
    if "id" not in header:
        problems.append(RowProblem(None, 1, "id", "required column is missing"))
    if "n_table" not in header:
        problems.append(RowProblem(None, 1, "n_table", "required column (or 'n') is missing"))
    if not any(c in header for c in REQUIRED_OUTCOMES):
        problems.append(
            RowProblem(
                None,
                1,
                "/".join(REQUIRED_OUTCOMES),
                "at least one of these survival columns is required",
            )
        )
    return header


def _parse_cell(name: str, cell: str, row: int, line: int, problems: list[RowProblem]) -> Any:
    """Convert one cell by its column kind; record a problem and return None if invalid."""
    text = cell.strip()
    if text.lower() in MISSING_TOKENS:
        return None
    kind = COLUMNS.get(name, "text")
    if kind == "text":
        return text
    if kind == "choice":
        allowed = CHOICES[name]
        if text.lower() in allowed:
            return text.lower()
        problems.append(RowProblem(row, line, name, f"{text!r} is not one of {', '.join(allowed)}"))
        return None
    number = _to_number(text[:-1].strip() if kind == "percent" and text.endswith("%") else text)
    if number is None:
        problems.append(RowProblem(row, line, name, f"{text!r} is not a number"))
        return None
    message = _range_problem(kind, number)
    if message:
        problems.append(RowProblem(row, line, name, f"{text} {message}"))
        return None
    return int(number) if kind in ("integer", "count") else number


def _to_number(text: str) -> float | None:
    """Return a finite float from text, or None.

    Text, NaN, infinities and decimal commas (``31,8`` — ambiguous, never guessed) are not
    numbers here.
    """
    if not re.fullmatch(r"[-+0-9.eE]+", text):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _range_problem(kind: ColumnKind, value: float) -> str | None:
    """Why ``value`` is out of range for its column kind, or None."""
    if kind in ("integer", "count") and value != int(value):
        return "is not a whole number"
    if kind == "count" and value <= 0:
        return "must be at least 1 (number of patients)"
    if kind == "positive" and value <= 0:
        return "must be greater than 0 (months)"
    if kind == "percent" and not 0.0 <= value <= 100.0:
        return "is outside 0-100 (survival is given in percent)"
    return None


def _check_row(
    values: Mapping[str, Any],
    row: int,
    line: int,
    seen_ids: dict[str, int],
    problems: list[RowProblem],
) -> None:
    """Row-level rules: id present and unique, n present, an outcome given, monotone survival."""
    if "id" in values:
        ident = values["id"]
        if ident is None:
            problems.append(RowProblem(row, line, "id", "missing (every series needs an id)"))
        elif ident.lower() in seen_ids:
            first = seen_ids[ident.lower()]
            problems.append(
                RowProblem(row, line, "id", f"duplicate id {ident!r} (also row {first})")
            )
        else:
            seen_ids[ident.lower()] = row
    if (
        "n_table" in values
        and values["n_table"] is None
        and not _had_problem(problems, row, "n_table")
    ):
        problems.append(RowProblem(row, line, "n_table", "missing (number of patients required)"))
    outcomes = [c for c in REQUIRED_OUTCOMES if c in values]
    if (
        outcomes
        and all(values[c] is None for c in outcomes)
        and not any(_had_problem(problems, row, c) for c in outcomes)
    ):
        problems.append(
            RowProblem(row, line, "/".join(outcomes), "no median or survival percentage given")
        )
    given = [(c, values[c]) for c in SURVIVAL_COLUMNS if values.get(c) is not None]
    for (c1, v1), (c2, v2) in itertools.pairwise(given):
        if v2 > v1:
            problems.append(
                RowProblem(
                    row, line, c2, f"{v2:g} % exceeds {c1} = {v1:g} % (survival cannot rise)"
                )
            )


def _check_percent_scale(columns: Mapping[str, list[Any]], problems: list[RowProblem]) -> None:
    """Survival given as proportions (every value <= 1, not all 0) instead of percentages.

    Values that are all 0 are read as 0 %: no survivor is a real result, and the same in any
    scale.
    """
    given = [v for c in SURVIVAL_COLUMNS for v in columns.get(c, []) if v is not None]
    if len(given) >= 2 and 0.0 < max(given) <= 1.0:
        problems.append(
            RowProblem(
                None,
                None,
                "/".join(c for c in SURVIVAL_COLUMNS if c in columns),
                "every survival value is <= 1: give percentages (30 for 30 %), not proportions",
            )
        )


def _had_problem(problems: list[RowProblem], row: int, column: str) -> bool:
    """Whether a problem was already recorded for this row and column."""
    return any(p.row == row and p.column == column for p in problems)


def _frame(columns: dict[str, list[Any]], header: list[str]) -> pd.DataFrame:
    """Typed DataFrame: canonical columns first (missing ones added empty), then extras."""
    n_rows = len(next(iter(columns.values()))) if columns else 0
    data: dict[str, pd.Series[Any]] = {}
    for name, kind in COLUMNS.items():
        values = columns.get(name, [None] * n_rows)
        data[name] = _typed(values, _DTYPES[kind])
    for name in header:
        if name not in COLUMNS:
            data[name] = _typed(columns[name], "string")
    return pd.DataFrame(data)


def _typed(values: list[Any], dtype: str) -> pd.Series[Any]:
    """Return a Series of the given dtype with None as missing."""
    if dtype == "float64":
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.Series(values, dtype=dtype)


# --------------------------------------------------------------------------------------------
# Sensitivity subsets
# --------------------------------------------------------------------------------------------


def resolve_n(df: pd.DataFrame, n_column: str = "n_table") -> tuple[pd.Series[Any], pd.Series[Any]]:
    """Return the n to analyse each series with, and where it came from.

    Parameters
    ----------
    df : DataFrame
        Series as returned by `load_literature` / `load_series`.
    n_column : {"n_table", "n_source"}
        ``n_table``: the n printed in the table. ``n_source``: the n of the patients the
        survival figures belong to in the source, **falling back to** ``n_table`` where
        ``n_source`` is blank (unknown) — so no series is dropped for want of it.

    Returns
    -------
    (n, n_from) : (Series of float, Series of str)
        ``n_from`` is ``"n_table"``, ``"n_source"`` or ``"n_table (no n_source)"``.
    """
    if n_column not in ("n_table", "n_source"):
        raise InputError(f"must be 'n_table' or 'n_source', got {n_column!r}", "n_column")
    table = pd.to_numeric(df["n_table"], errors="coerce").astype("float64")
    if n_column == "n_table":
        return table, pd.Series("n_table", index=df.index, dtype="string")
    source = (
        pd.to_numeric(df["n_source"], errors="coerce").astype("float64")
        if "n_source" in df
        else pd.Series(np.nan, index=df.index)
    )
    known = source.notna()
    n = source.where(known, table)
    n_from = pd.Series(
        np.where(known, "n_source", "n_table (no n_source)"), index=df.index, dtype="string"
    )
    return n, n_from


def subset(
    df: pd.DataFrame,
    *,
    lms_only: bool = False,
    verified_only: bool = False,
    n_column: str = "n_table",
    one_per_institution: bool = False,
    keep: Literal["largest", "most_recent"] = "largest",
    institutions: Mapping[str, str] | None = None,
    include_added: bool = False,
) -> pd.DataFrame:
    """Sensitivity subsets of a series table (docs/evidence.md#dataset).

    Always adds the columns ``n`` (the n analyses use, see `resolve_n`) and ``n_from``; the
    survival functions use ``n`` when present and ``n_table`` otherwise.

    Parameters
    ----------
    df : DataFrame
        Series as returned by `load_literature` / `load_series`.
    lms_only : bool
        Keep rows whose ``population`` **starts with** ``LMS`` or ``leiomyosarcoma``
        (case-insensitive): ``LMS``, ``LMS subgroup``. All-sarcoma cohorts with an LMS share
        (``all STS (LMS 54%)``), sarcoma subgroups of mixed series and blank (unknown)
        populations are dropped. In Table 1: Lang 2000 and Brudvik 2015; among the added series:
        Chen 1998, Kim 2017 and Jain 2023. Pre-KIT "LMS" series (Lang 2000, Chen 1998) may still
        contain GIST (docs/evidence.md#dataset).
    verified_only : bool
        Keep rows with ``identification == "verified"``.
    n_column : {"n_table", "n_source"}
        Which n to analyse with; ``n_source`` falls back to ``n_table`` where blank.
    one_per_institution : bool
        Keep one row per institution (`INSTITUTIONS`, or an ``institution`` column where
        non-blank): the one with the largest ``n`` (ties: the latest ``year``) when
        ``keep="largest"``, or the latest ``year`` (ties: the largest ``n``) when
        ``keep="most_recent"``. Applied after the other filters.
    keep : {"largest", "most_recent"}
        Rule for `one_per_institution`.
    institutions : mapping, optional
        Series id -> institution, replacing `INSTITUTIONS`.
    include_added : bool
        Keep the added series (``source_set`` = ``added``; `select_source`). Default: they are
        dropped first, so every subset is of Table 1 (plus any rows without ``source_set``).
        The other options apply to the added series like to any row: their ``population``,
        ``identification`` and institution (`INSTITUTIONS`) are filled in the shipped file.

    Returns
    -------
    DataFrame
        The kept rows in their original order (index preserved), with ``n`` and ``n_from``.
    """
    out = select_source(df, include_added=include_added).copy()
    out["n"], out["n_from"] = resolve_n(out, n_column)
    mask = pd.Series(True, index=out.index)
    if lms_only:
        mask &= lms_mask(out)
    if verified_only:
        mask &= out["identification"].astype("string").str.lower().eq("verified").fillna(False)
    out = out[mask]
    if one_per_institution:
        if keep not in ("largest", "most_recent"):
            raise InputError(f"must be 'largest' or 'most_recent', got {keep!r}", "keep")
        out = _one_per_institution(out, keep, institutions or INSTITUTIONS)
    return out


def lms_mask(df: pd.DataFrame) -> pd.Series[bool]:
    """Return True where ``population`` names a leiomyosarcoma-only population (see `subset`)."""
    population = df["population"].astype("string").fillna("")
    return population.map(lambda p: bool(_LMS_POPULATION.match(p))).astype(bool)


def institution_of(df: pd.DataFrame, institutions: Mapping[str, str] | None = None) -> pd.Series:
    """Institution label per row: the ``institution`` column, the mapping, or the id itself."""
    mapping = {k.lower(): v for k, v in (institutions or INSTITUTIONS).items()}
    ids = df["id"].astype("string")
    labels = ids.map(lambda i: mapping.get(str(i).lower(), f"series:{i}"))
    if "institution" in df:
        given = df["institution"].astype("string").str.strip()
        labels = given.where(given.notna() & given.ne(""), labels)
    return labels.astype("string")


def _one_per_institution(
    df: pd.DataFrame, keep: str, institutions: Mapping[str, str]
) -> pd.DataFrame:
    """Keep the preferred row of each institution group, original order preserved."""
    ranked = df.assign(
        _inst=institution_of(df, institutions),
        _n=pd.to_numeric(df["n"], errors="coerce").fillna(-1.0),
        _year=pd.to_numeric(df["year"], errors="coerce").astype("float64").fillna(-1.0),
    )
    order: Iterable[str] = ["_n", "_year"] if keep == "largest" else ["_year", "_n"]
    ranked = ranked.sort_values(list(order), ascending=False, kind="stable")
    chosen = ranked.drop_duplicates("_inst", keep="first").index
    return df.loc[[i for i in df.index if i in set(chosen)]]
