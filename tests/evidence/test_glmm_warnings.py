"""What a GLMM fit warns about is on the result and printed as ``warning:`` lines, never raw.

Data: identical proportions 3/10, 6/20, 9/30, on which metafor 3.8-1 stops ("Cannot fit ML
model": lme4's "Response is constant"; ``data/glmm/glmm-nagq-high.json``) and livermet reports
the converged fit instead; and ``hunt_hessian_not_pd`` of ``data/glmm/glmm-edge-defaults.json``,
on which metafor warns that lme4's finite-difference Hessian is not positive definite and takes
Var(beta) from RX. Each warning is kept as a Python ``UserWarning`` for library users and also
recorded on the result (``GLMMResult.warnings``, ``to_dict()["warnings"]``); the CLI catches it
and prints it in its own style on stderr, without Python's file and code line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from livermet.cli.main import app
from livermet.evidence.dataset import load_literature
from livermet.evidence.glmm import rma_glmm
from livermet.evidence.glmm_pool import pool_outcome_glmm

DATA = Path(__file__).parent / "data" / "glmm"
IDENTICAL_CSV = "id,n_table,os5\na,10,30\nb,20,30\nc,30,30\n"
CANNOT_FIT = "metafor cannot fit these data with its defaults"
runner = CliRunner()


def _r_case(file: str, name: str, nagq: int) -> dict[str, Any]:
    cases = json.loads((DATA / file).read_text())["cases"]
    found = [c for c in cases if c["name"] == name and c["nagq"] == nagq]
    assert len(found) == 1
    case: dict[str, Any] = found[0]
    return case


@pytest.fixture
def identical(tmp_path: Path) -> Path:
    path = tmp_path / "identical.csv"
    path.write_text(IDENTICAL_CSV, encoding="utf-8")
    return path


def test_metafor_stops_on_these_data() -> None:
    case = _r_case("glmm-nagq-high.json", "identical_props", 7)
    assert (case["x"], case["n"]) == ([3, 6, 9], [10, 20, 30])
    assert case["error"] and "Cannot fit ML model" in case["message"]


def test_pooled_result_carries_the_warning() -> None:
    df = pd.DataFrame({"id": ["a", "b", "c"], "n_table": [10, 20, 30], "os5": [30.0] * 3})
    with pytest.warns(UserWarning, match=CANNOT_FIT):
        pooled = pool_outcome_glmm(df, "os5")
    data = pooled.to_dict()
    assert data["optimizer"] == "converged"
    assert len(data["warnings"]) == 1 and data["warnings"][0].startswith(CANNOT_FIT)
    assert data["fit"]["warnings"] == data["warnings"]


def test_table1_has_no_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = pool_outcome_glmm(load_literature(), "os5").to_dict()
    assert data["warnings"] == [] and data["fit"]["warnings"] == []


def test_vcov_fallback_is_recorded() -> None:
    """R warns (lme4's vcov falls back to RX); so do we, on the result as well."""
    case = _r_case("glmm-edge-defaults.json", "hunt_hessian_not_pd", 7)
    assert any("not positive definite" in w for w in case["warnings"])
    with pytest.warns(UserWarning, match="not positive definite") as record:
        fit = rma_glmm(case["x"], case["n"], np.column_stack(case["mods"]), nagq=7)
    assert fit.optimizer == "metafor"
    assert fit.warnings == tuple(str(w.message) for w in record)
    assert len(fit.warnings) == 1 and "penalised IRLS factor" in fit.warnings[0]
    assert fit.to_dict()["warnings"] == list(fit.warnings)


def _invoke(args: list[str]) -> Any:
    """Run the CLI in-process; no Python warning may escape it."""
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        result = runner.invoke(app, args)
    assert [str(w.message) for w in escaped] == []
    return result


def test_cli_pool_text_prints_a_warning_line(identical: Path) -> None:
    result = _invoke(["evidence", "pool", "--model", "glmm", "--series", str(identical)])
    assert result.exit_code == 0, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith(f"warning: {CANNOT_FIT}")
    assert "UserWarning" not in result.stderr and ".py:" not in result.stderr
    assert "converged to the maximum" in result.stdout


def test_cli_pool_json_carries_the_warnings(identical: Path) -> None:
    args = ["evidence", "pool", "--model", "glmm", "--series", str(identical), "--format", "json"]
    result = _invoke(args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["optimizer"] == "converged"
    assert len(data["warnings"]) == 1 and data["warnings"][0].startswith(CANNOT_FIT)
    assert f"warning: {data['warnings'][0]}" in result.stderr


def test_cli_pool_without_warnings_prints_none() -> None:
    result = _invoke(["evidence", "pool", "--model", "glmm", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["warnings"] == []
    assert "warning" not in result.stderr


def test_cli_forest_prints_a_warning_line(identical: Path, tmp_path: Path) -> None:
    out = tmp_path / "forest.png"
    args = ["evidence", "forest", "-o", str(out), "--model", "glmm", "--series", str(identical)]
    result = _invoke(args)
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 0
    assert f"warning: {CANNOT_FIT}" in result.stderr
    assert "UserWarning" not in result.stderr and ".py:" not in result.stderr


def test_cli_process_shows_no_raw_python_warning(identical: Path) -> None:
    """In a real process (Python's default warning filters), stderr has the CLI's line only."""
    code = "from livermet.cli.main import app; app()"
    args = ["evidence", "pool", "--model", "glmm", "--series", str(identical)]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "UserWarning" not in proc.stderr and "glmm_pool.py" not in proc.stderr
    assert f"warning: {CANNOT_FIT}" in " ".join(proc.stderr.split())
