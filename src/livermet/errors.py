"""One error type per kind of failure, each carrying the field path it concerns.

The CLI maps them to exit codes and clear messages; nothing here prints.
"""

from __future__ import annotations


class LivermetError(Exception):
    """Base class of every error livermet raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class InputError(LivermetError, ValueError):
    """Bad input: a value, unit or structure that cannot be accepted (exit status 2)."""

    exit_code = 2


class ConflictError(LivermetError):
    """A write based on a stale version, or a duplicate (exit status 3)."""

    exit_code = 3


class NotFoundError(LivermetError):
    """A case, file or record that does not exist (exit status 4)."""

    exit_code = 4


class ForbiddenError(LivermetError):
    """An action the caller's role or site does not allow (exit status 5)."""

    exit_code = 5
