"""The ``evidence`` and ``cohort`` commands load only what they use (timings: see benchmarks).

Help loads no numerical library; a run loads pandas and SciPy but matplotlib only when it writes
a plot, and the registry's database layer (SQLAlchemy) only when it reads the registry.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COHORT = str(ROOT / "tests" / "analysis" / "data" / "cohort.csv")
NUMERICAL = {"numpy", "pandas", "scipy", "matplotlib", "lifelines"}
DATABASE = {"sqlalchemy", "alembic", "livermet.registry"}
PLOTTING = {"matplotlib"}

PROBE = """
import json, sys
sys.argv = ["livermet", *json.loads(sys.argv[1])]
from livermet.cli.main import app
try:
    app()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _run(*args: str, cwd: Path | None = None) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), proc.stderr[-2000:]
    modules = set(report["modules"])
    return modules | {name.split(".")[0] for name in modules}


@pytest.mark.parametrize(
    "args",
    [
        ["evidence", "--help"],
        ["evidence", "pool", "--help"],
        ["evidence", "forest", "--help"],
        ["cohort", "--help"],
        ["cohort", "km", "--help"],
        ["cohort", "swimmer", "--help"],
    ],
    ids=lambda a: " ".join(a),
)
def test_help_loads_no_numerical_or_database_library(args: list[str]) -> None:
    loaded = _run(*args)
    assert "livermet.cli.main" in loaded
    assert not (NUMERICAL | DATABASE) & loaded


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (["evidence", "pool"], PLOTTING | DATABASE),
        (["evidence", "table"], PLOTTING | DATABASE),
        (["evidence", "survival", "--format", "json"], PLOTTING | DATABASE),
        (["cohort", "km", "--data", COHORT], PLOTTING | DATABASE),
        (["cohort", "cox", "--data", COHORT, "--covariates", "age"], PLOTTING | DATABASE),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, list) else "",
)
def test_a_run_without_a_plot_loads_no_plotting_and_no_database(
    args: list[str], absent: set[str]
) -> None:
    loaded = _run(*args)
    assert {"pandas", "scipy"} <= loaded  # the run did its work
    assert not absent & loaded


def test_a_plot_loads_matplotlib_but_not_the_database(tmp_path: Path) -> None:
    out = tmp_path / "km.png"
    loaded = _run("cohort", "km", "--data", COHORT, "--output", str(out))
    assert out.stat().st_size > 1000
    assert "matplotlib" in loaded and not DATABASE & loaded
