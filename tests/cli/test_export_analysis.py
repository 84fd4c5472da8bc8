"""`livermet registry export --format analysis` from the outside, on an embedded SQLite registry.

The file and its data dictionary, stdout, rights, the audit, and the same event-free survival as
`livermet cohort` on the registry.
"""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app
from livermet.registry.analysis_export import HEADER
from tests.conftest import SEED_CASE
from tests.registry.test_analysis_export import PREOP_ROW, SEED_ROW

runner = CliRunner()
PASSWORD = "correct horse battery"
N_SYNTHETIC = 40


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Return the environment of a registry with synthetic cases, a viewer and a coordinator."""
    db = str(tmp_path_factory.mktemp("reg") / "registry.sqlite")
    env = {"LIVERMET_DATABASE_URL": db, "LIVERMET_PASSWORD": PASSWORD}
    init = ["registry", "init", "--site", "a", "--seed", str(SEED_CASE)]
    r = runner.invoke(app, [*init, "--synthetic", str(N_SYNTHETIC)], env=env)
    assert r.exit_code == 0, r.output
    preop = SEED_CASE.parent / "preop-uterine-lms.yaml"
    r = runner.invoke(
        app, ["registry", "add", str(preop), "--site", "a", "--user", "admin"], env=env
    )
    assert r.exit_code == 0, r.output
    new = {**env, "LIVERMET_NEW_PASSWORD": PASSWORD}
    for name, role in (("viewer_a", "viewer"), ("coord", "coordinator")):
        extra = ["--site", "a"] if role == "viewer" else []
        r = runner.invoke(
            app, ["user", "add", name, "--role", role, *extra, "--user", "admin"], env=new
        )
        assert r.exit_code == 0, r.output
    return env


def _as(registry: dict[str, str], user: str, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--user", user], env=registry)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


EXPORT = ("registry", "export", "--format", "analysis")


def test_export_to_a_file_with_its_dictionary(registry: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "cohort.csv"
    r = _as(registry, "admin", *EXPORT, "--identified", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "wrote 2 case(s)" in r.stderr and "cohort.dictionary.csv" in r.stderr
    rows = {row["case_id"]: row for row in _rows(out.read_text(encoding="utf-8"))}
    assert set(rows) == {"seed-case", "preop-uterine-lms"}  # synthetic cases left out
    assert rows["seed-case"] == {**SEED_ROW, "site": "a"}
    preop = rows["preop-uterine-lms"]
    assert {k: preop[k] for k in PREOP_ROW} == PREOP_ROW
    dictionary = _rows((tmp_path / "cohort.dictionary.csv").read_text(encoding="utf-8"))
    assert [d["column"] for d in dictionary] == list(HEADER)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # patient data: owner only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.csv", "cohort.dictionary.csv"]


def test_export_to_stdout_and_a_dictionary_elsewhere(
    registry: dict[str, str], tmp_path: Path
) -> None:
    where = tmp_path / "dd.csv"
    r = _as(registry, "admin", *EXPORT, "--synthetic", "--dictionary", str(where))
    assert r.exit_code == 0, r.output
    rows = _rows(r.stdout)
    assert r.stdout.splitlines()[0] == ",".join(HEADER)
    assert len(rows) == 2 + N_SYNTHETIC
    assert sum(row["synthetic"] == "1" for row in rows) == N_SYNTHETIC
    assert all(row["case_id"].startswith(("DEID-", "SYN-DEID-")) for row in rows)  # default
    assert len(_rows(where.read_text(encoding="utf-8"))) == len(HEADER)


def test_dictionary_only_reads_no_registry(tmp_path: Path) -> None:
    r = runner.invoke(app, [*EXPORT, "--dictionary-only"], env={"LIVERMET_DATABASE_URL": ""})
    assert r.exit_code == 0, r.output
    dictionary = _rows(r.stdout)
    assert [d["column"] for d in dictionary] == list(HEADER)
    assert list(dictionary[0]) == [
        "column",
        "type",
        "unit",
        "definition",
        "allowed_values",
        "source",
    ]
    out = tmp_path / "dictionary.csv"
    assert runner.invoke(app, [*EXPORT, "--dictionary-only", "-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == r.stdout


def test_a_missing_directory_is_refused_before_the_export(
    registry: dict[str, str], tmp_path: Path
) -> None:
    for option in ("-o", "--dictionary"):
        r = _as(registry, "admin", *EXPORT, option, str(tmp_path / "no" / "x.csv"))
        assert r.exit_code == 2, r.output
        assert "no such directory" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_dictionary_options_go_with_the_analysis_format(registry: dict[str, str]) -> None:
    for option in ("--dictionary-only", "--dictionary=x.csv"):
        r = _as(registry, "admin", "registry", "export", "--format", "csv", option)
        assert r.exit_code == 2, r.output
        assert "--format analysis" in r.stderr


def test_rights_are_those_of_the_other_exports(registry: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    refused = _as(registry, "coord", *EXPORT, "--identified", "-o", str(out))
    assert refused.exit_code == 5, refused.output
    assert _as(registry, "viewer_a", *EXPORT, "-o", str(out)).exit_code == 5
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a dictionary
    allowed = _as(registry, "coord", *EXPORT, "-o", str(out))
    assert allowed.exit_code == 0, allowed.output
    rows = _rows(out.read_text(encoding="utf-8"))
    assert len(rows) == 2 and all(row["case_id"].startswith("DEID-") for row in rows)


def test_exports_are_audited_and_the_chain_holds(registry: dict[str, str]) -> None:
    before = _as(registry, "admin", *EXPORT).exit_code
    assert before == 0
    verify = runner.invoke(app, ["registry", "verify-audit"], env=registry)
    assert verify.exit_code == 0 and "audit log intact" in verify.stdout


def _km(result_text: str) -> dict[str, object]:
    report = json.loads(result_text)
    overall: dict[str, object] = report["overall"]
    return overall


def test_efs_of_the_export_is_the_registrys(registry: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    assert _as(registry, "admin", *EXPORT, "--synthetic", "-o", str(out)).exit_code == 0
    km = ("cohort", "km", "--time", "efs_months", "--event", "efs_event", "--format", "json")
    from_file = runner.invoke(app, [*km, "--data", str(out), "--drop-missing"])
    assert from_file.exit_code == 0, from_file.output
    assert "1 of 42 cases left out: 1 without efs_months" in from_file.stderr  # the pre-op case
    from_registry = _as(registry, "admin", *km, "--synthetic")
    assert from_registry.exit_code == 0, from_registry.output
    ours, theirs = _km(from_file.stdout), _km(from_registry.stdout)
    assert ours["n"] == theirs["n"] == 1 + N_SYNTHETIC
    assert ours["events"] == theirs["events"]
    assert ours["median"] == pytest.approx(theirs["median"], abs=0.005)
