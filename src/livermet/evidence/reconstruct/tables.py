"""Reading the two input files of a reconstruction: the digitised curve and the risk table.

Both are small text tables: comma, tab or semicolon separated (or spaces, as Guyot's and
survHE's example files). What each file may look like is in docs/reconstruction.md#inputs:

- the curve: a header naming a time and a survival column (``time``/``t``/``x``/``months``
  and ``survival``/``surv``/``s``/``y``), other columns ignored (a row number, say); or a
  WebPlotDigitizer export with no header, two columns per dataset (x, y) side by side; or a
  WebPlotDigitizer "all datasets" export, whose first line names the datasets and whose second
  line is ``X,Y,X,Y...``; blank cells pad the shorter datasets;
- the risk table: a header naming ``time`` and the numbers at risk (``n_risk``, ``nrisk``,
  ``n.risk``, ``n``, ``at_risk``, ``n_at_risk``), optionally Guyot's ``lower`` and ``upper``
  row indexes (1-based rows of the curve file); or no header and two columns (time, number).

Errors name the file's line (the header is line 1).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "DigitisedCurve",
    "RiskTableInput",
    "parse_curve",
    "parse_risk_table",
    "read_curve",
    "read_risk_table",
    "read_text",
]

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
    """

    time: FloatArray
    survival: FloatArray
    lines: IntArray
    source: str = "curve"
    dataset: str | None = None

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
    ``lines`` are the file lines (or 1, 2, ... for arrays), for messages.
    """

    time: FloatArray
    n_risk: FloatArray
    lines: IntArray
    lower: FloatArray | None = None
    upper: FloatArray | None = None
    source: str = "risk table"


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file (a byte-order mark is dropped); a missing file is an InputError."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"no such file: {p}", "path") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{p.name}: not UTF-8 text ({exc.reason})", "path") from exc


def _rows(text: str, source: str) -> list[tuple[int, list[str]]]:
    """Split text into (line number, cells), blank lines dropped; the separator is guessed."""
    lines = text.splitlines()
    body = [ln for ln in lines if ln.strip()]
    if not body:
        raise InputError("the file is empty", source)
    first = body[0]
    sep = next((c for c in (",", "\t", ";") if c in first), None)
    out: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = line.split() if sep is None else next(csv.reader([line], delimiter=sep))
        out.append((number, [c.strip() for c in cells]))
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


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    return next((lowered.index(n) for n in names if n in lowered), None)


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


def _pick(names: list[str], dataset: str | None, source: str) -> int:
    """Index of the dataset to read among ``names``."""
    if dataset is None:
        if len(names) == 1:
            return 0
        raise InputError(
            f"the file holds {len(names)} datasets ({', '.join(names)}); choose one", "dataset"
        )
    if dataset in names:
        return names.index(dataset)
    if dataset.isdigit() and 1 <= int(dataset) <= len(names):
        return int(dataset) - 1
    raise InputError(
        f"no dataset {dataset!r} in {source} (datasets: {', '.join(names)})", "dataset"
    )


def _curve_columns(
    rows: list[tuple[int, list[str]]], dataset: str | None, source: str
) -> tuple[int, int, int, str | None]:
    """Columns of time and survival, header lines to skip, and the dataset's name."""
    names, skip = _datasets(rows)
    if skip == 1:
        header = rows[0][1]
        t_col, s_col = _find(header, TIME_NAMES), _find(header, SURVIVAL_NAMES)
        if t_col is None or s_col is None:
            if len(header) != 2:
                raise InputError(
                    "the header names no time and survival columns "
                    f"(expected one of {', '.join(TIME_NAMES)} and {', '.join(SURVIVAL_NAMES)})",
                    f"{source} line {rows[0][0]}",
                )
            t_col, s_col = 0, 1
        return t_col, s_col, 1, None
    if not names:
        raise InputError("expected two columns (time, survival) per dataset", source)
    k = _pick(names, dataset, source)
    return 2 * k, 2 * k + 1, skip, names[k] if len(names) > 1 else None


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
        An empty file, a cell that is not a number (naming its line), no time/survival columns.
    """
    rows = _rows(text, source)
    t_col, s_col, skip, name = _curve_columns(rows, dataset, source)
    times: list[float] = []
    surv: list[float] = []
    lines: list[int] = []
    for line, cells in rows[skip:]:
        pair = [cells[c] if c < len(cells) else "" for c in (t_col, s_col)]
        if not any(pair):  # padding of a shorter dataset
            continue
        times.append(_cell(cells, t_col, line, source, "time"))
        surv.append(_cell(cells, s_col, line, source, "survival"))
        lines.append(line)
    if not times:
        raise InputError("no digitised points in the file", source)
    return DigitisedCurve(
        np.array(times), np.array(surv), np.array(lines, dtype=np.int64), source, name
    )


def read_curve(path: str | Path, dataset: str | None = None) -> DigitisedCurve:
    """Read a digitised curve file (see `parse_curve`)."""
    p = Path(path)
    return parse_curve(read_text(p), p.name, dataset)


def _risk_columns(
    rows: list[tuple[int, list[str]]], source: str
) -> tuple[int, int, int | None, int | None, int]:
    """Columns of time, number at risk, lower, upper, and the number of header lines."""
    if not _is_header(rows[0][1]):
        if len(rows[0][1]) != 2:
            raise InputError(
                "without a header the risk table has two columns: time, number at risk", source
            )
        return 0, 1, None, None, 0
    header = rows[0][1]
    t_col, n_col = _find(header, TIME_NAMES), _find(header, N_RISK_NAMES)
    if t_col is None or n_col is None:
        raise InputError(
            f"the header names no time and number-at-risk columns (expected {', '.join(TIME_NAMES)}"
            f" and {', '.join(N_RISK_NAMES)})",
            f"{source} line {rows[0][0]}",
        )
    lo, up = _find(header, ("lower",)), _find(header, ("upper",))
    if (lo is None) != (up is None):
        raise InputError("give both lower and upper row indexes, or neither", source)
    return t_col, n_col, lo, up, 1


def parse_risk_table(text: str, source: str = "risk table") -> RiskTableInput:
    """Read a published risk table from CSV text (the formats of the module's docstring).

    Raises
    ------
    InputError
        An empty file, a cell that is not a number (naming its line), no time/number columns.
    """
    rows = _rows(text, source)
    t_col, n_col, lo_col, up_col, skip = _risk_columns(rows, source)
    cols = [("time", t_col), ("number at risk", n_col), ("lower", lo_col), ("upper", up_col)]
    values: dict[str, list[float]] = {name: [] for name, _ in cols}
    lines: list[int] = []
    for line, cells in rows[skip:]:
        for name, col in cols:
            if col is not None:
                values[name].append(_cell(cells, col, line, source, name))
        lines.append(line)
    if not lines:
        raise InputError("no rows in the risk table", source)
    return RiskTableInput(
        np.array(values["time"]),
        np.array(values["number at risk"]),
        np.array(lines, dtype=np.int64),
        np.array(values["lower"]) if lo_col is not None else None,
        np.array(values["upper"]) if up_col is not None else None,
        source,
    )


def read_risk_table(path: str | Path) -> RiskTableInput:
    """Read a published risk table file (see `parse_risk_table`)."""
    p = Path(path)
    return parse_risk_table(read_text(p), p.name)
