"""``livermet cohort`` on a plain CSV: R's numbers in JSON, plots, and bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from livermet.cli.cohort import app
from tests.analysis.conftest import COHORT_CSV

runner = CliRunner()
KM = ["km", "--data", str(COHORT_CSV), "--time", "os_months", "--event", "death"]
COX = ["cox", "--data", str(COHORT_CSV), "--time", "os_months", "--event", "death"]
CUMINC = ["cuminc", "--data", str(COHORT_CSV), "--time", "efs_months", "--event", "first_event"]


def _json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_km_json_reproduces_r(ref: dict[str, Any]) -> None:
    data = _json([*KM, "--by", "approach", "--levels", "open,laparoscopic"])
    r = ref["km_all"]
    overall = data["overall"]
    assert [row["time"] for row in overall["at"]] == r["times"]
    assert [row["n_risk"] for row in overall["at"]] == r["n_risk"]
    for ours, theirs in (("survival", "surv"), ("lower", "lower"), ("upper", "upper")):
        assert [row[ours] for row in overall["at"]] == pytest.approx(r[theirs], rel=1e-12)
    assert overall["median"] == {
        "estimate": r["median"],
        "lower": r["median_lower"],
        "upper": r["median_upper"],
    }
    assert overall["rmst"]["horizon"] == 60
    assert overall["rmst"]["estimate"] == pytest.approx(r["rmst60"], rel=1e-12)
    assert overall["rmst"]["std_err"] == pytest.approx(r["rmst60_se"], rel=1e-12)
    by = ref["km_by_approach"]
    assert list(data["groups"]) == ["open", "laparoscopic"]
    surv = [row["survival"] for g in data["groups"].values() for row in g["at"]]
    lower = [row["lower"] for g in data["groups"].values() for row in g["at"]]
    assert surv == pytest.approx(by["surv"], rel=1e-12)
    assert lower == pytest.approx(by["lower"], rel=1e-12)
    lr = ref["logrank_approach"]
    assert (data["logrank"]["chisq"], data["logrank"]["p"]) == pytest.approx(
        (lr["chisq"], lr["p"]), rel=1e-12
    )
    assert data["logrank"]["df"] == lr["df"]


def test_km_text_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "km.png"
    result = runner.invoke(app, [*KM, "--by", "approach", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "median 29.0 (95% CI 25.0 to 35.6) months" in result.stdout  # R: 29, 25, 35.58
    assert "log-rank test: χ² = 4.127, df = 1, p = 0.04221" in result.stdout
    assert out.read_bytes().startswith(b"\x89PNG")


def test_km_other_times_horizon_and_transform() -> None:
    data = _json([*KM, "--times", "24", "--rmst-horizon", "36", "--conf-type", "log"])
    assert [row["time"] for row in data["overall"]["at"]] == [24]
    assert data["conf_type"] == "log"
    assert data["overall"]["rmst"]["horizon"] == 36


def test_cox_json_reproduces_r(ref: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "forest.svg"
    options = ["--covariates", "approach,timing,age,grade", "--reference", "approach=open"]
    data = _json([*COX, *options, "-o", str(out)])
    r = ref["cox"]
    assert [t["term"] for t in data["terms"]] == r["terms"]
    for ours, theirs in (("coef", "coef"), ("se", "se"), ("hr", "hr"), ("p", "p")):
        assert [t[ours] for t in data["terms"]] == pytest.approx(r[theirs], rel=1e-6)
    assert [t["hr_lower"] for t in data["terms"]] == pytest.approx(r["hr_lower"], rel=1e-6)
    assert [t["hr_upper"] for t in data["terms"]] == pytest.approx(r["hr_upper"], rel=1e-6)
    assert [data["loglik"]["null"], data["loglik"]["fitted"]] == pytest.approx(
        r["loglik"], rel=1e-12
    )
    assert data["concordance"] == pytest.approx(r["concordance"], rel=1e-12)
    assert data["reference_levels"] == {"approach": "open", "timing": "metachronous"}
    assert out.read_bytes().startswith(b"<?xml")


def test_cuminc_json_reproduces_r(ref: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "cif.pdf"
    data = _json([*CUMINC, "--types", "recurrence,death", "-o", str(out)])
    assert data["states"] == ["event-free", "recurrence", "death"]
    pstate = [[row["states"][s]["probability"] for s in data["states"]] for row in data["at"]]
    assert np.array(pstate) == pytest.approx(np.array(ref["cuminc"]["pstate"]), rel=1e-12)
    assert data["events"] == {"recurrence": 218, "death": 67}
    assert out.read_bytes().startswith(b"%PDF")


def test_cuminc_two_column_coding(cohort: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "flags.csv"
    cohort.assign(
        recurrence=(cohort["first_event"] == "recurrence").astype(int),
        death_first=(cohort["first_event"] == "death").astype(int),
    ).to_csv(path, index=False)
    args = ["cuminc", "--data", str(path), "--time", "efs_months", "--event", "recurrence"]
    data = _json([*args, "--competing", "death_first"])
    labels = _json([*CUMINC, "--types", "recurrence,death"])
    assert [r["states"]["recurrence"] for r in data["at"]] == [
        r["states"]["recurrence"] for r in labels["at"]
    ]


def test_swimmer_writes_a_plot(tmp_path: Path) -> None:
    out = tmp_path / "swim.png"
    base = ["swimmer", "--data", str(COHORT_CSV), "--time", "os_months", "--event", "death"]
    mark = ["--id", "id", "--mark", "recurrence=efs_months:first_event=recurrence"]
    result = runner.invoke(app, [*base, *mark, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")


def _bad_csv(cohort: pd.DataFrame, tmp_path: Path, column: str, value: Any) -> Path:
    data = cohort.copy().astype({column: object})
    data.loc[2, column] = value  # the third data row = row 3
    path = tmp_path / "bad.csv"
    data.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("command", "column", "value", "expected"),
    [
        ("km", "os_months", "abc", "os_months: row 3: 'abc' is not a number"),
        ("km", "os_months", -4, "os_months: row 3: negative time -4"),
        ("km", "death", 2, "death: row 3: event must be 0 (censored) or 1 (event), got 2"),
        ("km", "death", None, "death: row 3: missing value"),
        ("cox", "age", "old", "age: row 3: 'old' is not a number"),
        ("cuminc", "first_event", "relapse", "first_event: row 3: 'relapse' is not a known"),
    ],
)
def test_bad_cell_exits_2_naming_column_and_row(
    cohort: pd.DataFrame,
    tmp_path: Path,
    command: str,
    column: str,
    value: object,
    expected: str,
) -> None:
    path = _bad_csv(cohort, tmp_path, column, value)
    args = {
        "km": ["--time", "os_months", "--event", "death"],
        "cox": ["--time", "os_months", "--event", "death", "--covariates", "age,grade"],
        "cuminc": ["--time", "efs_months", "--event", "first_event", "--types", "recurrence,death"],
    }[command]
    result = runner.invoke(app, [command, "--data", str(path), *args])
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_missing_value_can_be_dropped(cohort: pd.DataFrame, tmp_path: Path) -> None:
    path = _bad_csv(cohort, tmp_path, "death", None)
    args = ["km", "--data", str(path), "--time", "os_months", "--event", "death"]
    data = _json([*args, "--drop-missing"])
    assert data["overall"]["n"] == 299


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["km", "--data", str(COHORT_CSV), "--time", "nosuch", "--event", "death"], "nosuch"),
        ([*KM, "--times", "12,x"], "times"),
        ([*KM, "--by", "approach", "--levels", "open"], "is not one of the levels"),
        ([*KM, "-o", "km.jpg"], "unsupported image format"),
        (["km", "--data", "missing.csv", "--time", "t", "--event", "e"], "file not found"),
        ([*COX, "--covariates", "approach", "--reference", "approach"], "COLUMN=LEVEL"),
        ([*COX, "--covariates", "approach", "--reference", "approach=robotic"], "robotic"),
        ([*CUMINC, "--competing", "death", "--types", "a,b"], "--competing"),
    ],
)
def test_bad_options_exit_2(args: list[str], expected: str, tmp_path: Path) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.stderr.split())  # rich wraps long lines
    assert not Path("km.jpg").exists()
