"""Cohort analyses never fail because of what the registry holds.

The shared selection rule, the endpoints, synthetic labels, one-group Kaplan-Meier and integer
group labels.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from livermet.analysis.cohort import (
    select_complete,
    summary_text,
    synthetic_label,
    with_endpoints,
)
from livermet.analysis.summary import cox_analysis, km_analysis
from livermet.case.load import load_case
from livermet.cli.cohort import app
from livermet.errors import InputError
from livermet.registry import Database, synthetic_cases

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PREOP = ("preop-uterine-lms", "preop-retroperitoneal-lms", "preop-plan-misses-lesions")
PASSWORD = "correct horse battery"
N_SYNTHETIC = 40
runner = CliRunner()


def _table(**columns: Any) -> pd.DataFrame:
    return pd.DataFrame(columns)


# --- the selection rule ------------------------------------------------------------------------


def test_select_complete_counts_each_case_under_its_first_missing_column() -> None:
    data = _table(
        os_months=[10.0, None, None, 5.0, 7.0],
        death=[1, 0, 0, 1, 0],
        approach=["open", None, "open", None, "laparoscopic"],
    )
    sel = select_complete(data, ["os_months", "death", "approach"])
    # rows 2 and 3 lack os_months (row 2 lacks approach too: counted once, for os_months)
    assert sel.excluded == {"os_months": 2, "approach": 1}
    assert (sel.n_total, sel.n_used, sel.n_excluded) == (5, 2, 3)
    assert list(sel.data.index) == [0, 4]
    assert sel.summary() == (
        "3 of 5 cases left out: 2 without os_months (no follow-up after a liver resection yet, "
        "e.g. a pre-operative case); 1 without approach (approach of the liver resection not "
        "recorded)"
    )


def test_select_complete_keeps_everything_when_complete() -> None:
    data = _table(t=[1.0, 2.0], e=[0, 1])
    sel = select_complete(data, ["t", "e"])
    assert (sel.n_excluded, sel.excluded, sel.summary()) == (0, {}, "")
    assert summary_text(None) == ""


def test_blank_text_counts_as_missing_and_unknown_column_is_refused() -> None:
    data = _table(t=[1.0, 2.0], by=["a", "  "])
    assert select_complete(data, ["t", "by"]).excluded == {"by": 1}
    with pytest.raises(InputError) as err:
        select_complete(data, ["t", "nosuch"])
    assert err.value.field == "nosuch"


def test_efs_event_is_one_unless_censored_and_missing_without_first_event() -> None:
    frame = _table(first_event=["recurrence", "death", "censored", None])
    events = with_endpoints(frame)["efs_event"]
    assert events.iloc[:3].tolist() == [1, 1, 0]
    assert pd.isna(events.iloc[3])


def test_synthetic_label() -> None:
    assert synthetic_label(_table(synthetic=[False, False])) is None
    assert synthetic_label(_table(synthetic=[True, True])) == "synthetic data"
    assert synthetic_label(_table(synthetic=[True, False, False])) == (
        "includes synthetic data (1 of 3 cases)"
    )
    assert synthetic_label(_table(x=[1])) is None


def test_missing_value_error_names_drop_missing() -> None:
    data = _table(os_months=[1.0, None], death=[1, 0])
    with pytest.raises(InputError) as err:
        km_analysis(data, "os_months", "death")
    assert err.value.field == "os_months"
    assert "--drop-missing" in err.value.message and "row 2" in err.value.message


def test_dropna_report_says_how_many_and_why() -> None:
    data = _table(os_months=[1.0, None, 4.0, 6.0], death=[1, 0, 0, 1])
    report = km_analysis(data, "os_months", "death", dropna=True).report
    assert report["overall"]["n"] == 3
    assert report["excluded"]["n_excluded"] == 1
    assert report["excluded"]["reasons"][0]["column"] == "os_months"


# --- one group, integer labels, Cox term labels -----------------------------------------------


def test_km_with_one_group_draws_it_without_a_log_rank_test() -> None:
    data = _table(t=[1.0, 2.0, 3.0], e=[1, 0, 1], g=["open", "open", "open"])
    result = km_analysis(data, "t", "e", by="g")
    assert result.logrank is None and "logrank" not in result.report
    assert list(result.report["groups"]) == ["open"]
    assert result.report["logrank_note"] == "one g group only (open): no log-rank test"


def test_two_groups_still_get_the_log_rank_test() -> None:
    data = _table(t=[1.0, 2.0, 3.0, 4.0], e=[1, 0, 1, 1], g=["a", "a", "b", "b"])
    assert km_analysis(data, "t", "e", by="g").logrank is not None


def _with_float_grade() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 60
    grade = rng.integers(1, 4, n).astype(float)
    grade[[3, 17]] = np.nan  # a CSV column of integers with a gap is read as floats
    return _table(
        t=rng.exponential(30, n).round(1),
        e=rng.integers(0, 2, n),
        grade=grade,
        approach=rng.choice(["open", "laparoscopic"], n),
    )


def test_integer_column_with_missing_values_keeps_integer_labels() -> None:
    data = _with_float_grade()
    km = km_analysis(data, "t", "e", by="grade", levels=["3", "1", "2"], dropna=True).report
    assert list(km["groups"]) == ["3", "1", "2"]
    cox = cox_analysis(
        data, "t", "e", ["grade", "approach"], reference={"grade": "2"}, dropna=True
    ).report
    assert [t["term"] for t in cox["terms"]] == ["grade1", "grade3", "approachopen"]
    assert cox["reference_levels"] == {"grade": "2", "approach": "laparoscopic"}
    labels = [t["label"] for t in cox["terms"]]
    assert labels == ["grade: 1 vs 2", "grade: 3 vs 2", "approach: open vs laparoscopic"]


def test_float_column_with_fractions_keeps_its_values() -> None:
    data = _table(t=[1.0, 2.0, 3.0, 4.0], e=[1, 0, 1, 1], g=[0.5, 0.5, 1.5, np.nan])
    report = km_analysis(data, "t", "e", by="g", dropna=True).report
    assert list(report["groups"]) == ["0.5", "1.5"]


def test_numeric_covariate_label_says_per_unit() -> None:
    data = _with_float_grade()
    cox = cox_analysis(data, "t", "e", ["grade"], dropna=True).report
    assert cox["terms"][0]["label"] == "grade (per unit)"
    assert cox["excluded"]["n_excluded"] == 2


# --- the registry: seed case, synthetic cases and three pre-operative cases --------------------


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('cohort') / 'registry.db'}"
    with Database(url) as db:
        admin = db.bootstrap("admin", PASSWORD)
        reg = db.registry(admin)
        reg.create_site("demo", "Demo hospital")
        reg.create_case(load_case(EXAMPLES / "seed-case.yaml"), site="demo")
        reg.import_cases(synthetic_cases(N_SYNTHETIC, seed=5), source="synthetic", site="demo")
        for name in PREOP:
            reg.create_case(load_case(EXAMPLES / f"{name}.yaml"), site="demo")
    yield url


def _cli(url: str, *args: str) -> Any:
    result = runner.invoke(
        app,
        [*args, "--db", url, "--user", "admin", "--synthetic", "--format", "json"],
        env={"LIVERMET_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), " ".join(result.stderr.split())


def test_registry_frame_holds_the_pre_operative_cases_without_follow_up(registry_url: str) -> None:
    with Database(registry_url) as db:
        frame = db.registry("admin").cohort_frame(include_synthetic=True)
    assert len(frame) == 1 + N_SYNTHETIC + 3
    preop = frame[frame["id"].isin(PREOP)]
    assert preop["os_months"].isna().all() and len(preop) == 3


@pytest.mark.parametrize(
    ("args", "column"),
    [
        (["km", "--by", "approach"], "os_months"),
        (["cox", "--covariates", "approach,age"], "os_months"),
        (["cuminc"], "efs_months"),
        (["km", "--time", "efs_months", "--event", "efs_event"], "efs_months"),
    ],
)
def test_cli_leaves_out_cases_without_follow_up_and_says_why(
    registry_url: str, args: list[str], column: str
) -> None:
    report, stderr = _cli(registry_url, *args)
    total = 1 + N_SYNTHETIC + 3
    excluded = report["excluded"]
    assert (excluded["n_total"], excluded["n_excluded"]) == (total, 3)
    assert excluded["reasons"][0]["column"] == column
    assert f"3 of {total} cases left out: 3 without {column}" in stderr
    assert "includes synthetic data" in stderr
    n = report["overall"]["n"] if "overall" in report else report["n"]
    assert n == total - 3


def test_cli_csv_with_missing_value_names_drop_missing(tmp_path: Path, registry_url: str) -> None:
    with Database(registry_url) as db:
        frame = db.registry("admin").cohort_frame(include_synthetic=True)
    path = tmp_path / "cohort.csv"
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["km", "--data", str(path)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "os_months" in message and "--drop-missing" in message
    dropped = runner.invoke(app, ["km", "--data", str(path), "--drop-missing", "--format", "json"])
    assert dropped.exit_code == 0, dropped.output
    assert json.loads(dropped.stdout)["excluded"]["n_excluded"] == 3


def test_cli_km_plot_of_synthetic_data(tmp_path: Path, registry_url: str) -> None:
    out = tmp_path / "km.svg"
    result = runner.invoke(
        app,
        ["km", "--db", registry_url, "--user", "admin", "--synthetic", "-o", str(out)],
        env={"LIVERMET_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    svg = out.read_text(encoding="utf-8")
    assert "INCLUDES SYNTHETIC DATA" in svg  # the watermark (SVG keeps text as text)
