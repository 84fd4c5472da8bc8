"""The ``livermet`` command: a thin shell that parses, calls the engine and renders."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from livermet import __version__
from livermet.case.assess import assess
from livermet.case.load import load_case
from livermet.case.model import case_json_schema
from livermet.cli import cohort, evidence, registry
from livermet.cli.common import err_console, friendly_errors
from livermet.errors import InputError
from livermet.report.html import render_html
from livermet.report.markdown import render_markdown
from livermet.report.pdf import render_pdf
from livermet.report.text import print_text

app = typer.Typer(
    help="livermet: decision support and evidence for liver metastases of soft-tissue sarcoma.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(evidence.app, name="evidence")
app.add_typer(cohort.app, name="cohort")
app.add_typer(registry.app, name="registry")
app.add_typer(registry.user_app, name="user")
app.add_typer(registry.site_app, name="site")


class Format(StrEnum):
    text = "text"
    json = "json"
    md = "md"
    html = "html"
    pdf = "pdf"


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


@app.command("assess")
@friendly_errors
def assess_command(
    case_file: Annotated[Path, typer.Argument(metavar="CASE", help="Case file (YAML or JSON).")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Assess a case: grading, staging, liver reserve, resection, outcomes, options, findings."""
    if fmt is Format.pdf and output is None:
        raise InputError("a PDF report needs a file: give --output REPORT.pdf", "--output")
    data = assess(load_case(case_file)).to_dict()
    if fmt is Format.pdf:
        assert output is not None
        output.write_bytes(render_pdf(data))
        err_console.print(f"wrote {output}")
        return
    if fmt is Format.text and output is None:
        print_text(data, Console())
        return
    if fmt is Format.json:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif fmt is Format.md:
        text = render_markdown(data)
    elif fmt is Format.html:
        text = render_html(data)
    else:
        console = Console(record=True, width=110, file=open("/dev/null", "w"))  # noqa: SIM115
        print_text(data, console)
        text = console.export_text()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output}")


@app.command("validate")
@friendly_errors
def validate_command(
    case_file: Annotated[Path, typer.Argument(metavar="CASE", help="Case file (YAML or JSON).")],
) -> None:
    """Check a case file against the schema, units and timeline; print 'valid' or the error."""
    case = load_case(case_file)
    typer.echo(f"{case_file}: valid (case {case.id})")


@app.command("serve")
@friendly_errors
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL or SQLite path (default: LIVERMET_DATABASE_URL)."),
    ] = None,
    seed_case: Annotated[
        Path | None, typer.Option(help="Case file to load into an empty registry.")
    ] = None,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            help="Take the client address and scheme from X-Forwarded-* headers sent by a "
            "trusted reverse proxy (--forwarded-allow-ips)."
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated addresses or networks of the trusted proxies "
            "(default with --proxy-headers: 127.0.0.1; '*' is refused)."
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (one per CPU core for a team server).")
    ] = 1,
) -> None:
    """Start the web application (tumour board, registry, evidence, cohort, administration)."""
    from livermet.cli.serve import serve

    serve(
        host,
        port,
        db,
        seed_case=seed_case,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        workers=workers,
    )


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the case file."""
    typer.echo(json.dumps(case_json_schema(), indent=2, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    app()
