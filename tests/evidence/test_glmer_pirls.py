"""``GlmerDevfun`` gives lme4 1.1-31's glmer deviance values, call for call.

References: ``data/glmer_path/pirls-traces.json``, written by ``pirls-traces.R``: for six data
sets (Table 1; a series with 0 events; a series with n events; a scaled moderator; a homogeneous
set where theta goes to 0; large series) and nAGQ = 1 and 7, every call glmer's optimisers made to
its deviance functions (stage 1 bobyqa over theta, stage 2 Nelder-Mead over (theta, beta), plus
optwrap's re-evaluations and the derivative evaluations), each value, and the PIRLS state that
carries over (lp0, delb, diag(unsc)). Replaying the same calls in the same order must give the
same values: the optimisers stop short of the optimum, so only lme4's exact values give metafor's
estimates. A hand-made call sequence on sparse data checks PIRLS step halving. On the reference
machine every value is bit-identical; the tolerance below (1e-14 relative) only allows for a C
library whose exp/log round differently.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from scipy.special import roots_hermitenorm
from scipy.stats import norm

from livermet.errors import InputError
from livermet.evidence.glmer_pirls import (
    GHRULES_FILE,
    MAX_NAGQ,
    GlmerDevfun,
    gh_rule,
    log_dbinom,
)

FloatArray = npt.NDArray[np.float64]
TRACES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "glmer_path" / "pirls-traces.json").read_text()
)
RTOL = 1e-14
RUNS = [(name, run_name) for name, ds in TRACES["datasets"].items() for run_name in ds["runs"]]


def _vec(value: Any) -> FloatArray:
    """R's %.17g strings (jsonlite unboxes length-1 vectors) as a float array."""
    return np.atleast_1d(np.array(value, dtype=float))


def _new(name: str) -> GlmerDevfun:
    ds = TRACES["datasets"][name]
    design = np.column_stack([_vec(col) for col in ds["X"]])
    return GlmerDevfun(_vec(ds["xi"]), _vec(ds["ni"]), design)


def _assert_close(got: FloatArray | float, want: FloatArray, what: str) -> None:
    np.testing.assert_allclose(np.atleast_1d(got), want, rtol=RTOL, atol=0.0, err_msg=what)


@pytest.mark.parametrize("nagq", range(1, 26))
def test_gh_rule_is_lme4s_table(nagq: int) -> None:
    """Nodes, weights and log-densities equal R's ``lme4:::GHrule(nagq)`` bit for bit."""
    ref = TRACES["GHrule"][nagq - 1]
    z, w, ldnorm = gh_rule(nagq)
    assert np.array_equal(z, _vec(ref["z"]))
    assert np.array_equal(w, _vec(ref["w"]))
    assert np.array_equal(ldnorm, _vec(ref["ldnorm"]))


@pytest.mark.parametrize("nagq", range(26, 101))
def test_gh_rules_26_to_100_are_gauss_hermite_rules(nagq: int) -> None:
    """Rules 26 to 100 (lme4's fgq_rules, stored by lme4-ghrules.R) are k-point normal rules.

    Independent of R: the nodes and weights agree with SciPy's Gauss-Hermite rule for the standard
    normal density (probabilists' Hermite polynomials) and integrate E z^2 = 1, E z^4 = 3.
    """
    z, w, ldnorm = gh_rule(nagq)
    ref_z, ref_w = roots_hermitenorm(nagq)
    assert z.size == w.size == nagq
    np.testing.assert_allclose(z, ref_z, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w, ref_w / ref_w.sum(), rtol=1e-8, atol=1e-300)
    assert float(np.sum(w)) == pytest.approx(1.0, abs=1e-13)
    assert float(np.sum(w * z**2)) == pytest.approx(1.0, abs=1e-12)
    assert float(np.sum(w * z**4)) == pytest.approx(3.0, abs=1e-11)
    np.testing.assert_allclose(ldnorm, norm.logpdf(z), rtol=1e-14)


def test_gh_rules_file_is_lme4s() -> None:
    """The data file says where its numbers come from and holds lme4's 100 rules."""
    path = files("livermet").joinpath(*GHRULES_FILE)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["generated_by"] == "lme4-ghrules.R" and data["lme4"] == "1.1.31"
    assert [r["n"] for r in data["rules"]] == list(range(1, MAX_NAGQ + 1))
    assert MAX_NAGQ == 100
    script = files("livermet").joinpath(*GHRULES_FILE[:-1], "lme4-ghrules.R").read_text("utf-8")
    assert "lme4:::fgq_rules" in script and "never call R" in script


@pytest.mark.parametrize(("name", "run_name"), RUNS)
def test_replay_matches_lme4(name: str, run_name: str) -> None:
    """Initial state, every stage-1 and stage-2 value and the state between stages."""
    run = TRACES["datasets"][name]["runs"][run_name]
    dev = _new(name)
    _assert_close(dev.lp0, _vec(run["init"]["lp0"]), "lp0 after mkGlmerDevfun")
    _assert_close(dev.delb, _vec(run["init"]["delb"]), "delb after mkGlmerDevfun")
    for i, call in enumerate(run["stage1"]):
        value = dev.stage1(float(call["args"]))
        _assert_close(value, _vec(call["value"]), f"stage 1 call {i}")
    after = run["after_stage1"]
    _assert_close(dev.delb, _vec(after["delb"]), "delb after stage 1")
    _assert_close(dev.unsc_diag(), _vec(after["unsc_diag"]), "diag(unsc) after stage 1")
    _assert_close(dev.delu, _vec(after["delu"]), "delu after stage 1")
    dev.start_stage2(int(run["nAGQ"]))
    _assert_close(dev.lp0, _vec(run["lp0_stage2"]), "lp0 of stage 2")
    for i, call in enumerate(run["stage2"]):
        value = dev.stage2(_vec(call["args"]))
        _assert_close(value, _vec(call["value"]), f"stage 2 call {i}")


def test_step_halving_matches_lme4() -> None:
    """Sparse data and far-off beta make PIRLS halve steps; the values still agree with R."""
    ref = TRACES["halving"]
    dev = GlmerDevfun(_vec(ref["xi"]), _vec(ref["ni"]), np.ones((len(ref["xi"]), 1)))
    for i, call in enumerate(ref["stage1"]):
        _assert_close(dev.stage1(float(call["args"])), _vec(call["value"]), f"stage 1 call {i}")
    dev.start_stage2(int(ref["nAGQ"]))
    for i, call in enumerate(ref["stage2"]):
        _assert_close(dev.stage2(_vec(call["args"])), _vec(call["value"]), f"stage 2 call {i}")
    assert dev.step_halvings == 2


def test_stage2_depends_on_stage1_history() -> None:
    """Stage 2 restarts PIRLS from the lp0 left by stage 1: another history, another value."""
    values = []
    for theta in (0.3, 0.9):
        dev = _new("table1")
        first = dev.stage1(0.5)
        dev.stage1(1.7)
        assert dev.stage1(0.5) == first  # within stage 1, every call restarts from the same lp0
        dev.stage1(theta)  # the last stage-1 call sets stage 2's lp0
        dev.start_stage2(7)
        values.append(dev.stage2(np.array([0.3, -0.5])))
    assert values[0] != values[1]
    assert values[0] == pytest.approx(values[1], rel=1e-12)  # PIRLS imprecision, not the model


def test_log_dbinom_special_cases() -> None:
    """Zero and full counts and the degenerate probabilities follow R's ``dbinom_raw``."""
    assert log_dbinom(0.0, 10.0, 0.0) == 0.0
    assert log_dbinom(10.0, 10.0, 1.0) == 0.0
    assert log_dbinom(3.0, 10.0, 0.0) == -np.inf
    assert log_dbinom(0.0, 0.0, 0.4) == 0.0
    assert log_dbinom(0.0, 4.0, 0.5) == pytest.approx(4 * np.log(0.5), rel=1e-15)
    assert log_dbinom(2.0, 4.0, 0.5) == pytest.approx(np.log(6 / 16), rel=1e-14)


def test_bad_input() -> None:
    """Impossible counts, a rule order outside 1..100 and out-of-order calls are refused."""
    x = np.array([1.0, 3.0])
    n = np.array([12.0, 15.0])
    one = np.ones((2, 1))
    with pytest.raises(InputError) as err:
        GlmerDevfun(np.array([13.0, 3.0]), n, one)
    assert err.value.field == "xi"
    with pytest.raises(InputError):
        GlmerDevfun(np.array([1.5, 3.0]), n, one)
    with pytest.raises(InputError) as err:
        GlmerDevfun(x, n, np.ones((3, 1)))
    assert err.value.field == "X"
    for order in (0, 101):
        with pytest.raises(InputError) as err:
            gh_rule(order)
        assert err.value.field == "nAGQ" and "1 to 100" in err.value.message
    dev = GlmerDevfun(x, n, one)
    with pytest.raises(InputError):
        dev.stage2(np.array([0.5, 0.0]))
    dev.start_stage2(7)
    with pytest.raises(InputError):
        dev.stage1(0.5)
    with pytest.raises(InputError):
        dev.start_stage2(7)
