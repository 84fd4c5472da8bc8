"""What every ``livermet`` command shares: the error console and the mapping of errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from livermet.errors import LivermetError

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
