"""CSV text split into a header and numbered rows, for validators that name the line of an error."""

from __future__ import annotations

import csv
import io


def read_rows(text: str, *, strip: bool = False) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Split CSV text into the lower-cased header and (start line, cells) of each data row.

    Blank rows are skipped; the start line counts the lines of quoted cells that span several
    lines, so that an error can name the line a person sees in an editor. With ``strip`` the
    cells lose their surrounding spaces.
    """
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    previous_end = 0
    for cells in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
        else:
            rows.append((start, [c.strip() for c in cells] if strip else cells))
    return header or [], rows
