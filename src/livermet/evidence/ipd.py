"""Reconstructed individual patient data (IPD) of published series: loading and validation.

A series of the dataset may carry the patients reconstructed from its published Kaplan-Meier
curve (Guyot, Ades, Ouwens & Welton 2012, BMC Med Res Methodol 12:9,
doi 10.1186/1471-2288-12-9; ``livermet evidence reconstruct``). The folder layout
(docs/literature-ipd.md):

- one ``<series-id>.csv`` per series, columns ``time`` (months, >= 0), ``event`` (1 death,
  0 censored) and optionally ``arm`` (text), one row per reconstructed patient;
- ``provenance.csv``: one row per series file with `PROVENANCE_COLUMNS` (which figure was
  digitised, by whom, when, with what tool, whether a risk table was used, the published total
  number of events when known).

The dataset's own folder is ``evidence/data/ipd/`` (`DATASET_FOLDER`); it holds no series yet
because no curve of the Table 1 papers has been digitised. A user's folder has the same layout.
Every series id must be one of the series being analysed: the dataset's ids by default, or the
ids passed as ``series_ids`` (e.g. the dataset plus a user's own series), because each
reconstructed series is compared with its row of the series table
(`livermet.evidence.survival.one_stage`: median, number of patients, published deaths, time
unit). Every problem in a folder is collected and one `IPDInputError` names file, row, CSV
line and column of each.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd

from livermet.errors import InputError
from livermet.evidence.csv_rows import read_rows

__all__ = [
    "DATASET_FOLDER",
    "IPD_COLUMNS",
    "MAX_MONTHS",
    "PROVENANCE_COLUMNS",
    "PROVENANCE_FILE",
    "IPDInputError",
    "IPDProblem",
    "ReconstructedSeries",
    "dataset_folder",
    "load_ipd_folder",
    "load_provenance",
    "load_reconstructed",
    "no_folder_message",
    "no_series_message",
]

IPD_COLUMNS = ("series", "time", "event")
"""Columns of `load_reconstructed`'s frame (plus ``arm`` with ``with_arm=True``)."""

FILE_COLUMNS = ("time", "event", "arm")
"""Columns a series file may have: ``time`` and ``event`` required, ``arm`` optional."""

PROVENANCE_FILE = "provenance.csv"
"""Name of the provenance table in an IPD folder."""

PROVENANCE_COLUMNS = (
    "series",
    "file",
    "figure",
    "digitised_by",
    "digitised_on",
    "tool",
    "risk_table",
    "total_events",
    "note",
)
"""Columns of ``provenance.csv``: series id, its file (``<series>.csv``), the figure digitised
(e.g. ``Fig. 2A``), who digitised it, when (ISO date), with what tool (e.g.
``WebPlotDigitizer 4.6``), whether the published risk table was used (``yes``/``no``), the
published total number of events (blank or whole number) and a free note."""

DATASET_FOLDER = ("evidence", "data", "ipd")
"""Location of the dataset's own IPD folder inside the ``livermet`` package."""

MAX_MONTHS = 600.0
"""Largest accepted time (months, i.e. 50 years).

Not a clinical constant: a unit check. The longest series of the dataset spans about 40
years of accrual and follow-up (literature.csv ``period``), so a larger value almost surely
means days or weeks were given instead of months."""

_REQUIRED_TEXT = ("series", "file", "figure", "digitised_by", "digitised_on", "tool", "risk_table")
_SERIES_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SHOWN_PROBLEMS = 30
_ADDED_HINT = (
    "{ident} is one of the added series (literature.csv source_set added, not analysed by "
    "default): add --with-added-series"
)


@dataclass(frozen=True)
class IPDProblem:
    """One problem found in an IPD folder.

    Attributes
    ----------
    file : str
        File name inside the folder (``provenance.csv`` or ``<series>.csv``).
    row : int | None
        1-based data row (first row after the header is row 1); None for the file or header.
    line : int | None
        1-based CSV line (the header is line 1); None when not about a line.
    column : str | None
        The column concerned, when there is one.
    message : str
        What is wrong and what is expected.
    """

    file: str
    row: int | None
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        """Return the problem with its place: file, row, CSV line, column."""
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.line is not None:
            where += f" (CSV line {self.line})"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


_FIRST_ROWS = 3


def _collapsed(problems: list[IPDProblem]) -> list[str]:
    """Return the problems as lines, the same problem on several rows as one line.

    Problems with the same file, column and message (a blank arm on every row) become one line
    with their count and the first `_FIRST_ROWS` rows; the others are shown as they are.
    """
    groups: dict[tuple[str, str | None, str], list[IPDProblem]] = {}
    for p in problems:
        groups.setdefault((p.file, p.column, p.message), []).append(p)
    out: list[str] = []
    for (file, column, message), same in groups.items():
        if len(same) == 1 or any(p.row is None for p in same):
            out.extend(str(p) for p in same)
            continue
        rows = ", ".join(str(p.row) for p in same[:_FIRST_ROWS])
        more = ", ..." if len(same) > _FIRST_ROWS else ""
        where = file + (f", column '{column}'" if column is not None else "")
        out.append(f"{where}: {message} ({len(same)} rows: rows {rows}{more})")
    return out


class IPDInputError(InputError):
    """An IPD folder failed validation; ``errors`` lists every problem (`IPDProblem`)."""

    def __init__(self, problems: list[IPDProblem], source: str, option: str | None = None) -> None:
        self.errors = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = _collapsed(problems)
        shown = [f"  - {line}" for line in lines[:_SHOWN_PROBLEMS]]
        if len(lines) > _SHOWN_PROBLEMS:
            shown.append(f"  - ... and {len(lines) - _SHOWN_PROBLEMS} more")
        files_concerned = {p.file for p in problems}
        field = f"ipd/{next(iter(files_concerned))}" if len(files_concerned) == 1 else "ipd"
        if option is not None:  # the command-line option that named the folder
            field = option
        super().__init__(f"{source}: {count}:\n" + "\n".join(shown), field)


@dataclass(frozen=True)
class ReconstructedSeries:
    """The validated content of an IPD folder.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per reconstructed patient: ``series`` (str), ``time`` (float, months),
        ``event`` (int 0/1), ``arm`` (string; ``<NA>`` in files without an arm column).
        Series in provenance order, patients in file order.
    provenance : pandas.DataFrame
        One row per series, `PROVENANCE_COLUMNS`; ``digitised_on`` as ISO text,
        ``risk_table`` bool, ``total_events`` nullable ``Int64``.
    source : str
        The folder, as shown in messages.
    """

    data: pd.DataFrame
    provenance: pd.DataFrame
    source: str

    @property
    def empty(self) -> bool:
        """Tell whether the folder holds no series."""
        return self.provenance.empty


def dataset_folder() -> Traversable:
    """Return the dataset's own IPD folder (``evidence/data/ipd`` of the package)."""
    return files("livermet").joinpath(*DATASET_FOLDER)


def load_reconstructed(
    directory: Path | None = None,
    *,
    series_ids: Iterable[str] | None = None,
    with_arm: bool = False,
    option: str | None = None,
) -> pd.DataFrame:
    """Return the reconstructed patients of every series in an IPD folder.

    Parameters
    ----------
    directory : Path, optional
        A folder in the layout of docs/literature-ipd.md. None: the dataset's own folder
        (``evidence/data/ipd``, no series today).
    series_ids : iterable of str, optional
        The series ids a file may belong to. Default: the ids of the shipped dataset
        (``literature.csv``).
    with_arm : bool
        Add the ``arm`` column (``<NA>`` for files without one).
    option : str, optional
        The command-line option that named ``directory`` (e.g. ``--literature-ipd``): see
        `load_ipd_folder`.

    Returns
    -------
    pandas.DataFrame
        Columns ``series`` (str: dataset id), ``time`` (float, months), ``event`` (int 0/1),
        one row per patient; empty with those columns when the folder holds no series.

    Raises
    ------
    IPDInputError
        (an `InputError`) naming file, row, CSV line and column of every problem: unknown
        series id, file without provenance row or provenance row without file, bad time or
        event, missing or unknown columns.
    """
    data = load_ipd_folder(directory, series_ids=series_ids, option=option).data
    columns = [*IPD_COLUMNS, "arm"] if with_arm else list(IPD_COLUMNS)
    return data[columns].reset_index(drop=True)


def load_provenance(
    directory: Path | None = None, *, series_ids: Iterable[str] | None = None
) -> pd.DataFrame:
    """Return the validated ``provenance.csv`` of an IPD folder (see `load_reconstructed`)."""
    return load_ipd_folder(directory, series_ids=series_ids).provenance


def load_ipd_folder(
    directory: Path | Traversable | None = None,
    *,
    series_ids: Iterable[str] | None = None,
    option: str | None = None,
) -> ReconstructedSeries:
    """Read and validate an IPD folder: patients and provenance together.

    Parameters
    ----------
    directory : Path or Traversable, optional
        The folder; None for the dataset's own folder.
    series_ids : iterable of str, optional
        Accepted series ids; default the shipped dataset's ids.
    option : str, optional
        The command-line option that named ``directory`` (``--ipd``, ``--literature-ipd``).
        Given, every error names it as its field, and a folder holding no series is refused
        (the user asked for series; `no_series_message`). None (the library default): an
        empty folder gives empty frames.

    Returns
    -------
    ReconstructedSeries
        Patients and provenance; both empty when the folder holds no series (a dataset folder
        with only its README and a header-only ``provenance.csv``).

    Raises
    ------
    IPDInputError
        Every problem of the folder (see `load_reconstructed`).
    InputError
        When ``directory`` does not exist or is not a folder (`no_folder_message`; field
        ``option``, else ``ipd``), or with ``option`` when it holds no series.
    """
    content = _load_folder(directory, series_ids, option)
    if option is not None and directory is not None and content.empty:
        raise InputError(no_series_message(directory, option), option)
    return content


def no_folder_message(directory: Path | Traversable) -> str:
    """Return the error for an IPD folder that does not exist or is not a folder.

    The same words for ``evidence survival --ipd`` and ``cohort km --literature-ipd``.
    """
    expected = (
        "expected an IPD folder: provenance.csv and one <series>.csv per series, "
        "docs/literature-ipd.md"
    )
    if isinstance(directory, Path) and directory.exists():
        return f"{directory} is not a folder ({expected})"
    return f"no such folder {directory} ({expected})"


def no_series_message(directory: Path | Traversable, option: str) -> str:
    """Return the error for an IPD folder, given explicitly, that holds no series.

    The same words for ``evidence survival --ipd`` and ``cohort km --literature-ipd``: the
    user asked for reconstructed series and the folder has none.
    """
    return (
        f"{directory} holds no reconstructed series (no series file and no provenance.csv "
        f"row; docs/literature-ipd.md); leave {option} out to use the dataset's own folder"
    )


def _load_folder(
    directory: Path | Traversable | None, series_ids: Iterable[str] | None, option: str | None
) -> ReconstructedSeries:
    """Read and validate an IPD folder (`load_ipd_folder` without the empty-folder rule)."""
    folder, source = _resolve_folder(directory, option)
    if folder is None:
        return _empty_result(source)
    known = set(_dataset_ids() if series_ids is None else series_ids)
    hints = {ident: _ADDED_HINT.format(ident=ident) for ident in _added_ids() if ident not in known}
    problems: list[IPDProblem] = []
    csv_files = {
        entry.name: entry
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.lower().endswith(".csv")
    }
    prov_entry = csv_files.pop(PROVENANCE_FILE, None)
    if prov_entry is None:
        if csv_files:
            message = "missing: every series file needs a provenance row (docs/literature-ipd.md)"
            problem = IPDProblem(PROVENANCE_FILE, None, None, None, message)
            raise IPDInputError([problem], source, option)
        return _empty_result(source)
    provenance = _parse_provenance(_read_text(prov_entry, problems), (known, hints), problems)
    frames = _parse_series_files(provenance, csv_files, problems)
    if problems:
        raise IPDInputError(problems, source, option)
    data = pd.concat(frames, ignore_index=True) if frames else _empty_data()
    return ReconstructedSeries(data=data, provenance=provenance, source=source)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _resolve_folder(
    directory: Path | Traversable | None, option: str | None
) -> tuple[Traversable | None, str]:
    """Return the folder to read and its name in messages (None: dataset folder not shipped)."""
    if directory is None:
        folder = dataset_folder()
        source = "dataset IPD folder (evidence/data/ipd)"
        return (folder if folder.is_dir() else None), source
    if not directory.is_dir():
        raise InputError(no_folder_message(directory), option or "ipd")
    return directory, str(directory)


def _parse_series_files(
    provenance: pd.DataFrame, csv_files: dict[str, Traversable], problems: list[IPDProblem]
) -> list[pd.DataFrame]:
    """Parse the file of every provenance row; record files and rows without a partner."""
    named = set(provenance["file"])
    for name in sorted(set(csv_files) - named):
        problems.append(
            IPDProblem(name, None, None, None, f"no row in {PROVENANCE_FILE} names this file")
        )
    frames = []
    for series, name in zip(provenance["series"], provenance["file"], strict=True):
        entry = csv_files.get(name)
        if not name:
            continue
        if entry is None:
            message = f"series '{series}': file '{name}' is not in the folder"
            problems.append(IPDProblem(PROVENANCE_FILE, None, None, "file", message))
            continue
        frames.append(_parse_series_file(name, series, _read_text(entry, problems), problems))
    return frames


def _dataset_ids() -> list[str]:
    """Return the series ids of the shipped dataset (``literature.csv``, added series too)."""
    from livermet.evidence.dataset import load_literature

    loader: Callable[..., pd.DataFrame] = load_literature
    try:
        table = loader(include_added=True)  # Table 1 and the series added to it
    except TypeError:  # a dataset module without added series: Table 1 is everything
        table = loader()
    return [str(v) for v in table["id"]]


def _added_ids() -> list[str]:
    """Return the ids of the dataset's added series (``source_set`` = ``added``)."""
    from livermet.evidence.dataset import load_literature

    loader: Callable[..., pd.DataFrame] = load_literature
    try:
        table = loader(include_added=True)
    except TypeError:  # a dataset module without added series
        return []
    if "source_set" not in table.columns:
        return []
    added = table["source_set"].astype("string").str.strip().str.lower().eq("added")
    return [str(v) for v in table.loc[added.fillna(False).to_numpy(dtype=bool), "id"]]


def _empty_data() -> pd.DataFrame:
    """Return an empty patient frame with the documented columns and dtypes."""
    return pd.DataFrame(
        {
            "series": pd.Series([], dtype=object),
            "time": pd.Series([], dtype="float64"),
            "event": pd.Series([], dtype="int64"),
            "arm": pd.Series([], dtype="string"),
        }
    )


def _empty_provenance() -> pd.DataFrame:
    """Return an empty provenance frame with `PROVENANCE_COLUMNS`."""
    frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in PROVENANCE_COLUMNS})
    frame["risk_table"] = frame["risk_table"].astype(bool)
    frame["total_events"] = frame["total_events"].astype("Int64")
    return frame


def _empty_result(source: str) -> ReconstructedSeries:
    """Return the content of a folder holding no series."""
    return ReconstructedSeries(data=_empty_data(), provenance=_empty_provenance(), source=source)


def _read_text(entry: Traversable, problems: list[IPDProblem]) -> str:
    """Read a UTF-8 file (BOM allowed); record a problem and return "" when it is not text."""
    try:
        return entry.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(IPDProblem(entry.name, None, None, None, f"not UTF-8 text ({exc.reason})"))
        return ""


def _check_header(
    name: str,
    header: list[str],
    required: Iterable[str],
    allowed: Iterable[str],
    problems: list[IPDProblem],
) -> bool:
    """Record missing, unknown or repeated columns; return whether the header is usable."""
    before = len(problems)
    allowed_set = set(allowed)
    for column in required:
        if column not in header:
            problems.append(IPDProblem(name, None, 1, column, "missing column"))
    for column in header:
        if column not in allowed_set:
            expected = ", ".join(allowed)
            problems.append(
                IPDProblem(name, None, 1, column or "?", f"unknown column (expected {expected})")
            )
    for column in sorted({c for c in header if header.count(c) > 1}):
        problems.append(IPDProblem(name, None, 1, column, "repeated column"))
    return len(problems) == before


def _cells(
    name: str,
    header: list[str],
    number: int,
    line: int,
    cells: list[str],
    problems: list[IPDProblem],
) -> dict[str, str]:
    """Map a row's cells to the header, recording a wrong number of fields."""
    if len(cells) != len(header):
        problems.append(
            IPDProblem(
                name, number, line, None, f"{len(cells)} fields but the header has {len(header)}"
            )
        )
        cells = (cells + [""] * len(header))[: len(header)]
    return dict(zip(header, cells, strict=True))


# --------------------------------------------------------------------------------------------
# Series files
# --------------------------------------------------------------------------------------------


def _parse_time(name: str, number: int, line: int, cell: str, problems: list[IPDProblem]) -> float:
    """Parse a time in months: finite, >= 0 and <= `MAX_MONTHS`; NaN (and a problem) if not."""
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.append(
            IPDProblem(
                name, number, line, "time", f"'{cell}' is not a number (time in months expected)"
            )
        )
        return math.nan
    if value < 0 or value > MAX_MONTHS:
        problems.append(
            IPDProblem(
                name,
                number,
                line,
                "time",
                f"{cell} outside [0, {MAX_MONTHS:g}] months (times must be in months)",
            )
        )
        return math.nan
    return value


def _parse_event(name: str, number: int, line: int, cell: str, problems: list[IPDProblem]) -> int:
    """Parse an event indicator: 1 (death) or 0 (censored); -1 (and a problem) if not."""
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if value in (0.0, 1.0):
        return int(value)
    problems.append(
        IPDProblem(name, number, line, "event", f"'{cell}' is not 0 (censored) or 1 (death)")
    )
    return -1


def _parse_series_file(
    name: str, series: str, text: str, problems: list[IPDProblem]
) -> pd.DataFrame:
    """Parse one ``<series>.csv`` into patient rows (problems recorded, not raised)."""
    header, rows = read_rows(text, strip=True)
    if not header:
        problems.append(
            IPDProblem(name, None, None, None, "empty file (header time,event expected)")
        )
        return _empty_data()
    if not _check_header(name, header, ("time", "event"), FILE_COLUMNS, problems):
        return _empty_data()
    if not rows:
        problems.append(IPDProblem(name, None, None, None, "no patient rows"))
    times: list[float] = []
    events: list[int] = []
    arms: list[str | None] = []
    for number, (line, cells) in enumerate(rows, start=1):
        values = _cells(name, header, number, line, cells, problems)
        times.append(_parse_time(name, number, line, values["time"], problems))
        events.append(_parse_event(name, number, line, values["event"], problems))
        if "arm" in values:
            if not values["arm"]:
                problems.append(IPDProblem(name, number, line, "arm", "blank arm"))
            arms.append(values["arm"])
        else:
            arms.append(None)
    return pd.DataFrame(
        {
            "series": pd.Series([series] * len(rows), dtype=object),
            "time": pd.Series(times, dtype="float64"),
            "event": pd.Series(events, dtype="int64"),
            "arm": pd.Series(arms, dtype="string"),
        }
    )


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------


_Ids = tuple[set[str], dict[str, str]]
"""The accepted series ids and, by id, the hint for an id that is not accepted."""


def _check_series_id(
    values: dict[str, str], ids: _Ids, seen: set[str], add: Callable[[str, str], None]
) -> None:
    """Record an unknown, malformed or repeated series id and a file name not matching it."""
    series = values["series"]
    if not series:
        return
    known, hints = ids
    if not _SERIES_ID.match(series):
        add("series", f"'{series}' is not a series id (letters, digits, '_', '.', '-')")
    elif series in hints and series not in known:
        add("series", hints[series])
    elif series not in known:
        listed = ", ".join(sorted(known)) or "none"
        add("series", f"unknown series id '{series}' (not one of the series analysed: {listed})")
    if series in seen:
        add("series", f"series '{series}' appears twice")
    seen.add(series)
    if values["file"] and values["file"] != f"{series}.csv":
        add("file", f"'{values['file']}' should be '{series}.csv'")


def _check_provenance_row(
    values: dict[str, str],
    number: int,
    line: int,
    ids: _Ids,
    seen: set[str],
    problems: list[IPDProblem],
) -> None:
    """Record every problem of one provenance row."""

    def add(column: str, message: str) -> None:
        problems.append(IPDProblem(PROVENANCE_FILE, number, line, column, message))

    for column in _REQUIRED_TEXT:
        if not values[column]:
            add(column, "blank (required)")
    _check_series_id(values, ids, seen, add)
    if values["digitised_on"]:
        try:
            date.fromisoformat(values["digitised_on"])
        except ValueError:
            add("digitised_on", f"'{values['digitised_on']}' is not an ISO date (YYYY-MM-DD)")
    if values["risk_table"] and values["risk_table"].lower() not in ("yes", "no"):
        add("risk_table", f"'{values['risk_table']}' is not yes or no")
    total = values["total_events"]
    if total and not (total.isdigit()):
        add("total_events", f"'{total}' is not blank or a whole number >= 0")


def _parse_provenance(text: str, ids: _Ids, problems: list[IPDProblem]) -> pd.DataFrame:
    """Parse ``provenance.csv`` (problems recorded, not raised)."""
    header, rows = read_rows(text, strip=True)
    if not header:
        problems.append(
            IPDProblem(
                PROVENANCE_FILE,
                None,
                None,
                None,
                f"empty file (header {','.join(PROVENANCE_COLUMNS)} expected)",
            )
        )
        return _empty_provenance()
    if not _check_header(PROVENANCE_FILE, header, PROVENANCE_COLUMNS, PROVENANCE_COLUMNS, problems):
        return _empty_provenance()
    records: list[dict[str, str]] = []
    seen: set[str] = set()
    for number, (line, cells) in enumerate(rows, start=1):
        values = _cells(PROVENANCE_FILE, header, number, line, cells, problems)
        _check_provenance_row(values, number, line, ids, seen, problems)
        records.append(values)
    if not records:
        return _empty_provenance()
    frame = pd.DataFrame(records, columns=list(PROVENANCE_COLUMNS))
    frame["risk_table"] = frame["risk_table"].str.lower().eq("yes")
    frame["total_events"] = pd.array(
        [int(v) if v.isdigit() else None for v in frame["total_events"]], dtype="Int64"
    )
    return frame
