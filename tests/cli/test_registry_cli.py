"""`livermet registry|user|site|cohort` from the outside, on an embedded SQLite registry.

The access matrix is checked here through the CLI (the registry API suite checks it on SQLite
and PostgreSQL): roles × own site / other site × read / write / export.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from livermet.cli.main import app
from tests.conftest import SEED_CASE

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Return the environment of a registry: sites a and b, users of each role at each site."""
    db = str(tmp_path_factory.mktemp("reg") / "registry.sqlite")
    env = {"LIVERMET_DATABASE_URL": db, "LIVERMET_PASSWORD": PASSWORD}
    r = runner.invoke(app, ["registry", "init", "--site", "a", "--seed", str(SEED_CASE)], env=env)
    assert r.exit_code == 0, r.output
    assert (
        runner.invoke(app, ["site", "add", "b", "Hospital B", "--user", "admin"], env=env).exit_code
        == 0
    )
    for role in ("viewer", "editor", "site_admin"):
        for site in ("a", "b"):
            r = runner.invoke(
                app,
                [
                    "user",
                    "add",
                    f"{role}_{site}",
                    "--role",
                    role,
                    "--site",
                    site,
                    "--user",
                    "admin",
                ],
                env={**env, "LIVERMET_NEW_PASSWORD": PASSWORD},
            )
            assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        ["user", "add", "coord", "--role", "coordinator", "--user", "admin"],
        env={**env, "LIVERMET_NEW_PASSWORD": PASSWORD},
    )
    assert r.exit_code == 0, r.output
    return env


def _as(registry: dict[str, str], user: str, *args: str) -> Result:
    return runner.invoke(app, [*args, "--user", user], env=registry)


# The seed case lives at site "a". Expected: (read, write, export) per role and site relation.
MATRIX = {
    ("viewer", "own"): (True, False, False),
    ("viewer", "other"): (False, False, False),
    ("editor", "own"): (True, True, False),
    ("editor", "other"): (False, False, False),
    ("site_admin", "own"): (True, True, True),
    ("site_admin", "other"): (False, False, False),
}


@pytest.mark.parametrize(("role", "relation"), sorted(MATRIX))
def test_access_matrix_through_the_cli(
    registry: dict[str, str], role: str, relation: str, tmp_path: Path
) -> None:
    user = f"{role}_{'a' if relation == 'own' else 'b'}"
    can_read, can_write, can_export = MATRIX[(role, relation)]
    shown = _as(registry, user, "registry", "show", "seed-case")
    assert (shown.exit_code == 0) is can_read, shown.output
    if not can_read:  # another site's case is answered like an unknown one, the site unnamed
        assert shown.exit_code == 4 and "no case" in shown.stderr, shown.output
        assert "site" not in shown.stderr.replace("seed-case", "")
    edited = tmp_path / "edited.yaml"
    data = yaml.safe_load(SEED_CASE.read_text())
    data["notes"] = f"edited by {user}"
    edited.write_text(yaml.safe_dump(data))
    wrote = _as(registry, user, "registry", "edit", "seed-case", "--file", str(edited))
    assert (wrote.exit_code == 0) is can_write, wrote.output
    exported = _as(
        registry,
        user,
        "registry",
        "export",
        "--format",
        "csv",
        "--site",
        "a",
        "-o",
        str(tmp_path / "x.csv"),
    )
    assert (exported.exit_code == 0) is can_export, exported.output


def test_coordinator_reads_all_sites_but_does_not_write(
    registry: dict[str, str], tmp_path: Path
) -> None:
    # the coordinator reads de-identified, by the DEID- id its list gives; not the real id
    assert _as(registry, "coord", "registry", "show", "seed-case").exit_code == 4
    listed = _as(registry, "coord", "registry", "list")
    assert listed.exit_code == 0 and "seed-case" not in listed.stdout, listed.output
    (deid,) = [w for w in listed.stdout.split() if w.startswith("DEID-")]
    shown = _as(registry, "coord", "registry", "show", deid)
    assert shown.exit_code == 0 and "[removed]" in shown.stdout, shown.output
    edited = tmp_path / "e.yaml"
    edited.write_text(SEED_CASE.read_text())
    assert (  # the identified id is unknown to a coordinator
        _as(registry, "coord", "registry", "edit", "seed-case", "--file", str(edited)).exit_code
        == 4
    )
    assert _as(registry, "coord", "registry", "edit", deid, "--file", str(edited)).exit_code == 5


def test_stale_edit_is_a_conflict(registry: dict[str, str], tmp_path: Path) -> None:
    edited = tmp_path / "e.yaml"
    edited.write_text(SEED_CASE.read_text())
    first = _as(registry, "admin", "registry", "show", "seed-case").stdout
    version = int(first.split("version ")[1].split()[0])
    ok = _as(
        registry,
        "admin",
        "registry",
        "edit",
        "seed-case",
        "--file",
        str(edited),
        "--version",
        str(version),
    )
    assert ok.exit_code == 0, ok.output
    stale = _as(
        registry,
        "admin",
        "registry",
        "edit",
        "seed-case",
        "--file",
        str(edited),
        "--version",
        str(version),
    )
    assert stale.exit_code == 3 and "version" in stale.stderr


@pytest.mark.parametrize("fmt", ["csv", "redcap", "fhir", "case"])
def test_export_import_round_trip(registry: dict[str, str], tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"export.{fmt}"
    r = _as(
        registry, "admin", "registry", "export", "--format", fmt, "--identified", "-o", str(out)
    )
    assert r.exit_code == 0, r.output
    # importing the same cases again is refused as duplicates, and nothing is written
    again = _as(registry, "admin", "registry", "import", str(out), "--format", fmt, "--site", "a")
    assert again.exit_code == 3, again.output
    assert (
        "audit log intact" in runner.invoke(app, ["registry", "verify-audit"], env=registry).stdout
    )


@pytest.mark.parametrize("fmt", ["case", "fhir"])
def test_merging_a_stale_export_exits_3(registry: dict[str, str], tmp_path: Path, fmt: str) -> None:
    """The export records each case's version; a merge after a newer edit is a conflict."""
    out = tmp_path / f"export.{fmt}"
    export = ("registry", "export", "--format", fmt, "--identified", "--site", "a", "-o")
    assert _as(registry, "admin", *export, str(out)).exit_code == 0
    shown = _as(registry, "admin", "registry", "show", "seed-case").stdout
    version = shown.split("version ")[1].split()[0]
    edited = tmp_path / "edited.yaml"
    edited.write_text(SEED_CASE.read_text() + f"notes: edited after export {fmt}\n")
    edit = ("registry", "edit", "seed-case", "--file", str(edited), "--version", version)
    assert _as(registry, "admin", *edit).exit_code == 0
    merge = ("registry", "import", str(out), "--format", fmt, "--site", "a", "--merge")
    stale = _as(registry, "admin", *merge)
    assert stale.exit_code == 3, stale.output
    assert "seed-case" in stale.stderr and "since it was exported" in stale.stderr
    after = _as(registry, "admin", "registry", "show", "seed-case").stdout
    assert f"edited after export {fmt}" in after  # the newer edit was not undone
    assert _as(registry, "admin", *export, str(out)).exit_code == 0  # a fresh export merges
    merged = _as(registry, "admin", *merge)
    assert merged.exit_code == 0, merged.output
    assert "merged" in merged.stderr


def test_broken_csv_reports_every_row_and_writes_nothing(
    registry: dict[str, str], tmp_path: Path
) -> None:
    from livermet.case.load import load_case
    from livermet.interchange import cases_to_csv

    case = load_case(SEED_CASE)
    good = cases_to_csv([case.model_copy(update={"id": f"c{i}"}) for i in range(3)])
    lines = good.splitlines()
    lines[1] = lines[1].replace("80", "200", 1)  # age 200 on row 2
    lines[3] = lines[3].replace("R0", "R9", 1)  # no such margin on row 4
    assert lines[3] != good.splitlines()[3]
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    before = _as(registry, "admin", "registry", "list").stdout
    r = _as(registry, "admin", "registry", "import", str(bad), "--format", "csv", "--site", "a")
    assert r.exit_code == 2
    assert "row 2" in r.stderr and "row 4" in r.stderr
    assert _as(registry, "admin", "registry", "list").stdout == before


def test_cohort_from_the_registry_and_synth(registry: dict[str, str]) -> None:
    r = _as(registry, "admin", "cohort", "synth", "--n", "60", "--seed", "3", "--site", "a")
    assert r.exit_code == 0, r.output
    km = _as(
        registry, "admin", "cohort", "km", "--synthetic", "--by", "approach", "--format", "json"
    )
    assert km.exit_code == 0, km.output
    report = json.loads(km.stdout)
    assert report["overall"]["n"] == 61  # 60 synthetic + the seed case
    assert "logrank" in report


def test_verify_audit_detects_tampering(registry: dict[str, str], tmp_path: Path) -> None:
    import shutil
    import sqlite3

    copy = tmp_path / "copy.sqlite"
    src = registry["LIVERMET_DATABASE_URL"]
    with sqlite3.connect(src) as conn:  # checkpoint the WAL into the main file before copying
        conn.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copy(src, copy)
    with sqlite3.connect(copy) as conn:
        table = next(
            name
            for (name,) in conn.execute("select name from sqlite_master where type='table'")
            if "audit" in name and "head" not in name
        )
        conn.execute(f"update {table} set actor = 'mallory' where rowid = 2")
    r = runner.invoke(app, ["registry", "verify-audit", "--db", str(copy)])
    assert r.exit_code == 1 and "broken" in r.stderr


def _copy_of(registry: dict[str, str], tmp_path: Path) -> Path:
    import shutil
    import sqlite3

    copy = tmp_path / "copy.sqlite"
    with sqlite3.connect(registry["LIVERMET_DATABASE_URL"]) as conn:
        conn.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copy(registry["LIVERMET_DATABASE_URL"], copy)
    return copy


def _sql(path: Path, *statements: str) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)


def test_verify_audit_prints_the_head_and_checks_kept_heads(
    registry: dict[str, str], tmp_path: Path
) -> None:
    head = runner.invoke(app, ["registry", "audit-head"], env=registry)
    assert head.exit_code == 0, head.output
    seq, digest = head.stdout.split()
    assert seq.isdigit() and len(digest) == 64
    r = runner.invoke(app, ["registry", "verify-audit"], env=registry)
    assert r.exit_code == 0 and "audit log intact" in r.stdout
    assert f"head: {seq} {digest}" in r.stdout
    kept = tmp_path / "heads.txt"
    kept.write_text(f"# kept daily\n{head.stdout}\nhead: {seq} {digest}\n", encoding="utf-8")
    r = runner.invoke(
        app,
        ["registry", "verify-audit", "--head", digest, "--head-file", str(kept)],
        env=registry,
    )
    assert r.exit_code == 0, r.output
    assert "kept heads found in the chain: 2" in r.stdout  # the same head, given three times
    for bad in (["--head", "12 not-a-hash"], ["--head-file", str(tmp_path / "none.txt")]):
        r = runner.invoke(app, ["registry", "verify-audit", *bad], env=registry)
        assert r.exit_code == 2 and "head" in r.stderr


def test_verify_audit_detects_truncation_with_a_kept_head(
    registry: dict[str, str], tmp_path: Path
) -> None:
    from livermet.registry import Database

    copy = _copy_of(registry, tmp_path)
    with Database(copy) as db:
        db.registry("admin").export_cases()  # the last record changes no state
    kept = runner.invoke(app, ["registry", "audit-head", "--db", str(copy)])
    seq, _ = kept.stdout.split()
    _sql(
        copy,
        f"DELETE FROM audit_log WHERE seq = {seq}",
        f"UPDATE audit_head SET seq = {int(seq) - 1}, "
        f"hash = (SELECT hash FROM audit_log WHERE seq = {int(seq) - 1})",
    )
    r = runner.invoke(app, ["registry", "verify-audit", "--db", str(copy)])
    assert r.exit_code == 0  # a clean cut is invisible without a kept head
    r = runner.invoke(
        app, ["registry", "verify-audit", "--db", str(copy), "--head", kept.stdout.strip()]
    )
    assert r.exit_code == 1 and f"anchored record {seq} is missing" in r.stderr


def test_verify_audit_reports_rows_edited_in_sql(registry: dict[str, str], tmp_path: Path) -> None:
    copy = _copy_of(registry, tmp_path)
    _sql(copy, "UPDATE users SET role = 'admin', site_id = NULL WHERE username = 'viewer_a'")
    r = runner.invoke(app, ["registry", "verify-audit", "--db", str(copy)])
    assert r.exit_code == 1
    assert "differs from its audit log" in r.stderr and "2 differences" in r.stderr
    assert "user 'viewer_a': role: the audit log says 'viewer'" in r.stderr
    head = runner.invoke(app, ["registry", "audit-head", "--db", str(copy)])
    assert head.exit_code == 1 and head.stdout == ""


@pytest.mark.parametrize(
    "command",
    [
        ["registry", "list", "--user", "admin"],
        ["user", "list", "--user", "admin"],
        ["registry", "verify-audit"],
    ],
    ids=["registry-list", "user-list", "verify-audit"],
)
def test_a_registry_that_does_not_exist_is_an_error_not_a_new_one(
    tmp_path: Path, command: list[str]
) -> None:
    typo = tmp_path / "registy.sqlite"
    env = {"LIVERMET_PASSWORD": PASSWORD}
    result = runner.invoke(app, [*command, "--db", str(typo)], env=env)
    assert result.exit_code == 4, result.output
    assert "--db" in result.stderr and "no registry at" in result.stderr
    assert "livermet registry init" in " ".join(result.stderr.split())
    assert not typo.exists()


def test_a_file_without_a_registry_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    env = {"LIVERMET_PASSWORD": PASSWORD}
    result = runner.invoke(
        app, ["registry", "list", "--db", str(empty), "--user", "admin"], env=env
    )
    assert result.exit_code == 4
    assert "holds no livermet registry" in " ".join(result.stderr.split())


def test_registry_init_creates_the_registry_then_others_open_it(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    env = {"LIVERMET_PASSWORD": PASSWORD}
    assert runner.invoke(app, ["registry", "init", "--db", str(db)], env=env).exit_code == 0
    assert db.is_file()
    listed = runner.invoke(app, ["user", "list", "--db", str(db), "--user", "admin"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "admin" in listed.stdout
