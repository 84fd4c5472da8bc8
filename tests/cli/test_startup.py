"""The command line loads only what a command uses (timings live in benchmarks/cli_startup.py)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import pytest

from livermet.case import evidence_cache
from tests.conftest import SEED_CASE

HEAVY = {"pandas", "scipy", "matplotlib", "sqlalchemy", "alembic", "weasyprint", "lifelines"}

PROBE = """
import json, sys
sys.argv = ["livermet", *json.loads(sys.argv[1])]
from livermet.cli.main import app
try:
    app()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _loaded_modules(*args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        check=False,
    )
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("args", "also_absent"),
    [
        (["--version"], {"numpy", "yaml", "livermet.case"}),
        (["--help"], {"numpy"}),
        (["validate", str(SEED_CASE)], {"numpy"}),
        (["assess", str(SEED_CASE)], set()),
    ],
    ids=["version", "help", "validate", "assess"],
)
def test_a_command_does_not_import_the_heavy_libraries(
    args: list[str], also_absent: set[str]
) -> None:
    loaded = _loaded_modules(*args)
    assert "livermet.cli.main" in loaded  # the probe ran the command
    assert not (HEAVY | also_absent) & ({name.split(".")[0] for name in loaded} | loaded)
    assert "livermet.cli.registry" not in loaded  # the command groups load on use


def test_the_command_groups_are_listed_and_loaded_on_use() -> None:
    from typer.testing import CliRunner

    from livermet.cli.main import app

    runner = CliRunner()
    listing = runner.invoke(app, ["--help"])
    for group in ["evidence", "cohort", "registry", "user", "site", "assess", "validate"]:
        assert group in listing.stdout
    result = runner.invoke(app, ["evidence", "--help"])
    assert result.exit_code == 0 and "pool" in result.stdout.lower()
    assert runner.invoke(app, ["nosuchcommand"]).exit_code == 2


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b) and type(a) is type(b)


def test_the_shipped_evidence_summary_is_the_computed_one() -> None:
    """Check that the stored evidence summary is the one computed from the dataset.

    Fails after a change to the dataset or the pooling code: regenerate the stored summary with
    ``python -m livermet.case.evidence_cache``.
    """
    from livermet.evidence.summary import evidence_summary

    stored = evidence_cache.stored_summary()
    assert stored is not None, "evidence/data/summary.json is missing or stale"
    assert _close(stored, evidence_summary())


def test_a_changed_dataset_is_not_read_from_the_stored_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(evidence_cache, "literature_sha256", lambda: "0" * 64)
    assert evidence_cache.stored_summary() is None
    computed = evidence_cache.evidence_summary()  # falls back to computing
    assert computed["pooled_survival"][0]["months"] == 12


def test_each_call_returns_a_fresh_copy() -> None:
    first = evidence_cache.evidence_summary()
    first["pooled_survival"].clear()
    assert evidence_cache.evidence_summary()["pooled_survival"]
