"""``livermet evidence reconstruct``: files written, diagnostics printed, errors as messages."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

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
    # 70-100 read as proportions would all be clipped to 1 (no events): refused.
    assert forced.exit_code == 2
    assert "look like percent (max 100)" in forced.stderr and "--percent" in forced.stderr


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


# --- fixes after user testing ------------------------------------------------------------------


def _run(*args: str) -> Result:
    return runner.invoke(app, ["evidence", "reconstruct", *args])


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_percent_on_proportions_is_refused() -> None:
    result = _run(CURVE, "--risk-table", RISK, "--percent")
    assert result.exit_code == 2
    assert "look like proportions (max 1" in result.stderr


def test_a_curve_in_years_is_converted_with_a_note_and_an_axis_in_months(tmp_path: Path) -> None:
    ref = pd.read_csv(CURVE, sep="\t")
    years = "\n".join(f"{t / 12!r},{s}" for t, s in zip(ref["Time"], ref["Survival"], strict=True))
    curve = _write(tmp_path / "y.csv", "Time (years),survival\n" + years + "\n")
    risk = _write(tmp_path / "r.csv", "years,n_risk\n0,61\n0.5,44\n1,32\n")
    out = tmp_path / "ipd.csv"
    result = _run(curve, "--risk-table", risk, "-o", str(out), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["time_unit"] == "months" and data["curve"]["time_unit_read"] == "years"
    assert any("converted to months (× 12" in n for n in data["notes"])
    assert [r["time"] for r in data["risk_table"]] == pytest.approx([0, 6, 12])
    assert pd.read_csv(out)["time"].max() == pytest.approx(ref["Time"].max(), rel=1e-12)

    from livermet.evidence.reconstruct import (
        clean_curve,
        read_curve,
        read_risk_table,
        reconstruct,
    )
    from livermet.report.reconstruct_plots import reconstruction_plot

    result_obj = reconstruct(clean_curve(read_curve(curve)), read_risk_table(risk))
    fig = reconstruction_plot(result_obj)
    assert fig.axes[0].get_xlabel() == "time (months, converted from years)"
    plain = reconstruct(clean_curve(read_curve(CURVE)), read_risk_table(RISK))
    assert reconstruction_plot(plain).axes[0].get_xlabel() == "time (months)"


def test_european_csv_gives_the_same_patients(tmp_path: Path) -> None:
    ref = pd.read_csv(CURVE, sep="\t")
    rows = [
        f"{t!r};{s!r}".replace(".", ",")
        for t, s in zip(ref["Time"].astype(float), ref["Survival"].astype(float), strict=True)
    ]
    curve = _write(tmp_path / "eu.csv", "time;survival\n" + "\n".join(rows) + "\n")
    risk = _write(tmp_path / "r.csv", "Time (months);No. at risk\n0;61\n4;55\n8;44\n12;32\n")
    out = tmp_path / "ipd.csv"
    result = _run(curve, "--risk-table", risk, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    us_risk = _write(tmp_path / "us.csv", "time,n_risk\n0,61\n4,55\n8,44\n12,32\n")
    plain = _run(CURVE, "--risk-table", us_risk, "-o", str(tmp_path / "plain.csv"))
    assert plain.exit_code == 0, plain.stderr
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(tmp_path / "plain.csv"))


def test_no_one_at_risk_before_the_curve_ends_is_an_error(tmp_path: Path) -> None:
    curve = _write(tmp_path / "c.csv", "time,survival\n0,1\n2,0.8\n5,0.5\n9,0.5\n")
    risk = _write(tmp_path / "r.csv", "time,n_risk\n0,10\n4,6\n6,0\n")
    result = _run(curve, "--risk-table", risk)
    assert result.exit_code == 2
    assert "r.csv line 4" in result.stderr and "c.csv line 5" in result.stderr


def test_a_poor_fit_prints_a_warning(tmp_path: Path) -> None:
    curve = _write(tmp_path / "c.csv", "time,survival\n0,1\n5,0.9\n10,0.9\n")
    risk = _write(tmp_path / "r.csv", "time,n_risk\n0,5\n")
    text = _run(curve, "--risk-table", risk)
    assert text.exit_code == 0, text.stderr
    assert "warning: poor fit" in text.stdout
    data = json.loads(_run(curve, "--risk-table", risk, "--format", "json").stdout)
    assert len(data["warnings"]) == 1
    guyot = json.loads(_run(CURVE, "--risk-table", RISK, "--format", "json").stdout)
    assert guyot["warnings"] == []
    assert "warning" not in _run(CURVE, "--risk-table", RISK).stdout


@pytest.mark.parametrize(("which", "name"), [("curve", "CURVE"), ("risk", "--risk-table")])
def test_a_folder_given_as_an_input(tmp_path: Path, which: str, name: str) -> None:
    args = [str(tmp_path), "--risk-table", RISK] if which == "curve" else [CURVE, "--risk-table"]
    if which == "risk":
        args.append(str(tmp_path))
    result = _run(*args)
    assert result.exit_code == 2
    assert f"{name}: {tmp_path} is a folder, not a file" in " ".join(result.stderr.split())


def test_missing_curve_names_the_argument(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "none.csv"), "--risk-table", RISK)
    assert result.exit_code == 2
    assert "CURVE: no such file" in result.stderr


@pytest.mark.parametrize(("option", "name"), [("-o", "ipd.csv"), ("--plot", "check.png")])
def test_output_into_a_missing_folder_fails_before_any_work(
    tmp_path: Path, option: str, name: str
) -> None:
    target = tmp_path / "missing" / name
    result = _run(str(tmp_path / "no-curve.csv"), "--risk-table", RISK, option, str(target))
    assert result.exit_code == 2
    flag = "--output" if option == "-o" else "--plot"
    assert f"{flag}: the folder" in result.stderr  # before the missing curve is even read
    assert not target.parent.exists()


@pytest.mark.parametrize("which", ["curve", "risk"])
def test_output_onto_an_input_is_refused(tmp_path: Path, which: str) -> None:
    curve = _write(tmp_path / "c.csv", "time,survival\n0,1\n2,0.8\n5,0.5\n")
    risk = _write(tmp_path / "r.csv", "time,n_risk\n0,10\n4,6\n")
    before = Path(curve if which == "curve" else risk).read_text()
    result = _run(curve, "--risk-table", risk, "-o", curve if which == "curve" else risk)
    assert result.exit_code == 2
    assert "would overwrite it" in result.stderr
    assert Path(curve if which == "curve" else risk).read_text() == before


def test_text_output_ends_with_a_hint_without_output(tmp_path: Path) -> None:
    lines = _run(CURVE, "--risk-table", RISK).stdout.strip().splitlines()
    assert lines[-1].startswith("hint: -o FILE.csv writes the patients")
    written = _run(CURVE, "--risk-table", RISK, "-o", str(tmp_path / "ipd.csv"))
    assert "hint" not in written.stdout


def test_dataset_for_a_plain_csv_is_refused() -> None:
    result = _run(CURVE, "--risk-table", RISK, "--dataset", "Surgery")
    assert result.exit_code == 2
    assert "has one dataset" in result.stderr
