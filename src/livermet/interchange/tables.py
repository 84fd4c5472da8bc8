"""CSV text in and out: numbered rows (the header is row 1) and rows that do not fit the header."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping

from livermet.interchange.errors import RowError, RowsError

MAX_COLUMNS = 1000
"""Most columns a CSV import reads (the case CSV has 57, a REDCap export 163)."""


def write_csv(header: Iterable[str], rows: Iterable[Mapping[str, str]]) -> str:
    """Return a CSV text: the header row, then one row per mapping (Unix line ends)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def read_csv(
    text: str, what: str
) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[RowError]]:
    """Header, numbered rows (header = row 1; blank lines skipped) and the rows that do not fit."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    errors: list[RowError] = []
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise RowsError(
            what, [RowError(1, "(header)", f"no header row ({str(exc) or 'empty file'})")]
        ) from None
    if len(header) > MAX_COLUMNS:  # refuse before any work per column (or per cell)
        raise RowsError(
            what,
            [RowError(1, "(header)", f"has {len(header):,} columns; the limit is {MAX_COLUMNS:,}")],
        )
    duplicates = {c for c, n in Counter(header).items() if n > 1}
    for column in sorted(duplicates):
        errors.append(RowError(1, column, "the column appears twice"))
    rows: list[tuple[int, dict[str, str]]] = []
    number = 1
    while True:
        number += 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(number, "(row)", f"cannot be read as CSV: {exc}"))
            continue
        if not values:  # a blank line
            continue
        if len(values) != len(header):
            errors.append(
                RowError(number, "(row)", f"has {len(values)} cells, the header has {len(header)}")
            )
            continue
        rows.append((number, dict(zip(header, values, strict=True))))
    return header, rows, errors
