"""Reading and cleaning a digitisation, and every bad input of a reconstruction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from livermet.errors import InputError
from livermet.evidence.reconstruct import (
    POOR_FIT_THRESHOLD,
    CurveFit,
    DigitisedCurve,
    RiskTableInput,
    clean_curve,
    fit_warnings,
    longest_non_increasing,
    parse_curve,
    parse_risk_table,
    read_curve,
    read_risk_table,
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
        ("when,n_risk,other\n0,50,1\n", "names no time", "r.csv line 1"),
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
    low = DigitisedCurve.from_arrays([1, 5, 10], [1.2, 1.0, 0.9])  # percent, a tail at ~1 %
    forced = clean_curve(low, scale="percent")
    assert forced.survival[1:].tolist() == pytest.approx([0.012, 0.01, 0.009])
    assert forced.added_origin  # (0, 1.2 %) is not the start of a curve
    with pytest.raises(InputError, match=r"line 1: survival 1\.2 is outside"):
        clean_curve(low)  # as proportions, 1.2 is 120 %: refused, not clipped
    with pytest.raises(InputError, match="unknown scale"):
        clean_curve(low, scale="permille")  # type: ignore[arg-type]


def test_clipping_sorting_and_origin() -> None:
    c = DigitisedCurve.from_arrays([5.0, -0.2, 2.0, 2.0], [0.7, 1.02, 0.8, 0.9])
    out = clean_curve(c)
    assert out.time.tolist() == [0.0, 2.0, 2.0, 5.0]
    assert out.survival.tolist() == [1.0, 0.9, 0.8, 0.7]  # at one time: highest first
    assert (out.clipped_time, out.clipped_survival) == (1, 1)
    # (-0.2, 1.02) is at time 0 or before: dropped, and the curve started at (0, 1)
    assert [r["line"] for r in out.dropped_start] == [2]
    assert out.reordered and out.added_origin
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
            # the curve ends where no one is left at risk (36.4); a point after it is refused
            [0, 3.46, 10.52, 13.37, 17.38, 22.55, 27.21, 28.32, 29.23, 34.75, 36.4],
            [1, 0.843, 0.819, 0.753, 0.705, 0.691, 0.668, 0.601, 0.513, 0.368, 0.355],
        )
    )
    result = reconstruct(curve, _risk([0, 15, 21.7, 31.1, 36.4], [2, 1, 1, 1, 0]))
    assert result.risk["algorithm"].tolist() == [2, 1, 1, 1, 0]
    assert (result.table.n_risk >= 0).all() and (result.table.n_censor >= 0).all()
    assert result.ipd.shape[0] == 2


# --- fixes after user testing ------------------------------------------------------------------

DAYS_PER_MONTH = 365.25 / 12  # the project's month (docs/reconstruction.md#inputs)


def test_a_scale_that_the_values_contradict_is_refused() -> None:
    percent = DigitisedCurve.from_arrays([0, 5, 10], [100, 80, 60], "p.csv")
    with pytest.raises(InputError, match=r"look like percent \(max 100\)") as err:
        clean_curve(percent, scale="proportion")
    assert err.value.field == "p.csv" and "--percent" in err.value.message
    proportion = DigitisedCurve.from_arrays([0, 5, 10], [1, 0.8, 0.6], "q.csv")
    with pytest.raises(InputError, match=r"look like proportions \(max 1") as err:
        clean_curve(proportion, scale="percent")
    assert "--proportion" in err.value.message
    assert clean_curve(percent).scale == "percent" and clean_curve(proportion).scale == "proportion"


@pytest.mark.parametrize(
    ("header", "times", "months", "unit"),
    [
        ("years", "0\n1\n2.5", [0, 12, 30], "years"),
        ("Time (days)", "0\n30.4375\n365.25", [0, 1, 12], "days"),
        ("follow-up, weeks", f"0\n{365.25 / 7}\n{2 * 365.25 / 7}", [0, 12, 24], "weeks"),
        ("Time (months)", "0\n1\n12", [0, 1, 12], "months"),
        ("time", "0\n1\n12", [0, 1, 12], "months"),
    ],
)
def test_time_units_are_converted_to_months(
    header: str, times: str, months: list[float], unit: str
) -> None:
    surv = ["1", "0.9", "0.8"]
    text = f'"{header}",survival\n' + "\n".join(
        f"{t},{s}" for t, s in zip(times.split(), surv, strict=True)
    )
    c = parse_curve(text, "c.csv")
    assert c.time.tolist() == pytest.approx(months, rel=1e-12)
    assert c.time_unit == unit
    assert bool(c.notes) == (unit != "months")
    risk = parse_risk_table(
        f'"{header}",n_risk\n'
        + "\n".join(f"{t},{n}" for t, n in zip(times.split(), [9, 8, 7], strict=True))
    )
    assert risk.time.tolist() == pytest.approx(months, rel=1e-12)
    if unit != "months":
        assert "converted to months" in c.notes[0] and unit in c.notes[0]


def test_a_curve_in_days_gives_the_patients_of_the_same_curve_in_months() -> None:
    months = read_curve(DATA / "guyot-example-survival.txt")
    days = "\n".join(
        f"{float(t) * DAYS_PER_MONTH!r};{float(s)!r}".replace(".", ",")
        for t, s in zip(months.time, months.survival, strict=True)
    )
    curve = parse_curve("Time (days);Survival\n" + days, "days.csv")
    assert curve.time_unit == "days"
    risk = _risk([0, 4, 8, 12], [61, 55, 44, 32])
    a = reconstruct(clean_curve(months), risk)
    b = reconstruct(clean_curve(curve), risk)
    np.testing.assert_allclose(b.ipd["time"], a.ipd["time"], rtol=1e-12)
    assert b.ipd["event"].tolist() == a.ipd["event"].tolist()
    assert any("read in days" in n for n in b.notes)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_decimal_commas_with_semicolons_or_tabs(sep: str) -> None:
    c = parse_curve(f"time{sep}survival\n0,000{sep}100,00\n0,648{sep}99,17\n", "eu.csv")
    assert c.time.tolist() == [0.0, 0.648]
    assert c.survival.tolist() == [100.0, 99.17]
    bare = parse_curve(f"0,5{sep}1\n2{sep}0,75\n", "eu.csv")
    assert bare.time.tolist() == [0.5, 2.0] and bare.survival.tolist() == [1.0, 0.75]
    r = parse_risk_table(f"Time (months){sep}No. at risk\n0{sep}120\n12,5{sep}101\n", "r.csv")
    assert r.time.tolist() == [0.0, 12.5] and r.n_risk.tolist() == [120, 101]


@pytest.mark.parametrize(
    "header",
    ["Time (months),No. at risk", "months,at risk", "Months,Number at risk", "t,n"],
)
def test_risk_table_headers_are_read_leniently(header: str) -> None:
    r = parse_risk_table(f"{header}\n0,120\n12,101\n", "r.csv")
    assert r.time.tolist() == [0, 12] and r.n_risk.tolist() == [120, 101]
    assert r.notes == ()


def test_an_unrecognised_two_column_header_is_read_in_order_with_a_note() -> None:
    r = parse_risk_table("when,count\n0,120\n12,101\n", "r.csv")
    assert r.time.tolist() == [0, 12] and r.n_risk.tolist() == [120, 101]
    assert "not recognised" in r.notes[0] and "column 1 read as time" in r.notes[0]
    c = parse_curve("Months,Overall survival (%)\n0,100\n3,90\n", "c.csv")
    assert c.survival.tolist() == [100, 90] and c.notes == ()
    odd = parse_curve("a,b\n0,1\n3,0.9\n", "c.csv")
    assert odd.time.tolist() == [0, 3] and "not recognised" in odd.notes[0]


def test_no_one_at_risk_while_the_curve_goes_on_is_refused() -> None:
    curve = clean_curve(parse_curve("time,survival\n0,1\n2,0.8\n5,0.5\n9,0.5\n", "c.csv"))
    risk = parse_risk_table("time,n_risk\n0,10\n4,6\n6,0\n", "r.csv")
    with pytest.raises(InputError, match="no one is at risk at 6") as err:
        reconstruct(curve, risk)
    assert err.value.field == "r.csv line 4"
    assert "(9, 0.5) at c.csv line 5" in err.value.message
    ends = clean_curve(parse_curve("time,survival\n0,1\n2,0.8\n5,0.5\n6,0.5\n", "c.csv"))
    assert reconstruct(ends, risk).ipd.shape[0] == 10  # a curve that ends there is fine


def test_a_poor_fit_is_warned_about() -> None:
    # 5 patients cannot make a curve at 0.9: the nearest Kaplan-Meier steps are 1 and 0.8.
    curve = clean_curve(DigitisedCurve.from_arrays([0, 5, 10], [1, 0.9, 0.9]))
    result = reconstruct(curve, _risk([0], [5]))
    assert result.fit.max_abs_error == pytest.approx(0.1)
    assert len(result.warnings) == 1 and "poor fit" in result.warnings[0]
    assert result.to_dict()["warnings"] == result.warnings
    guyot = reconstruct(
        clean_curve(read_curve(DATA / "guyot-example-survival.txt")),
        read_risk_table(DATA / "guyot-example-nrisk.txt"),
    )
    assert guyot.fit.max_abs_error < POOR_FIT_THRESHOLD and guyot.warnings == []


@pytest.mark.parametrize(("error", "warned"), [(0.05, False), (0.0501, True), (0.2, True)])
def test_the_warning_threshold(error: float, warned: bool) -> None:
    assert bool(fit_warnings(CurveFit(0.01, error, 3.0, 10))) is warned


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder, not a file") as err:
        read_curve(tmp_path, field="CURVE")
    assert err.value.field == "CURVE"
    with pytest.raises(InputError, match="no such file") as err:
        read_risk_table(tmp_path / "none.csv", field="--risk-table")
    assert err.value.field == "--risk-table"


@pytest.mark.parametrize(
    "text", ["time,survival\n0,1\n2,0.9\n", "0,1\n2,0.9\n", "Surgery,\nX,Y\n0,1\n2,0.9\n"]
)
def test_a_dataset_chosen_in_a_file_with_one_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="has one dataset") as err:
        parse_curve(text, "c.csv", dataset="Chemo")
    assert err.value.field == "dataset"


def test_the_named_single_dataset_may_be_chosen() -> None:
    c = parse_curve("Surgery,\nX,Y\n0,1\n2,0.9\n", "c.csv", dataset="Surgery")
    assert c.time.tolist() == [0, 2]


def test_patient_data_given_as_a_curve_is_refused() -> None:
    with pytest.raises(InputError, match="looks like patient data") as err:
        parse_curve("time,event\n0.6,1\n1.1,0\n", "ipd.csv")
    assert err.value.field == "ipd.csv line 1"
