"""`pool_outcome` and the `livermet evidence` commands, checked against metafor's numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app
from livermet.errors import InputError
from livermet.evidence.dataset import load_literature
from livermet.evidence.pooling import pool_outcome

DATA = Path(__file__).parent / "data"
BAD = Path(__file__).parent / "bad_series"
runner = CliRunner()


def _reference(measure: str, method: str, test: str) -> dict[str, Any]:
    cases = json.loads((DATA / "metafor-3.8-1-table1-os5-tight.json").read_text())
    return next(
        c for c in cases if (c["measure"], c["method"], c["test"]) == (measure, method, test)
    )


@pytest.mark.parametrize(
    ("measure", "method", "test"),
    [("PLO", "REML", "z"), ("PLO", "DL", "knha"), ("PFT", "REML", "z"), ("PAS", "PM", "z")],
)
def test_pool_os5_matches_metafor(measure: str, method: str, test: str) -> None:
    ref = _reference(measure, method, test)
    pooled = pool_outcome(load_literature(), "os5", measure=measure, method=method, test=test)
    back = ref["back"]
    assert pooled.estimate == pytest.approx(back["pred"], rel=1e-7)
    assert pooled.ci == pytest.approx((back["ci_lb"], back["ci_ub"]), rel=1e-7)
    assert pooled.fit.tau2 == pytest.approx(ref["tau2"], rel=1e-7, abs=1e-9)
    assert pooled.fit.i2 == pytest.approx(ref["I2"], rel=1e-7, abs=1e-9)


def test_pool_json_cli_reports_estimate_intervals_and_flags() -> None:
    result = runner.invoke(app, ["evidence", "pool", "--outcome", "os5", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    ref = _reference("PLO", "REML", "z")
    assert data["estimate"] == pytest.approx(ref["back"]["pred"], rel=1e-7)
    assert data["pi_lb"] == pytest.approx(ref["back"]["pi_lb"], rel=1e-7)
    assert data["pi_ub"] == pytest.approx(ref["back"]["pi_ub"], rel=1e-7)
    assert data["tau2_ci"] == pytest.approx(ref["tau2_ci"], rel=1e-6, abs=1e-9)
    assert (data["measure"], data["method"], data["k"]) == ("PLO", "REML", 10)
    flagged = {f["id"]: f["reason"] for f in data["flagged"]}
    # Medians that contradict the series' own proportions (Table 1, checked by hand):
    assert set(flagged) == {"foster1978", "groeschl2012", "grimme2019"}
    assert "58 % alive at 12 months" in flagged["foster1978"]


def test_exclude_and_test_options() -> None:
    result = runner.invoke(
        app,
        ["evidence", "pool", "--exclude", "foster1978", "--test", "knha", "--format", "json"],
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["k"] == 9 and data["test"] == "knha"
    assert "foster1978" not in {s["id"] for s in data["series"]}
    assert sum(s["weight_percent"] for s in data["series"]) == pytest.approx(100)


@pytest.mark.parametrize(
    ("name", "row", "column"),
    [
        ("proportion_140.csv", "row 2", "os5"),
        ("n_zero.csv", "row 3", "n_table"),
        ("text_in_number.csv", "row 4", "mst_months"),
        ("missing_column.csv", "header", "n_table"),
    ],
)
def test_bad_series_file_is_refused_naming_row_and_column(name: str, row: str, column: str) -> None:
    result = runner.invoke(app, ["evidence", "pool", "--series", str(BAD / name)])
    assert result.exit_code == 2
    assert row in result.stderr and f"'{column}'" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"outcome": "os7"}, "outcome"),
        ({"method": "XYZ"}, "method"),
        ({"measure": "SMD"}, "measure"),
        ({"exclude": ["nobody"]}, "exclude"),
    ],
)
def test_bad_options_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as info:
        pool_outcome(load_literature(), **kwargs)
    assert info.value.field == field


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_forest_plot_files(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"forest{suffix}"
    result = runner.invoke(app, ["evidence", "forest", "--outcome", "os5", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    head = out.read_bytes()[:8]
    assert {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix] in head


def test_curve_and_survival_commands(tmp_path: Path) -> None:
    out = tmp_path / "curve.png"
    result = runner.invoke(app, ["evidence", "curve", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 10_000
    assert "foster1978" in result.stderr  # its median is left out, with the reason
    surv = json.loads(runner.invoke(app, ["evidence", "survival", "--format", "json"]).stdout)
    months = [row["time_months"] for row in surv["time_points"]]
    assert months == [12, 36, 60]
    assert surv["weibull"]["median_ci"][0] < surv["weibull"]["median_months"]
    assert len(surv["weibull"]["excluded_medians"]) == 3


def test_unsupported_image_format(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evidence", "forest", "-o", str(tmp_path / "f.gif")])
    assert result.exit_code == 2 and "output" in result.stderr


def test_table_lists_every_series() -> None:
    result = runner.invoke(app, ["evidence", "table", "--format", "json"])
    rows = json.loads(result.stdout)
    assert len(rows) == 10
    assert sum(r["flag"] is not None for r in rows) == 3


def test_gosh_command(tmp_path: Path) -> None:
    out = tmp_path / "gosh.png"
    result = runner.invoke(app, ["evidence", "gosh", "--method", "DL", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "1,023 subsets" in result.stderr  # 2^10 - 1 subsets of the ten series
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_funnel_command(tmp_path: Path) -> None:
    out = tmp_path / "funnel.svg"
    result = runner.invoke(app, ["evidence", "funnel", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert b"<svg" in out.read_bytes()[:400]


def test_sensitivity_verified_only_pools_the_verified_rows() -> None:
    """Pool with --verified-only exactly the five verified rows, as a direct fit of them does.

    The rows are those whose identification was verified (shared/data/literature.csv).
    """
    from livermet.evidence import escalc, rma

    result = runner.invoke(app, ["evidence", "pool", "--verified-only", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    ids = {"lang2000", "dematteo2001", "rehders2009", "marudanayagam2011", "brudvik2015"}
    assert {s["id"] for s in data["series"]} == ids
    df = load_literature()
    rows = df[df["id"].isin(ids)]
    n = rows["n_table"].to_numpy(dtype=float)
    es = escalc("PLO", xi=rows["os5"].to_numpy(dtype=float) / 100 * n, ni=n)
    direct = rma(es.yi, es.vi, method="REML").predict(transf="ilogit")
    assert data["estimate"] == pytest.approx(direct.pred, rel=1e-12)


# ------------------------------------------------------------------------------ GLMM options
def _pool(*args: str) -> Any:
    return runner.invoke(app, ["evidence", "pool", *args])


@pytest.mark.parametrize("nagq", ["1", "7"])
@pytest.mark.parametrize("model", [[], ["--model", "rma"]])
def test_nagq_with_rma_is_refused(nagq: str, model: list[str]) -> None:
    result = _pool(*model, "--nagq", nagq)
    assert result.exit_code == 2
    assert "nagq" in result.stderr and "applies to the GLMM only" in result.stderr


@pytest.mark.parametrize("model", ["rma", "glmm"])
@pytest.mark.parametrize("nagq", ["0", "101"])
def test_nagq_out_of_range_is_refused_with_either_model(model: str, nagq: str) -> None:
    result = _pool("--model", model, "--nagq", nagq)
    assert result.exit_code == 2
    assert "from 1 (Laplace) to 100" in " ".join(result.stderr.split())


def test_nagq_default_is_seven_for_the_glmm() -> None:
    default = json.loads(_pool("--model", "glmm", "--format", "json").stdout)
    seven = json.loads(_pool("--model", "glmm", "--nagq", "7", "--format", "json").stdout)
    assert default["nagq"] == 7 and default == seven


def test_options_in_any_letter_case() -> None:
    result = _pool("--model", "GLMM", "--method", "ml", "--test", "Z", "--outcome", "OS3")
    assert result.exit_code == 0, result.stderr
    data = json.loads(
        _pool("--model", "GLMM", "--outcome", "OS3", "--test", "Z", "--format", "json").stdout
    )
    assert (data["outcome"], data["months"], data["test"]) == ("os3", 36, "z")
    rma = json.loads(_pool("--outcome", "Os1", "--format", "json").stdout)
    assert rma["estimate"] == pool_outcome(load_literature(), "os1").to_dict()["estimate"]


def test_glmm_knha_names_the_supported_tests() -> None:
    result = _pool("--model", "glmm", "--test", "knha")
    assert result.exit_code == 2
    err = " ".join(result.stderr.split())
    assert "supports tests z and t" in err and "unknown test" not in err


def test_glmm_text_and_json_say_survivors() -> None:
    out = " ".join(_pool("--model", "glmm").stdout.split())
    assert "1.44 -> 1 survivors" in out and "events" not in out
    assert "survivors = S·n rounded to whole patients" in out
    data = json.loads(_pool("--model", "glmm", "--format", "json").stdout)
    assert "events" not in json.dumps(data)
    foster = next(s for s in data["series"] if s["id"] == "foster1978")
    assert (foster["survivors"], foster["n"]) == (1, 12)
    assert foster["survivors_unrounded"] == pytest.approx(1.44)


def test_curve_with_added_series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import livermet.evidence.survival as survival

    seen: list[set[str]] = []
    real = survival.weibull_synthesis

    def spy(df: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(set(df["id"]))
        return real(df, *args, **kwargs)

    monkeypatch.setattr(survival, "weibull_synthesis", spy)
    for extra in ([], ["--with-added-series"]):
        out = tmp_path / f"curve{len(extra)}.png"
        result = runner.invoke(app, ["evidence", "curve", "-o", str(out), *extra])
        assert result.exit_code == 0, result.stderr
        assert out.stat().st_size > 10_000
    assert seen == [
        set(load_literature()["id"]),
        set(load_literature(include_added=True)["id"]),
    ]
    assert seen[1] > seen[0]


def test_every_evidence_command_takes_the_outcome_in_any_case(tmp_path: Path) -> None:
    for command in ("forest", "funnel"):
        out = tmp_path / f"{command}.png"
        result = runner.invoke(app, ["evidence", command, "--outcome", "OS3", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
    upper = runner.invoke(app, ["evidence", "pool", "--outcome", "OS3", "--format", "json"])
    lower = runner.invoke(app, ["evidence", "pool", "--outcome", "os3", "--format", "json"])
    assert upper.exit_code == 0 and upper.stdout == lower.stdout
    bad = runner.invoke(app, ["evidence", "pool", "--outcome", "OS4"])
    assert bad.exit_code == 2 and "os1, os3, os5" in bad.output
