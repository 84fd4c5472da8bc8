"""``livermet evidence``: the surgical series, pooled, with plots. A thin shell over the engine.

Start-up: ``livermet evidence ... --help`` imports only typer and rich (see cli/main.py). A
command imports the evidence engine (pandas, SciPy) when it runs, and matplotlib only when it
draws a plot.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from livermet.cli.common import err_console, friendly_errors
from livermet.errors import InputError, LivermetError

if TYPE_CHECKING:
    import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    help="Pool published surgical series (the case report's Table 1, the added series, your own), "
    "and rebuild patients from published Kaplan-Meier curves."
)


def option_field(field: str | None, command: Callable[..., Any]) -> str | None:
    """Return an error's field as the user typed it: the command's option (``--nagq``).

    The engine names a parameter as Python does (``nagq``, ``total_events``); when it is an
    option of ``command`` (a command function), the message names the option instead
    (``--nagq``, ``--total-events``). Any other field (a CSV column such as ``mst_months``,
    or a field already naming its option, such as ``--ipd``) is returned unchanged.
    """
    from typer.models import OptionInfo
    from typer.utils import get_params_from_function

    if not field or field.startswith("-"):
        return field
    meta = get_params_from_function(command).get(field.replace("-", "_"))
    if meta is None or not isinstance(meta.default, OptionInfo):
        return field
    names = [d.split("/")[0] for d in meta.default.param_decls or () if d.startswith("--")]
    return names[0] if names else "--" + field.replace("_", "-")


def evidence_errors(func: F) -> F:
    """`friendly_errors` for an evidence command, with fields named by their options.

    The one place where the ``livermet evidence`` commands map an error's field to the option
    typed (`option_field`), e.g. ``nagq`` -> ``--nagq``, ``dataset`` -> ``--dataset``.
    """

    @wraps(func)
    def typed(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LivermetError as exc:
            exc.field = option_field(exc.field, func)
            raise

    wrapped = friendly_errors(typed)
    wrapped.option_fields = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


class TextOrJson(StrEnum):
    """Output format of ``--format``: text for people, JSON for programs."""

    text = "text"
    json = "json"


SeriesOption = Annotated[
    Path | None,
    typer.Option(
        "--series",
        help="A CSV of series in the dataset's columns, used INSTEAD of Table 1 (default: Table "
        "1). To add your rows to Table 1, use --add-series.",
    ),
]
AddSeriesOption = Annotated[
    Path | None,
    typer.Option(
        "--add-series",
        help="A CSV of your own series (the dataset's columns) ADDED to Table 1, as the web "
        "page's 'Add your own series' and the API's series_csv.",
    ),
]


def _lower(value: str) -> str:
    """Return an option's value in lower case: ``--outcome OS5`` is ``os5`` for every command."""
    return value.strip().lower()


OutcomeOption = Annotated[
    str,
    typer.Option("--outcome", help="Survival column to pool: os1, os3 or os5.", callback=_lower),
]
MeasureOption = Annotated[
    str, typer.Option("--measure", help="Effect size: PLO (logit), PR, PLN, PAS, PFT.")
]
MethodOption = Annotated[
    str, typer.Option("--method", help="tau² estimator: REML, DL, PM, ML, EB, SJ, HE, HS, HSk, EE.")
]
TestOption = Annotated[str, typer.Option("--test", help="z, knha (Hartung-Knapp) or t.")]
ExcludeOption = Annotated[
    list[str] | None, typer.Option("--exclude", help="Leave out a series by id (repeatable).")
]
NColumnOption = Annotated[
    str, typer.Option("--n-column", help="n_table (as printed) or n_source (where known).")
]
OutputOption = Annotated[
    Path, typer.Option("--output", "-o", help="Image file: .png, .svg or .pdf.")
]


ModelMeasureOption = Annotated[
    str | None,
    typer.Option("--measure", help="Effect size: PLO (logit, default), PR, PLN, PAS, PFT."),
]
ModelMethodOption = Annotated[
    str | None,
    typer.Option(
        "--method", help="tau² estimator (default REML): DL, PM, ML, EB, SJ, HE, HS, HSk, EE."
    ),
]
ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        help="rma: normal-normal model on S·n (default). glmm: binomial-normal model "
        "(metafor rma.glmm, PLO, ML) on survivors rounded to whole patients.",
    ),
]
NagqOption = Annotated[
    int | None,
    typer.Option(
        "--nagq",
        help="GLMM quadrature points, 1 to 100 (default 7, metafor's; 1 = Laplace). "
        "Refused with --model rma.",
    ),
]
OptimizerOption = Annotated[
    str | None,
    typer.Option(
        "--optimizer",
        help="GLMM only: metafor (default; glmer's default optimisers, metafor's numbers to "
        "the last digit) or converged (the maximum of the likelihood, a few 1e-6 away).",
    ),
]
AddedOption = Annotated[
    bool,
    typer.Option(
        "--with-added-series",
        help="Also use the seven published series livermet adds to Table 1 (see "
        "docs/evidence.md#dataset); for your own rows use --add-series.",
    ),
]


def _series(path: Path | None, with_added: bool = False, add: Path | None = None) -> pd.DataFrame:
    """Return the series: Table 1 (with the added series, ``add``'s rows) or ``path`` instead.

    Raises
    ------
    InputError
        ``--series`` with ``--add-series`` or ``--with-added-series`` (the file replaces Table
        1, so there is nothing to add to); a file that cannot be read.
    """
    from livermet.evidence.dataset import load_literature, load_series, select_source
    from livermet.evidence.selection import series_with_own
    from livermet.evidence.text_files import read_text

    if path is not None and (add is not None or with_added):
        other = "--add-series" if add is not None else "--with-added-series"
        raise InputError(
            f"--series replaces Table 1 with your file, so {other} has nothing to add to: use "
            "--add-series FILE to add your rows to Table 1 (and the added series)",
            "series",
        )
    if add is not None:
        return series_with_own(read_text(add, "--add-series"), include_added=with_added)
    df = load_literature(include_added=True) if path is None else load_series(path, "--series")
    return select_source(df, include_added=with_added)


def _labels(df: pd.DataFrame, ids: list[str]) -> list[str]:
    """Return the readers' names of the series ``ids`` (author and year), for a plot."""
    from livermet.evidence.dataset import series_label

    by_id = {str(r["id"]): series_label(r, short=True) for r in df.to_dict("records")}
    return [by_id.get(i, i) for i in ids]


def _named(df: pd.DataFrame, ident: object) -> str:
    """Return a series as a message names it: "Foster 1978 (foster1978)".

    That is its name and the id that ``--exclude`` takes, escaped for Rich (a user's CSV is text,
    never markup).
    """
    from rich.markup import escape

    label = _labels(df, [str(ident)])[0]
    return escape(label if str(ident) in label else f"{label} ({ident})")


def _json(data: Any) -> str:
    from livermet.analysis.summary import json_safe

    return json.dumps(json_safe(data), indent=2)


def _pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"


@app.command("table")
@evidence_errors
def table_command(
    series: SeriesOption = None,
    add_series: AddSeriesOption = None,
    fmt: Annotated[TextOrJson, typer.Option("--format")] = TextOrJson.text,
    with_added_series: AddedOption = False,
) -> None:
    """List the series with their survival figures and consistency flags."""
    import pandas as pd
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from livermet.evidence.dataset import series_label
    from livermet.evidence.survival import check_consistency

    df = _series(series, with_added_series, add_series)
    flags = check_consistency(df).set_index("id")
    if fmt is TextOrJson.json:
        records = json.loads(df.to_json(orient="records"))
        for r in records:
            r["label"] = series_label(r)
            r["flag"] = flags.loc[r["id"], "reason"] if flags.loc[r["id"], "flagged"] else None
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    table = Table(
        title="Survival after hepatectomy for LMS liver metastases (MST months, OS %)",
        box=box.SIMPLE_HEAD,  # fits an 80-column terminal
        pad_edge=False,
    )
    for col in ("series (id)", "period", "n", "MST", "OS 1y", "OS 3y", "OS 5y", "ident."):
        table.add_column(col, no_wrap=col != "series (id)")
    for _, r in df.iterrows():
        cells = [r["mst_months"], r["os1"], r["os3"], r["os5"]]
        flagged = bool(flags.loc[r["id"], "flagged"])
        table.add_row(  # flagged series in yellow, reasons listed below the table
            f"{escape(series_label(r, short=True))}\n[dim]{escape(str(r['id']))}[/]",
            "" if pd.isna(r.get("period")) else str(r["period"]),
            str(r["n_table"]),
            *["NA" if pd.isna(c) else f"{c:g}" for c in cells],
            "" if pd.isna(r.get("identification")) else str(r["identification"]),
            style="yellow" if flagged else None,
        )
    console = Console()
    console.print(table)
    for ident, row in flags[flags["flagged"]].iterrows():
        console.print(f"[yellow]flagged[/] {_named(df, ident)}: {row['reason']}")


@app.command("pool")
@evidence_errors
def pool_command(
    outcome: OutcomeOption = "os5",
    measure: ModelMeasureOption = None,
    method: ModelMethodOption = None,
    test: TestOption = "z",
    model: ModelOption = "rma",
    nagq: NagqOption = None,
    optimizer: OptimizerOption = None,
    series: SeriesOption = None,
    add_series: AddSeriesOption = None,
    exclude: ExcludeOption = None,
    n_column: NColumnOption = "n_table",
    lms_only: Annotated[
        bool, typer.Option("--lms-only", help="Sensitivity: leiomyosarcoma-only series.")
    ] = False,
    verified_only: Annotated[
        bool, typer.Option("--verified-only", help="Sensitivity: verified identifications.")
    ] = False,
    one_per_institution: Annotated[
        bool,
        typer.Option("--one-per-institution", help="Sensitivity: drop overlapping series."),
    ] = False,
    fmt: Annotated[TextOrJson, typer.Option("--format")] = TextOrJson.text,
    with_added_series: AddedOption = False,
) -> None:
    """Pool one survival outcome: estimate, CI, prediction interval, heterogeneity, flags."""
    from livermet.evidence.dataset import subset
    from livermet.evidence.glmm_report import check_model, choose_nagq, choose_optimizer
    from livermet.evidence.pooling import pool_outcome

    chosen = check_model(model, measure, method)
    points = choose_nagq(chosen, nagq)
    how = choose_optimizer(chosen, optimizer)
    df = subset(
        _series(series, with_added_series, add_series),
        lms_only=lms_only,
        verified_only=verified_only,
        one_per_institution=one_per_institution,
        include_added=with_added_series,
    )
    if chosen == "glmm":
        _pool_glmm(df, outcome, (points, how), test, exclude or [], n_column, fmt)
        return
    pooled = pool_outcome(
        df,
        outcome,
        measure=measure or "PLO",
        method=method or "REML",
        test=test,
        exclude=exclude or [],
        n_column=n_column,
    )
    data = pooled.to_dict()
    if fmt is TextOrJson.json:
        typer.echo(_json(data))
        return
    c = Console()
    c.print(
        f"[bold]Pooled {outcome} ({data['months']} months)[/]: {_pct(data['estimate'])} "
        f"(95 % CI {_pct(data['ci_lb'])} to {_pct(data['ci_ub'])}); a new series would likely "
        f"fall between {_pct(data['pi_lb'])} and {_pct(data['pi_ub'])} (95 % prediction interval)."
    )
    tau2_ci = data["tau2_ci"]
    ci_text = f" [{tau2_ci[0]:.3g}, {tau2_ci[1]:.3g}]" if tau2_ci else ""
    c.print(
        f"k = {data['k']} series, {data['measure']} / {data['method']} / test {data['test']}; "
        f"tau² = {data['tau2']:.4g}{ci_text}, I² = {data['i2']:.1f} %, "
        f"Q = {data['qe']:.2f} (p = {data['qe_p']:.3g})"
    )
    for f in data["flagged"]:
        c.print(f"[yellow]flagged[/] {_named(df, f['id'])}: {f['reason']}")


def _pool_glmm(
    df: pd.DataFrame,
    outcome: str,
    fitting: tuple[int, str],
    test: str,
    exclude: list[str],
    n_column: str,
    fmt: TextOrJson,
) -> None:
    """``pool --model glmm``: the binomial-normal model, with the rounding of survivors shown.

    ``fitting``: quadrature points and optimiser. The fit's warnings (metafor cannot fit the data
    with its defaults, lme4's Hessian is not positive definite, ...) are caught and printed as
    ``warning:`` lines on stderr, never as Python's raw warning; ``--format json`` carries them
    under ``warnings`` too.
    """
    import warnings

    from rich.markup import escape

    from livermet.evidence.glmm import optimizer_note
    from livermet.evidence.glmm_pool import pool_outcome_glmm
    from livermet.evidence.glmm_report import approximation_text

    nagq, optimizer = fitting
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pooled = pool_outcome_glmm(
            df,
            outcome,
            nagq=nagq,
            test=test,
            exclude=exclude,
            n_column=n_column,
            optimizer=optimizer,
        )
    for message in dict.fromkeys(str(w.message) for w in caught):
        err_console.print(f"[bold red]warning[/]: {escape(message)}", highlight=False)
    data = pooled.to_dict()
    if fmt is TextOrJson.json:
        typer.echo(_json(data))
        return
    how = approximation_text(data["nagq"])
    c = Console()
    c.print(
        f"[bold]Pooled {outcome} ({data['months']} months), binomial-normal GLMM[/] (ML, {how}): "
        f"{_pct(data['estimate'])} (95 % CI {_pct(data['ci_lb'])} to {_pct(data['ci_ub'])}); "
        f"a new series would likely fall between {_pct(data['pi_lb'])} and "
        f"{_pct(data['pi_ub'])} (95 % prediction interval)."
    )
    c.print(
        f"k = {data['k']} series, PLO / ML / test {data['test']}; tau² = {data['tau2']:.4g}, "
        f"I² = {data['i2']:.1f} %; heterogeneity Wald = {data['qe_wld']:.2f} "
        f"(df {data['qe_df']}, p = {data['qe_wld_p']:.3g}), LRT = {data['qe_lrt']:.2f} "
        f"(p = {data['qe_lrt_p']:.3g})"
    )
    c.print(f"[cyan]note[/] {escape(data['survivors_note'])}.")
    note = optimizer_note(data["optimizer"], data.get("warnings", ()))
    c.print(f"[cyan]note[/] {escape(note)}.")
    for r in data["rounded"]:
        c.print(
            f"  rounded {_named(df, r['id'])}: {r['survivors_unrounded']:.3g} -> "
            f"{r['survivors']} survivors"
        )
    for f in data["flagged"]:
        c.print(f"[yellow]flagged[/] {_named(df, f['id'])}: {f['reason']}")


@app.command("forest")
@evidence_errors
def forest_command(
    output: OutputOption,
    outcome: OutcomeOption = "os5",
    measure: ModelMeasureOption = None,
    method: ModelMethodOption = None,
    test: TestOption = "z",
    model: ModelOption = "rma",
    nagq: NagqOption = None,
    optimizer: OptimizerOption = None,
    series: SeriesOption = None,
    add_series: AddSeriesOption = None,
    exclude: ExcludeOption = None,
    with_added_series: AddedOption = False,
) -> None:
    """Forest plot of one outcome (PNG, SVG or PDF), of the rma model or the binomial GLMM.

    With --model glmm: each series' survivors/n with its exact binomial (Clopper-Pearson) CI,
    the GLMM's pooled proportion and prediction interval; --measure must then be PLO, --method
    ML and --test z or t. Warnings of the fit are printed as "warning:" lines.
    """
    from livermet.evidence.glmm_report import check_model, choose_nagq, choose_optimizer
    from livermet.evidence.pooling import OUTCOMES, check_outcome
    from livermet.report.figures import save_figure

    chosen = check_model(model, measure, method)
    points = choose_nagq(chosen, nagq)
    how = choose_optimizer(chosen, optimizer)
    years = OUTCOMES[check_outcome(outcome)] // 12
    df = _series(series, with_added_series, add_series)
    if chosen == "glmm":
        import warnings

        from rich.markup import escape

        from livermet.evidence.glmm_pool import pool_outcome_glmm
        from livermet.report.glmm_plots import glmm_forest_plot

        with warnings.catch_warnings(record=True) as caught:  # printed as `warning:` lines
            warnings.simplefilter("always")
            glmm = pool_outcome_glmm(
                df, outcome, nagq=points, test=test, exclude=exclude or [], optimizer=how
            )
        for message in dict.fromkeys(str(w.message) for w in caught):
            err_console.print(f"[bold red]warning[/]: {escape(message)}", highlight=False)
        fig = glmm_forest_plot(
            glmm,
            _labels(df, glmm.ids),
            xlabel=f"{years}-year overall survival (%)",
            title=f"{years}-year survival after hepatectomy (binomial-normal GLMM, ML, PLO)",
        )
    else:
        from livermet.evidence.pooling import pool_outcome
        from livermet.report.evidence_plots import forest_plot

        pooled = pool_outcome(
            df,
            outcome,
            measure=measure or "PLO",
            method=method or "REML",
            test=test,
            exclude=exclude or [],
        )
        fig = forest_plot(
            pooled.fit,
            _labels(df, pooled.ids),
            percent=True,
            xlabel=f"{years}-year overall survival (%)",
            title=f"{years}-year survival after hepatectomy "
            f"({pooled.fit.method}, {measure or 'PLO'})",
        )
    err_console.print(f"wrote {save_figure(fig, output)}", markup=False)


@app.command("funnel")
@evidence_errors
def funnel_command(
    output: OutputOption,
    outcome: OutcomeOption = "os5",
    measure: MeasureOption = "PLO",
    method: MethodOption = "REML",
    series: SeriesOption = None,
    add_series: AddSeriesOption = None,
    with_added_series: AddedOption = False,
) -> None:
    """Funnel plot of one outcome on the model's scale."""
    from livermet.evidence.pooling import pool_outcome
    from livermet.report.evidence_plots import funnel_plot
    from livermet.report.figures import save_figure

    pooled = pool_outcome(
        _series(series, with_added_series, add_series), outcome, measure=measure, method=method
    )
    fig = funnel_plot(pooled.fit, xlabel=f"{outcome} ({measure} scale)")
    err_console.print(f"wrote {save_figure(fig, output)}", markup=False)


@app.command("curve")
@evidence_errors
def curve_command(
    output: OutputOption,
    series: SeriesOption = None,
    add_series: AddSeriesOption = None,
    horizon: Annotated[int, typer.Option(help="Months to draw.")] = 120,
    with_added_series: AddedOption = False,
) -> None:
    """Pooled survival curve (Weibull synthesis) with the series' reported points."""
    import numpy as np

    from livermet.evidence.survival import weibull_synthesis
    from livermet.report.evidence_plots import survival_curve_plot
    from livermet.report.figures import save_figure

    df = _series(series, with_added_series, add_series)
    model = weibull_synthesis(df)
    t = np.linspace(0, horizon, 241)
    s, lo, hi = model.curve(t)
    points = [
        (float(r["time_months"]), float(r["s"]), _labels(df, [str(r["id"])])[0])
        for _, r in model.points.iterrows()
    ]
    fig = survival_curve_plot(t, s, lo, hi, points=points, median=(model.median, *model.median_ci))
    err_console.print(f"wrote {save_figure(fig, output)}", markup=False)
    for ident, reason in model.excluded:
        err_console.print(f"[yellow]{_named(df, ident)}[/]: {reason}")


@app.command("survival")
@evidence_errors
def survival_command(
    series: SeriesOption = None,
    add_series: AddSeriesOption = None,
    method: MethodOption = "REML",
    fmt: Annotated[TextOrJson, typer.Option("--format")] = TextOrJson.text,
    ipd: Annotated[
        Path | None,
        typer.Option(
            "--ipd",
            help="A folder of reconstructed patients (docs/literature-ipd.md), instead of "
            "the dataset's own.",
        ),
    ] = None,
    with_added_series: AddedOption = False,
) -> None:
    """Survival synthesis: pooled S(t) at 1, 3, 5 years and the Weibull pooled median.

    Survival in % at 12, 36 and 60 months, medians in months. With reconstructed patients (the
    dataset's folder, or --ipd) also the one-stage pooling.
    """
    from livermet.evidence.survival.one_stage import reconstructed_section, text_lines
    from livermet.evidence.survival.time_points import pool_time_points, single_series_figure

    df = _series(series, with_added_series, add_series)
    points = pool_time_points(df, method=method)
    data = {
        "time_points": json.loads(points.drop(columns=["ids"]).to_json(orient="records")),
        "weibull": _weibull_section(df),
        "reconstructed": reconstructed_section(df, ipd, method=method),
    }
    for row, point in zip(data["time_points"], points.to_dict("records"), strict=True):
        row.update(single_series_figure(df, point))
    if fmt is TextOrJson.json:
        typer.echo(_json(data))
        return
    c = Console()
    for row in data["time_points"]:
        c.print(_time_point_text(df, row))
    for line in _weibull_text(df, data["weibull"]):
        c.print(line)
    for line in text_lines(data["reconstructed"]):
        c.print(line, markup=False)


def _time_point_text(df: pd.DataFrame, row: dict[str, Any]) -> str:
    """Return one pooled time point as a line: pooled, one series' own figure, or none."""
    head = f"{row['time_months']:>3g} months: "
    if row["k"] == 0:
        return f"{head}no series reports it"
    if row["k"] == 1:
        return (
            f"{head}{_pct(row['reported'])} as reported by {_named(df, row['series_id'])} "
            f"alone, k = 1 (not pooled: {row['note']})"
        )
    return (
        f"{head}{_pct(row['estimate'])} ({_pct(row['ci_lb'])} to {_pct(row['ci_ub'])}), "
        f"k = {row['k']}"
    )


def _weibull_section(df: pd.DataFrame) -> dict[str, Any]:
    """Return the Weibull synthesis of ``evidence survival``, or why it is not available.

    Too few summary points (`WeibullNotEstimable`) is not an error of the command: the
    section says so (``available`` False, ``reason``, ``note``) and the other sections run.
    """
    from livermet.evidence.survival import WeibullNotEstimable, weibull_synthesis

    try:
        model = weibull_synthesis(df)
    except WeibullNotEstimable as exc:
        return {
            "available": False,
            "reason": exc.message,
            "note": "give, with --series, rows with n_table and survival figures in the "
            "columns mst_months (median, months), os1, os3, os5 (percent): at least 3 "
            "figures in all, at 2 or more distinct times",
        }
    return {
        "available": True,
        "k": model.k,
        "series": list(dict.fromkeys(str(i) for i in model.points["id"])),
        "shape": model.shape,
        "median_months": model.median,
        "median_ci": list(model.median_ci),
        "tau2": model.tau2,
        "excluded_medians": [{"id": i, "reason": r} for i, r in model.excluded],
    }


def _weibull_text(df: pd.DataFrame, section: dict[str, Any]) -> list[str]:
    """Return the Weibull synthesis as lines (Rich markup; series names escaped)."""
    from rich.markup import escape

    from livermet.evidence.survival.series import SINGLE_SERIES_NOTE

    if not section["available"]:
        return [
            f"pooled median (Weibull): not available ({escape(section['reason'])}); "
            f"{escape(section['note'])}"
        ]
    lo, hi = section["median_ci"]
    figures = f"{section['median_months']:.1f} months ({lo:.1f} to {hi:.1f})"
    if section["k"] == 1:
        only = _named(df, section["series"][0])
        lines = [
            f"median (Weibull fit of {only} alone, k = 1; not pooled: {SINGLE_SERIES_NOTE}): "
            f"{figures}"
        ]
    else:
        lines = [f"pooled median (Weibull, k = {section['k']}): {figures}"]
    for item in section["excluded_medians"]:
        lines.append(f"[yellow]{_named(df, item['id'])}[/]: {escape(item['reason'])}")
    return lines


@app.command("gosh")
@evidence_errors
def gosh_command(
    output: OutputOption,
    outcome: OutcomeOption = "os5",
    measure: MeasureOption = "PLO",
    method: MethodOption = "REML",
    series: SeriesOption = None,
    add_series: AddSeriesOption = None,
    subsets: Annotated[
        int | None,
        typer.Option(help="Fit a random sample of this many subsets instead of all 2^k - 1."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random sample.")] = 1,
    with_added_series: AddedOption = False,
) -> None:
    """GOSH plot: the pooled estimate and I² of every subset of the series."""
    from livermet.evidence.pooling import OUTCOMES, pool_outcome
    from livermet.evidence.transforms import back_transform_of
    from livermet.report.evidence_plots import gosh_plot
    from livermet.report.figures import save_figure

    pooled = pool_outcome(
        _series(series, with_added_series, add_series), outcome, measure=measure, method=method
    )
    with Console(stderr=True).status(f"fitting subsets of {pooled.fit.k} series"):
        result = pooled.fit.gosh(subsets=subsets, seed=seed)
    back = back_transform_of(pooled.fit)
    fig = gosh_plot(
        back(result.estimate[result.fit]) * 100,
        result.i2[result.fit],
        xlabel=f"pooled {OUTCOMES[outcome] // 12}-year survival (%)",
    )
    err_console.print(
        f"wrote {save_figure(fig, output)} ({int(result.fit.sum()):,} subsets, {result.method})",
        markup=False,
    )


# Commands kept in their own modules, registered here (each imports only typer and rich at the top).
from livermet.cli import evidence_reconstruct  # noqa: E402

evidence_reconstruct.register(app)

# The one place where every command of the group, also those registered by other modules,
# names an error's field by its option: a command wrapped by `friendly_errors` elsewhere is
# wrapped again, from its own function, by `evidence_errors`.
for _info in app.registered_commands:
    if _info.callback is not None and not getattr(_info.callback, "option_fields", False):
        _info.callback = evidence_errors(inspect.unwrap(_info.callback))
