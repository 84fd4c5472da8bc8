"""Errors of file imports: every broken row is collected, then one error is raised for the file."""

from __future__ import annotations

from dataclasses import dataclass

from livermet.errors import InputError


@dataclass(frozen=True, order=True)
class RowError:
    """One problem of one row: its row number (the header is row 1), the field and the reason."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        """Return ``row N, field: reason``."""
        return f"row {self.row}, {self.field}: {self.reason}"


class RowsError(InputError):
    """A file with broken rows; nothing of it is returned. ``errors`` lists every problem found.

    It is an :class:`~livermet.errors.InputError` (exit status 2), so callers that handle bad
    input in general need nothing new.
    """

    def __init__(self, what: str, errors: list[RowError]) -> None:
        self.errors = sorted(errors)
        rows = sorted({e.row for e in self.errors})
        shown = "; ".join(str(e) for e in self.errors[:20])
        more = f"; ... and {len(self.errors) - 20} more" if len(self.errors) > 20 else ""
        super().__init__(
            f"{len(rows)} row(s) could not be read, nothing was imported: {shown}{more}", what
        )
