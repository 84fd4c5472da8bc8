"""``cohort km --with-literature``: the checks of ``evidence survival --ipd`` and added series.

Each series gets the same checks as ``evidence survival --ipd`` (median, n, deaths, time unit:
`livermet.evidence.survival.one_stage`), compared here with that command's own output on the
same folder; added series need ``--with-added-series`` on both commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from livermet.cli.cohort import app
from livermet.cli.main import app as main_app
from tests.analysis.conftest import COHORT_CSV
from tests.analysis.literature_data import PROVENANCE_HEADER, write_ipd_folder

runner = CliRunner()
KM = ["km", "--data", str(COHORT_CSV), "--with-literature"]
YEARS = "rehders2009"


def _folder_with_years(tmp_path: Path) -> Path:
    """Return the R reference folder with one series' times in years and a death total."""
    folder = write_ipd_folder(tmp_path / "ipd")
    path = folder / f"{YEARS}.csv"
    frame = pd.read_csv(path)
    frame.assign(time=(frame["time"] / 365.25).round(4)).to_csv(path, index=False)  # days -> years
    prov = folder / "provenance.csv"
    prov.write_text(
        prov.read_text().replace(
            "lang2000,lang2000.csv,Fig. 1,test,2026-12-01,test fixture,yes,,",
            "lang2000,lang2000.csv,Fig. 1,test,2026-12-01,test fixture,yes,7,",
        )
    )
    return folder


def _evidence_series(folder: Path, *extra: str) -> dict[str, dict[str, Any]]:
    args = ["evidence", "survival", "--ipd", str(folder), *extra, "--format", "json"]
    result = runner.invoke(main_app, args)
    assert result.exit_code == 0, result.output
    return {s["id"]: s for s in json.loads(result.stdout)["reconstructed"]["series"]}


def _cohort_lit(folder: Path, *extra: str) -> dict[str, Any]:
    args = [*KM, "--literature-ipd", str(folder), *extra, "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lit: dict[str, Any] = json.loads(result.stdout)["literature"]
    return lit


def test_every_check_of_evidence_survival_is_made(tmp_path: Path) -> None:
    folder = _folder_with_years(tmp_path)
    evidence = _evidence_series(folder)
    lit = _cohort_lit(folder)
    assert [row["series"] for row in lit["per_series"]] == list(evidence)
    for row in lit["per_series"]:
        theirs = evidence[row["series"]]
        for key in ("verdict", "reason", "difference"):
            assert row["median_check"][key] == theirs["median_check"][key]
        assert row["n_check"] == theirs["n_check"]
        assert row["deaths_check"] == theirs.get("deaths_check")
        assert row["unit_note"] == theirs.get("unit_note")
    by_id = {row["series"]: row for row in lit["per_series"]}
    assert "multiply by 12" in by_id[YEARS]["unit_note"]
    assert by_id["lang2000"]["deaths_check"]["published"] == 7
    notes = lit["notes"]
    assert f"{YEARS}: time unit: {by_id[YEARS]['unit_note']}" in notes
    assert any(n.startswith("lang2000: deaths check: ") for n in notes)
    inconsistent = [r for r in lit["per_series"] if r["median_check"]["verdict"] == "inconsistent"]
    assert inconsistent  # the R reference's series are not the papers' series
    for row in inconsistent:
        assert f"{row['series']}: median check: {row['median_check']['reason']}" in notes
    assert YEARS in lit["time_unit_warning"]


def test_the_text_shows_the_unit_note_beside_the_test(tmp_path: Path) -> None:
    result = runner.invoke(app, [*KM, "--literature-ipd", str(_folder_with_years(tmp_path))])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "times must be months (were years given? multiply by 12)" in text
    test_at = text.index("log-rank registry vs literature")
    assert text.index(f"caution: the times of {YEARS} look like years") > test_at
    assert "median check:" in text and "deaths check:" in text


def test_months_give_no_unit_note(tmp_path: Path) -> None:
    lit = _cohort_lit(write_ipd_folder(tmp_path / "ipd"))
    assert all(row["unit_note"] is None for row in lit["per_series"])
    assert lit["time_unit_warning"] is None


# --- added series ------------------------------------------------------------------------------


def _added_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "added"
    folder.mkdir()
    (folder / "chen1998.csv").write_text("time,event\n3,1\n12,0\n20,1\n30,1\n41,0\n")
    row = "chen1998,chen1998.csv,Fig. 1,test,2026-12-01,test fixture,no,,added series"
    (folder / "provenance.csv").write_text(f"{PROVENANCE_HEADER}\n{row}\n")
    return folder


def test_an_added_series_needs_with_added_series_as_in_evidence_survival(tmp_path: Path) -> None:
    folder = _added_folder(tmp_path)
    km = runner.invoke(app, [*KM, "--literature-ipd", str(folder)])
    survival = runner.invoke(main_app, ["evidence", "survival", "--ipd", str(folder)])
    assert km.exit_code == survival.exit_code == 2
    said = " ".join(km.output.split())
    assert said.startswith("error: --literature-ipd: ")
    hint = (
        "chen1998 is one of the added series (literature.csv source_set added, not analysed "
        "by default): add --with-added-series"
    )
    assert hint in said and hint in " ".join(survival.output.split())


def test_with_added_series_the_added_series_is_compared(tmp_path: Path) -> None:
    folder = _added_folder(tmp_path)
    lit = _cohort_lit(folder, "--with-added-series")
    evidence = _evidence_series(folder, "--with-added-series")
    assert lit["series"] == ["chen1998"] and lit["n"] == 5
    assert lit["per_series"][0]["n_check"] == evidence["chen1998"]["n_check"]


def test_with_added_series_the_weibull_curve_uses_them() -> None:
    table1 = set(_cohort_lit_weibull())
    with_added = set(_cohort_lit_weibull("--with-added-series"))
    assert table1 < with_added
    from livermet.evidence.dataset import load_literature

    added = load_literature(include_added=True)
    added_ids = set(added.loc[added["source_set"] == "added", "id"])
    assert with_added - table1 <= added_ids and not table1 & added_ids


def _cohort_lit_weibull(*extra: str) -> list[str]:
    result = runner.invoke(app, [*KM, *extra, "--format", "json"])
    assert result.exit_code == 0, result.output
    series: list[str] = json.loads(result.stdout)["literature"]["series"]
    return series


def test_with_added_series_needs_with_literature() -> None:
    result = runner.invoke(app, ["km", "--data", str(COHORT_CSV), "--with-added-series"])
    assert result.exit_code == 2
    assert "error: --with-added-series: --with-added-series needs --with-literature" in " ".join(
        result.output.split()
    )


# --- option names in errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--literature-ipd", "."], "error: --literature-ipd: --literature-ipd needs"),
        (["--with-literature", "--by", "approach"], "error: --by: --with-literature compares"),
        (["-o", "plot.gif"], "error: --output: unsupported image format"),
        (["--times", "a,b"], "error: --times: "),
        (["--times", "-1"], "error: --times: "),
        (["--rmst-horizon", "-5"], "error: --rmst-horizon: "),
        (["--levels", "a,b"], "error: --levels: --levels needs --by"),
        (["--conf-level", "1.5"], "error: --conf-level: "),
    ],
)
def test_errors_name_the_option_as_typed(extra: list[str], expected: str) -> None:
    result = runner.invoke(app, ["km", "--data", str(COHORT_CSV), *extra])
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()).startswith(expected)


def test_a_missing_data_file_names_the_option(tmp_path: Path) -> None:
    result = runner.invoke(app, ["km", "--data", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
    assert " ".join(result.output.split()).startswith("error: --data: file not found")
