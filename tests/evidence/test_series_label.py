"""How a series is named to readers (`series_label`), and that the CLI and summary use it.

Author and year, a published series of uncertain source, or the user's own series.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from livermet.cli.main import app
from livermet.evidence.dataset import load_literature, load_series, series_label
from livermet.evidence.summary import evidence_summary

runner = CliRunner()
KEYS = tuple(str(i) for i in load_literature()["id"])  # the dataset's internal keys


@pytest.mark.parametrize(
    ("ident", "label", "short"),
    [
        ("foster1978", "Foster 1978", "Foster 1978"),
        ("marudanayagam2011", "Marudanayagam 2011", "Marudanayagam 2011"),
        ("brudvik2015", "Brudvik 2015", "Brudvik 2015"),
        (
            "unknown19",
            "Series of uncertain source (case report ref. 19)",
            "Uncertain source (ref. 19)",
        ),
        (
            "unknown20",
            "Series of uncertain source (case report ref. 20)",
            "Uncertain source (ref. 20)",
        ),
    ],
)
def test_shipped_series_are_named_by_author_and_year_or_as_of_uncertain_source(
    ident: str, label: str, short: str
) -> None:
    row = load_literature().set_index("id", drop=False).loc[ident]
    assert isinstance(row, pd.Series)  # one row: the ids are unique
    assert series_label(row) == label
    assert series_label(row, short=True) == short
    assert series_label(row.to_dict()) == label  # a record dict (pd.NA cells) alike


def test_no_shipped_series_is_called_your_series() -> None:
    labels = [series_label(r) for r in load_literature().to_dict("records")]
    assert not [x for x in labels if "your series" in x]
    assert len(set(labels)) == len(labels) == 10


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, "", "  "])
def test_a_users_own_series_is_your_series(missing: Any) -> None:
    row = {"id": "st-mary-2021", "first_author": missing, "year": missing}
    row["seed_table_ref"] = missing
    assert series_label(row) == "st-mary-2021 (your series)"


def test_a_users_csv_row_with_an_author_is_named_by_it(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("id,first_author,year,n_table,os5\nmine,Smith,2021,20,35\nother,,,12,30\n")
    labels = [series_label(r) for r in load_series(path).to_dict("records")]
    assert labels == ["Smith 2021", "other (your series)"]


def test_cli_table_names_the_series() -> None:
    rows = json.loads(runner.invoke(app, ["evidence", "table", "--format", "json"]).stdout)
    by_id = {r["id"]: r["label"] for r in rows}
    assert by_id["unknown19"] == "Series of uncertain source (case report ref. 19)"
    assert by_id["lang2000"] == "Lang 2000"
    text = runner.invoke(app, ["evidence", "table"], env={"COLUMNS": "140"}).stdout
    assert "Uncertain source (ref. 19)" in text and "DeMatteo 2001" in text
    assert "your series" not in text


def test_cli_forest_plot_labels_are_names_not_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from livermet.report import evidence_plots

    seen: dict[str, list[str]] = {}
    real = evidence_plots.forest_plot

    def spy(fit: Any, labels: list[str], **kwargs: Any) -> Any:
        seen["labels"] = list(labels)
        return real(fit, labels, **kwargs)

    monkeypatch.setattr(evidence_plots, "forest_plot", spy)
    out = tmp_path / "forest.png"
    result = runner.invoke(app, ["evidence", "forest", "--outcome", "os5", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert seen["labels"][0] == "Foster 1978"
    assert "Uncertain source (ref. 19)" in seen["labels"]
    assert not set(seen["labels"]) & set(KEYS)


def test_the_evidence_summary_names_series_for_readers() -> None:
    summary = evidence_summary()
    sources = summary["sources"]
    assert "Foster 1978, Lang 2000, DeMatteo 2001" in sources
    assert "Uncertain source (ref. 19)" in sources and "Uncertain source (ref. 20)" in sources
    assert not [k for k in KEYS if k in sources]
    excluded = summary["pooled_median_months"]["excluded_medians"]
    assert [e["label"] for e in excluded] == ["Foster 1978", "Groeschl 2012", "Grimme 2019"]
    assert [e["id"] for e in excluded] == ["foster1978", "groeschl2012", "grimme2019"]


def test_cli_messages_name_a_series_and_give_its_id() -> None:
    pooled = runner.invoke(app, ["evidence", "pool"], env={"COLUMNS": "200"})
    assert "flagged Foster 1978 (foster1978): median 11 months" in pooled.stdout
    survival = runner.invoke(app, ["evidence", "survival"], env={"COLUMNS": "200"})
    assert "Groeschl 2012 (groeschl2012): median left out" in survival.stdout


def test_cli_names_a_users_series_once(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("id,n_table,mst_months,os1\nmine,20,11,58\nother,30,40,90\n")
    result = runner.invoke(app, ["evidence", "survival", "--series", str(path)])
    assert "mine (your series): median left out" in result.stdout
