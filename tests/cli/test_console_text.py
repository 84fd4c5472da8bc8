"""What the CLI prints to stderr is the text itself: never read as markup, never wrapped."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from livermet.cli.common import err_console, friendly_errors
from livermet.errors import InputError

runner = CliRunner()


def _app(message: str, field: str | None) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @friendly_errors
    def fail() -> None:
        raise InputError(message, field)

    return app


def test_an_error_quoting_brackets_keeps_them() -> None:
    result = runner.invoke(_app("expected a unit such as [mg/dL], got [bold]", "labs.x[0]"), [])
    assert result.exit_code == 2
    assert "labs.x[0]: expected a unit such as [mg/dL], got [bold]" in result.stderr


def test_a_long_message_is_one_line() -> None:
    long = "word " * 60
    result = runner.invoke(_app(long.strip(), None), [])
    assert long.strip() in result.stderr


def test_the_error_console_soft_wraps() -> None:
    assert err_console.soft_wrap


def test_a_written_path_with_brackets_is_printed_as_is(tmp_path: Path) -> None:
    from livermet.cli.main import app

    out = tmp_path / ("deep-" + "x" * 80) / "seed[1].md"
    out.parent.mkdir()
    case = Path(__file__).resolve().parents[2] / "examples" / "seed-case.yaml"
    result = runner.invoke(app, ["assess", str(case), "--format", "md", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out}" in result.stderr
