"""``livermet cohort km --with-literature``: JSON, text, plot and bad input (exit 2)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from livermet.analysis.literature import NO_TEST_WEIBULL, SOURCE_IPD, SOURCE_WEIBULL
from livermet.cli.cohort import app
from livermet.cli.main import app as main_app
from tests.analysis.conftest import COHORT_CSV
from tests.analysis.literature_data import IDS, literature_ref, write_ipd_folder

runner = CliRunner()
KM = ["km", "--data", str(COHORT_CSV), "--time", "os_months", "--event", "death"]


def _json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def ipd_dir(tmp_path: Path) -> Path:
    return write_ipd_folder(tmp_path / "ipd")


def test_json_with_reconstructed_series_reproduces_r(ipd_dir: Path) -> None:
    ref = literature_ref()
    data = _json([*KM, "--with-literature", "--literature-ipd", str(ipd_dir)])
    assert data["overall"]["n"] == 300
    lit = data["literature"]
    assert lit["source"] == SOURCE_IPD
    assert lit["series"] == list(IDS.values())
    assert (lit["n"], lit["events"]) == (ref["km"]["n"], ref["km"]["events"])
    assert lit["median"]["estimate"] == pytest.approx(ref["km"]["median"])
    tests = lit["tests"]
    assert set(tests) == {
        "registry_vs_literature",
        "registry_vs_each_series",
        "between_series",
        "stratified_by_series",
    }
    assert tests["registry_vs_literature"]["chisq"] == pytest.approx(ref["pooled"]["chisq"])
    assert tests["registry_vs_literature"]["p"] == pytest.approx(ref["pooled"]["p"])
    holm = [r["p_holm"] for r in tests["registry_vs_each_series"]["results"]]
    assert holm == pytest.approx([r["p_holm"] for r in ref["each"]])
    assert tests["between_series"]["chisq"] == pytest.approx(ref["between"]["chisq"])
    assert tests["stratified_by_series"]["computed"] is False
    assert [s["n"] for s in lit["per_series"]] == ref["between"]["n"]


def test_json_without_reconstructed_series_falls_back_to_weibull() -> None:
    lit = _json([*KM, "--with-literature"])["literature"]
    assert lit["source"] == SOURCE_WEIBULL
    assert lit["tests"] is None
    assert lit["no_test_reason"] == NO_TEST_WEIBULL
    assert lit["events"] is None and lit["n"] > 0
    assert [row["time"] for row in lit["at"]] == [12, 36, 60]
    assert all(0 < row["lower"] < row["survival"] < row["upper"] < 1 for row in lit["at"])


def test_text_and_plot_with_reconstructed_series(ipd_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "lit.png"
    args = [*KM, "--with-literature", "--literature-ipd", str(ipd_dir), "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    text = " ".join(result.output.split())
    chisq = literature_ref()["pooled"]["chisq"]
    assert f"log-rank registry vs literature: χ² = {chisq:.3f}, df = 1" in text
    assert "Holm-adjusted p" in text and "between the series" in text
    assert "stratified by series: not computed" in text


def test_text_and_plot_of_the_fallback_say_why_there_is_no_test(tmp_path: Path) -> None:
    out = tmp_path / "lit.svg"
    result = runner.invoke(app, [*KM, "--with-literature", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().lstrip().startswith("<?xml")
    text = " ".join(result.output.split())
    assert re.search(
        r"literature \(Weibull from summary points\): \d+ patients in the published series; "
        r"median \d+\.\d \(95% CI \d+\.\d to \d+\.\d\) months",
        text,
    )
    assert "no literature risk table and no test" in text
    assert "χ²" not in text


def test_with_literature_loads_no_plotting_without_an_output() -> None:
    before = "matplotlib" in sys.modules
    result = runner.invoke(main_app, ["cohort", *KM, "--with-literature", "--format", "json"])
    assert result.exit_code == 0, result.output
    if not before:  # only meaningful when nothing earlier in the session imported it
        assert "matplotlib" not in sys.modules


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--with-literature", "--by", "approach"], "does not combine with --by"),
        (["--literature-ipd", "."], "--literature-ipd needs --with-literature"),
        (["--with-literature", "--literature-ipd", "no/such/folder"], "no such folder"),
    ],
)
def test_bad_literature_options_exit_2(extra: list[str], expected: str) -> None:
    result = runner.invoke(app, [*KM, *extra])
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())


def test_a_folder_without_series_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, [*KM, "--with-literature", "--literature-ipd", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds no reconstructed series" in " ".join(result.output.split())


def test_a_bad_ipd_folder_exits_2_naming_the_file(ipd_dir: Path) -> None:
    (ipd_dir / "unknown-series.csv").write_text("time,event\n1,1\n")
    result = runner.invoke(app, [*KM, "--with-literature", "--literature-ipd", str(ipd_dir)])
    assert result.exit_code == 2
    assert "unknown-series.csv" in result.output


def test_registry_input_with_synthetic_cases(tmp_path: Path, ipd_dir: Path) -> None:
    """The registry's cohort (no --data): the cases left out and the synthetic label carry over."""
    from tests.conftest import SEED_CASE

    env = {
        "LIVERMET_DATABASE_URL": str(tmp_path / "registry.sqlite"),
        "LIVERMET_PASSWORD": "correct horse battery",
    }
    init = ["registry", "init", "--site", "a", "--seed", str(SEED_CASE)]
    assert runner.invoke(main_app, init, env=env).exit_code == 0
    synth = ["cohort", "synth", "--n", "40", "--seed", "2", "--site", "a", "--user", "admin"]
    assert runner.invoke(main_app, synth, env=env).exit_code == 0
    args = ["cohort", "km", "--synthetic", "--with-literature", "--user", "admin"]
    result = runner.invoke(
        main_app, [*args, "--literature-ipd", str(ipd_dir), "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["overall"]["n"] == 41  # 40 synthetic + the seed case
    assert "synthetic" in report["synthetic"]
    assert report["literature"]["tests"]["registry_vs_literature"]["groups"][0]["n"] == 41


def test_event_free_survival_is_refused_like_the_web_page() -> None:
    efs = ["km", "--data", str(COHORT_CSV), "--time", "efs_months", "--event", "efs_event"]
    result = runner.invoke(app, [*efs, "--with-literature"])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert (
        "error: --time/--event: the literature reports overall survival: choose endpoint os" in said
    )


def test_other_column_names_get_the_overall_survival_note(tmp_path: Path) -> None:
    renamed = tmp_path / "cohort.csv"
    text = COHORT_CSV.read_text().splitlines()
    text[0] = text[0].replace("os_months", "t").replace("death", "status")
    renamed.write_text("\n".join(text) + "\n")
    args = ["km", "--data", str(renamed), "--time", "t", "--event", "status", "--with-literature"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "note: the literature curve is overall survival" in " ".join(result.stdout.split())


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_both_commands_refuse_a_missing_or_empty_folder_alike(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "ipd"
    if kind == "empty":
        folder.mkdir()
    km = runner.invoke(app, [*KM, "--with-literature", "--literature-ipd", str(folder)])
    survival = runner.invoke(main_app, ["evidence", "survival", "--ipd", str(folder)])
    assert km.exit_code == survival.exit_code == 2
    km_said = " ".join(km.output.split())
    survival_said = " ".join(survival.output.split())
    assert km_said.startswith("error: --literature-ipd: ")
    assert survival_said.startswith("error: --ipd: ")
    assert km_said.replace("--literature-ipd", "OPTION") == survival_said.replace("--ipd", "OPTION")
