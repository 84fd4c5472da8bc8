"""Numbers typed on ``livermet cohort``: one-line errors naming the option, bounded work."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from livermet.analysis.km import kaplan_meier
from livermet.analysis.literature import MAX_CURVE_STEPS, compare_with_weibull
from livermet.cli.cohort import app
from livermet.evidence.dataset import load_literature
from livermet.evidence.survival import weibull_synthesis
from tests.analysis.conftest import COHORT_CSV

runner = CliRunner()


@pytest.mark.parametrize(
    ("command", "extra", "expected"),
    [
        ("km", ["--rmst-horizon", "abc"], "error: --rmst-horizon: 'abc' is not a number; give"),
        ("km", ["--rmst-horizon", "inf"], "error: --rmst-horizon: 'inf' is not a finite number"),
        ("km", ["--rmst-horizon", "0"], "error: --rmst-horizon: "),
        ("km", ["--conf-level", "x"], "error: --conf-level: 'x' is not a number; give"),
        ("km", ["--conf-level", "nan"], "error: --conf-level: 'nan' is not a finite number"),
        ("cox", ["--conf-level", "x"], "error: --conf-level: 'x' is not a number; give"),
        ("cox", ["--conf-level", "1.5"], "error: --conf-level: 1.5 must be between 0 and 1"),
        ("cox", ["--ties", "exact"], "error: --ties: unknown 'exact'"),
        ("cuminc", ["--conf-level", "x"], "error: --conf-level: 'x' is not a number; give"),
        ("cuminc", ["--conf-level", "0"], "error: --conf-level: 0.0 must be between 0 and 1"),
        ("cuminc", ["--times", "a"], "error: --times: 'a' is not a comma-separated list"),
    ],
)
def test_a_bad_number_is_a_one_line_error_naming_the_option(
    command: str, extra: list[str], expected: str
) -> None:
    result = runner.invoke(app, [command, "--data", str(COHORT_CSV), *extra])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.startswith(expected), text
    assert "╭" not in result.output  # not Typer's boxed usage error


def test_numbers_given_as_text_reach_the_analysis() -> None:
    result = runner.invoke(
        app,
        ["km", "--data", str(COHORT_CSV), "--rmst-horizon", "36", "--conf-level", "0.9"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    default = runner.invoke(app, ["km", "--data", str(COHORT_CSV)], env={"COLUMNS": "200"})
    assert "90% pointwise CI" in result.output and "RMST to 36 " in result.output
    assert "95% pointwise CI" in default.output and "RMST to 60 " in default.output


# --- --with-literature with a far report time -----------------------------------------------------


def test_a_far_report_time_keeps_the_weibull_grid_bounded() -> None:
    cohort = pd.read_csv(COHORT_CSV)
    registry = kaplan_meier(cohort, "os_months", "death")
    comparison = compare_with_weibull(registry, times=[12.0, 1e9])
    curve = comparison.curve
    assert curve is not None
    # at most the capped grid plus the two report times, and it reaches the far time
    assert len(curve.times) <= MAX_CURVE_STEPS + 2
    assert len(curve.survival) == len(curve.lower) == len(curve.upper) == len(curve.times)
    assert curve.times[-1] == 1e9 and 12.0 in curve.times
    assert np.all(np.diff(curve.times) > 0)
    # the curve on the grid is the model's curve
    model = weibull_synthesis(load_literature())
    np.testing.assert_allclose(curve.survival, model.curve(curve.times)[0], rtol=1e-12)
    # the far time is past the last published point: no estimate (as the registry's)
    far = comparison.report["at"][1]
    assert far["time"] == 1e9 and far["survival"] is None


def test_a_usual_horizon_keeps_its_half_month_grid() -> None:
    registry = kaplan_meier(pd.read_csv(COHORT_CSV), "os_months", "death")
    curve = compare_with_weibull(registry, times=[12.0, 36.0, 60.0]).curve
    assert curve is not None
    horizon = max(float(registry.time_.max()), 60.0)
    steps = max(241, int(np.ceil(horizon)) * 2 + 1)
    expected = np.union1d(np.linspace(0.0, horizon, steps), [12.0, 36.0, 60.0])
    np.testing.assert_array_equal(curve.times, expected)


def test_cohort_km_with_literature_at_a_billion_months_reports_no_estimate() -> None:
    args = ["km", "--data", str(COHORT_CSV), "--with-literature", "--times", "12,1e9"]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    lit = data["literature"]["at"]
    assert [r["time"] for r in lit] == [12.0, 1e9]
    assert lit[0]["survival"] is not None and lit[1]["survival"] is None
