"""`livermet registry|user|site|cohort` from the outside, on an embedded SQLite registry.

The access matrix is checked here through the CLI (the registry API suite checks it on SQLite
and PostgreSQL): roles × own site / other site × read / write / export.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from livermet.cli.main import app
from tests.conftest import SEED_CASE

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
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


def _as(registry: dict[str, str], user: str, *args: str):
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
    if not can_read:
        assert shown.exit_code == 5 and "may not" in shown.stderr
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
    assert _as(registry, "coord", "registry", "show", "seed-case").exit_code == 0
    edited = tmp_path / "e.yaml"
    edited.write_text(SEED_CASE.read_text())
    assert (
        _as(registry, "coord", "registry", "edit", "seed-case", "--file", str(edited)).exit_code
        == 5
    )


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
