"""One-stage pooling of reconstructed series (livermet.evidence.survival.one_stage).

Numbers are checked against R survival 3.5-3 and metafor 3.8-1
(data/ipd/one-stage-refs.json, written by data/ipd/one-stage-refs.R from the SYNTHETIC fixture
folders) and against lifelines; the tests never call R.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from livermet.analysis.km import KaplanMeier
from livermet.cli.main import app
from livermet.errors import InputError
from livermet.evidence.dataset import load_literature
from livermet.evidence.ipd import load_provenance, load_reconstructed
from livermet.evidence.survival.one_stage import (
    MEDIAN_TOLERANCE_MONTHS,
    RISK_TIMES,
    SUMMARY_TIMES,
    YEARS_SUSPECT_MONTHS,
    arm_effect,
    count_check,
    deaths_check,
    median_verdict,
    one_stage_pooling,
    reconstructed_section,
    rmst_horizon,
    text_lines,
    unit_note,
)

DATA = Path(__file__).parent / "data" / "ipd"
SYNTHETIC = DATA / "synthetic"
ARMS = DATA / "synthetic-arms"
REFS = json.loads((DATA / "one-stage-refs.json").read_text())
runner = CliRunner()


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    ipd = load_reconstructed(SYNTHETIC, with_arm=True)
    fit = one_stage_pooling(ipd, load_literature(), provenance=load_provenance(SYNTHETIC))
    return fit.to_dict()


def close(a: float | None, b: float | None, tol: float = 1e-9) -> bool:
    """Tell whether two numbers agree (both None counts as agreement)."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def assert_km_matches(block: dict[str, Any], ref: dict[str, Any]) -> None:
    """Compare a curve summary with R's survfit (log-log intervals)."""
    assert block["n"] == ref["n"] and block["events"] == ref["events"]
    assert close(block["median"]["estimate"], ref["median"])
    assert close(block["median"]["lower"], ref["median_lower"])
    assert close(block["median"]["upper"], ref["median_upper"])
    assert [r["n_risk"] for r in block["at_risk"]] == ref["at_risk"]
    assert [r["time"] for r in block["at_risk"]] == list(RISK_TIMES)
    for i, row in enumerate(block["survival"]):
        assert row["time"] == SUMMARY_TIMES[i]
        assert row["n_risk"] == ref["n_risk"][i]
        if row["time"] > ref["last_time"]:
            assert row["survival"] is None  # R extends the last value; we say "unknown"
            continue
        assert close(row["survival"], ref["survival"][i])
        assert close(row["lower"], ref["lower"][i])
        assert close(row["upper"], ref["upper"][i])


def test_km_per_series_matches_r(result: dict[str, Any]) -> None:
    refs = REFS["synthetic"]["series"]
    assert [s["id"] for s in result["series"]] == list(refs)
    for block in result["series"]:
        assert_km_matches(block, refs[block["id"]])


def test_pooled_km_matches_r(result: dict[str, Any]) -> None:
    assert_km_matches(result["pooled"], REFS["synthetic"]["pooled"])


def test_pooled_km_is_km_of_stacked_data(result: dict[str, Any]) -> None:
    from lifelines import KaplanMeierFitter

    frames = [pd.read_csv(SYNTHETIC / f"{s['id']}.csv") for s in result["series"]]
    stacked = pd.concat(frames, ignore_index=True)
    own = KaplanMeier().fit(stacked["time"], stacked["event"])
    assert result["pooled"]["n"] == len(stacked)
    assert result["pooled"]["events"] == int(stacked["event"].sum())
    assert close(result["pooled"]["median"]["estimate"], own.median_.estimate)
    other = KaplanMeierFitter().fit(stacked["time"], stacked["event"])
    for row in result["pooled"]["survival"]:
        expected = float(other.survival_function_at_times(row["time"]).iloc[0])
        assert close(row["survival"], expected, 1e-12)
    assert close(result["pooled"]["median"]["estimate"], float(other.median_survival_time_))


def test_rmst_per_series_and_pooled_match_r(result: dict[str, Any]) -> None:
    ref = REFS["synthetic"]
    assert close(result["rmst"]["horizon"], ref["horizon"])
    for block, estimate, se in zip(
        result["series"], ref["rmst"]["estimate"], ref["rmst"]["se"], strict=True
    ):
        assert close(block["rmst"]["estimate"], estimate, 1e-10)
        assert close(block["rmst"]["std_err"], se, 1e-10)
    pooled = result["rmst"]["pooled"]
    for key in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "i2", "pi_lb", "pi_ub"):
        assert close(pooled[key], ref["rmst_pooled"][key], 1e-6), key
    assert close(result["pooled"]["rmst"]["estimate"], ref["pooled_rmst"], 1e-10)
    assert result["rmst"]["horizon"] == min(60.0, *(s["last_time"] for s in result["series"]))


def test_between_series_logrank_matches_r(result: dict[str, Any]) -> None:
    ref = REFS["synthetic"]["between"]
    test = result["between_series_logrank"]
    assert close(test["chisq"], ref["chisq"], 1e-9)
    assert test["df"] == ref["df"]
    assert [g["observed"] for g in test["groups"]] == ref["observed"]
    for group, expected in zip(test["groups"], ref["expected"], strict=True):
        assert close(group["expected"], expected, 1e-9)


def test_no_cox_without_arms(result: dict[str, Any]) -> None:
    effect = result["arm_effect"]
    assert effect["fitted"] is False
    assert "no covariate" in effect["reason"]


def test_stratified_cox_with_arms_matches_r_and_lifelines() -> None:
    ipd = load_reconstructed(ARMS, with_arm=True)
    effect = arm_effect(ipd)
    assert effect["fitted"] is True and effect["reference"] == "R0"
    term = effect["cox"]["terms"][0]
    ref = REFS["arms"]
    assert close(term["coef"], ref["coef"], 1e-7)
    assert close(term["se"], ref["se"], 1e-7)
    assert close(term["hr_lower"], ref["hr_lower"], 1e-7)
    assert close(term["hr_upper"], ref["hr_upper"], 1e-7)
    assert close(effect["cox"]["loglik"]["fitted"], ref["loglik"][1], 1e-9)
    assert close(effect["logrank"]["chisq"], ref["logrank_chisq"], 1e-9)
    observed = [g["observed"] for g in effect["logrank"]["groups"]]
    assert observed == ref["logrank_observed"]

    from lifelines import CoxPHFitter

    frame = ipd.assign(r1=(ipd["arm"] == "R1").astype(float))[["time", "event", "r1", "series"]]
    other = CoxPHFitter().fit(frame, "time", "event", strata=["series"])
    assert close(term["coef"], float(other.params_["r1"]), 1e-4)


def test_arm_effect_needs_two_arms_in_a_series() -> None:
    ipd = pd.DataFrame(
        {
            "series": ["a", "a", "b", "b"],
            "time": [1.0, 2.0, 3.0, 4.0],
            "event": [1, 0, 1, 1],
            "arm": pd.array(["x", "x", "y", "y"], dtype="string"),
        }
    )
    effect = arm_effect(ipd)
    assert effect["fitted"] is False
    assert effect["left_out"] == ["a", "b"]


def test_median_checks_use_reported_medians(result: dict[str, Any]) -> None:
    table = load_literature().set_index("id")
    for block in result["series"]:
        reported = float(table.loc[block["id"], "mst_months"])
        check = block["median_check"]
        assert block["reported"]["median"] == reported
        diff = block["median"]["estimate"] - reported
        assert close(check["difference"], diff)
        expected = "consistent" if abs(diff) <= MEDIAN_TOLERANCE_MONTHS else "inconsistent"
        assert check["verdict"] == expected
    by_id = {b["id"]: b for b in result["series"]}
    # the three medians that contradict their own percentages keep that flag beside the verdict
    assert by_id["foster1978"]["reported"]["summary_contradiction"]
    assert by_id["grimme2019"]["reported"]["summary_contradiction"]
    assert by_id["dematteo2001"]["reported"]["summary_contradiction"] is None


@pytest.mark.parametrize(
    ("reported", "reconstructed", "verdict"),
    [
        (11.0, 12.0, "consistent"),  # exactly the tolerance
        (11.0, 10.0, "consistent"),
        (11.0, 12.01, "inconsistent"),  # just beyond
        (11.0, 9.99, "inconsistent"),
        (11.0, 11.99, "consistent"),  # just inside
        (42.1, 43.1, "consistent"),  # decimal medians: float rounding ignored at the limit
        (42.1, 41.1, "consistent"),
        (11.0, 11.0, "consistent"),
    ],
)
def test_median_verdict_threshold(reported: float, reconstructed: float, verdict: str) -> None:
    check = median_verdict(reported, reconstructed, 100.0)
    assert check.verdict == verdict
    assert check.difference is not None
    assert math.isclose(check.difference, reconstructed - reported)


@pytest.mark.parametrize(
    ("reported", "last", "verdict"),
    [
        (30.0, 31.0, "undetermined"),  # curve ends within the tolerance after the median
        (30.0, 31.5, "inconsistent"),  # above 50 % 1.5 months past the reported median
        (30.0, 20.0, "undetermined"),  # curve ends before the reported median
    ],
)
def test_median_verdict_not_reached(reported: float, last: float, verdict: str) -> None:
    check = median_verdict(reported, None, last)
    assert check.verdict == verdict
    assert check.difference is None


def test_median_verdict_not_reported_and_bad_tolerance() -> None:
    assert median_verdict(None, 12.0, 40.0).verdict == "not reported"
    assert median_verdict(float("nan"), 12.0, 40.0).verdict == "not reported"
    with pytest.raises(InputError) as info:
        median_verdict(11.0, 12.0, 40.0, tolerance=-1.0)
    assert info.value.field == "tolerance"


@given(
    st.floats(min_value=1, max_value=200),
    st.floats(min_value=-50, max_value=50),
    st.floats(min_value=0, max_value=5),
)
def test_median_verdict_property(reported: float, shift: float, tolerance: float) -> None:
    check = median_verdict(reported, reported + shift, 300.0, tolerance=tolerance)
    diff = abs((reported + shift) - reported)
    if diff < tolerance - 1e-6:
        assert check.verdict == "consistent"
    elif diff > tolerance + 1e-6:
        assert check.verdict == "inconsistent"


def test_rmst_horizon() -> None:
    assert rmst_horizon([80.0, 43.5, 100.0]) == 43.5
    assert rmst_horizon([80.0, 90.0]) == 60.0
    with pytest.raises(InputError):
        rmst_horizon([0.0, 10.0])


def test_series_outside_table_refused() -> None:
    ipd = load_reconstructed(SYNTHETIC)
    table = load_literature()
    table = table[table["id"] != "grimme2019"]
    with pytest.raises(InputError) as info:
        one_stage_pooling(ipd, table)
    assert "grimme2019" in str(info.value)


def test_section_without_series_is_explicit() -> None:
    section = reconstructed_section(load_literature())
    assert section["available"] is False
    assert "digitised" in section["reason"]


def test_section_provenance_copied() -> None:
    section = reconstructed_section(load_literature(), SYNTHETIC)
    block = section["series"][0]
    assert block["provenance"]["figure"] == "none (synthetic)"
    assert block["provenance"]["total_events"] == block["events"]
    assert "provenance_note" not in block


def test_cli_json_keys() -> None:
    plain = runner.invoke(app, ["evidence", "survival", "--format", "json"])
    assert plain.exit_code == 0, plain.stderr
    none = json.loads(plain.stdout)["reconstructed"]
    assert none["available"] is False and none["reason"]
    out = runner.invoke(app, ["evidence", "survival", "--format", "json", "--ipd", str(SYNTHETIC)])
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"time_points", "weibull", "reconstructed"} <= set(data)
    section = data["reconstructed"]
    assert set(section) >= {
        "available",
        "source",
        "series",
        "pooled",
        "between_series_logrank",
        "arm_effect",
        "rmst",
        "notes",
    }
    assert section["available"] is True
    assert {
        "id",
        "label",
        "median",
        "survival",
        "at_risk",
        "rmst",
        "median_check",
        "provenance",
    } <= set(section["series"][0])


def test_cli_text_and_bad_folder(tmp_path: Path) -> None:
    out = runner.invoke(app, ["evidence", "survival", "--ipd", str(SYNTHETIC)])
    assert out.exit_code == 0, out.stderr
    assert "median check" in out.stdout and "Foster 1978" in out.stdout
    (tmp_path / "lang2000.csv").write_text("time,event\n-3,1\n")
    bad = runner.invoke(app, ["evidence", "survival", "--ipd", str(tmp_path)])
    assert bad.exit_code == 2
    assert "provenance.csv" in bad.stderr


def test_single_series_without_events() -> None:
    ipd = pd.DataFrame({"series": ["lang2000"] * 3, "time": [5.0, 10.0, 70.0], "event": [0, 0, 0]})
    section = one_stage_pooling(ipd, load_literature()).to_dict()
    block = section["series"][0]
    assert block["median"]["estimate"] is None
    assert block["median_check"]["verdict"] == "inconsistent"  # above 50 % at 70 > 32 + 1
    assert section["between_series_logrank"] is None
    assert section["rmst"]["pooled"] is None
    assert section["rmst"]["left_out"] == [
        {"id": "lang2000", "reason": "no event before the horizon: SE 0"}
    ]
    lines = text_lines({"source": "test", **section})
    assert any("not pooled" in line for line in lines)
    assert any("median not reached" in line for line in lines)


def test_rmst_horizon_beyond_follow_up_leaves_series_out() -> None:
    ipd = load_reconstructed(SYNTHETIC)
    fit = one_stage_pooling(ipd, load_literature(), horizon=50.0).to_dict()
    assert {"id": "foster1978", "reason": "follow-up ends before the horizon"} in fit["rmst"][
        "left_out"
    ]
    assert fit["series"][0]["rmst"] is None
    assert fit["rmst"]["pooled"]["k"] == 3


def test_text_lines_with_arms() -> None:
    section = reconstructed_section(load_literature(), ARMS)
    lines = text_lines(section)
    assert any("arm: R1 vs R0: HR" in line for line in lines)
    assert any("log-rank" in line for line in lines)
    assert text_lines({"available": False, "reason": "none here"}) == [
        "reconstructed series: none available (none here)"
    ]


# --------------------------------------------------------------------------------------------
# Checks of a series against its published figures: n, deaths, time unit
# --------------------------------------------------------------------------------------------

PROVENANCE_HEADER = "series,file,figure,digitised_by,digitised_on,tool,risk_table,total_events,note"


def write_series(folder: Path, series: str, times: list[float], total_events: str = "") -> Path:
    """Write an IPD folder with one series: deaths at even positions, censored at odd ones."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [f"{t},{1 - i % 2}" for i, t in enumerate(times)]
    (folder / f"{series}.csv").write_text("time,event\n" + "\n".join(rows) + "\n")
    (folder / "provenance.csv").write_text(
        f"{PROVENANCE_HEADER}\n{series},{series}.csv,Fig. 2,test,2026-12-01,test,yes,"
        f"{total_events},test\n"
    )
    return folder


def table_row(ident: str) -> dict[str, Any]:
    """Return the dataset's row of a series as a dict (added series too)."""
    table = load_literature(include_added=True)
    return dict(table[table["id"] == ident].iloc[0])


@pytest.mark.parametrize(
    ("n", "n_table", "n_source", "verdict", "matches"),
    [
        (38, 21, 38, "consistent", ["n_source"]),
        (21, 21, 38, "consistent", ["n_table"]),
        (15, 15, 15, "consistent", ["n_table", "n_source"]),
        (12, 12, None, "consistent", ["n_table"]),
        (120, 21, 38, "differs", []),
        (10, None, math.nan, "not reported", []),
    ],
)
def test_count_check(
    n: int, n_table: float | None, n_source: float | None, verdict: str, matches: list[str]
) -> None:
    check = count_check(n, n_table, n_source)
    assert check["verdict"] == verdict
    assert check["matches"] == matches
    assert check["reconstructed"] == n
    if verdict == "differs":
        assert "subset" in check["reason"] and "not a refusal" in check["reason"]


@given(
    n=st.integers(0, 500),
    n_table=st.one_of(st.none(), st.integers(1, 500)),
    n_source=st.one_of(st.none(), st.integers(1, 500)),
)
def test_count_check_consistent_iff_a_published_n_matches(
    n: int, n_table: int | None, n_source: int | None
) -> None:
    check = count_check(n, n_table, n_source)
    published = [v for v in (n_table, n_source) if v is not None]
    if not published:
        assert check["verdict"] == "not reported"
    else:
        assert (check["verdict"] == "consistent") == (n in published)


def test_deaths_check() -> None:
    assert deaths_check(60, None) is None
    assert deaths_check(60, 60)["verdict"] == "consistent"  # type: ignore[index]
    differs = deaths_check(141, 138)
    assert differs is not None and differs["verdict"] == "differs"
    assert "141 deaths reconstructed, 138 published" in differs["reason"]


@pytest.mark.parametrize(
    ("max_time", "reported", "noted"),
    [
        (6.7, {"median": 77.0, "os3": 54.0, "os5": 42.0}, True),  # grimme2019 in years
        (YEARS_SUSPECT_MONTHS, {"median": None, "os3": None, "os5": 20.0}, True),
        (10.0, {"median": 16.0, "os3": None, "os5": None}, True),
        (10.0, {"median": 11.0, "os3": None, "os5": None}, False),  # short series in months
        (10.0, {"median": None, "os3": math.nan, "os5": None}, False),
        (15.5, {"median": 77.0, "os3": 54.0, "os5": 42.0}, False),
    ],
)
def test_unit_note(max_time: float, reported: dict[str, Any], noted: bool) -> None:
    note = unit_note(max_time, reported)
    assert (note is not None) == noted
    if note is not None:
        assert "times must be months" in note


def test_series_block_checks_n_deaths_and_unit(tmp_path: Path) -> None:
    """grimme2019 with 120 patients in years: three notes, no refusal."""
    times = [0.05 * (i + 1) for i in range(120)]  # all <= 6 (years, wrongly)
    folder = write_series(tmp_path / "ipd", "grimme2019", times, total_events="15")
    section = reconstructed_section(load_literature(), folder)
    block = section["series"][0]
    assert block["n"] == 120
    assert block["n_check"]["verdict"] == "differs"
    assert (block["n_check"]["n_table"], block["n_check"]["n_source"]) == (21, 38)
    assert block["deaths_check"] == {
        "reconstructed": 60,
        "published": 15,
        "verdict": "differs",
        "reason": block["deaths_check"]["reason"],
    }
    assert "times must be months" in block["unit_note"]
    text = "\n".join(text_lines(section))
    assert "n check: differs (120 reconstructed patients" in text
    assert "deaths check: differs (60 deaths reconstructed, 15 published" in text
    assert "time unit: every reconstructed time is at most 6" in text


def test_synthetic_series_match_their_published_n(result: dict[str, Any]) -> None:
    table = load_literature()
    for block in result["series"]:
        row = table[table["id"] == block["id"]].iloc[0]
        check = block["n_check"]
        assert check["verdict"] == "consistent", check
        assert all(block["n"] == row[column] for column in check["matches"])
        assert block["deaths_check"]["verdict"] == "consistent"
        assert "unit_note" not in block


def test_cli_missing_and_empty_folder_refused(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["evidence", "survival", "--ipd", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert f"error: --ipd: no such folder {tmp_path / 'nope'}" in " ".join(missing.stderr.split())
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(app, ["evidence", "survival", "--ipd", str(tmp_path / "empty")])
    assert empty.exit_code == 2
    assert "error: --ipd:" in empty.stderr
    assert "holds no reconstructed series" in " ".join(empty.stderr.split())
    assert "ipd/provenance.csv" not in empty.stderr


def test_cli_added_series_needs_the_option(tmp_path: Path) -> None:
    folder = write_series(tmp_path / "ipd", "chen1998", [float(t) for t in range(1, 12)])
    without = runner.invoke(app, ["evidence", "survival", "--ipd", str(folder)])
    assert without.exit_code == 2
    said = " ".join(without.stderr.split())
    assert "chen1998 is one of the added series" in said and "add --with-added-series" in said
    ok = runner.invoke(
        app,
        ["evidence", "survival", "--ipd", str(folder), "--with-added-series", "--format", "json"],
    )
    assert ok.exit_code == 0, ok.stderr
    block = json.loads(ok.stdout)["reconstructed"]["series"][0]
    assert block["id"] == "chen1998"
    assert block["n_check"]["verdict"] == "consistent"  # 11 = n_table = n_source
    assert block["n"] == table_row("chen1998")["n_table"]
