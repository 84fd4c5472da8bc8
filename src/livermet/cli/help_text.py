"""Help pages that read well at any terminal width.

Typer's Rich help keeps every newline of a command's docstring, so a docstring wrapped at 100
columns comes out as ragged half-lines in an 80-column terminal. :func:`reflow` joins the lines
of each paragraph (bullets and indented lines stay on lines of their own) and
:func:`reflow_commands` applies it to a click command and everything under it.
"""

from __future__ import annotations

import re

from typer import _click as click

_OWN_LINE = re.compile(r"^(\s+|[-*•] |\d+[.)] |[A-Za-z-]+:\s*$)")
"""Lines that start a line of their own: indented, bullets, numbered items, "Examples:" heads."""


_BULLET = re.compile(r"^(\s*)([-*•] |\d+[.)] )")


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` continues ``previous`` (and is joined onto it)."""
    if previous.endswith(":"):
        return False
    bullet = _BULLET.match(previous)
    if bullet and not _BULLET.match(line):  # a bullet's text goes on under its first word
        indent = len(line) - len(line.lstrip())
        return indent == len(bullet.group(0)) or not _OWN_LINE.match(line)
    return not _OWN_LINE.match(line)


def _join(lines: list[str]) -> list[str]:
    """Return a paragraph's lines with continuation lines joined onto the line they continue."""
    joined: list[str] = []
    for line in lines:
        if joined and _continues(joined[-1], line):
            joined[-1] = f"{joined[-1]} {line.strip()}"
        else:
            joined.append(line.rstrip())
    return joined


def reflow(text: str) -> str:
    """Return ``text`` with the hard line breaks inside each paragraph removed.

    Paragraphs (separated by blank lines) are kept; a bullet (``- ``, ``* ``, ``1. ``), an
    indented line or a line after one ending in ``:`` starts a new line
    (tests/cli/test_help_text.py shows examples).
    """
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join("\n".join(_join(p.splitlines())) for p in paragraphs)


def reflow_commands(command: click.Command) -> None:
    """Reflow the help of ``command`` and, for a group, of all its commands (in place)."""
    if command.help:
        command.help = reflow(command.help)
    for sub in getattr(command, "commands", {}).values():  # a group's commands
        reflow_commands(sub)
