"""``livermet evidence reconstruct``: patients from a digitised Kaplan-Meier curve (Guyot 2012).

A thin shell over `livermet.evidence.reconstruct`: read the two files, clean, reconstruct,
write the patients (CSV ``time,event[,arm]``), print the diagnostics, draw the check plot.
docs/reconstruction.md describes the inputs and how to read the diagnostics.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from livermet.cli.common import err_console, friendly_errors

if TYPE_CHECKING:
    from livermet.evidence.reconstruct import Reconstruction

__all__ = ["register"]


class TextOrJson(StrEnum):
    """Output format of ``--format``: text for people, JSON for programs."""

    text = "text"
    json = "json"


def _check_output(path: Path, option: str, inputs: list[Path]) -> None:
    """Refuse an output path whose folder does not exist or that is one of the inputs."""
    from livermet.errors import InputError

    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name in it", option)
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"the folder {folder} does not exist; create it first", option)
    target = path.resolve()
    for given in inputs:
        if given.resolve() == target:
            raise InputError(f"{path} is an input file; writing there would overwrite it", option)


def _check_options(
    *, percent: bool, proportion: bool, arm: str | None, total_events: int | None
) -> None:
    """Refuse contradictory or empty options before any work."""
    from livermet.errors import InputError

    if percent and proportion:
        raise InputError("give one of --percent and --proportion, not both", "--percent")
    if arm is not None and not arm.strip():
        raise InputError("the arm's label is empty; give a name or leave --arm out", "--arm")
    if total_events is not None and total_events < 0:
        raise InputError(f"must be 0 or more, got {total_events}", "--total-events")


def _check_paths(output: Path | None, plot: Path | None, inputs: list[Path]) -> None:
    """Check the output names before any work: suffix, folder, not an input."""
    from livermet.errors import InputError

    if output is not None:
        if output.suffix.lower() != ".csv":
            raise InputError(
                f"the patients are written as CSV: use a .csv name, not {output}", "--output"
            )
        _check_output(output, "--output", inputs)
    if plot is not None:
        if plot.suffix.lower() not in {".png", ".svg", ".pdf"}:
            raise InputError(
                f"unsupported image format {plot.suffix!r}; use .png, .svg or .pdf", "--plot"
            )
        _check_output(plot, "--plot", inputs)


MIDWAY_DIFFERENCE = 2
"""Largest difference between the reconstructed and the published number at risk explained as
censorings placed midway between two digitised points (docs/reconstruction.md#diagnostics);
one or two patients on either side of a risk-table time. An engineering default."""


def _difference_note(difference: int) -> str:
    """Return the note of a risk-table row whose reconstructed number differs from the paper."""
    if abs(difference) <= MIDWAY_DIFFERENCE:
        return "censored midway past this time"
    return f"[yellow]differs by {difference:+d}[/]: check the risk table and the digitisation"


def _print_text(result: Reconstruction, data: dict[str, Any]) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    c = Console()
    arm = f" ({escape(str(data['arm']))})" if data["arm"] else ""
    c.print(
        f"[bold]Reconstructed{arm}[/]: {data['patients']} patients, {data['events']} events, "
        f"{data['censored']} censored (Guyot 2012)"
    )
    fit = data["fit"]
    c.print(
        f"distance of the {fit['n_points']} digitised points to the reconstructed curve: "
        f"RMSE {fit['rmse']:.4f}, max {fit['max_abs_error']:.4f} (at {fit['worst_time']:g} months)"
    )
    table = Table(title="Numbers at risk", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("time (months)", "published", "algorithm", "reconstructed", "note"):
        table.add_column(col, justify="left" if col == "note" else "right")
    for row in data["risk_table"]:
        flag = "[yellow]lowered[/]" if row["lowered"] else ""
        if not flag and row["difference"]:
            flag = _difference_note(int(row["difference"]))
        table.add_row(
            f"{row['time']:g}",
            str(row["published"]),
            str(row["algorithm"]),
            str(row["reconstructed"]),
            flag,
        )
    c.print(table)
    for note in result.notes:
        c.print(f"[yellow]note[/]: {escape(note)}")
    for warning in result.warnings:
        c.print(f"[bold red]warning[/]: {escape(warning)}")
    if data["output"] is None:
        c.print("hint: -o FILE.csv writes the patients (time in months, event)")


def reconstruct_command(
    curve: Annotated[
        Path,
        typer.Argument(
            metavar="CURVE",
            help="Digitised curve: CSV (time, survival) or WebPlotDigitizer; time in months unless"
            " the header names years, weeks or days (converted to months).",
        ),
    ],
    risk_table: Annotated[
        Path,
        typer.Option(
            "--risk-table",
            help="Published risk table: CSV (time, n_risk[, lower, upper]); time in months unless "
            "the header names the unit ('time (years)'); lower/upper: Guyot's 1-based rows of "
            "the curve file for each interval (optional).",
        ),
    ],
    total_events: Annotated[
        int | None, typer.Option("--total-events", help="Total events, if the paper says.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the patients here (CSV: time in months,event[,arm])."
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Check plot: .png, .svg or .pdf."),
    ] = None,
    percent: Annotated[
        bool,
        typer.Option(
            "--percent",
            help="Survival is in percent (default: percent when its maximum is above 1.5).",
        ),
    ] = False,
    proportion: Annotated[
        bool,
        typer.Option("--proportion", help="Survival is a proportion (0 to 1)."),
    ] = False,
    arm: Annotated[
        str | None, typer.Option("--arm", help="Label written in an 'arm' column.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="WebPlotDigitizer dataset (name or number) to read."),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Refuse a curve that goes up instead of removing points."),
    ] = False,
    fmt: Annotated[TextOrJson, typer.Option("--format")] = TextOrJson.text,
) -> None:
    """Reconstruct patients from a digitised Kaplan-Meier curve and its risk table (Guyot 2012).

    Writes one row per patient (time in months, event 1 or censored 0) and reports
    how well the reconstruction fits: distance of the digitised points to the reconstructed
    curve, and published against reconstructed numbers at risk.
    """
    from livermet.evidence.reconstruct import (
        Scale,
        clean_curve,
        read_curve,
        read_risk_table,
        reconstruct,
    )

    _check_options(percent=percent, proportion=proportion, arm=arm, total_events=total_events)
    _check_paths(output, plot, [curve, risk_table])
    scale: Scale = "percent" if percent else ("proportion" if proportion else "auto")
    cleaned = clean_curve(
        read_curve(curve, dataset=dataset, field="CURVE"), scale=scale, drop_increasing=not strict
    )
    table = read_risk_table(risk_table, field="--risk-table")
    if total_events == 0 and float(cleaned.survival.min()) < 1:
        from livermet.errors import InputError

        raise InputError(
            f"0 events, but the curve drops to {float(cleaned.survival.min()):g}: a "
            "Kaplan-Meier curve only drops at events",
            "--total-events",
        )
    result = reconstruct(cleaned, table, total_events=total_events, arm=arm)
    data = result.to_dict()
    if output is not None:
        result.ipd.to_csv(output, index=False, float_format="%.10g")
        err_console.print(f"wrote {output} ({data['patients']} patients)", markup=False)
    if plot is not None:
        from livermet.report.figures import save_figure
        from livermet.report.reconstruct_plots import reconstruction_plot

        err_console.print(f"wrote {save_figure(reconstruction_plot(result), plot)}", markup=False)
    data["output"] = None if output is None else str(output)
    data["plot"] = None if plot is None else str(plot)
    if fmt is TextOrJson.json:
        from livermet.analysis.summary import json_safe

        typer.echo(json.dumps(json_safe(data), indent=2))
        return
    _print_text(result, data)


def register(app: typer.Typer) -> None:
    """Add ``reconstruct`` to the ``livermet evidence`` group."""
    app.command("reconstruct")(friendly_errors(reconstruct_command))
