"""``livermet evidence survival`` with a user's series: what is not estimable, one series.

And the fields of the evidence commands' errors, named by the option typed (``--nagq``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livermet.cli.evidence import option_field, pool_command
from livermet.cli.main import app
from livermet.evidence.dataset import load_series
from livermet.evidence.survival import WeibullNotEstimable, weibull_synthesis
from livermet.evidence.survival.one_stage import reconstructed_section, text_lines

runner = CliRunner()
JSON = ["--format", "json"]
RECONSTRUCT = Path(__file__).parent / "data" / "reconstruct"
PROVENANCE = "series,file,figure,digitised_by,digitised_on,tool,risk_table,total_events,note\n"
# Eight patients followed 5 months at most: deaths at 0.5, 1, 1.5, 1.5, 2, 4; censored at 3
# and 5. Kaplan-Meier by hand: S = 7/8, 6/8, then 6/8 * 4/6 = 0.5 exactly at 1.5 months, so the
# median is the midpoint of 1.5 and the next death time 2 (R survfit's rule): 1.75 months.
PATIENTS = "time,event\n0.5,1\n1.0,1\n1.5,1\n1.5,1\n2.0,1\n3.0,0\n4.0,1\n5.0,0\n"


def _write(tmp_path: Path, series_csv: str) -> tuple[Path, Path]:
    """Write a user's series table and an IPD folder with its one series, own2024."""
    table = tmp_path / "myseries.csv"
    table.write_text(series_csv, encoding="utf-8")
    folder = tmp_path / "ipd"
    folder.mkdir()
    (folder / "own2024.csv").write_text(PATIENTS, encoding="utf-8")
    (folder / "provenance.csv").write_text(
        PROVENANCE + "own2024,own2024.csv,Fig 1,test,2026-12-01,test,no,,\n", encoding="utf-8"
    )
    return table, folder


def test_too_few_summary_points_still_runs_the_reconstructed_section(tmp_path: Path) -> None:
    table, folder = _write(tmp_path, "id,n_table,mst_months,os5\nown2024,8,1.5,20\n")
    with pytest.raises(WeibullNotEstimable) as caught:  # 2 points: S(60) and the median
        weibull_synthesis(load_series(table))
    assert caught.value.field == "series" and "give 2 at 2 distinct times" in caught.value.message
    out = runner.invoke(
        app,
        ["evidence", "survival", "--series", str(table), "--ipd", str(folder), "--format", "json"],
    )
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    weibull = data["weibull"]
    assert weibull["available"] is False and "at least 3 survival points" in weibull["reason"]
    assert "--series" in weibull["note"]
    assert all(col in weibull["note"] for col in ("n_table", "mst_months", "os1", "os3", "os5"))
    section = data["reconstructed"]
    assert section["available"] is True
    assert section["series"][0]["median"]["estimate"] == pytest.approx(1.75)
    expected = json.loads(json.dumps(reconstructed_section(load_series(table), folder)))
    assert section["series"] == expected["series"]
    text = runner.invoke(
        app, ["evidence", "survival", "--series", str(table), "--ipd", str(folder)]
    )
    assert text.exit_code == 0, text.stderr
    said = " ".join(text.stdout.split())
    assert "pooled median (Weibull): not available (need at least 3 survival points" in said
    assert "give, with --series, rows with n_table" in said
    assert "reconstructed series (" in said and "median 1.8 months" in said
    assert "df:" not in said + text.stderr


def test_curve_lines_have_no_trailing_separator(tmp_path: Path) -> None:
    table, folder = _write(tmp_path, "id,n_table,mst_months,os5\nown2024,8,1.5,20\n")
    lines = text_lines(reconstructed_section(load_series(table), folder))
    first = next(line for line in lines if line.startswith("  own2024"))
    assert first.endswith("n = 8, 6 deaths, median 1.8 months")  # no S(12/36/60): no "; "
    assert not any(line.rstrip().endswith(";") for line in lines)


def test_one_series_says_pooling_needs_two_and_shows_its_own_figures(tmp_path: Path) -> None:
    table, folder = _write(tmp_path, "id,n_table,mst_months,os1,os3,os5\nown2024,8,30,70,40,20\n")
    out = runner.invoke(app, ["evidence", "survival", "--series", str(table), "--ipd", str(folder)])
    assert out.exit_code == 0, out.stderr
    said = " ".join(out.stdout.split())
    assert "—" not in said
    for months, percent in ((12, "70.0"), (36, "40.0"), (60, "20.0")):
        assert (
            f"{months} months: {percent} % as reported by own2024 (your series) alone, k = 1 "
            "(not pooled: pooling needs 2 or more series)"
        ) in said
    assert "median (Weibull fit of own2024 (your series) alone, k = 1; not pooled" in said
    assert "pooled: not pooled, one series (pooling needs 2 or more series)" in said
    assert "between-series log-rank" not in said
    assert "with one series there is no other series to compare it with" in said
    data = json.loads(
        runner.invoke(
            app,
            ["evidence", "survival", "--series", str(table), "--ipd", str(folder), *JSON],
        ).stdout
    )
    rows = {row["time_months"]: row for row in data["time_points"]}
    assert rows[36]["estimate"] is None and rows[36]["reported"] == pytest.approx(0.40)
    assert rows[36]["series_id"] == "own2024" and rows[36]["k"] == 1


@pytest.mark.parametrize(
    ("args", "prefix"),
    [
        (["pool", "--model", "glmm", "--nagq", "0"], "error: --nagq: "),
        (["pool", "--model", "rma", "--nagq", "7"], "error: --nagq: "),
        (["pool", "--model", "glmm", "--method", "DL"], "error: --method: "),
        (["pool", "--n-column", "n_other"], "error: --n-column: "),
        (
            [
                "reconstruct",
                str(RECONSTRUCT / "guyot-example-survival.txt"),
                "--risk-table",
                str(RECONSTRUCT / "guyot-example-nrisk.txt"),
                "--total-events",
                "999",
            ],
            "error: --total-events: ",
        ),
        (
            [
                "reconstruct",
                str(RECONSTRUCT / "guyot-example-survival.txt"),
                "--risk-table",
                str(RECONSTRUCT / "guyot-example-nrisk.txt"),
                "--dataset",
                "zz",
            ],
            "error: --dataset: ",
        ),
    ],
)
def test_errors_name_the_option_as_typed(args: list[str], prefix: str) -> None:
    result = runner.invoke(app, ["evidence", *args])
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith(prefix), result.stderr


def test_fields_that_are_no_option_stay_as_they_are() -> None:
    assert option_field("mst_months", pool_command) == "mst_months"  # a CSV column
    assert option_field("--ipd", pool_command) == "--ipd"
    assert option_field(None, pool_command) is None
    assert option_field("n_column", pool_command) == "--n-column"
