"""The GLMM forest plot (`livermet.report.glmm_plots`) and ``evidence forest --model glmm``.

Every series' CI is checked against R's ``binom.test`` (exact, Clopper-Pearson) and the pooled
diamond against metafor 3.8-1 ``rma.glmm(measure = "PLO")``: data/glmm-forest-refs.json, written
by data/glmm-forest-refs.R (the tests never call R).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from typer.testing import CliRunner
from typer.utils import get_params_from_function

import livermet.report.evidence_plots as evidence_plots
import livermet.report.glmm_plots as glmm_plots
from livermet.cli.evidence import forest_command, pool_command
from livermet.cli.main import app
from livermet.errors import InputError
from livermet.evidence.dataset import load_literature, load_series
from livermet.evidence.glmm import rma_glmm
from livermet.evidence.glmm_pool import PooledGLMM, pool_outcome_glmm
from livermet.report.glmm_plots import exact_ci, glmm_forest_plot

REFS = json.loads((Path(__file__).parent / "data" / "glmm-forest-refs.json").read_text("utf-8"))
runner = CliRunner()


def _pooled(case: dict[str, Any]) -> PooledGLMM:
    """Return a GLMM pooling of the reference case's survivors (as pool_outcome_glmm makes it)."""
    x = [int(s["x"]) for s in case["series"]]
    n = [int(s["n"]) for s in case["series"]]
    return PooledGLMM(
        outcome="os5",
        months=60,
        fit=rma_glmm(x, n),
        ids=[str(s["id"]) for s in case["series"]],
        n=n,
        survivors=x,
        survivors_unrounded=[float(v) for v in x],
        rounded=[],
    )


def _axes(fig: Figure) -> Axes:
    """Return the plot's axes (its child, the secondary y axis, holds the right-hand column)."""
    return fig.axes[0]


def _lines(ax: Axes) -> list[np.ndarray]:
    """Return the segments of every horizontal-line collection, in drawing order."""
    return [np.asarray(c.get_segments()) for c in ax.collections if isinstance(c, LineCollection)]


def _right_labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in _axes(fig).child_axes[0].get_yticklabels()]


@pytest.mark.parametrize("name", ["table1_os5", "edges"])
def test_exact_ci_is_r_binom_test(name: str) -> None:
    for s in REFS[name]["series"]:
        assert exact_ci(s["x"], s["n"]) == pytest.approx((s["ci_lb"], s["ci_ub"]), abs=1e-12)


@pytest.mark.parametrize("name", ["table1_os5", "edges"])
def test_every_series_is_drawn_with_its_exact_ci(name: str) -> None:
    case = REFS[name]
    series = case["series"]
    labels = [f"series {s['id']}" for s in series]
    fig = glmm_forest_plot(_pooled(case), labels)
    ax = _axes(fig)
    cis = _lines(ax)[0]
    assert cis.shape == (len(series), 2, 2)
    assert cis[:, 0, 0] == pytest.approx([100 * s["ci_lb"] for s in series], abs=1e-10)
    assert cis[:, 1, 0] == pytest.approx([100 * s["ci_ub"] for s in series], abs=1e-10)
    (dots,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    xy = np.asarray(dots.get_offsets())
    assert xy[:, 0] == pytest.approx([100 * s["p"] for s in series], abs=1e-10)
    assert np.array_equal(xy[:, 1], cis[:, 0, 1])  # the square on its own CI's row
    sizes = np.asarray(dots.get_sizes())
    order = np.argsort([s["n"] for s in series], kind="stable")
    assert np.all(np.diff(sizes[order]) >= 0) and sizes.max() > sizes.min()  # sized by n
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [*labels, "GLMM (ML)"]
    right = _right_labels(fig)
    assert len(right) == len(series) + 1
    for s, text in zip(series, right[:-1], strict=True):
        assert text.endswith(f"  {s['x']}/{s['n']}")
        assert text.startswith(f"{100 * s['p']:.1f} % [{100 * s['ci_lb']:.1f}, ")
    left, right_end = ax.get_xlim()
    assert left >= 0 and right_end <= 100
    assert "(%)" in ax.get_xlabel()


@pytest.mark.parametrize("name", ["table1_os5", "edges"])
def test_the_diamond_and_prediction_line_are_the_glmm(name: str) -> None:
    case = REFS[name]
    pooled = _pooled(case)
    ax = _axes(glmm_forest_plot(pooled, [s["id"] for s in case["series"]]))
    (diamond,) = ax.patches
    assert isinstance(diamond, Polygon)
    xs = np.asarray(diamond.get_xy())[:4, 0]
    prop = pooled.fit.predict(transf="ilogit")
    mid = 100 * float(prop.pred[0])
    assert mid == pytest.approx(100 * pooled.estimate, abs=1e-12)
    assert xs == pytest.approx(
        [100 * float(prop.ci_lb[0]), mid, 100 * float(prop.ci_ub[0]), mid], abs=1e-12
    )
    ref = case["pooled"]
    tol = 1e-9  # optimiser "metafor" walks glmer's path: metafor's numbers to the last digit
    assert xs == pytest.approx(
        [100 * ref["ci_lb"], 100 * ref["pred"], 100 * ref["ci_ub"], 100 * ref["pred"]], rel=tol
    )
    pi = _lines(ax)[1]
    assert pi.shape == (1, 2, 2)
    assert [pi[0, 0, 0], pi[0, 1, 0]] == pytest.approx(
        [100 * ref["pi_lb"], 100 * ref["pi_ub"]], rel=tol
    )


def test_no_prediction_line_without_heterogeneity() -> None:
    x, n = [10, 10, 10, 11], [30, 30, 30, 31]
    pooled = PooledGLMM("os5", 60, rma_glmm(x, n), list("abcd"), n, x, [*map(float, x)], [])
    assert pooled.fit.tau2 == 0
    assert len(_lines(_axes(glmm_forest_plot(pooled, list("abcd"))))) == 1  # the series' CIs


@pytest.mark.parametrize(
    ("nagq", "optimizer", "words"),
    [(7, "metafor", "adaptive Gauss-Hermite, 7 points"), (1, "converged", "Laplace")],
)
def test_the_note_names_the_model_the_fit_and_the_rounding(
    nagq: int, optimizer: str, words: str
) -> None:
    df = load_literature()
    pooled = pool_outcome_glmm(df, "os5", nagq=nagq, optimizer=optimizer)
    fig = glmm_forest_plot(pooled, pooled.ids)
    texts = [t.get_text() for t in _axes(fig).texts]
    (note,) = [t for t in texts if t.startswith("binomial-normal GLMM")]
    assert note.splitlines()[0] == (
        f"binomial-normal GLMM (ML, {words}), optimiser {optimizer}; survivors = round(S·n)"
    )
    assert f"I² = {pooled.fit.i2:.1f} %" in note and "Clopper-Pearson" in note
    assert "survivors/n" in " ".join(texts)  # the right-hand column's head


def test_table1_survivors_are_the_reference_pairs() -> None:
    pooled = pool_outcome_glmm(load_literature(), "os5")
    series = REFS["table1_os5"]["series"]
    assert pooled.ids == [s["id"] for s in series]
    assert (pooled.survivors, pooled.n) == ([s["x"] for s in series], [s["n"] for s in series])


def test_one_label_per_series() -> None:
    pooled = _pooled(REFS["edges"])
    with pytest.raises(InputError) as info:
        glmm_forest_plot(pooled, ["only one"])
    assert info.value.field == "labels" and "5 series" in info.value.message


# ---- livermet evidence forest --model glmm ----


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_cli_writes_the_glmm_forest_plot(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"forest{suffix}"
    result = runner.invoke(app, ["evidence", "forest", "--model", "glmm", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    head = out.read_bytes()[:8]
    assert {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix] in head


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[tuple[Any, ...]]:
    """Record the calls of a plot function (then draw it as usual)."""
    calls: list[tuple[Any, ...]] = []
    real = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Figure:
        calls.append((*args, kwargs))
        figure: Figure = real(*args, **kwargs)
        return figure

    monkeypatch.setattr(module, name, spy)
    return calls


def test_cli_draws_the_glmm_it_was_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _spy(monkeypatch, glmm_plots, "glmm_forest_plot")
    args = ["--outcome", "OS3", "--nagq", "1", "--optimizer", "converged", "--exclude", "lang2000"]
    result = runner.invoke(
        app, ["evidence", "forest", "--model", "glmm", *args, "-o", str(tmp_path / "f.png")]
    )
    assert result.exit_code == 0, result.stderr
    ((pooled, labels, kwargs),) = calls
    df = load_literature()
    expected = pool_outcome_glmm(df, "os3", nagq=1, optimizer="converged", exclude=["lang2000"])
    assert (pooled.fit.nagq, pooled.fit.optimizer, pooled.outcome) == (1, "converged", "os3")
    assert pooled.ids == expected.ids and "lang2000" not in pooled.ids
    assert pooled.estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert "DeMatteo 2001" in labels and kwargs["xlabel"] == "3-year overall survival (%)"


def test_cli_default_is_still_the_rma_forest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rma = _spy(monkeypatch, evidence_plots, "forest_plot")
    glmm = _spy(monkeypatch, glmm_plots, "glmm_forest_plot")
    result = runner.invoke(app, ["evidence", "forest", "-o", str(tmp_path / "f.png")])
    assert result.exit_code == 0, result.stderr
    ((fit, _labels, kwargs),) = rma
    assert not glmm and fit.method == "REML"
    assert kwargs["title"] == "5-year survival after hepatectomy (REML, PLO)"


@pytest.mark.parametrize(
    ("args", "option", "words"),
    [
        (["--model", "glmm", "--method", "REML"], "--method", "method must be ML"),
        (["--model", "glmm", "--measure", "PFT"], "--measure", "measure must be PLO"),
        (["--nagq", "7"], "--nagq", "applies to the GLMM only"),
        (["--model", "rma", "--optimizer", "converged"], "--optimizer", "GLMM only"),
        (["--model", "glmm", "--nagq", "0"], "--nagq", "from 1 (Laplace) to 100"),
        (["--model", "glmm", "--optimizer", "fast"], "--optimizer", "metafor, converged"),
        (["--model", "bayes"], "--model", "rma, glmm"),
    ],
)
def test_cli_refuses_bad_combinations_naming_the_option(
    tmp_path: Path, args: list[str], option: str, words: str
) -> None:
    out = tmp_path / "f.png"
    result = runner.invoke(app, ["evidence", "forest", *args, "-o", str(out)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert f"{option}:" in message and words in message
    assert not out.exists()


def test_cli_glmm_takes_its_own_measure_and_method(tmp_path: Path) -> None:
    out = tmp_path / "f.png"
    args = ["--model", "glmm", "--measure", "plo", "--method", "ml", "-o", str(out)]
    result = runner.invoke(app, ["evidence", "forest", *args])
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("option", ["model", "nagq", "optimizer", "measure", "method"])
def test_forest_options_read_as_pool_options(option: str) -> None:
    forest = get_params_from_function(forest_command)[option].default
    pool = get_params_from_function(pool_command)[option].default
    assert (forest.param_decls, forest.help) == (pool.param_decls, pool.help)


def test_the_note_says_when_metafor_cannot_fit(tmp_path: Path) -> None:
    """Identical proportions (R: "Cannot fit ML model"): the plot says why it is converged."""
    own = tmp_path / "same.csv"
    own.write_text("id,n_table,os5\na,10,30\nb,20,30\nc,30,30\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="metafor cannot fit"):
        pooled = pool_outcome_glmm(load_series(own), "os5")
    texts = [t.get_text() for t in _axes(glmm_forest_plot(pooled, pooled.ids)).texts]
    (note,) = [t for t in texts if t.startswith("binomial-normal GLMM")]
    assert "optimiser converged (metafor cannot fit these data)" in note.splitlines()[0]
    assert "tau² = 0," in note
