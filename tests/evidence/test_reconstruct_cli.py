"""``livermet evidence reconstruct``: files written, diagnostics printed, errors as messages."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from livermet.cli.main import app

DATA = Path(__file__).parent / "data" / "reconstruct"
CURVE = str(DATA / "guyot-example-survival.txt")
RISK = str(DATA / "guyot-example-nrisk.txt")
runner = CliRunner()


def _reference_ipd() -> pd.DataFrame:
    return pd.read_csv(DATA / "guyot-example-ipd-survHE-2.0.5.txt", sep="\t")


def test_writes_ipd_csv_and_plot(tmp_path: Path) -> None:
    out, png = tmp_path / "ipd.csv", tmp_path / "check.png"
    result = runner.invoke(
        app,
        [
            "evidence",
            "reconstruct",
            CURVE,
            "--risk-table",
            RISK,
            "-o",
            str(out),
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.stderr
    ipd = pd.read_csv(out)
    assert list(ipd.columns) == ["time", "event"]
    ref = _reference_ipd()
    pd.testing.assert_series_equal(ipd["time"], ref["time"], check_exact=False, rtol=1e-12)
    assert ipd["event"].tolist() == ref["event"].tolist()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "61 patients, 23 events" in result.stdout
    assert "Numbers at risk" in result.stdout


def test_arm_column(tmp_path: Path) -> None:
    out = tmp_path / "ipd.csv"
    result = runner.invoke(
        app,
        [
            "evidence",
            "reconstruct",
            CURVE,
            "--risk-table",
            RISK,
            "-o",
            str(out),
            "--arm",
            "surgery",
        ],
    )
    assert result.exit_code == 0, result.stderr
    ipd = pd.read_csv(out)
    assert list(ipd.columns) == ["time", "event", "arm"]
    assert set(ipd["arm"]) == {"surgery"}


def test_json_keys_and_values() -> None:
    result = runner.invoke(
        app, ["evidence", "reconstruct", CURVE, "--risk-table", RISK, "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {
        "arm",
        "patients",
        "events",
        "censored",
        "total_events_given",
        "curve",
        "fit",
        "risk_table",
        "lowered",
        "notes",
        "output",
        "plot",
    }
    assert (data["patients"], data["events"], data["censored"]) == (61, 23, 38)
    assert set(data["fit"]) == {"rmse", "max_abs_error", "worst_time", "n_points"}
    assert [r["reconstructed"] for r in data["risk_table"]] == [61, 55, 49, 32, 13]
    assert set(data["risk_table"][0]) == {
        "time",
        "published",
        "algorithm",
        "reconstructed",
        "difference",
        "lowered",
    }
    assert data["curve"]["scale"] == "proportion" and data["output"] is None


def test_percent_webplotdigitizer_curve_and_total_events(tmp_path: Path) -> None:
    curve = tmp_path / "wpd.csv"  # no header, percent, one point that goes up
    curve.write_text("0,100\n2,90\n3,92\n4,80\n6,70\n8,70\n")
    risk = tmp_path / "risk.csv"
    risk.write_text("time,n_risk\n0,20\n5,16\n")
    result = runner.invoke(
        app,
        [
            "evidence",
            "reconstruct",
            str(curve),
            "--risk-table",
            str(risk),
            "--total-events",
            "6",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["curve"]["scale"] == "percent"
    assert [r["time"] for r in data["curve"]["removed"]] == [3.0]
    assert data["total_events_given"] == 6 and data["patients"] == 20
    forced = runner.invoke(
        app,
        [
            "evidence",
            "reconstruct",
            str(curve),
            "--risk-table",
            str(risk),
            "--proportion",
            "--format",
            "json",
        ],
    )
    assert forced.exit_code == 0, forced.stderr
    wrong = json.loads(forced.stdout)  # 70-100 read as proportions: all clipped to 1
    assert wrong["curve"]["scale"] == "proportion"
    assert wrong["curve"]["clipped_survival"] == 6 and wrong["events"] == 0


@pytest.mark.parametrize(
    ("risk_text", "message"),
    [
        ("time,n_risk\n0,20\n5,25\n", "must not increase"),
        ("time,n_risk\n0,20\n50,10\n", "outside the curve's range"),
        ("time,n_risk\n0,20\n5,-1\n", "whole number >= 0"),
        ("", "empty"),
        ("time,n_risk\n0,20\n5,ten\n", "must be a number"),
    ],
)
def test_bad_risk_table_is_a_one_line_error(tmp_path: Path, risk_text: str, message: str) -> None:
    curve = tmp_path / "c.csv"
    curve.write_text("time,survival\n0,1\n2,0.9\n4,0.8\n8,0.7\n")
    risk = tmp_path / "r.csv"
    risk.write_text(risk_text)
    result = runner.invoke(app, ["evidence", "reconstruct", str(curve), "--risk-table", str(risk)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "r.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_strict_refuses_a_rising_curve(tmp_path: Path) -> None:
    curve = tmp_path / "c.csv"
    curve.write_text("time,survival\n0,1\n2,0.8\n4,0.85\n8,0.7\n")
    risk = tmp_path / "r.csv"
    risk.write_text("time,n_risk\n0,20\n")
    result = runner.invoke(
        app, ["evidence", "reconstruct", str(curve), "--risk-table", str(risk), "--strict"]
    )
    assert result.exit_code == 2
    assert "c.csv line 4" in result.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("-o", "ipd.txt", "use a .csv name"), ("--plot", "check.gif", "unsupported image format")],
)
def test_bad_output_names(tmp_path: Path, option: str, value: str, message: str) -> None:
    result = runner.invoke(
        app, ["evidence", "reconstruct", CURVE, "--risk-table", RISK, option, str(tmp_path / value)]
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / value).exists()


def test_missing_curve_file(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["evidence", "reconstruct", str(tmp_path / "none.csv"), "--risk-table", RISK]
    )
    assert result.exit_code == 2
    assert "no such file" in result.stderr
