"""What every ``livermet`` command shares: the error console and the mapping of errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from livermet.errors import InputError, LivermetError

# soft_wrap: a long path or message is never broken across lines (scripts grep for it).
err_console = Console(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn livermet's errors into a one-line message and an exit status; never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LivermetError as exc:
            # The message may quote what the user typed ("[mg/dL]"): never read it as markup.
            where = f"[bold]{escape(exc.field)}[/]: " if exc.field else ""
            err_console.print(f"[red]error[/]: {where}{escape(exc.message)}", highlight=False)
            for path, message in getattr(exc, "all_errors", [])[1:]:
                err_console.print(f"       {path}: {message}", highlight=False, markup=False)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            err_console.print(f"[red]error[/]: {exc}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def parse_references(items: list[str] | None) -> dict[str, str]:
    """Return ``--reference COLUMN=LEVEL`` options as a mapping, column -> reference level.

    Raises
    ------
    InputError
        An item that is not one COLUMN=LEVEL (no ``=``, an empty side, or a second ``=``), or a
        column given twice (field ``reference``).
    """
    refs: dict[str, str] = {}
    for item in items or []:
        col, sep, level = item.partition("=")
        if not sep or not col.strip() or not level.strip() or "=" in level:
            raise InputError(f"{item!r}: write COLUMN=LEVEL, e.g. approach=open", "reference")
        name = col.strip()
        if name in refs:
            raise InputError(
                f"{name} is given twice ({name}={refs[name]} and {item}): give one reference "
                "level per column",
                "reference",
            )
        refs[name] = level.strip()
    return refs
