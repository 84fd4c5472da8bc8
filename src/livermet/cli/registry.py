"""``livermet registry``, ``livermet user`` and ``livermet site``: the multi-site case store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Column, Table

from livermet.case.load import (
    PARSE_ERRORS,
    case_from_data,
    load_case,
    load_yaml_all,
    parse_error,
    read_text_file,
)
from livermet.case.model import Case
from livermet.cli.common import err_console, friendly_errors
from livermet.cli.session import (
    DbOption,
    TokenOption,
    UserOption,
    acting_registry,
    open_database,
    password_for,
)
from livermet.errors import InputError
from livermet.registry import AuditAnchor, CaseInput, Registry, synthetic_cases

app = typer.Typer(help="The multi-site registry: add, import, export, list, show, edit, audit.")
user_app = typer.Typer(help="Users, roles and API tokens.")
site_app = typer.Typer(help="Sites (hospitals).")


class Interchange(StrEnum):
    """File format of a registry import or export: CSV, REDCap, FHIR bundles or case files."""

    csv = "csv"
    redcap = "redcap"
    fhir = "fhir"
    case = "case"


def _cases_from_file(path: Path, fmt: Interchange) -> list[Case]:
    """Read every case of an interchange file; a broken file names every broken row."""
    from livermet import interchange

    text = read_text_file(path, "FILE")
    if fmt is Interchange.csv:
        return list(interchange.cases_from_csv(text))
    if fmt is Interchange.redcap:
        return list(interchange.import_records_csv(text))
    if fmt is Interchange.fhir:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) > 1 and all(ln.lstrip().startswith("{") for ln in lines):
            return [interchange.case_from_fhir_json(ln) for ln in lines]  # NDJSON of bundles
        return [interchange.case_from_fhir_json(text)]
    try:
        documents = [d for d in load_yaml_all(text) if d is not None]
    except PARSE_ERRORS as exc:
        raise InputError(f"cannot parse {path.name}: {parse_error(exc)}", "FILE") from None
    if len(documents) == 1 and isinstance(documents[0], list):
        documents = documents[0]
    if len(documents) == 1:
        return [load_case(path)]
    return [case_from_data(d) for d in documents]


VERSION_COMMENT = re.compile(r'^# livermet registry: version (\d+) of case (".*")$', re.MULTILINE)
"""How a case-format export records each case's registry version (a comment keeps the file a
valid case file for every other tool); a merge of the file checks it."""


def _versions_in_file(text: str, fmt: Interchange) -> dict[str, int]:
    """Return the registry versions an export recorded, by case id (none for CSV and REDCap)."""
    versions: dict[str, int] = {}
    if fmt is Interchange.case:
        for found in VERSION_COMMENT.finditer(text):
            try:
                versions[str(json.loads(found.group(2)))] = int(found.group(1))
            except ValueError:
                continue  # not written by an export
        return versions
    if fmt is Interchange.fhir:
        for line in text.splitlines():
            try:
                bundle = json.loads(line)
                version = bundle["meta"]["versionId"]
                versions[bundle["identifier"]["value"]] = int(version)
            except (ValueError, TypeError, KeyError):
                continue  # not an exported bundle: merged without the version check
        return versions
    return {}


def _cases_to_text(cases: list[Case], fmt: Interchange, versions: list[int | None]) -> str:
    """Return the export file; ``case`` and ``fhir`` record each case's registry version."""
    from livermet import interchange

    if fmt is Interchange.csv:
        return str(interchange.cases_to_csv(cases))
    if fmt is Interchange.redcap:
        return str(interchange.export_records_csv(cases))
    if fmt is Interchange.fhir:
        lines = []
        for case, version in zip(cases, versions, strict=True):
            bundle = json.loads(interchange.case_to_fhir_json(case))
            if version is not None:
                bundle["meta"] = {"versionId": str(version)}
            lines.append(json.dumps(bundle) + "\n")
        return "".join(lines)
    documents = []
    for case, version in zip(cases, versions, strict=True):
        # The id as a JSON string: no id can end the comment line.
        mark = f"# livermet registry: version {version} of case {json.dumps(case.id)}\n"
        body = yaml.safe_dump(
            case.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True
        )
        documents.append(body if version is None else mark + body)
    return "---\n".join(documents)


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def import_with_progress(
    registry: Registry,
    cases: Sequence[Case | CaseInput],
    *,
    source: str,
    site: str | None,
    merge: bool,
    synthetic: bool = False,
) -> None:
    """Import ``cases`` into the registry with a progress bar, then print what was done."""
    with _progress() as progress:
        task = progress.add_task(f"importing {source}", total=len(cases))
        report = registry.import_cases(
            cases,
            source=source,
            site=site,
            merge=merge,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    kind = "synthetic " if synthetic else ""
    err_console.print(
        f"imported {report.created} new {kind}case(s), merged {report.merged}, "
        f"from {source} (sites: {', '.join(report.sites) or '-'})"
    )


# --- registry ---------------------------------------------------------------------------


@app.command("init")
@friendly_errors
def init_command(
    db: DbOption = None,
    admin: Annotated[str, typer.Option(help="Name of the first user (an admin).")] = "admin",
    site: Annotated[str | None, typer.Option(help="Code of a first site.")] = None,
    site_name: Annotated[str | None, typer.Option(help="Name of the first site.")] = None,
    seed: Annotated[
        Path | None, typer.Option(help="A case file to store first, e.g. examples/seed-case.yaml.")
    ] = None,
    synthetic: Annotated[int, typer.Option(help="Add this many synthetic demo cases.")] = 0,
) -> None:
    """Create the registry (if needed) with its first admin; optionally a site and demo data."""
    database = open_database(db, create=True)
    user = database.bootstrap(admin, password_for(admin))
    registry = database.registry(user)
    err_console.print(f"registry ready; admin user {admin!r}")
    if site:
        registry.create_site(site, site_name or site)
        err_console.print(f"site {site!r} created")
    if seed is not None:
        stored = registry.create_case(load_case(seed), site=site)
        err_console.print(f"seed case stored as {stored.case_id}")
    if synthetic:
        import_with_progress(
            registry,
            synthetic_cases(synthetic, seed=1),
            source="synthetic demo cohort",
            site=site,
            merge=False,
            synthetic=True,
        )


@app.command("add")
@friendly_errors
def add_command(
    case_file: Annotated[Path, typer.Argument(metavar="CASE")],
    hospital_number: Annotated[
        str | None, typer.Option(help="Hospital number (stored only as a keyed hash).")
    ] = None,
    site: Annotated[str | None, typer.Option(help="Site code (default: your own).")] = None,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Store one case file."""
    registry = acting_registry(db, user, token)
    stored = registry.create_case(load_case(case_file), hospital_number=hospital_number, site=site)
    typer.echo(f"{stored.case_id} (site {stored.site}, version {stored.version})")


@app.command("import")
@friendly_errors
def import_command(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    fmt: Annotated[Interchange, typer.Option("--format", help="csv, redcap, fhir or case.")],
    site: Annotated[str | None, typer.Option(help="Site code (default: your own).")] = None,
    merge: Annotated[bool, typer.Option(help="Merge duplicates instead of refusing.")] = False,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Import a file of cases, all or nothing; every broken row is reported."""
    registry = acting_registry(db, user, token)
    cases = _cases_from_file(file, fmt)
    # An exported file carries each case's registry version: a merge into a case changed since
    # the export is a conflict (exit 3), as a stale edit is.
    versions = _versions_in_file(read_text_file(file, "FILE"), fmt) if merge else {}
    entries = [CaseInput(c, version=versions.get(c.id)) for c in cases]
    import_with_progress(registry, entries, source=file.name, site=site, merge=merge)


class ExportFormat(StrEnum):
    """File format of ``registry export``: the import formats, or the analysis table."""

    csv = "csv"
    redcap = "redcap"
    fhir = "fhir"
    case = "case"
    analysis = "analysis"


def _write_atomically(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Write ``path`` through a temporary file beside it: nothing is left behind on failure."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            write(handle)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _export_analysis(
    registry: Registry,
    output: Path | None,
    dictionary: Path | None,
    *,
    sites: list[str] | None,
    deidentified: bool,
    synthetic: bool,
) -> None:
    from livermet.registry.analysis_export import (
        dictionary_path_for,
        export_analysis,
        write_dictionary,
    )

    for path, option in ((output, "--output"), (dictionary, "--dictionary")):
        if path is not None and not path.parent.is_dir():  # before the export is taken
            raise InputError(f"no such directory: {path.parent}", option)
    count = 0

    def write(out: IO[str]) -> None:
        nonlocal count
        count = export_analysis(
            registry, out, sites=sites, deidentified=deidentified, include_synthetic=synthetic
        )

    if output is None:
        write(sys.stdout)
        sys.stdout.flush()
    else:
        _write_atomically(output, write)
        if dictionary is None:
            dictionary = output.with_name(dictionary_path_for(output.name))
    if dictionary is not None:
        _write_atomically(dictionary, write_dictionary)
    where = "" if output is None else f" to {output}"
    err_console.print(
        f"wrote {count} case(s){where}; "
        + (
            f"data dictionary: {dictionary}"
            if dictionary is not None
            else "the data dictionary: --dictionary FILE, or --dictionary-only"
        ),
        highlight=False,
        soft_wrap=True,
    )


@app.command("export")
@friendly_errors
def export_command(
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="csv, redcap, fhir, case, or analysis (one row per case for statistics, "
            "with a data dictionary; docs/analysis-export.md).",
        ),
    ],
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    deidentified: Annotated[
        bool,
        typer.Option(
            "--deidentified/--identified",
            help="Drop identifiers, shift dates, group ages over 89 (default).",
        ),
    ] = True,
    site: Annotated[list[str] | None, typer.Option(help="Only these sites.")] = None,
    synthetic: Annotated[bool, typer.Option(help="Include synthetic cases.")] = False,
    dictionary: Annotated[
        Path | None,
        typer.Option(
            "--dictionary",
            help="analysis: write the data dictionary here (default with -o FILE.csv: "
            "FILE.dictionary.csv beside it).",
        ),
    ] = None,
    dictionary_only: Annotated[
        bool,
        typer.Option(
            "--dictionary-only",
            help="analysis: write only the data dictionary (to -o or stdout); reads no registry.",
        ),
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Export cases (audited)."""
    if fmt is not ExportFormat.analysis and (dictionary is not None or dictionary_only):
        option = "--dictionary-only" if dictionary_only else "--dictionary"
        raise InputError(f"{option} goes with --format analysis", option)
    if dictionary_only:
        from livermet.registry.analysis_export import write_dictionary

        if output is None:
            write_dictionary(sys.stdout)
        else:
            _write_atomically(output, write_dictionary)
            err_console.print(f"wrote the data dictionary to {output}", highlight=False)
        return
    registry = acting_registry(db, user, token)
    if fmt is ExportFormat.analysis:
        _export_analysis(
            registry,
            output,
            dictionary,
            sites=site or None,
            deidentified=deidentified,
            synthetic=synthetic,
        )
        return
    exported = registry.export_cases(
        sites=site or None, deidentified=deidentified, include_synthetic=synthetic
    )
    text = _cases_to_text(
        [e.case for e in exported], Interchange(fmt.value), [e.version for e in exported]
    )
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {len(exported)} case(s) to {output}", markup=False)


@app.command("list")
@friendly_errors
def list_command(
    site: Annotated[list[str] | None, typer.Option(help="Only these sites.")] = None,
    synthetic: Annotated[bool, typer.Option(help="Include synthetic cases.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 100,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """List the cases you may see."""
    registry = acting_registry(db, user, token)
    rows = registry.list_cases(sites=site or None, include_synthetic=synthetic, limit=limit)
    ids = [r.case_id + (" (synthetic)" if r.synthetic else "") for r in rows]
    case_column = Column("case", no_wrap=True, min_width=max(map(len, ids), default=4))
    table = Table(case_column, "site", "v", "age", "sex", "histology", "approach")
    for r in rows:  # ids are typed back (registry show): never cut
        table.add_row(
            r.case_id + (" (synthetic)" if r.synthetic else ""),
            r.site,
            str(r.version),
            "" if r.age_years is None else str(r.age_years),
            r.sex or "",
            r.histology,
            r.approach or "",
        )
    Console().print(table)


@app.command("show")
@friendly_errors
def show_command(
    case_id: Annotated[str, typer.Argument(metavar="ID")],
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Print a stored case as a case file (YAML)."""
    stored = acting_registry(db, user, token).get_case(case_id)
    typer.echo(f"# site {stored.site}, version {stored.version}")
    typer.echo(
        yaml.safe_dump(
            stored.case.model_dump(mode="json", exclude_none=True),
            sort_keys=False,
            allow_unicode=True,
        ),
        nl=False,
    )


@app.command("edit")
@friendly_errors
def edit_command(
    case_id: Annotated[str, typer.Argument(metavar="ID")],
    file: Annotated[
        Path | None, typer.Option("--file", help="New version of the case (default: $EDITOR).")
    ] = None,
    version: Annotated[
        int | None, typer.Option(help="The version your edit is based on (default: current).")
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Replace a case with an edited version; a stale edit is refused as a conflict."""
    registry = acting_registry(db, user, token)
    stored = registry.get_case(case_id)
    base = stored.version if version is None else version
    if file is None:
        file = _edit_in_editor(stored.case)
    updated = registry.update_case(case_id, load_case(file), expected_version=base)
    typer.echo(f"{updated.case_id} saved as version {updated.version}")


def _edit_in_editor(case: Case) -> Path:
    editor = os.environ.get("EDITOR") or os.environ.get("VISUAL")
    if not editor:
        raise InputError("set $EDITOR or give --file", "file")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, encoding="utf-8") as handle:
        yaml.safe_dump(case.model_dump(mode="json", exclude_none=True), handle, sort_keys=False)
    subprocess.run([editor, handle.name], check=False)  # the user's own editor
    return Path(handle.name)


HeadOption = Annotated[
    list[str] | None,
    typer.Option(
        "--head",
        help="A head kept outside the database ('SEQ HASH' as audit-head prints, or HASH): "
        "the chain must still hold it (detects records removed from its end). Repeatable.",
    ),
]
HeadFileOption = Annotated[
    Path | None,
    typer.Option(
        "--head-file",
        help="A file of kept heads, one per line (blank lines and '#' comments ignored): "
        "the chain must hold every one.",
    ),
]


def _anchors(heads: list[str] | None, head_file: Path | None) -> list[AuditAnchor]:
    anchors = [AuditAnchor.parse(h) for h in heads or []]
    if head_file is not None:
        if not head_file.is_file():
            raise InputError(f"no such file: {head_file}", "--head-file")
        for number, line in enumerate(head_file.read_text(encoding="utf-8").splitlines(), 1):
            text = line.split("#", 1)[0].strip().removeprefix("head:")
            if not text.strip():
                continue
            try:
                anchors.append(AuditAnchor.parse(text))
            except InputError as exc:
                raise InputError(exc.message, f"--head-file line {number}") from None
    return anchors


@app.command("verify-audit")
@friendly_errors
def verify_audit_command(
    db: DbOption = None, head: HeadOption = None, head_file: HeadFileOption = None
) -> None:
    """Check the audit log's hash chain, any kept heads, and that the tables match the log.

    Exit 1 and say what is wrong (the first broken record, every differing row).
    """
    anchors = _anchors(head, head_file)
    result = open_database(db).verify_audit(anchors)
    if result.ok:
        typer.echo(f"audit log intact: {result.records} records")
        if anchors:
            typer.echo(f"kept heads found in the chain: {result.anchors}")
        typer.echo(f"head: {result.head_seq} {result.head_hash}")
        return
    if result.mismatches:
        err_console.print(
            f"[red]registry differs from its audit log[/]: {len(result.mismatches)} "
            f"difference{'s' if len(result.mismatches) > 1 else ''}"
        )
        for mismatch in result.mismatches:
            err_console.print(escape(str(mismatch)), highlight=False, soft_wrap=True)
    else:
        where = "" if result.first_broken is None else f" at record {result.first_broken}"
        err_console.print(f"[red]audit log broken[/]{where}: {escape(str(result.reason))}")
    raise typer.Exit(1)


@app.command("audit-head")
@friendly_errors
def audit_head_command(db: DbOption = None) -> None:
    """Print the audit chain's head ('SEQ HASH') after verifying everything.

    Keep it outside the database (e.g. ``>> heads.txt`` daily) and check it later with
    verify-audit --head-file.
    """
    result = open_database(db).verify_audit()
    if not result.ok:
        err_console.print(
            f"[red]not printing the head of a registry that fails verification[/]: "
            f"{escape(str(result.reason))} (run verify-audit)"
        )
        raise typer.Exit(1)
    typer.echo(f"{result.head_seq} {result.head_hash}")


# --- users and sites --------------------------------------------------------------------


@user_app.command("add")
@friendly_errors
def user_add(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="viewer, editor, site_admin, coordinator or admin.")],
    site: Annotated[str | None, typer.Option(help="The user's site.")] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="LIVERMET_NEW_PASSWORD", help="Password of the new user."),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Add a user."""
    created = acting_registry(db, user, token).create_user(
        username, role=role, site=site, password=password
    )
    typer.echo(f"{created.username}: {created.role.value} at {created.site or 'all sites'}")


@user_app.command("list")
@friendly_errors
def user_list(db: DbOption = None, user: UserOption = None, token: TokenOption = None) -> None:
    """List users."""
    table = Table("user", "role", "site", "active")
    for u in acting_registry(db, user, token).list_users():
        table.add_row(u.username, u.role.value, u.site or "all", "yes" if u.active else "no")
    Console().print(table)


@user_app.command("token")
@friendly_errors
def user_token(
    username: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Create an API token for a user; the secret is shown once."""
    new = acting_registry(db, user, token).create_token(label, username=username)
    typer.echo(f"token {new.id}: {new.token}")


@user_app.command("revoke")
@friendly_errors
def user_revoke(
    username: Annotated[str, typer.Argument()],
    token_id: Annotated[
        int | None, typer.Option("--token-id", help="Revoke only this API token.")
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Revoke a user's access (deactivate), or one of their API tokens."""
    registry = acting_registry(db, user, token)
    if token_id is not None:
        registry.revoke_token(token_id)
        typer.echo(f"token {token_id} revoked")
        return
    registry.update_user(username, active=False)
    for t in registry.list_tokens(username=username):
        if t.revoked_at is None:
            registry.revoke_token(t.id)
    typer.echo(f"{username} deactivated; their tokens revoked")


@site_app.command("add")
@friendly_errors
def site_add(
    code: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Argument()],
    db: DbOption = None,
    user: UserOption = None,
    token: TokenOption = None,
) -> None:
    """Add a site."""
    site = acting_registry(db, user, token).create_site(code, name)
    typer.echo(f"{site.code}: {site.name}")


@site_app.command("list")
@friendly_errors
def site_list(db: DbOption = None, user: UserOption = None, token: TokenOption = None) -> None:
    """List sites."""
    table = Table("site", "name")
    for s in acting_registry(db, user, token).list_sites():
        table.add_row(s.code, s.name)
    Console().print(table)
