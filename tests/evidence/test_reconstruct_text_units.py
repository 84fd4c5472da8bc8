"""``livermet evidence reconstruct`` text output: the risk table's times carry their unit."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from livermet.cli.main import app

DATA = Path(__file__).parent / "data" / "reconstruct"
CURVE = DATA / "guyot-example-survival.txt"
runner = CliRunner()


def test_the_risk_table_of_a_curve_in_years_shows_months(tmp_path: Path) -> None:
    ref = pd.read_csv(CURVE, sep="\t")
    years = "\n".join(f"{t / 12!r},{s}" for t, s in zip(ref["Time"], ref["Survival"], strict=True))
    curve = tmp_path / "y.csv"
    curve.write_text("Time (years),survival\n" + years + "\n")
    risk = tmp_path / "r.csv"
    risk.write_text("years,n_risk\n0,61\n0.5,44\n1,32\n")
    result = runner.invoke(
        app,
        ["evidence", "reconstruct", str(curve), "--risk-table", str(risk)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "published" in line)
    assert re.match(r"^\s*time \(months\)\s", header)
    # the rows are at 0, 6 and 12 months (0, 0.5 and 1 year), each with its published count
    rows = [line.split() for line in lines if re.match(r"^\s*(0|6|12)\s+\d", line)]
    assert [(r[0], r[1]) for r in rows] == [("0", "61"), ("6", "44"), ("12", "32")]
    assert re.search(r"\(at \d+(\.\d+)? months\)", result.stdout)
