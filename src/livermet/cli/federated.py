"""``livermet federated``: federated analysis by file exchange (request, partial, combine).

- ``request``: the coordinator writes a request file (the analysis, with the options of
  ``livermet cohort``, and the disclosure rules);
- ``partial``: a site runs it against its own registry, as the acting user may see it, and
  writes an aggregate file with a release report (every number, with what it is); the release
  is recorded in the site's audit chain before the file is written;
- ``combine``: the coordinator combines the sites' aggregate files into the output of
  ``livermet cohort`` for the analysis (for Cox: the next round's request file until the fit
  converges).

A malformed, edited (checksum) or mismatched file is refused naming the file and the problem
(exit status 2). docs/federated.md describes the whole exchange.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from livermet.cli.cohort import KMConf, TextOrJson, parse_times
from livermet.cli.common import err_console, friendly_errors, parse_references
from livermet.cli.session import DbOption, TokenOption, UserOption
from livermet.errors import InputError

if TYPE_CHECKING:
    from livermet.federated.exchange import AggregateFile
    from livermet.federated.offline import Combined

app = typer.Typer(
    help="Federated analysis by file exchange: request, partial (at each site), combine."
)


class Kind(StrEnum):
    km = "km"
    logrank = "logrank"
    rmst = "rmst"
    cuminc = "cuminc"
    cox = "cox"
    meta = "meta"


class Concordance(StrEnum):
    within_sites = "within-sites"
    exact = "exact"


_DEFAULT_OUTCOME = {"cuminc": ("efs_months", "first_event")}


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [x.strip() for x in text.split(",") if x.strip()]


@app.command("request")
@friendly_errors
def request_command(
    analysis: Annotated[
        Kind, typer.Option("--analysis", help="km, logrank, rmst, cuminc, cox or meta.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Request file to write.")],
    time: Annotated[
        str | None, typer.Option("--time", help="Time column (os_months; cuminc efs_months).")
    ] = None,
    event: Annotated[
        str | None, typer.Option("--event", help="Event column (death; cuminc first_event).")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Group column (km, logrank, rmst).")
    ] = None,
    levels: Annotated[str | None, typer.Option("--levels", help="Order of the groups.")] = None,
    times: Annotated[
        str, typer.Option("--times", help="Report times, e.g. 12,36,60.")
    ] = "12,36,60",
    tau: Annotated[float, typer.Option("--tau", help="RMST horizon (months).")] = 60.0,
    conf_type: Annotated[
        KMConf | None, typer.Option("--conf-type", help="Interval transform (km log-log).")
    ] = None,
    conf_level: Annotated[float, typer.Option("--conf-level", help="Confidence level.")] = 0.95,
    covariates: Annotated[
        str, typer.Option("--covariates", help="Cox covariates, comma-separated.")
    ] = "approach,timing,age,grade",
    categorical: Annotated[
        list[str] | None, typer.Option("--categorical", help="Numeric column as a factor.")
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(
            "--reference", help="Cox: reference level of a factor, COLUMN=LEVEL (repeatable)."
        ),
    ] = None,
    ties: Annotated[str, typer.Option("--ties", help="efron or breslow.")] = "efron",
    stratified: Annotated[
        bool, typer.Option("--stratified", help="Stratified by site (logrank, cox).")
    ] = False,
    concordance: Annotated[
        Concordance,
        typer.Option(
            "--concordance",
            help=(
                "Cox, common baseline: within-sites (default) or exact (all pairs, as the "
                "pooled fit; one round more, and each event's time and risk score leave its site)."
            ),
        ),
    ] = Concordance.within_sites,
    competing: Annotated[
        str | None, typer.Option("--competing", help="0/1 competing-event column (cuminc).")
    ] = None,
    exact_times: Annotated[
        bool,
        typer.Option("--exact-times", help="Send exact times, not whole months (event tables)."),
    ] = False,
    min_cell: Annotated[
        int, typer.Option("--min-cell", help="Smallest released total of a cell (default 5).")
    ] = 5,
    study: Annotated[str, typer.Option("--study", help="Title of the study.")] = "",
) -> None:
    """Write a request file for every site (the coordinator)."""
    from livermet.federated.exchange import Analysis, Disclosure, write_file
    from livermet.federated.offline import new_request

    if ties not in ("efron", "breslow"):
        raise InputError(f"unknown {ties!r}; use efron or breslow", "ties")
    default_time, default_event = _DEFAULT_OUTCOME.get(analysis.value, ("os_months", "death"))
    default_conf = "log" if analysis is Kind.cuminc else "log-log"
    spec = Analysis(
        kind=analysis.value,
        time=time or default_time,
        event=event or default_event,
        by=by,
        levels=_split(levels),
        times=parse_times(times),
        rmst_horizon=tau,
        conf_type=conf_type.value if conf_type else default_conf,
        conf_level=conf_level,
        covariates=_split(covariates) or [] if analysis.value in {"cox", "meta"} else [],
        categorical=categorical or [],
        reference=parse_references(reference),
        ties=ties,
        stratified=stratified,
        concordance=concordance.value,
        competing=competing,
    )
    if min_cell < 0:
        raise InputError(f"{min_cell} is not a count >= 0", "min_cell")
    rules = Disclosure(coarsen="exact" if exact_times else "month", min_cell=min_cell)
    request = new_request(spec, rules, study)
    write_file(request, output)
    err_console.print(
        f"wrote {output} (request {request.sha256[:16]}...): send it to every site", markup=False
    )


def _site_label(frame: Any, user_site: str | None, given: str | None) -> str:
    """Return the answering site's name: --site-name, the user's site, or the frame's sites."""
    if given:
        return given
    if user_site:
        return user_site
    sites = sorted({str(s) for s in frame["site"].dropna()}) if "site" in frame else []
    return "+".join(sites) or "site"


@app.command("partial")
@friendly_errors
def partial_command(
    request_file: Annotated[Path, typer.Argument(metavar="REQUEST")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Aggregate file (default aggregate-SITE.json)."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write the release report as text.")
    ] = None,
    site_name: Annotated[
        str | None, typer.Option("--site-name", help="Name of this site in the exchange.")
    ] = None,
    synthetic: Annotated[
        bool, typer.Option("--synthetic", help="Include synthetic cases.")
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Answer a request from this site's registry; write the aggregate file (a site)."""
    from livermet.analysis.cohort import with_endpoints
    from livermet.cli.session import acting_registry
    from livermet.federated.exchange import read_request, write_file
    from livermet.federated.offline import site_answer

    request = read_request(request_file)
    registry = acting_registry(db, user, token)
    frame = with_endpoints(registry.cohort_frame(include_synthetic=synthetic))
    site = _site_label(frame, registry.user.site, site_name)
    answer = site_answer(frame, request, site)
    target = output or Path(f"aggregate-{site}.json")
    registry.record_federated_release(_release_details(answer, target))
    write_file(answer, target)
    if report is not None:
        report.write_text("\n".join(answer.release) + "\n", encoding="utf-8")
    err_console.print(
        f"wrote {target} ({answer.aggregate.n} patients; aggregate {answer.sha256[:16]}...); "
        "read its release report before it leaves the site; the release is in the audit log",
        markup=False,
    )


def _times_sent(answer: AggregateFile) -> str:
    """Return which times left the site: ``whole months``, ``exact`` or ``none``."""
    if not answer.request.analysis.sends_times():
        return "none"
    return "whole months" if answer.request.disclosure.coarsen == "month" else "exact"


def _release_details(answer: AggregateFile, target: Path) -> dict[str, Any]:
    """Return what the audit record of a release holds (hashes and counts, no case data)."""
    return {
        "aggregate_sha256": answer.sha256,
        "request_sha256": answer.request.sha256,
        "study": answer.request.study,
        "analysis": answer.request.analysis.kind,
        "round": answer.request.round,
        "site": answer.site,
        "patients": answer.aggregate.n,
        "times": _times_sent(answer),
        "file": target.name,
    }


def _print_logrank(report: dict[str, Any], fmt: TextOrJson) -> None:
    """Print the stratified log-rank test (text or JSON)."""
    if fmt is TextOrJson.json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    lr = report["logrank"]
    typer.echo(f"log-rank test of {report['by']} stratified by site ({report['time_column']}):")
    for g in lr["groups"]:
        typer.echo(
            f"  {g['group']}: n = {g['n']}, observed {g['observed']:g}, "
            f"expected {g['expected']:.2f}"
        )
    typer.echo(f"χ² = {lr['chisq']:.3f}, df = {lr['df']}, p = {lr['p']:.4g}")


def _print_meta(report: dict[str, Any], fmt: TextOrJson) -> None:
    """Print the two-stage meta-analysis (text or JSON)."""
    if fmt is TextOrJson.json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{report['method']}: n = {report['n']}, events = {report['events']}")
    for term, t in report["terms"].items():
        typer.echo(
            f"  {term}: HR {t['hr']:.3f} ({t['hr_lower']:.3f} to {t['hr_upper']:.3f}), "
            f"p = {t['p']:.4g}, k = {t['k']} sites, tau² = {t['tau2']:.4g}"
        )
    for s in report["sites"]:
        if s["reason"]:
            typer.echo(f"  site {s['site']} left out: {s['reason']}")


def _show(combined: Combined, fmt: TextOrJson, output: Path | None) -> None:
    """Print the combined result as ``livermet cohort`` prints the analysis."""
    from livermet.analysis.summary import CoxAnalysis, CumincAnalysis, KMAnalysis
    from livermet.cli.cohort import show_cox, show_cuminc, show_km

    result, report = combined.result, combined.report or {}
    if isinstance(result, KMAnalysis):
        show_km(result, fmt, output)
    elif isinstance(result, CoxAnalysis):
        show_cox(result, fmt, output)
    elif isinstance(result, CumincAnalysis):
        show_cuminc(result, fmt, output)
    elif combined.kind == "meta":
        _print_meta(report, fmt)
    else:
        _print_logrank(report, fmt)


@app.command("combine")
@friendly_errors
def combine_command(
    files: Annotated[list[Path], typer.Argument(metavar="AGGREGATE...")],
    fmt: Annotated[TextOrJson, typer.Option("--format", help="text or json.")] = TextOrJson.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also draw the plot: .png, .svg or .pdf.")
    ] = None,
    next_request: Annotated[
        Path | None,
        typer.Option("--next-request", help="Cox: where to write the next round's request."),
    ] = None,
) -> None:
    """Combine the sites' aggregate files into the analysis (the coordinator)."""
    from livermet.federated.exchange import read_aggregate, write_file
    from livermet.federated.offline import combine

    if output is not None and output.suffix.lower() not in {".png", ".svg", ".pdf"}:
        raise InputError(
            f"unsupported image format {output.suffix!r}; use .png, .svg or .pdf", "output"
        )
    combined = combine([(path, read_aggregate(path)) for path in files])
    if combined.next_request is not None:
        request = combined.next_request
        target = next_request or Path(f"request-round{request.round}.json")
        write_file(request, target)
        message = (
            f"not converged yet: wrote {target}, the request of round {request.round}; send it "
            "to every site, then combine the aggregate files of all rounds again"
        )
        err_console.print(message, markup=False)
        if fmt is TextOrJson.json:
            typer.echo(
                json.dumps(
                    {"status": "next round", "round": request.round, "request": str(target)},
                    indent=2,
                )
            )
        return
    err_console.print(
        f"combined {len(combined.sites)} sites: {', '.join(combined.sites)}"
        + "".join(f"; {note}" for note in combined.notes or []),
        markup=False,
    )
    _show(combined, fmt, output)


__all__ = ["app"]
