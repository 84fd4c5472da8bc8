"""The ``livermet`` command: a thin shell that parses, calls the engine and renders.

Start-up time matters on the command line (``livermet --version`` should feel instant): this
module imports only typer and the standard library at the top. Each command imports what it
uses, and the command groups (``evidence``, ``cohort``, ``federated``, ``registry``, ``user``,
``site``) are imported only when one of them runs (:class:`LazyGroup`), so that ``assess`` never
loads the registry's database layer, pandas' plotting or the survival-analysis libraries.
``benchmarks/cli_startup.py`` measures it.
"""

from __future__ import annotations

import importlib
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from typer import _click as click  # typer ships its own copy of click: its types are these
from typer.core import TyperGroup

from livermet import __version__
from livermet.cli.common import err_console, friendly_errors
from livermet.cli.help_text import reflow_commands

LAZY_GROUPS: dict[str, tuple[str, str, str]] = {
    "evidence": (
        "livermet.cli.evidence",
        "app",
        "Pool published surgical series (the case report's Table 1, the added series, your "
        "own), and rebuild patients from published Kaplan-Meier curves.",
    ),
    "cohort": (
        "livermet.cli.cohort",
        "app",
        "Survival analysis of a cohort CSV: Kaplan-Meier, Cox, cumulative incidence.",
    ),
    "federated": (
        "livermet.cli.federated",
        "app",
        "Federated analysis by file exchange: request, partial (at each site), combine.",
    ),
    "registry": (
        "livermet.cli.registry",
        "app",
        "The multi-site registry: add, import, export, list, show, edit, audit.",
    ),
    "user": ("livermet.cli.registry", "user_app", "Users, roles and API tokens."),
    "site": ("livermet.cli.registry", "site_app", "Sites (hospitals)."),
}
"""Command groups loaded on first use: name -> (module, Typer attribute, one-line help)."""


class LazyGroup(TyperGroup):
    """The top-level group: the command groups of :data:`LAZY_GROUPS` are imported when run.

    The help listing shows their one-line help without importing them.
    """

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the commands defined here, then the lazy groups, without importing them."""
        loaded = super().list_commands(ctx)
        return [*loaded, *(name for name in LAZY_GROUPS if name not in loaded)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return command ``cmd_name``, importing a lazy group's module unless listing help."""
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            reflow_commands(command)
        if command is not None or cmd_name not in LAZY_GROUPS:
            return command
        module_name, attribute, short_help = LAZY_GROUPS[cmd_name]
        if self._listing:  # the help page: name and summary, nothing imported
            return TyperGroup(name=cmd_name, help=short_help)
        sub_app = getattr(importlib.import_module(module_name), attribute)
        group = typer.main.get_group(sub_app)
        group.name = cmd_name
        reflow_commands(group)
        self.commands[cmd_name] = group
        return group

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the help page; the lazy groups show their one-line help, nothing is imported."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    cls=LazyGroup,
    help="livermet: decision support and evidence for liver metastases of soft-tissue sarcoma.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class Format(StrEnum):
    """Output format of ``assess --format``."""

    text = "text"
    json = "json"
    md = "md"
    html = "html"
    pdf = "pdf"


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Print the version and exit when ``--version`` is given; else run the command named."""
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
    from livermet.case.assess import assess
    from livermet.case.load import load_case
    from livermet.errors import InputError

    if fmt is Format.pdf and output is None:
        raise InputError("a PDF report needs a file: give --output REPORT.pdf", "--output")
    data = assess(load_case(case_file)).to_dict()
    if fmt is Format.pdf:
        from livermet.report.pdf import render_pdf

        assert output is not None
        output.write_bytes(render_pdf(data))
        err_console.print(f"wrote {output}", markup=False)
        return
    if fmt is Format.text and output is None:
        from rich.console import Console

        from livermet.report.text import print_text

        print_text(data, Console())
        return
    if fmt is Format.json:
        import json

        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif fmt is Format.md:
        from livermet.report.markdown import render_markdown

        text = render_markdown(data)
    elif fmt is Format.html:
        from livermet.report.html import render_html

        text = render_html(data)
    else:
        from rich.console import Console

        from livermet.report.text import print_text

        console = Console(record=True, width=110, file=open("/dev/null", "w"))  # noqa: SIM115
        print_text(data, console)
        text = console.export_text()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output}", markup=False)


@app.command("validate")
@friendly_errors
def validate_command(
    case_file: Annotated[Path, typer.Argument(metavar="CASE", help="Case file (YAML or JSON).")],
) -> None:
    """Check a case file against the schema, units and timeline; print 'valid' or the error."""
    from livermet.case.load import load_case

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
    sign_in_hint: Annotated[
        str | None,
        typer.Option(
            help="How to sign in, printed with the address (make run: the demo user and password)."
        ),
    ] = None,
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
        sign_in_hint=sign_in_hint,
    )


@app.command("schema")
def schema_command(
    assessment: Annotated[
        bool,
        typer.Option(
            "--assessment",
            help="Print the schema of the assessment (assess --format json) instead.",
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of the case file (or, with --assessment, of the assessment)."""
    import json

    from livermet.case.assessment_model import assessment_json_schema
    from livermet.case.model import case_json_schema

    schema = assessment_json_schema() if assessment else case_json_schema()
    typer.echo(json.dumps(schema, indent=2, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    app()
