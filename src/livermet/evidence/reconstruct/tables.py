"""Reading the two input files of a reconstruction: the digitised curve and the risk table.

Both are small text tables: comma, tab or semicolon separated (or spaces, as Guyot's and
survHE's example files). What each file may look like is in docs/reconstruction.md#inputs:

- the curve: a header naming a time and a survival column, other columns ignored (a row
  number, say); or a WebPlotDigitizer export with no header, two columns per dataset (x, y)
  side by side; or a WebPlotDigitizer "all datasets" export, whose first line names the
  datasets and whose second line is ``X,Y,X,Y...``; blank cells pad the shorter datasets;
- the risk table: a header naming the time and the numbers at risk, optionally Guyot's
  ``lower`` and ``upper`` row indexes (1-based rows of the curve file); or no header and two
  columns (time, number).

Headers are read leniently (`_column_kind`): a time column is named ``time``, ``t``, ``x`` or by
a unit (``Time (months)``, ``years``, ``follow-up, weeks``); a survival column contains ``surv``
or ``prob`` (or is ``s``/``y``); a number-at-risk column contains ``risk`` (``No. at risk``) or
is ``n``/``nrisk``. A two-column file whose header is not recognised is read as time, then
survival or number at risk, with a note. Semicolon- or tab-separated files may use a decimal
comma (``0,648;100,00``).

Times are returned in months, the project's unit: a time column named in years, weeks or days is
converted (`MONTHS_PER_UNIT`) and a note says so; a time column without a unit is taken as
months.

Errors name the file's line (the header is line 1).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livermet.clinical.timing import DAYS_PER_MONTH
from livermet.errors import InputError
from livermet.evidence.text_files import read_text

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "MONTHS_PER_UNIT",
    "DigitisedCurve",
    "RiskTableInput",
    "parse_curve",
    "parse_risk_table",
    "read_curve",
    "read_risk_table",
    "read_text",
]

MONTHS_PER_UNIT: dict[str, float] = {
    "months": 1.0,
    "years": 12.0,
    "weeks": 7.0 / DAYS_PER_MONTH,
    "days": 1.0 / DAYS_PER_MONTH,
}
"""Months in one unit of time: a year is 12 months, a month 365.25 / 12 = 30.4375 days (the
Julian year of 365.25 days divided by 12, the convention of the whole project:
`livermet.clinical.timing.DAYS_PER_MONTH`), so a week is 7 / 30.4375 months."""

_UNIT_WORDS = {
    **dict.fromkeys(("month", "months", "mo", "mos", "mth", "mths"), "months"),
    **dict.fromkeys(("year", "years", "yr", "yrs"), "years"),
    **dict.fromkeys(("week", "weeks", "wk", "wks"), "weeks"),
    **dict.fromkeys(("day", "days"), "days"),
}
_SURVIVAL_WORDS = ("surv", "prob", "os", "pfs", "dfs", "rfs", "efs")

TIME_NAMES = ("time", "t", "x", "months", "time_months", "years", "days")
SURVIVAL_NAMES = ("survival", "surv", "s", "y", "survival_probability", "probability")
N_RISK_NAMES = ("n_risk", "nrisk", "n.risk", "n", "at_risk", "n_at_risk", "number_at_risk")


@dataclass(frozen=True)
class DigitisedCurve:
    """Digitised points as read, before any cleaning.

    Attributes
    ----------
    time, survival : ndarray
        The points in the file's order and units (survival in percent or as a proportion).
    lines : ndarray of int
        The file line of each point (the first line of the file is 1), for messages.
    source : str
        The file's name (or a label) that messages use.
    dataset : str or None
        The WebPlotDigitizer dataset read, when the file holds several.
    time_unit : str
        The unit of time the file gave (``months`` when it named none); ``time`` is in months.
    notes : tuple of str
        What reading did (a unit converted, a header not recognised), one sentence each.
    unit_named : bool
        Whether the time column's header named its unit (``Time (years)``, ``months``).
    """

    time: FloatArray
    survival: FloatArray
    lines: IntArray
    source: str = "curve"
    dataset: str | None = None
    time_unit: str = "months"
    notes: tuple[str, ...] = ()
    unit_named: bool = False

    @classmethod
    def from_arrays(
        cls, time: npt.ArrayLike, survival: npt.ArrayLike, source: str = "curve"
    ) -> DigitisedCurve:
        """Make a curve from two sequences; point ``j`` (0-based) is called row ``j + 1``."""
        t = np.asarray(time, dtype=float).ravel()
        s = np.asarray(survival, dtype=float).ravel()
        if t.size != s.size:
            raise InputError(f"{t.size} times but {s.size} survival values", source)
        if t.size == 0:
            raise InputError("no digitised points", source)
        bad = ~(np.isfinite(t) & np.isfinite(s))
        if bad.any():
            row = int(np.argmax(bad)) + 1
            raise InputError("time and survival must be finite numbers", f"{source} row {row}")
        return cls(t, s, np.arange(1, t.size + 1, dtype=np.int64), source)


@dataclass(frozen=True)
class RiskTableInput:
    """A published risk table as read: times, numbers at risk and optional Guyot indexes.

    ``lower``/``upper`` are 1-based rows of the curve file, as in Guyot's and survHE's format.
    ``lines`` are the file lines (or 1, 2, ... for arrays), for messages. ``time`` is in months;
    ``time_unit`` is the unit the file gave, ``notes`` what reading did, ``unit_named`` whether
    the time column's header named its unit (True for a table built from arrays, whose times
    are months by contract).
    """

    time: FloatArray
    n_risk: FloatArray
    lines: IntArray
    lower: FloatArray | None = None
    upper: FloatArray | None = None
    source: str = "risk table"
    time_unit: str = "months"
    notes: tuple[str, ...] = ()
    unit_named: bool = True


_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*%?")


def _separator(first: str) -> str | None:
    """Return the separator given the first line: semicolon, tab, comma, or None (spaces)."""
    return next((c for c in (";", "\t", ",") if c in first), None)


def _rows(text: str, source: str) -> list[tuple[int, list[str]]]:
    """Split text into (line number, cells), blank lines dropped; the separator is guessed.

    With a semicolon or a tab as separator, a comma inside a number is its decimal mark
    (``0,648;100,00``), as European spreadsheets write it.
    """
    lines = text.splitlines()
    body = [ln for ln in lines if ln.strip()]
    if not body:
        raise InputError("the file is empty", source)
    sep = _separator(body[0])
    decimal_comma = sep in (";", "\t")
    out: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = line.split() if sep is None else next(csv.reader([line], delimiter=sep))
        cells = [c.strip() for c in cells]
        if decimal_comma:
            cells = [c.replace(",", ".") if _DECIMAL_COMMA.fullmatch(c) else c for c in cells]
        out.append((number, cells))
    return out


def _number(cell: str) -> float | None:
    """Return a cell as a number (a trailing % dropped), None when it is not one."""
    text = cell.strip().rstrip("%").strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_header(cells: list[str]) -> bool:
    return any(c and _number(c) is None for c in cells)


def _tokens(name: str) -> list[str]:
    return re.findall(r"[a-z]+", name.lower())


def _time_unit(name: str) -> str | None:
    """Return the unit of time a column's name gives (``Time (years)`` → years), None if none."""
    return next((_UNIT_WORDS[w] for w in _tokens(name) if w in _UNIT_WORDS), None)


def _column_kind(name: str) -> str | None:
    """Return what a header cell names: time, survival, n_risk, lower, upper or None."""
    low = name.strip().lower()
    words = _tokens(name)
    if low in ("lower", "upper"):
        return low
    if low in N_RISK_NAMES or "risk" in words:
        return "n_risk"
    if low in SURVIVAL_NAMES or any(w.startswith(_SURVIVAL_WORDS) for w in words):
        return "survival"
    if low in TIME_NAMES or "time" in words or _time_unit(name) is not None:
        return "time"
    return None


def _find_kind(header: list[str], kind: str) -> int | None:
    """Return the first column of ``header`` of the given kind."""
    return next((j for j, h in enumerate(header) if _column_kind(h) == kind), None)


def _two_columns(
    header: list[str], second: str, source: str, line: int
) -> tuple[int, int, list[str]]:
    """Columns of time and ``second`` (survival or n_risk), and a note when guessed.

    A two-column header that does not name both is read as time, then ``second`` (or the other
    way round when only the second column is recognised as time).
    """
    t_col, x_col = _find_kind(header, "time"), _find_kind(header, second)
    if t_col is not None and x_col is not None and t_col != x_col:
        return t_col, x_col, []
    what = "survival" if second == "survival" else "number at risk"
    patient = [h for h in header if set(_tokens(h)) & {"event", "status", "censored", "death"}]
    if patient:
        raise InputError(
            f"column {patient[0]!r} looks like patient data (one row per patient: time, event), "
            f"not a {'digitised curve' if second == 'survival' else 'risk table'}",
            f"{source} line {line}",
        )
    if len(header) != 2:
        raise InputError(
            f"the header names no time and {what} columns (expected a time column such as "
            f"time, months or 'Time (years)', and a {what} column such as "
            f"{'survival or surv' if second == 'survival' else 'n_risk or No. at risk'})",
            f"{source} line {line}",
        )
    t_col = 1 if (t_col == 1 or x_col == 0) else 0
    x_col = 1 - t_col
    note = (
        f"{source}: header {', '.join(repr(h) for h in header)} not recognised; column "
        f"{t_col + 1} read as time and column {x_col + 1} as {what}"
    )
    return t_col, x_col, [note]


def _to_months(
    times: FloatArray, header: str | None, source: str
) -> tuple[FloatArray, str, list[str]]:
    """Return times in months, given the time column's header (months when it names no unit)."""
    unit = _time_unit(header) if header is not None else None
    if unit is None or unit == "months":
        return times, "months", []
    factor = MONTHS_PER_UNIT[unit]
    how = {"years": "× 12", "weeks": "× 7 / 30.4375", "days": "÷ 30.4375"}[unit]
    note = (
        f"{source}: times read in {unit} (header {header!r}) and converted to months ({how}; "
        "a month is 365.25 / 12 = 30.4375 days)"
    )
    return times * factor, unit, [note]


def _cell(cells: list[str], col: int, line: int, source: str, what: str) -> float:
    text = cells[col] if col < len(cells) else ""
    value = _number(text)
    if value is None:
        shown = repr(text) if text else "an empty cell"
        raise InputError(f"{what} must be a number, got {shown}", f"{source} line {line}")
    return value


def _datasets(rows: list[tuple[int, list[str]]]) -> tuple[list[str], int]:
    """Dataset names of a curve file's header and the number of header lines (0, 1 or 2)."""
    width = max(len(c) for _, c in rows)
    if not _is_header(rows[0][1]):
        return [str(k + 1) for k in range(width // 2)], 0
    if len(rows) > 1 and _is_header(rows[1][1]):  # WebPlotDigitizer: names, then X,Y,X,Y
        names = rows[0][1]
        found = [
            names[j] if j < len(names) and names[j] else str(j // 2 + 1) for j in range(0, width, 2)
        ]
        return found, 2
    return [], 1


def _one_dataset(dataset: str, source: str) -> InputError:
    return InputError(
        f"{source} has one dataset (time, survival), not a WebPlotDigitizer export with several; "
        f"leave out the dataset choice ({dataset!r})",
        "dataset",
    )


def _pick(names: list[str], dataset: str | None, source: str, *, named: bool) -> int:
    """Return the index of the dataset to read (``named``: the header names the datasets)."""
    if dataset is None:
        if len(names) == 1:
            return 0
        raise InputError(
            f"the file holds {len(names)} datasets ({', '.join(names)}); choose one with "
            "--dataset NAME or --dataset NUMBER",
            "dataset",
        )
    folded = [n.casefold() for n in names]
    wanted = dataset.casefold()
    if len(names) == 1 and not (named and wanted == folded[0]):
        raise _one_dataset(dataset, source)
    if wanted in folded:  # names compared without case: "surgery" chooses "Surgery"
        return folded.index(wanted)
    if dataset.isdigit() and 1 <= int(dataset) <= len(names):
        return int(dataset) - 1
    raise InputError(
        f"no dataset {dataset!r} in {source} (datasets: {', '.join(names)})", "dataset"
    )


@dataclass(frozen=True)
class _Layout:
    """Where a curve file's points are: columns, header lines, dataset, time header, notes."""

    t_col: int
    s_col: int
    skip: int
    name: str | None
    time_header: str | None
    notes: list[str]


def _curve_columns(rows: list[tuple[int, list[str]]], dataset: str | None, source: str) -> _Layout:
    """Columns of time and survival, header lines to skip, and the dataset's name."""
    names, skip = _datasets(rows)
    if skip == 1:
        if dataset is not None:
            raise _one_dataset(dataset, source)
        header = rows[0][1]
        t_col, s_col, notes = _two_columns(header, "survival", source, rows[0][0])
        return _Layout(t_col, s_col, 1, None, header[t_col], notes)
    if not names:
        raise InputError("expected two columns (time, survival) per dataset", source)
    k = _pick(names, dataset, source, named=skip == 2)
    return _Layout(2 * k, 2 * k + 1, skip, names[k] if len(names) > 1 else None, None, [])


def parse_curve(text: str, source: str = "curve", dataset: str | None = None) -> DigitisedCurve:
    """Read digitised points from CSV text (the formats of the module's docstring).

    Parameters
    ----------
    text : str
        The file's content.
    source : str
        The file's name, for messages.
    dataset : str, optional
        A WebPlotDigitizer dataset by name or 1-based position, when the file holds several.

    Raises
    ------
    InputError
        An empty file, a cell that is not a number (naming its line), no time/survival columns,
        a dataset chosen in a file that has one.
    """
    rows = _rows(text, source)
    lay = _curve_columns(rows, dataset, source)
    _check_ragged(rows, lay.skip, source)
    times: list[float] = []
    surv: list[float] = []
    lines: list[int] = []
    for line, cells in rows[lay.skip :]:
        pair = [cells[c] if c < len(cells) else "" for c in (lay.t_col, lay.s_col)]
        if not any(pair):  # padding of a shorter dataset
            continue
        times.append(_cell(cells, lay.t_col, line, source, "time"))
        surv.append(_cell(cells, lay.s_col, line, source, "survival"))
        lines.append(line)
    if not times:
        raise InputError("no digitised points in the file", source)
    _check_swapped(np.array(times), np.array(surv), lines[0], source)
    months, unit, converted = _to_months(np.array(times), lay.time_header, source)
    named = lay.time_header is not None and _time_unit(lay.time_header) is not None
    return DigitisedCurve(
        months,
        np.array(surv),
        np.array(lines, dtype=np.int64),
        source,
        lay.name,
        unit,
        tuple(lay.notes + converted),
        named,
    )


def _check_ragged(rows: list[tuple[int, list[str]]], skip: int, source: str) -> None:
    """Refuse a row with more or fewer cells than the header (or the first row, without one).

    A WebPlotDigitizer "all datasets" export (two header lines) pads its shorter datasets with
    blank cells, so its rows all have the header's width; a row of another width is a mistake
    (a cell missing or a separator too many) that would shift the columns.
    """
    if skip == 2:
        return
    width = len(rows[0][1])
    for line, cells in rows[skip:]:
        if len(cells) != width:
            what = "the header" if skip else "the first row"
            raise InputError(
                f"{len(cells)} cells where {what} has {width}; every row needs one cell per column",
                f"{source} line {line}",
            )


_FULL_SURVIVAL = ((95.0, 105.0), (0.95, 1.05))  # 100 % or 1, give or take digitising noise


def _check_swapped(t: FloatArray, s: FloatArray, first_line: int, source: str) -> None:
    """Refuse columns that look swapped: survival first, time second.

    The pattern: the first point reads (about 100 or about 1, about 0), i.e. survival at the
    start and time 0, and over the file the "time" column falls while the "survival" column
    rises. A curve clicked from right to left also has time falling and survival rising, but
    its first point is the curve's end, not (100 %, 0).
    """
    if t.size < 2:
        return
    full = any(lo <= t[0] <= hi for lo, hi in _FULL_SURVIVAL)
    starts_at_zero = abs(s[0]) <= 0.01 * max(float(np.abs(s).max()), 1e-12)
    if full and starts_at_zero and t[-1] < t[0] and s[-1] > s[0]:
        raise InputError(
            f"the columns look swapped: the first point is ({t[0]:g}, {s[0]:g}) and the time "
            "column decreases while the survival column increases; put time first and survival "
            "second (or name them in a header: time, survival)",
            f"{source} line {first_line}",
        )


def read_curve(
    path: str | Path, dataset: str | None = None, *, field: str = "curve"
) -> DigitisedCurve:
    """Read a digitised curve file (see `parse_curve`); ``field`` names the path in errors."""
    p = Path(path)
    return parse_curve(read_text(p, field), p.name, dataset)


def _risk_columns(
    rows: list[tuple[int, list[str]]], source: str
) -> tuple[list[int | None], int, str | None, list[str]]:
    """Columns of time, number at risk, lower, upper; header lines; time header; notes."""
    if not _is_header(rows[0][1]):
        if len(rows[0][1]) != 2:
            raise InputError(
                "without a header the risk table has two columns: time, number at risk", source
            )
        return [0, 1, None, None], 0, None, []
    header = rows[0][1]
    t_col, n_col, notes = _two_columns(header, "n_risk", source, rows[0][0])
    lo, up = _find_kind(header, "lower"), _find_kind(header, "upper")
    if (lo is None) != (up is None):
        raise InputError("give both lower and upper row indexes, or neither", source)
    return [t_col, n_col, lo, up], 1, header[t_col], notes


def parse_risk_table(text: str, source: str = "risk table") -> RiskTableInput:
    """Read a published risk table from CSV text (the formats of the module's docstring).

    Raises
    ------
    InputError
        An empty file, a cell that is not a number (naming its line), no time/number columns.
    """
    rows = _rows(text, source)
    columns, skip, time_header, notes = _risk_columns(rows, source)
    names = ("time", "number at risk", "lower", "upper")
    values: dict[str, list[float]] = {name: [] for name in names}
    lines: list[int] = []
    for line, cells in rows[skip:]:
        for name, col in zip(names, columns, strict=True):
            if col is not None:
                values[name].append(_cell(cells, col, line, source, name))
        lines.append(line)
    if not lines:
        raise InputError("no rows in the risk table", source)
    months, unit, converted = _to_months(np.array(values["time"]), time_header, source)
    given = columns[2] is not None
    return RiskTableInput(
        months,
        np.array(values["number at risk"]),
        np.array(lines, dtype=np.int64),
        np.array(values["lower"]) if given else None,
        np.array(values["upper"]) if given else None,
        source,
        unit,
        tuple(notes + converted),
        time_header is not None and _time_unit(time_header) is not None,
    )


def read_risk_table(path: str | Path, *, field: str = "risk table") -> RiskTableInput:
    """Read a published risk table file (see `parse_risk_table`); ``field`` names the path."""
    p = Path(path)
    return parse_risk_table(read_text(p, field), p.name)
