"""Help pages: docstring paragraphs are reflowed, not broken where the source wrapped them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from livermet.cli.help_text import reflow
from livermet.cli.main import LAZY_GROUPS, app


def test_reflow_joins_paragraph_lines_and_keeps_structure() -> None:
    text = (
        "Pool one outcome.\n\nReports the estimate\nand its interval.\n\n"
        "- a bullet\n  that goes on\n- another\n\nExamples:\n    livermet evidence pool\n"
    )
    assert reflow(text) == (
        "Pool one outcome.\n\nReports the estimate and its interval.\n\n"
        "- a bullet that goes on\n- another\n\nExamples:\n    livermet evidence pool"
    )


def test_reflow_keeps_numbered_items_and_indented_lines() -> None:
    assert reflow("Steps:\n1. read\n2. write\n   more") == "Steps:\n1. read\n2. write more"
    assert reflow("Run:\n\n    a b\n    c d") == "Run:\n\n    a b\n    c d"


def _commands() -> list[tuple[tuple[str, ...], str]]:
    """Return each command's path and its docstring."""
    import importlib
    import inspect

    import typer

    from livermet.cli.main import assess_command

    found: list[tuple[tuple[str, ...], str]] = [(("assess",), inspect.getdoc(assess_command) or "")]
    for name, (module, attribute, _) in LAZY_GROUPS.items():
        group = typer.main.get_group(getattr(importlib.import_module(module), attribute))
        for sub, command in group.commands.items():
            found.append(((name, sub), inspect.getdoc(command.callback) or ""))
    return found


def _plain_paragraphs(doc: str) -> list[str]:
    """Return the docstring's paragraphs of prose (no bullets, no indented lines), reflowed."""
    paragraphs = reflow(doc).split("\n\n")
    return [p for p in paragraphs if "\n" not in p and len(p) < 300 and "[" not in p]


@pytest.mark.parametrize(
    ("path", "doc"), _commands(), ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_every_help_page_shows_each_paragraph_on_one_line(path: tuple[str, ...], doc: str) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    lines = {line.strip() for line in result.output.splitlines()}
    for paragraph in _plain_paragraphs(doc):
        assert paragraph in lines, f"{' '.join(path)}: {paragraph!r} broken across lines"
