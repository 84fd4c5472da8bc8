"""``cohort km``: no estimate after the last follow-up; an RMST horizon after it is noted.

References: tests/analysis/data/follow-up-refs.R (R survival 3.5-3): ``summary(fit, times=)``
leaves out the times after the last follow-up; ``summary(fit, rmean=)`` reports the restricted
mean to a later horizon (the curve carried flat), which livermet reports too, with a note.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from livermet.analysis.km import KaplanMeier, curve_within_follow_up, within_follow_up
from livermet.cli.cohort import app
from tests.analysis.literature_data import write_ipd_folder

runner = CliRunner()
REFS = json.loads((Path(__file__).parent / "data" / "follow-up-refs.json").read_text())


def _csv(tmp_path: Path, case: dict[str, Any]) -> Path:
    path = tmp_path / "cohort.csv"
    rows = [f"{t},{e}" for t, e in zip(case["time"], case["event"], strict=True)]
    path.write_text("os_months,death\n" + "\n".join(rows) + "\n")
    return path


def _km(path: Path, case: dict[str, Any], *extra: str) -> list[str]:
    times = ",".join(f"{t:g}" for t in case["times"])
    horizon = f"{case['rmean'][0]:g}"
    return ["km", "--data", str(path), "--times", times, "--rmst-horizon", horizon, *extra]


@pytest.mark.parametrize("name", ["four", "one"])
def test_times_after_the_last_follow_up_have_no_estimate_as_r(tmp_path: Path, name: str) -> None:
    ref = REFS[name]
    result = runner.invoke(app, [*_km(_csv(tmp_path, ref), ref), "--format", "json"])
    assert result.exit_code == 0, result.output
    overall = json.loads(result.stdout)["overall"]
    shown = [row["time"] for row in overall["at"] if row["survival"] is not None]
    assert shown == ref["reported_times"]  # R's rows, no more
    values = [row["survival"] for row in overall["at"] if row["survival"] is not None]
    assert values == pytest.approx(ref["survival"], rel=1e-12)
    blank = [row for row in overall["at"] if row["survival"] is None]
    assert all(row["lower"] is None and row["upper"] is None for row in blank)
    assert overall["last_time"] == max(ref["time"])
    # the RMST is R's (print.survfit(rmean=) extends the curve flat), with a note
    assert overall["rmst"]["estimate"] == pytest.approx(ref["rmst"][0], rel=1e-12)
    assert overall["rmst"]["std_err"] == pytest.approx(ref["rmst_se"][0], rel=1e-12, abs=1e-12)
    last = f"{max(ref['time']):g}"
    assert any(f"after the last follow-up at {last} months" in n for n in overall["notes"])
    assert any(f"RMST horizon {ref['rmean'][0]:g} months" in n for n in overall["notes"])


def test_text_shows_a_dash_and_the_note(tmp_path: Path) -> None:
    ref = REFS["one"]  # n = 1 censored at 5 months: S = 1 at 60 months was printed before
    result = runner.invoke(app, _km(_csv(tmp_path, ref), ref))
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "12 │ 0 │ — │ — │ —" in text
    assert "1.000 │ 1.000 │ 1.000" in text  # time 0 is within the follow-up
    assert text.count("1.000") == 3
    assert (
        "note: all patients: no estimate at 12, 36, 60 months: after the last follow-up at 5"
        in text
    )
    assert "the RMST horizon 60 months is after the last follow-up at 5 months" in text


def test_groups_are_checked_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text("os_months,death,arm\n3,1,a\n5,0,a\n20,1,b\n30,0,b\n")
    args = ["km", "--data", str(path), "--by", "arm", "--times", "12", "--format", "json"]
    result = runner.invoke(app, [*args, "--rmst-horizon", "10"])
    assert result.exit_code == 0, result.output
    groups = json.loads(result.stdout)["groups"]
    assert groups["a"]["at"][0]["survival"] is None and groups["a"]["last_time"] == 5
    assert groups["b"]["at"][0]["survival"] == 1.0 and groups["b"]["notes"] == []
    assert any(n.startswith("arm = a: no estimate at 12 months") for n in groups["a"]["notes"])


def test_literature_curve_past_its_follow_up(tmp_path: Path) -> None:
    from tests.analysis.conftest import COHORT_CSV

    folder = write_ipd_folder(tmp_path / "ipd")
    args = ["km", "--data", str(COHORT_CSV), "--with-literature", "--literature-ipd", str(folder)]
    result = runner.invoke(
        app, [*args, "--times", "0,12,600", "--rmst-horizon", "200", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for curve in (report["overall"], report["literature"]):
        assert [row["survival"] is None for row in curve["at"]] == [False, False, True]
        assert curve["at"][2]["n_risk"] == 0
    lit = report["literature"]
    assert any(
        n.startswith(
            "literature: no estimate at 600 months: after the last follow-up at "
            f"{lit['last_time']:g}"
        )
        for n in lit["notes"]
    )
    assert any("RMST horizon 200 months is after the last follow-up" in n for n in lit["notes"])
    assert any(n.startswith("registry: no estimate at 600") for n in report["overall"]["notes"])


def test_weibull_curve_past_the_last_summary_point() -> None:
    from tests.analysis.conftest import COHORT_CSV

    args = ["km", "--data", str(COHORT_CSV), "--with-literature", "--times", "12,60,600"]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    lit = json.loads(result.stdout)["literature"]
    assert [row["survival"] is None for row in lit["at"]] == [False, False, True]
    assert any("after the last published summary point" in n for n in lit["notes"])


def test_within_follow_up_keeps_rows_inside() -> None:
    km = KaplanMeier().fit([3, 5, 8, 10], [1, 0, 1, 0])
    rows = [{str(k): v for k, v in r.items()} for r in km.at([10, 10.5]).to_dict("records")]
    kept, note = within_follow_up(rows, 10.0, "x")
    assert kept[0]["survival"] == rows[0]["survival"] and kept[1]["survival"] is None
    assert note is not None and "10.5" in note
    assert within_follow_up(rows[:1], 10.0, "x")[1] is None
    curve = curve_within_follow_up({"at": rows[:1], "rmst": km.rmst(10).to_dict()}, km, "x")
    assert curve["notes"] == []  # horizon = last follow-up: no note
