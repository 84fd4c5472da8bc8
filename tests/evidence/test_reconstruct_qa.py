"""Defects found by a QA pass of ``livermet evidence reconstruct``, each pinned by a test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from livermet.cli.main import app
from livermet.errors import InputError
from livermet.evidence.ipd import IPDInputError, IPDProblem
from livermet.evidence.reconstruct import (
    DigitisedCurve,
    RiskTableInput,
    clean_curve,
    parse_curve,
    parse_risk_table,
    reconstruct,
)
from livermet.report.reconstruct_plots import reconstruction_plot, thinned

runner = CliRunner()


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def _run(*args: str) -> Result:
    return runner.invoke(app, ["evidence", "reconstruct", *args])


def _years_curve() -> str:
    """Return an exponential curve over 6 years (median 3 years), in percent, header in years."""
    t = np.linspace(0, 6, 61)
    s = 100 * np.exp(-np.log(2) * t / 3)
    return "Time (years),Survival (%)\n" + "\n".join(
        f"{a:.4f},{b:.4f}" for a, b in zip(t, s, strict=True)
    )


RISK_YEARS = "0,120\n1,95\n2,75\n3,58\n4,45\n5,34\n6,25\n"


# 1. a risk table in years read as months


def test_risk_table_without_unit_under_a_curve_in_years_is_refused(tmp_path: Path) -> None:
    curve = _write(tmp_path / "c.csv", _years_curve())
    risk = _write(tmp_path / "r.csv", "time,n_risk\n" + RISK_YEARS)
    result = _run(curve, "--risk-table", risk)
    assert result.exit_code == 2
    assert "--risk-table" in result.stderr and "years" in result.stderr


def test_risk_table_naming_years_is_converted(tmp_path: Path) -> None:
    curve = _write(tmp_path / "c.csv", _years_curve())
    risk = _write(tmp_path / "r.csv", "time (years),n_risk\n" + RISK_YEARS)
    result = _run(curve, "--risk-table", risk, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # 120 patients, S(6 y) = 0.25, 25 still at risk: about 120 - 25 - censored events
    assert data["patients"] == 120 and data["events"] > 60


def test_gross_unit_mismatch_is_refused_naming_the_risk_table() -> None:
    t = np.linspace(0, 72, 61)
    curve = clean_curve(DigitisedCurve.from_arrays(t, np.exp(-np.log(2) * t / 36)))
    risk = parse_risk_table("time,n_risk\n" + RISK_YEARS, "risk.csv")
    with pytest.raises(InputError, match=r"risk\.csv: .*different units of time"):
        reconstruct(curve, risk)


def test_midway_note_only_for_small_differences() -> None:
    from livermet.cli.evidence_reconstruct import _difference_note

    assert _difference_note(1) == "censored midway past this time"
    assert _difference_note(-2) == "censored midway past this time"
    assert "midway" not in _difference_note(27) and "+27" in _difference_note(27)


# 2. a curve that drops to 0 where the risk table reaches 0


def test_drop_to_zero_at_the_last_risk_time_is_deaths() -> None:
    # The drop at 4 happens before the risk time 5 (10 -> 8 at risk): 2 deaths, then the 8
    # still at risk all die at 10, where the curve reaches 0.
    curve = clean_curve(DigitisedCurve.from_arrays([0, 4, 10], [100, 80, 0]))
    risk = RiskTableInput(np.array([0.0, 5.0, 10.0]), np.array([10.0, 8.0, 0.0]), np.arange(2, 5))
    result = reconstruct(curve, risk)
    assert result.ipd.shape[0] == 10 and int(result.ipd["event"].sum()) == 10
    assert any("left out" in n and "drops to 0" in n for n in result.notes)


def test_qa_case_every_patient_at_risk_at_the_drop_to_zero_dies() -> None:
    # QA's case: the 20 % drop is read at 5, the risk time, so it falls in the interval that
    # starts there, and 10 -> 8 at risk before 5 with no drop are 2 censorings (Guyot's
    # intervals [t_i, t_i+1)); the 6 at risk at 10 all die there (before: 8 censored).
    curve = clean_curve(DigitisedCurve.from_arrays([0, 5, 10], [100, 80, 0]))
    risk = RiskTableInput(np.array([0.0, 5.0, 10.0]), np.array([10.0, 8.0, 0.0]), np.arange(2, 5))
    ipd = reconstruct(curve, risk).ipd
    assert int(ipd["event"].sum()) == 8
    last = ipd[ipd["time"] == 10]
    assert last.shape[0] == 6 and (last["event"] == 1).all()


# 3. swapped columns


@pytest.mark.parametrize("header", ["", "a,b\n"])
def test_swapped_columns_are_refused(header: str) -> None:
    text = header + "100.0929,0.0043\n80,2.5\n60,5\n40,8\n"
    with pytest.raises(InputError, match="columns look swapped"):
        parse_curve(text, "swapped.csv")


def test_curve_clicked_right_to_left_is_not_called_swapped() -> None:
    c = parse_curve("10,40\n5,60\n2,80\n0,100\n", "rtl.csv")
    assert c.time.tolist() == [10.0, 5.0, 2.0, 0.0]


# 4. digitising noise at the start


def test_a_point_before_time_0_makes_no_death_at_time_0() -> None:
    c = parse_curve("Time (years),S\n-0.0013,0.9952\n1,0.9\n2,0.8\n3,0.7\n", "c.csv")
    cleaned = clean_curve(c)
    assert (cleaned.time[0], cleaned.survival[0]) == (0.0, 1.0)
    assert cleaned.time.tolist()[1:] == [12.0, 24.0, 36.0]
    note = next(n for n in cleaned.notes() if n.startswith("dropped 1 point"))
    assert "line 2 (-0.0013 years, 0.9952)" in note
    risk = RiskTableInput(np.array([0.0, 12.0]), np.array([50.0, 45.0]), np.array([2, 3]))
    ipd = reconstruct(cleaned, risk).ipd
    assert not ((ipd["time"] == 0) & (ipd["event"] == 1)).any()


# 5. the check plot's time axis


def test_thinned_labels_never_closer_than_a_tenth_of_the_span() -> None:
    times = np.arange(0, 73, 3.0)  # every 3 months over 72: labels 9 months apart
    picked = thinned(times, 72.0)
    assert picked.tolist() == list(range(0, 25, 3))
    assert np.diff(times[picked]).min() >= 7.2
    assert thinned(np.array([0.0, 12, 24]), 36.0).tolist() == [0, 1, 2]


def test_plot_axis_has_ticks_over_the_span_with_a_one_row_risk_table() -> None:
    t = np.linspace(0, 60, 31)
    curve = clean_curve(DigitisedCurve.from_arrays(t, np.exp(-t / 40)))
    result = reconstruct(curve, RiskTableInput(np.array([0.0]), np.array([100.0]), np.array([2])))
    fig = reconstruction_plot(result)
    fig.canvas.draw()
    ticks = fig.axes[0].get_xticks()
    assert len([x for x in ticks if 0 <= x <= 62]) >= 4


# 6. gross out-of-range survival


@pytest.mark.parametrize(("value", "line"), [("-5", 4), ("130", 2), ("105", 2)])
def test_gross_out_of_range_survival_is_refused(value: str, line: int) -> None:
    rows = ["time,survival", "0,100", "5,80", "10,60"]
    rows[line - 1] = rows[line - 1].split(",")[0] + "," + value
    with pytest.raises(InputError, match=rf"c\.csv line {line}: survival {value} %"):
        clean_curve(parse_curve("\n".join(rows), "c.csv"))


def test_small_excursions_are_clipped_with_the_lines_named() -> None:
    text = "time,survival\n0,100\n1,104.9\n5,80\n10,-1\n"
    cleaned = clean_curve(parse_curve(text, "c.csv"))
    assert cleaned.survival.min() == 0.0
    assert any("line(s) 3, 5" in n for n in cleaned.notes())


# 7. a blank arm, and repeated IPD errors


def test_blank_arm_is_refused(tmp_path: Path) -> None:
    curve = _write(tmp_path / "c.csv", "time,survival\n0,100\n5,80\n10,60\n")
    risk = _write(tmp_path / "r.csv", "time,n_risk\n0,10\n5,8\n")
    result = _run(curve, "--risk-table", risk, "--arm", " ", "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2 and "--arm" in result.stderr
    assert not (tmp_path / "o.csv").exists()


def test_repeated_ipd_errors_collapse_into_one_line() -> None:
    problems = [IPDProblem("s.csv", r, r + 1, "arm", "blank arm") for r in range(1, 116)]
    text = str(IPDInputError(problems, "ipd"))
    assert text.count("blank arm") == 1
    assert "115 rows: rows 1, 2, 3, ..." in text


# 8. minor


def test_percent_and_proportion_together_are_refused(tmp_path: Path) -> None:
    curve = _write(tmp_path / "c.csv", "time,survival\n0,100\n5,80\n10,60\n")
    risk = _write(tmp_path / "r.csv", "time,n_risk\n0,10\n5,8\n")
    result = _run(curve, "--risk-table", risk, "--percent", "--proportion")
    assert result.exit_code == 2
    assert "--percent" in result.stderr and "--proportion" in result.stderr


def test_removed_point_line_is_int_and_shown_in_the_files_units(tmp_path: Path) -> None:
    text = "Time (years),Survival (%)\n0,100\n1,90\n2,95\n3,80\n"
    cleaned = clean_curve(parse_curve(text, "c.csv"))
    assert cleaned.removed[0]["line"] == 4 and isinstance(cleaned.removed[0]["line"], int)
    assert any("line 4 (2 years, 95 %)" in n for n in cleaned.notes())


def test_risk_time_a_hair_after_the_curve_is_accepted_with_a_note() -> None:
    curve = clean_curve(DigitisedCurve.from_arrays([0, 5, 11.9], [1, 0.8, 0.6]))
    ok = RiskTableInput(np.array([0.0, 12.0]), np.array([10.0, 6.0]), np.array([2, 3]))
    assert any("less than 1 %" in n for n in reconstruct(curve, ok).notes)
    far = RiskTableInput(np.array([0.0, 12.2]), np.array([10.0, 6.0]), np.array([2, 3]))
    with pytest.raises(InputError, match="outside the curve's range"):
        reconstruct(curve, far)


def test_ragged_rows_are_refused_naming_the_line() -> None:
    with pytest.raises(InputError, match=r"c\.csv line 3: 2 cells where the header has 3"):
        parse_curve("time,survival,extra\n0,100,1\n5,80\n10,60,1,2\n", "c.csv")


def test_dataset_names_are_matched_without_case() -> None:
    text = "Surgery,,Chemo,\nX,Y,X,Y\n0,100,0,100\n5,80,5,70\n"
    assert parse_curve(text, "wpd.csv", dataset="surgery").survival.tolist() == [100.0, 80.0]
    with pytest.raises(InputError, match="--dataset"):
        parse_curve(text, "wpd.csv")


def test_help_names_the_argument_curve() -> None:
    result = runner.invoke(app, ["evidence", "reconstruct", "--help"])
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    # as `livermet assess` shows {CASE}: the braces are Typer 0.29 / Click 8.5's
    assert "CURVE" in usage and "{curve}" not in usage


def test_zero_total_events_on_a_dropping_curve_is_refused(tmp_path: Path) -> None:
    curve = _write(tmp_path / "c.csv", "time,survival\n0,100\n5,80\n10,60\n")
    risk = _write(tmp_path / "r.csv", "time,n_risk\n0,10\n5,8\n")
    result = _run(curve, "--risk-table", risk, "--total-events", "0")
    assert result.exit_code == 2 and "--total-events" in result.stderr
