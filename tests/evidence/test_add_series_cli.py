"""``--add-series`` and ``--series`` of the evidence commands.

``--add-series`` adds a user's rows to Table 1, as the web page and the API do; ``--series``
replaces Table 1 (and refuses options that would add to it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app
from livermet.evidence.pooling import pool_outcome
from livermet.evidence.selection import series_with_own

runner = CliRunner()
OWN = "id,n_table,mst_months,os5\nmine2025,40,30,45\n"


def _own(tmp_path: Path) -> Path:
    path = tmp_path / "own.csv"
    path.write_text(OWN, encoding="utf-8")
    return path


@pytest.mark.parametrize("added", [False, True])
def test_add_series_pools_table1_plus_own_rows_as_the_api(tmp_path: Path, added: bool) -> None:
    args = ["evidence", "pool", "--add-series", str(_own(tmp_path)), "--format", "json"]
    result = runner.invoke(app, [*args, *(["--with-added-series"] if added else [])])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    want = pool_outcome(series_with_own(OWN, include_added=added), "os5").to_dict()
    assert data["k"] == want["k"]
    assert data["k"] == 11 if not added else data["k"] > 11
    assert "mine2025" in [row["id"] for row in data["series"]]
    assert data["estimate"] == pytest.approx(want["estimate"], abs=1e-12)


def test_series_replaces_table1(tmp_path: Path) -> None:
    two = tmp_path / "two.csv"
    two.write_text("id,n_table,os5\na,20,30\nb,30,40\n", encoding="utf-8")
    result = runner.invoke(app, ["evidence", "pool", "--series", str(two), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["k"] == 2


@pytest.mark.parametrize("extra", [["--with-added-series"], ["--add-series", "OWN"]])
def test_series_with_an_adding_option_is_refused(tmp_path: Path, extra: list[str]) -> None:
    own = str(_own(tmp_path))
    args = ["evidence", "table", "--series", own, *[own if a == "OWN" else a for a in extra]]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert message.startswith("error: --series: --series replaces Table 1")
    assert extra[0] in message


@pytest.mark.parametrize(
    ("make", "expected"), [("missing", "no such file"), ("folder", "a folder, not a file")]
)
def test_add_series_bad_path_names_the_option(tmp_path: Path, make: str, expected: str) -> None:
    path = tmp_path / "x.csv"
    if make == "folder":
        path.mkdir()
    result = runner.invoke(app, ["evidence", "pool", "--add-series", str(path)])
    assert result.exit_code == 2
    assert "error: --add-series:" in result.stderr and expected in result.stderr


def test_add_series_bad_rows_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,n_table,os5\nmine,0,140\n", encoding="utf-8")
    result = runner.invoke(app, ["evidence", "pool", "--add-series", str(bad)])
    assert result.exit_code == 2
    assert "140" in result.stderr and "n_table" in result.stderr


def test_series_bad_path_names_the_option(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evidence", "pool", "--series", str(tmp_path)])
    assert result.exit_code == 2
    assert "error: --series:" in result.stderr and "a folder, not a file" in result.stderr
