"""``livermet cohort``: survival analysis of a cohort CSV (one row per patient), no registry.

Columns are named on the command line. Coding:

- time columns: numbers >= 0 (months by convention);
- event columns (``km``, ``cox``): 0 = censored, 1 = event (true/false accepted);
- ``cuminc``: either one column of first-event labels (``--event first_event``: each value is
  an event type, e.g. ``recurrence`` / ``death``, or a censoring code given by ``--censored``,
  default ``censored``, ``none`` or ``0``), or two 0/1 columns (``--event recurrence
  --competing death_first``; never both 1 in one row).

Rows are numbered from 1 = the first line after the header; a missing value is an error unless
``--drop-missing`` leaves those rows out. The registry's cohort is analysed as
``livermet.analysis.cohort`` says: cases lacking what the analysis needs (a pre-operative case
has no follow-up yet) are left out, and how many and why is printed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from livermet.cli.common import err_console, friendly_errors, parse_references
from livermet.cli.session import DbOption, TokenOption, UserOption
from livermet.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from livermet.analysis.literature import LiteratureAnalysis
    from livermet.analysis.summary import CoxAnalysis, CumincAnalysis, KMAnalysis

# Start-up: ``livermet cohort ... --help`` imports only typer and rich (see cli/main.py). Each
# command imports what it uses when it runs: pandas and the analysis on a run, the registry's
# database layer only when the registry is read (no --data), matplotlib only when --output
# asks for a plot.

app = typer.Typer(
    help="Survival analysis of a cohort CSV: Kaplan-Meier, Cox, cumulative incidence."
)


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


class KMConf(StrEnum):
    log_log = "log-log"
    log = "log"
    plain = "plain"


DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Cohort CSV, one row per patient, with a header line "
        "(default: the registry's cohort, as the acting user may see it).",
    ),
]
TimeOption = Annotated[str, typer.Option("--time", help="Column of follow-up times (>= 0).")]
EventOption = Annotated[str, typer.Option("--event", help="Column of events: 1 event, 0 censored.")]
SyntheticOption = Annotated[
    bool, typer.Option("--synthetic", help="Registry: include synthetic cases.")
]
TimesOption = Annotated[
    str, typer.Option("--times", help="Comma-separated report times, e.g. 12,36,60.")
]
FormatOption = Annotated[TextOrJson, typer.Option("--format", help="text or json.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Also draw the plot: .png, .svg or .pdf.")
]
DropOption = Annotated[
    bool, typer.Option("--drop-missing", help="Leave out rows with a missing value.")
]
LevelOption = Annotated[
    str, typer.Option("--conf-level", help="Confidence level, between 0 and 1 (e.g. 0.95).")
]

KM_OPTIONS = {
    "data": "--data",
    "times": "--times",
    "horizon": "--rmst-horizon",
    "conf_level": "--conf-level",
    "conf_type": "--conf-type",
    "by": "--by",
    "levels": "--levels",
    "output": "--output",
    "literature": "--literature-ipd",
    "literature_ipd": "--literature-ipd",
    "endpoint": "--time/--event",
}
"""The options of ``cohort km`` by the field names the analysis gives its errors (an error names
the option as the user typed it; a column's error keeps the column's name)."""

COX_OPTIONS = {
    "data": "--data",
    "covariates": "--covariates",
    "ties": "--ties",
    "conf_level": "--conf-level",
    "output": "--output",
}
"""The options of ``cohort cox`` by the field names of their errors (as `KM_OPTIONS`)."""

CUMINC_OPTIONS = {
    "data": "--data",
    "times": "--times",
    "conf_level": "--conf-level",
    "conf_type": "--conf-type",
    "output": "--output",
}
"""The options of ``cohort cuminc`` by the field names of their errors (as `KM_OPTIONS`)."""

F = TypeVar("F", bound=Callable[..., Any])


def named_options(options: Mapping[str, str]) -> Callable[[F], F]:
    """Return a decorator that renames an `InputError`'s field to the option it came from.

    Only a plain `InputError` whose field is a key of ``options`` is renamed (its message
    kept); any other error passes unchanged to `livermet.cli.common.friendly_errors`.
    """

    def decorate(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except InputError as exc:
                if type(exc) is InputError and exc.field is not None and exc.field in options:
                    raise InputError(exc.message, options[exc.field]) from None
                raise

        return wrapper  # type: ignore[return-value]

    return decorate


def read_cohort_csv(path: Path) -> pd.DataFrame:
    """Read a cohort CSV; an unreadable file is an InputError naming it."""
    import pandas as pd

    if not path.exists():
        raise InputError(f"file not found: {path}", "--data")
    try:
        return pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path} as CSV: {exc}", "--data") from None


def cohort_data(
    data: Path | None, db: str | None, user: str | None, token: str | None, synthetic: bool
) -> pd.DataFrame:
    """Return the cohort from a CSV file, or from the registry as the acting user may see it."""
    if data is not None:
        return read_cohort_csv(data)
    from livermet.analysis.cohort import with_endpoints
    from livermet.cli.session import acting_registry

    registry = acting_registry(db, user, token)
    return with_endpoints(registry.cohort_frame(include_synthetic=synthetic))


def parse_times(text: str) -> list[float]:
    """'12,36,60' → [12.0, 36.0, 60.0]."""
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"{text!r} is not a comma-separated list of numbers", "--times") from None
    if not values or any(not math.isfinite(v) or v < 0 for v in values):
        raise InputError(f"{text!r}: give one or more times >= 0", "--times")
    return values


def parse_number(text: str, option: str, expected: str) -> float:
    """Return the finite number an option's text holds; else an InputError naming the option.

    ``expected`` says what to give (e.g. "a number of months > 0, e.g. 60"); the range itself
    is checked by the analysis, whose error the command renames to the option.
    """
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{text!r} is not a number; give {expected}", option) from None
    if not math.isfinite(value):
        raise InputError(f"{text!r} is not a finite number; give {expected}", option)
    return value


def _conf_level(text: str) -> float:
    return parse_number(text, "--conf-level", "a confidence level between 0 and 1, e.g. 0.95")


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [x.strip() for x in text.split(",") if x.strip()]


def _check_output(output: Path | None) -> None:
    if output is None:
        return
    from livermet.report.figures import FORMATS  # matplotlib: only when a plot is asked for

    if output.suffix.lower() not in FORMATS:
        raise InputError(
            f"unsupported image format {output.suffix!r}; use .png, .svg or .pdf", "--output"
        )


def _emit_json(report: dict[str, Any]) -> None:
    typer.echo(json.dumps(report, indent=2, ensure_ascii=False))


def _print_notes(report: dict[str, Any]) -> None:
    """Print the cases left out and why, and a synthetic-data note (stderr, also for JSON)."""
    from livermet.analysis.cohort import summary_text

    for note in (summary_text(report.get("excluded")), report.get("synthetic")):
        if note:
            err_console.print(note)


def _num(x: Any, fmt: str = ".3f") -> str:
    return "—" if x is None else format(x, fmt)


def _median_text(med: dict[str, Any], level: float) -> str:
    """Return a median with its interval in months, one decimal (as the web page prints it)."""
    if med["estimate"] is None:
        lower = med["lower"]
        return "median not reached" + (
            "" if lower is None else f" ({level:.0%} CI from {lower:.1f} months)"
        )
    upper = "not reached" if med["upper"] is None else f"{med['upper']:.1f}"
    return (
        f"median {med['estimate']:.1f} ({level:.0%} CI {_num(med['lower'], '.1f')} to {upper}) "
        "months"
    )


def _print_curve_table(console: Console, name: str, curve: dict[str, Any], level: float) -> None:
    from rich.markup import escape
    from rich.table import Table

    rm = curve["rmst"]
    console.print(
        f"[bold]{escape(name)}[/]: n = {curve['n']}, events = {curve['events']}; "
        f"{_median_text(curve['median'], level)}; RMST to {rm['horizon']:g} = "
        f"{rm['estimate']:.2f} (SE {rm['std_err']:.2f})"
    )
    table = Table(show_edge=False)
    for col in ("time", "at risk", "survival", "lower", "upper"):
        table.add_column(col, justify="right")
    for row in curve["at"]:
        table.add_row(
            f"{row['time']:g}",
            str(row["n_risk"]),
            _num(row["survival"]),
            _num(row["lower"]),
            _num(row["upper"]),
        )
    console.print(table)


@app.command("km")
@friendly_errors
@named_options(KM_OPTIONS)
def km_command(
    data: DataOption = None,
    time: TimeOption = "os_months",
    event: EventOption = "death",
    by: Annotated[
        str | None, typer.Option("--by", help="Group column: curves per group and log-rank test.")
    ] = None,
    levels: Annotated[
        str | None, typer.Option("--levels", help="Order of the --by groups, comma-separated.")
    ] = None,
    times: TimesOption = "12,36,60",
    rmst_horizon: Annotated[
        str,
        typer.Option("--rmst-horizon", help="Restricted mean survival up to this time (> 0)."),
    ] = "60",
    conf_type: Annotated[
        KMConf, typer.Option("--conf-type", help="Interval transform (R's default is log).")
    ] = KMConf.log_log,
    conf_level: LevelOption = "0.95",
    drop_missing: DropOption = False,
    output: OutputOption = None,
    fmt: FormatOption = TextOrJson.text,
    synthetic: SyntheticOption = False,
    with_literature: Annotated[
        bool,
        typer.Option(
            "--with-literature",
            help="Draw and test all patients against the pooled literature curve "
            "(overall survival, times in months; not with --by).",
        ),
    ] = False,
    literature_ipd: Annotated[
        Path | None,
        typer.Option(
            "--literature-ipd",
            help="Folder of reconstructed series (docs/literature-ipd.md) for "
            "--with-literature (default: the dataset's own).",
        ),
    ] = None,
    with_added_series: Annotated[
        bool,
        typer.Option(
            "--with-added-series",
            help="With --with-literature: also use the published series added to Table 1 "
            "(as the evidence commands; docs/evidence.md#dataset).",
        ),
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Kaplan-Meier survival (overall, or by group with the log-rank test).

    Event coding: 1 = event, 0 = censored.
    Reports survival, interval and numbers at risk at --times, the median with its interval,
    and the restricted mean survival time to --rmst-horizon with its standard error.
    With --with-literature: the registry beside the pooled literature, with both risk tables
    and the log-rank test when the literature has reconstructed patients, else beside the
    Weibull curve of the published summary points (no test); docs/literature-vs-registry.md.
    Report times after a curve's last follow-up get no estimate (a note says so).
    """
    _check_output(output)
    if levels is not None and by is None:
        raise InputError("--levels needs --by", "--levels")
    _check_literature_options(by, with_literature, literature_ipd, with_added_series)
    horizon = parse_number(rmst_horizon, "--rmst-horizon", "a number of months > 0, e.g. 60")
    level = _conf_level(conf_level)
    report_times = parse_times(times)
    if with_literature:
        from livermet.analysis.literature import check_literature_endpoint

        check_literature_endpoint(time, event)  # before reading the data: refuse EFS at once
        from livermet.analysis.literature import registry_vs_literature

        analysis = registry_vs_literature(
            cohort_data(data, db, user, token, synthetic),
            time,
            event,
            directory=literature_ipd,
            times=report_times,
            rmst_horizon=horizon,
            conf_type=conf_type.value,
            conf_level=level,
            dropna=drop_missing or data is None,
            with_added_series=with_added_series,
        )
        show_km_with_literature(analysis, fmt, output)
        return
    from livermet.analysis.summary import km_analysis

    result = km_analysis(
        cohort_data(data, db, user, token, synthetic),
        time,
        event,
        by=by,
        levels=_split(levels),
        times=report_times,
        rmst_horizon=horizon,
        conf_type=conf_type.value,
        conf_level=level,
        dropna=drop_missing or data is None,
    )
    show_km(result, fmt, output)


def _check_literature_options(
    by: str | None, with_literature: bool, literature_ipd: Path | None, with_added: bool
) -> None:
    """Refuse the literature's options without --with-literature, and it with --by."""
    if literature_ipd is not None and not with_literature:
        raise InputError("--literature-ipd needs --with-literature", "--literature-ipd")
    if with_added and not with_literature:
        raise InputError("--with-added-series needs --with-literature", "--with-added-series")
    if with_literature and by is not None:
        raise InputError(
            "--with-literature compares all the cohort's patients with the pooled literature "
            "and does not combine with --by (run `cohort km --by` separately)",
            "--by",
        )


def _print_literature_ipd(console: Console, lit: dict[str, Any], level: float) -> None:
    """Print the pooled reconstructed literature, its tests and notes."""
    _print_curve_table(console, "literature (reconstructed IPD)", lit, level)
    tests = lit["tests"]
    lr = tests["registry_vs_literature"]
    console.print(
        f"log-rank registry vs literature: χ² = {lr['chisq']:.3f}, df = {lr['df']}, "
        f"p = {lr['p']:.4g}"
    )
    if lit.get("time_unit_warning"):
        console.print(f"caution: {lit['time_unit_warning']}", markup=False)
    for row in tests["registry_vs_each_series"]["results"]:
        console.print(
            f"  registry vs {row['series']}: χ² = {row['chisq']:.3f}, p = {_num(row['p'], '.4g')}"
            f", Holm-adjusted p = {_num(row['p_holm'], '.4g')}",
            markup=False,
        )
    between = tests["between_series"]
    if between is not None:
        console.print(
            f"between the series: χ² = {between['chisq']:.3f}, df = {between['df']}, "
            f"p = {_num(between['p'], '.4g')}"
        )
    console.print(f"stratified by series: {tests['stratified_by_series']['reason']}", markup=False)


def _print_literature_weibull(console: Console, lit: dict[str, Any], level: float) -> None:
    """Print the pooled Weibull curve of the summary points and why there is no test."""
    from rich.table import Table

    console.print(
        f"[bold]literature (Weibull from summary points)[/]: {lit['n']} {lit['n_label']}; "
        f"{_median_text(lit['median'], level)}"
    )
    table = Table(show_edge=False)
    for col in ("time", "survival", "lower", "upper"):
        table.add_column(col, justify="right")
    for row in lit["at"]:
        table.add_row(
            f"{row['time']:g}", _num(row["survival"]), _num(row["lower"]), _num(row["upper"])
        )
    console.print(table)
    console.print(lit["no_test_reason"], markup=False)


def show_km_with_literature(
    analysis: LiteratureAnalysis, fmt: TextOrJson, output: Path | None
) -> None:
    """Print the registry beside the literature (text or JSON) and draw the plot if asked."""
    from livermet.analysis.literature import SOURCE_IPD

    report = analysis.report
    lit = report["literature"]
    _print_notes(report)
    if fmt is TextOrJson.json:
        _emit_json(report)
    else:
        level = report["conf_level"]
        console = Console()
        console.print(
            f"Kaplan-Meier of {report['time_column']} (event {report['event_column']}) beside "
            f"the literature ({lit['source']}; series: {', '.join(lit['series'])}); "
            f"{level:.0%} pointwise CI, {report['conf_type']} transform",
            markup=False,
        )
        _print_curve_table(console, "registry", report["overall"], level)
        for note in report["overall"].get("notes") or []:
            console.print(f"note: {note}", markup=False)
        if lit["source"] == SOURCE_IPD:
            _print_literature_ipd(console, lit, level)
        else:
            _print_literature_weibull(console, lit, level)
        for note in lit["notes"]:
            console.print(f"note: {note}", markup=False)
    if output is not None:
        from livermet.report.cohort_plots import literature_analysis_plot, save_figure

        save_figure(literature_analysis_plot(analysis), output)
        err_console.print(f"wrote {output}", markup=False)


def show_km(result: KMAnalysis, fmt: TextOrJson, output: Path | None) -> None:
    """Print a Kaplan-Meier analysis (text or JSON) and draw its plot to ``output`` if given.

    Shared by ``livermet cohort km`` and ``livermet federated combine``. Report times after a
    curve's last follow-up get no estimate and an RMST horizon after it a note
    (`livermet.analysis.km.report_within_follow_up`), in the text and the JSON.
    """
    from livermet.analysis.km import report_within_follow_up

    report = report_within_follow_up(result.report, result.overall, result.groups)
    _print_notes(report)
    if fmt is TextOrJson.json:
        _emit_json(report)
    else:
        time, event, by = report["time_column"], report["event_column"], report.get("by")
        conf_level = report["conf_level"]
        console = Console()
        console.print(
            f"Kaplan-Meier of {time} (event {event}); {conf_level:.0%} pointwise CI, "
            f"{report['conf_type']} transform"
        )
        _print_curve_table(console, "all patients", report["overall"], conf_level)
        notes = list(report["overall"].get("notes") or [])
        for name, curve in (report.get("groups") or {}).items():
            _print_curve_table(console, f"{by} = {name}", curve, conf_level)
            notes.extend(curve.get("notes") or [])
        for note in notes:
            console.print(f"note: {note}", markup=False)
        if "logrank_note" in report:
            console.print(report["logrank_note"])
        if "logrank" in report:
            lr = report["logrank"]
            console.print(
                f"log-rank test: χ² = {lr['chisq']:.3f}, df = {lr['df']}, p = {lr['p']:.4g}"
            )
    if output is not None:
        from livermet.report.cohort_plots import km_plot, save_figure

        curves = result.groups if result.groups is not None else result.overall
        save_figure(
            km_plot(curves, logrank=result.logrank, synthetic=report.get("synthetic")), output
        )
        err_console.print(f"wrote {output}", markup=False)


@app.command("cox")
@friendly_errors
@named_options(COX_OPTIONS)
def cox_command(
    data: DataOption = None,
    time: TimeOption = "os_months",
    event: EventOption = "death",
    covariates: Annotated[
        str, typer.Option("--covariates", help="Comma-separated covariate columns.")
    ] = "approach,timing,age,grade",
    reference: Annotated[
        list[str] | None,
        typer.Option("--reference", help="Reference level of a factor, COLUMN=LEVEL (repeatable)."),
    ] = None,
    categorical: Annotated[
        list[str] | None,
        typer.Option("--categorical", help="Treat a numeric column as a factor (repeatable)."),
    ] = None,
    ties: Annotated[str, typer.Option("--ties", help="efron (R's default) or breslow.")] = "efron",
    conf_level: LevelOption = "0.95",
    drop_missing: DropOption = False,
    output: OutputOption = None,
    fmt: FormatOption = TextOrJson.text,
    synthetic: SyntheticOption = False,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Cox proportional hazards model: coefficients, hazard ratios with intervals, p-values."""
    _check_output(output)
    refs = parse_references(reference)
    if ties not in ("efron", "breslow"):
        raise InputError(f"unknown {ties!r}; use efron or breslow", "--ties")
    level = _conf_level(conf_level)
    from livermet.analysis.summary import cox_analysis

    result = cox_analysis(
        cohort_data(data, db, user, token, synthetic),
        time,
        event,
        _split(covariates) or [],
        reference=refs,
        categorical=categorical or [],
        ties=ties,  # type: ignore[arg-type]
        conf_level=level,
        dropna=drop_missing or data is None,
    )
    show_cox(result, fmt, output)


def show_cox(result: CoxAnalysis, fmt: TextOrJson, output: Path | None) -> None:
    """Print a Cox analysis (text or JSON) and draw its forest plot to ``output`` if given.

    Shared by ``livermet cohort cox`` and ``livermet federated combine``.
    """
    report = result.report
    _print_notes(report)
    if fmt is TextOrJson.json:
        _emit_json(report)
    else:
        from rich.table import Table

        time, event = report["time_column"], report["event_column"]
        conf_level = report["conf_level"]
        console = Console()
        console.print(
            f"Cox model of {time} (event {event}): n = {report['n']}, events = "
            f"{report['events']}, {report['ties']} ties"
        )
        table = Table(show_edge=False)
        for col in ("term", "coef", "SE", "HR", f"{conf_level:.0%} CI", "p"):
            table.add_column(col, justify="right")
        for t in report["terms"]:
            table.add_row(
                t["label"],
                f"{t['coef']:.4f}",
                f"{t['se']:.4f}",
                f"{t['hr']:.3f}",
                f"{t['hr_lower']:.3f} to {t['hr_upper']:.3f}",
                f"{t['p']:.4g}",
            )
        console.print(table)
        lr = report["lr_test"]
        console.print(
            f"reference levels: {report['reference_levels'] or 'none'}; log-likelihood "
            f"{report['loglik']['null']:.3f} → {report['loglik']['fitted']:.3f}; LR χ² = "
            f"{lr['chisq']:.2f}, df = {lr['df']}, p = {lr['p']:.4g}; concordance "
            f"{report['concordance']:.4f}"
        )
    if output is not None:
        from livermet.report.cohort_plots import hr_forest_plot, save_figure

        save_figure(hr_forest_plot(result.model, synthetic=report.get("synthetic")), output)
        err_console.print(f"wrote {output}", markup=False)


@app.command("cuminc")
@friendly_errors
@named_options(CUMINC_OPTIONS)
def cuminc_command(
    data: DataOption = None,
    time: Annotated[
        str, typer.Option("--time", help="Column of time to first event or last follow-up.")
    ] = "efs_months",
    event: Annotated[
        str,
        typer.Option(
            "--event",
            help="Column of first-event labels, or (with --competing) a 0/1 event column.",
        ),
    ] = "first_event",
    competing: Annotated[
        str | None,
        typer.Option("--competing", help="0/1 column of the competing event (two-column coding)."),
    ] = None,
    censored: Annotated[
        list[str] | None,
        typer.Option(
            "--censored", help="Label meaning censored (repeatable; default: censored, none, 0)."
        ),
    ] = None,
    types: Annotated[
        str | None, typer.Option("--types", help="Order of the event types, comma-separated.")
    ] = None,
    times: TimesOption = "12,36,60",
    conf_type: Annotated[
        KMConf, typer.Option("--conf-type", help="Interval transform (R's multi-state default).")
    ] = KMConf.log,
    conf_level: LevelOption = "0.95",
    drop_missing: DropOption = False,
    output: OutputOption = None,
    fmt: FormatOption = TextOrJson.text,
    synthetic: SyntheticOption = False,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Cumulative incidence of competing first events (Aalen-Johansen, ties kept exact).

    Label coding: --event is a column of first-event labels (recurrence, death, ...).
    Censoring labels: censored, none, 0 (or those given by --censored).
    Flag coding: --event and --competing are 0/1 columns, never both 1 in a row.
    """
    _check_output(output)
    if competing is not None and (censored or types):
        raise InputError(
            "--censored and --types apply to a label column, not to --competing", "competing"
        )
    level = _conf_level(conf_level)
    report_times = parse_times(times)
    from livermet.analysis.summary import cuminc_analysis

    result = cuminc_analysis(
        cohort_data(data, db, user, token, synthetic),
        time,
        event,
        competing=competing,
        censored=censored or ("censored", "none", "0"),
        event_types=_split(types),
        times=report_times,
        conf_type=conf_type.value,
        conf_level=level,
        dropna=drop_missing or data is None,
    )
    show_cuminc(result, fmt, output)


def show_cuminc(result: CumincAnalysis, fmt: TextOrJson, output: Path | None) -> None:
    """Print a cumulative-incidence analysis (text or JSON) and draw its plot if asked.

    Shared by ``livermet cohort cuminc`` and ``livermet federated combine``.
    """
    report = result.report
    _print_notes(report)
    if fmt is TextOrJson.json:
        _emit_json(report)
    else:
        from rich.table import Table

        time, conf_level = report["time_column"], report["conf_level"]
        console = Console()
        console.print(
            f"Cumulative incidence of first events in {time}: n = {report['n']}, events "
            + ", ".join(f"{k} {v}" for k, v in report["events"].items())
        )
        table = Table(show_edge=False)
        table.add_column("time", justify="right")
        table.add_column("event-free at risk", justify="right")
        for state in report["states"]:
            table.add_column(f"{state} ({conf_level:.0%} CI)", justify="right")
        for row in report["at"]:
            cells = [
                f"{s['probability']:.3f} ({_num(s['lower'])}-{_num(s['upper'])})"
                for s in row["states"].values()
            ]
            table.add_row(f"{row['time']:g}", str(row["n_risk"]), *cells)
        console.print(table)
    if output is not None:
        from livermet.report.cohort_plots import cuminc_plot, save_figure

        save_figure(cuminc_plot(result.model, synthetic=report.get("synthetic")), output)
        err_console.print(f"wrote {output}", markup=False)


@app.command("swimmer")
@friendly_errors
def swimmer_command(
    data: DataOption = None,
    time: TimeOption = "os_months",
    event: EventOption = "death",
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Image file: .png, .svg or .pdf.")
    ] = Path("swimmer.png"),
    id_column: Annotated[str | None, typer.Option("--id", help="Column of patient labels.")] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Column whose groups colour the bars.")
    ] = None,
    mark: Annotated[
        list[str] | None,
        typer.Option(
            "--mark",
            help="Mark an event on the bars: LABEL=TIME_COLUMN, or LABEL=TIME_COLUMN:COLUMN=VALUE "
            "to mark only rows where COLUMN equals VALUE (repeatable).",
        ),
    ] = None,
    max_patients: Annotated[
        int, typer.Option("--max-patients", help="Draw at most this many patients (0 = all).")
    ] = 100,
    synthetic: SyntheticOption = False,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Swimmer plot: one bar per patient to the last follow-up, with event markers."""
    _check_output(output)
    import pandas as pd

    from livermet.analysis._data import optional_times
    from livermet.report.cohort_plots import save_figure, swimmer_plot

    df = cohort_data(data, db, user, token, synthetic)
    marks: dict[str, str] = {}
    for spec in mark or []:
        label, sep, rest = spec.partition("=")
        column, _, condition = rest.partition(":")
        if not sep or not label.strip() or not column.strip():
            raise InputError(f"{spec!r}: write LABEL=TIME_COLUMN[:COLUMN=VALUE]", "mark")
        column = column.strip()
        if column not in df.columns:
            raise InputError(f"column {column!r} not found", "mark")
        times = pd.Series(optional_times(df, column), index=df.index)
        if condition:
            where, eq, value = condition.partition("=")
            if not eq or where.strip() not in df.columns:
                raise InputError(f"{spec!r}: the condition must be COLUMN=VALUE", "mark")
            times = times.where(df[where.strip()].astype(str).str.strip() == value.strip())
        derived = f"__mark_{len(marks)}"
        df[derived] = times
        marks[label.strip()] = derived
    fig = swimmer_plot(
        df,
        time,
        event,
        id=id_column,
        by=by,
        marks=marks,
        max_patients=max_patients or None,
    )
    save_figure(fig, output)
    err_console.print(f"wrote {output}", markup=False)


__all__ = [
    "app",
    "parse_times",
    "read_cohort_csv",
    "show_cox",
    "show_cuminc",
    "show_km",
    "show_km_with_literature",
]


@app.command("synth")
@friendly_errors
def synth_command(
    n: Annotated[int, typer.Option("--n", help="Number of synthetic patients.")] = 500,
    seed: Annotated[
        int, typer.Option(help="Random seed (the same seed gives the same cohort).")
    ] = 1,
    site: Annotated[str | None, typer.Option(help="Registry site (default: your own).")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the cohort as CSV instead of importing it."),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Generate a seeded synthetic cohort (flagged synthetic) into the registry or a CSV."""
    from livermet.cli.registry import import_with_progress
    from livermet.registry import synthetic_cases

    if n < 1:
        raise InputError(f"{n} is not a positive number of patients", "n")
    with Console(stderr=True).status(f"generating {n} synthetic patients"):
        cases = synthetic_cases(n, seed=seed)
    if output is not None:
        from livermet.interchange import cases_to_csv

        output.write_text(cases_to_csv(cases), encoding="utf-8")
        err_console.print(f"wrote {n} synthetic cases to {output}", markup=False)
        return
    from livermet.cli.session import acting_registry

    registry = acting_registry(db, user, token)
    import_with_progress(
        registry,
        cases,
        source=f"synthetic cohort (seed {seed})",
        site=site,
        merge=False,
        synthetic=True,
    )
