"""Reading and cleaning a digitisation, and every bad input of a reconstruction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from livermet.errors import InputError
from livermet.evidence.reconstruct import (
    DigitisedCurve,
    RiskTableInput,
    clean_curve,
    longest_non_increasing,
    parse_curve,
    parse_risk_table,
    read_curve,
    reconstruct,
)

DATA = Path(__file__).parent / "data" / "reconstruct"


def _risk(times: list[float], n: list[float]) -> RiskTableInput:
    return RiskTableInput(np.array(times, float), np.array(n, float), np.arange(2, len(n) + 2))


CURVE = DigitisedCurve.from_arrays([0, 2, 4, 6, 8, 10], [1, 0.9, 0.8, 0.7, 0.6, 0.55])


# --- reading -----------------------------------------------------------------------------------


def test_plain_csv_with_header_in_any_column_order() -> None:
    c = parse_curve("Survival,Time\n1,0\n0.9,2.5\n", "c.csv")
    assert c.time.tolist() == [0, 2.5]
    assert c.survival.tolist() == [1, 0.9]
    assert c.lines.tolist() == [2, 3]


def test_guyot_format_with_row_numbers_and_tabs() -> None:
    c = read_curve(DATA / "guyot-example-survival.txt")
    assert c.time.size == 31
    assert (c.time[2], c.survival[2]) == (2.94, 0.98)


def test_webplotdigitizer_single_dataset_without_header() -> None:
    c = parse_curve("0.0, 100.2\n1.5, 95.1\n3.0, 90\n", "wpd.csv")
    assert c.time.tolist() == [0.0, 1.5, 3.0]
    assert c.survival.tolist() == [100.2, 95.1, 90]


WPD_TWO = "Surgery,,Chemo,\nX,Y,X,Y\n0,1,0,1\n2,0.9,1,0.8\n4,0.85,,\n"


@pytest.mark.parametrize(("dataset", "expected"), [("Chemo", [0, 1]), ("1", [0, 2, 4])])
def test_webplotdigitizer_all_datasets_export(dataset: str, expected: list[float]) -> None:
    c = parse_curve(WPD_TWO, "wpd.csv", dataset=dataset)
    assert c.time.tolist() == expected


def test_several_datasets_need_a_choice() -> None:
    with pytest.raises(InputError, match="2 datasets") as err:
        parse_curve(WPD_TWO, "wpd.csv")
    assert err.value.field == "dataset"
    with pytest.raises(InputError, match="no dataset 'Radio'"):
        parse_curve(WPD_TWO, "wpd.csv", dataset="Radio")


def test_no_header_side_by_side_datasets_are_numbered() -> None:
    c = parse_curve("0,1,0,1\n2,0.9,3,0.7\n", "wpd.csv", dataset="2")
    assert c.time.tolist() == [0, 3]


def test_risk_table_plain_and_guyot_formats() -> None:
    r = parse_risk_table("time,n_risk\n0,50\n12,30\n", "r.csv")
    assert r.n_risk.tolist() == [50, 30]
    assert r.lower is None
    r = parse_risk_table("0;50\n12;30\n", "r.csv")
    assert r.time.tolist() == [0, 12]
    r = parse_risk_table("Interval\ttime\tlower\tupper\tnrisk\n1\t0\t1\t3\t50\n", "r.txt")
    assert r.lower is not None and r.upper is not None
    assert (r.lower.tolist(), r.upper.tolist()) == ([1], [3])


@pytest.mark.parametrize(
    ("text", "match", "field"),
    [
        ("", "empty", "c.csv"),
        ("\n  \n", "empty", "c.csv"),
        ("time,survival\n", "no digitised points", "c.csv"),
        ("time,survival\n0,1\n2,abc\n", "survival must be a number, got 'abc'", "c.csv line 3"),
        ("time,survival\n0,1\nx,0.5\n", "time must be a number", "c.csv line 3"),
        ("time,survival\n0,1\n2,\n", "an empty cell", "c.csv line 3"),
        ("a,b,c\n0,1,2\n", "names no time and survival", "c.csv line 1"),
    ],
)
def test_bad_curve_files(text: str, match: str, field: str) -> None:
    with pytest.raises(InputError, match=match) as err:
        parse_curve(text, "c.csv")
    assert err.value.field == field


@pytest.mark.parametrize(
    ("text", "match", "field"),
    [
        ("", "empty", "r.csv"),
        ("time,n_risk\n", "no rows", "r.csv"),
        ("time,n_risk\n0,50\n12,many\n", "number at risk must be a number", "r.csv line 3"),
        ("when,n_risk\n0,50\n", "names no time", "r.csv line 1"),
        ("time,n,lower\n0,50,1\n", "both lower and upper", "r.csv"),
        ("0,50,3\n", "two columns", "r.csv"),
    ],
)
def test_bad_risk_table_files(text: str, match: str, field: str) -> None:
    with pytest.raises(InputError, match=match) as err:
        parse_risk_table(text, "r.csv")
    assert err.value.field == field


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_curve(tmp_path / "nothing.csv")


# --- cleaning ----------------------------------------------------------------------------------


def test_percent_detected_and_forced() -> None:
    c = DigitisedCurve.from_arrays([0, 5, 10], [100, 80, 60])
    auto = clean_curve(c)
    assert auto.scale == "percent"
    assert auto.survival.tolist() == [1.0, 0.8, 0.6]
    low = DigitisedCurve.from_arrays([0, 5, 10], [1.2, 1.0, 0.9])  # percent, a tail at ~1 %
    forced = clean_curve(low, scale="percent")
    assert forced.survival[1:].tolist() == pytest.approx([0.012, 0.01, 0.009])
    assert forced.added_origin  # (0, 1.2 %) is not the start of a curve
    assert clean_curve(low).scale == "proportion"
    with pytest.raises(InputError, match="unknown scale"):
        clean_curve(low, scale="permille")  # type: ignore[arg-type]


def test_clipping_sorting_and_origin() -> None:
    c = DigitisedCurve.from_arrays([5.0, -0.2, 2.0, 2.0], [0.7, 1.02, 0.8, 0.9])
    out = clean_curve(c)
    assert out.time.tolist() == [0.0, 2.0, 2.0, 5.0]
    assert out.survival.tolist() == [1.0, 0.9, 0.8, 0.7]  # at one time: highest first
    assert (out.clipped_time, out.clipped_survival) == (1, 1)
    assert out.reordered and not out.added_origin
    assert any("sorted" in n for n in out.notes())


def test_origin_added_when_missing() -> None:
    out = clean_curve(DigitisedCurve.from_arrays([1.0, 3.0], [0.95, 0.9]))
    assert (out.time[0], out.survival[0]) == (0.0, 1.0)
    assert out.added_origin and out.rows.tolist() == [0, 1, 2]
    assert "added the point (0, 1) in front" in out.notes()


def test_points_that_go_up_are_removed_and_reported() -> None:
    # A dip (0.70 at 3) and a bump (0.86 at 6): two points removed, the rest kept.
    c = DigitisedCurve.from_arrays([0, 2, 3, 4, 5, 6, 7], [1, 0.9, 0.7, 0.88, 0.85, 0.86, 0.8])
    out = clean_curve(c)
    assert out.time.tolist() == [0, 2, 4, 5, 7]
    assert [(r["time"], r["survival"]) for r in out.removed] == [(3.0, 0.7), (6.0, 0.86)]
    assert [int(r["line"]) for r in out.removed] == [3, 6]
    assert np.all(np.diff(out.survival) <= 0)


def test_strict_cleaning_refuses_a_rise_naming_its_line() -> None:
    c = parse_curve("time,survival\n0,1\n2,0.8\n3,0.85\n", "c.csv")
    with pytest.raises(InputError, match=r"goes up from 0\.8 to 0\.85") as err:
        clean_curve(c, drop_increasing=False)
    assert err.value.field == "c.csv line 4"


def test_longest_non_increasing_keeps_the_earlier_of_equal_choices() -> None:
    assert longest_non_increasing([0.8, 0.82, 0.79]).tolist() == [0, 2]
    assert longest_non_increasing([1, 1, 1]).tolist() == [0, 1, 2]
    assert longest_non_increasing([0.5, 0.6, 0.7]).tolist() == [0]


def test_non_finite_arrays_are_refused() -> None:
    with pytest.raises(InputError, match="finite") as err:
        DigitisedCurve.from_arrays([0, np.nan], [1, 0.9])
    assert err.value.field == "curve row 2"
    with pytest.raises(InputError, match="2 times but 1"):
        DigitisedCurve.from_arrays([0, 1], [1])


# --- risk table against the curve ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("times", "n", "match", "line"),
    [
        ([0, 4, 12], [50, 40, 30], "outside the curve's range", 4),
        ([0, 6, 4], [50, 40, 30], "times must increase", 4),
        ([0, 4, 8], [50, 52, 30], "must not increase: 50 at 0, then 52 at 4", 3),
        ([0, 4, 8], [50, 40, -1], "whole number >= 0", 4),
        ([0, 4, 8], [50, 40.5, 30], "whole number >= 0", 3),
        ([2, 4, 8], [50, 40, 30], "first row must be at time 0", 2),
        ([0, 4], [0, 0], "patients at time 0", 2),
        ([-1, 4], [50, 40], "outside the curve's range", 2),
    ],
)
def test_bad_risk_tables_name_their_line(
    times: list[float], n: list[float], match: str, line: int
) -> None:
    with pytest.raises(InputError, match=match) as err:
        reconstruct(clean_curve(CURVE), _risk(times, n))
    assert err.value.field == f"risk table line {line}"


def test_bad_guyot_indexes() -> None:
    bad = RiskTableInput(
        np.array([0.0, 4.0]),
        np.array([50.0, 40.0]),
        np.array([2, 3]),
        np.array([1.0, 4.0]),
        np.array([2.0, 6.0]),
    )
    with pytest.raises(InputError, match="lower/upper") as err:
        reconstruct(clean_curve(CURVE), bad)
    assert err.value.field == "risk table line 3"


def test_bad_total_events() -> None:
    with pytest.raises(InputError, match="from 0 to 50") as err:
        reconstruct(clean_curve(CURVE), _risk([0, 4], [50, 40]), total_events=51)
    assert err.value.field == "total_events"


def test_empty_interval_gets_the_step_value() -> None:
    curve = clean_curve(DigitisedCurve.from_arrays([0, 1, 2, 9, 10], [1, 0.9, 0.8, 0.7, 0.7]))
    result = reconstruct(curve, _risk([0, 4, 6], [30, 24, 22]))
    assert 4.0 in result.intervals.time  # nothing digitised in [4, 6)
    assert 6.0 not in result.intervals.time  # 9 and 10 are in [6, end]
    assert any("added the point (4, 0.8)" in n for n in result.notes)
    assert result.risk["algorithm"].tolist() == [30, 24, 22]


def test_guyot_indexes_are_recomputed_when_cleaning_moved_rows() -> None:
    curve = clean_curve(DigitisedCurve.from_arrays([0, 2, 1, 4, 6], [1, 0.8, 0.9, 0.7, 0.6]))
    table = RiskTableInput(
        np.array([0.0, 3.0]),
        np.array([20.0, 16.0]),
        np.array([2, 3]),
        np.array([1.0, 4.0]),
        np.array([3.0, 5.0]),
    )
    result = reconstruct(curve, table)
    assert any("not used" in n for n in result.notes)
    assert result.intervals.lower.tolist() == [0, 3]


def test_an_unreachable_published_number_is_lowered_and_reported() -> None:
    # 10 patients, survival 0.5 by time 2: at least 5 deaths, so 8 at risk at 3 cannot be met.
    curve = clean_curve(DigitisedCurve.from_arrays([0, 1, 2, 5], [1, 0.7, 0.5, 0.5]))
    result = reconstruct(curve, _risk([0, 3], [10, 8]))
    row = result.risk.iloc[1]
    assert bool(row["lowered"]) and row["algorithm"] == 5 and row["published"] == 8
    assert any("lowered it to 5" in n for n in result.notes)


def test_total_events_that_cannot_be_met_stop_and_are_reported() -> None:
    # The drop at 8.1 needs 27 deaths of the 75 at risk from 4.5: 5 events in all is impossible
    # (R's loop would run for ever, censoring more and more).
    curve = clean_curve(
        DigitisedCurve.from_arrays([0, 8.1, 12.27, 31.02, 36.54], [1, 0.638, 0.635, 0.587, 0.567])
    )
    result = reconstruct(curve, _risk([0, 4.5], [135, 75]), total_events=5)
    events = int(result.ipd["event"].sum())
    assert events > 5
    assert f"{events} events reconstructed, 5 reported" in result.notes
    assert result.ipd.shape[0] == 135


def test_a_correction_that_would_leave_fewer_than_no_patients_is_redone() -> None:
    # Two patients; survHE's loop stops with -1 at risk at 36.4 (one death and one censoring of
    # the single patient at risk at 31.1); with no censoring there the published 0 is met.
    curve = clean_curve(
        DigitisedCurve.from_arrays(
            [0, 3.46, 10.52, 13.37, 17.38, 22.55, 27.21, 28.32, 29.23, 34.75, 38.26],
            [1, 0.843, 0.819, 0.753, 0.705, 0.691, 0.668, 0.601, 0.513, 0.368, 0.355],
        )
    )
    result = reconstruct(curve, _risk([0, 15, 21.7, 31.1, 36.4], [2, 1, 1, 1, 0]))
    assert result.risk["algorithm"].tolist() == [2, 1, 1, 1, 0]
    assert (result.table.n_risk >= 0).all() and (result.table.n_censor >= 0).all()
    assert result.ipd.shape[0] == 2
