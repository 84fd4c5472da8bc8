"""BOBYQA for one variable against minqa 1.2.5, the optimiser of glmer's first stage.

Every trace in ``data/glmer_path/bobyqa-traces.json`` (written by ``bobyqa-traces.R``) lists all
the points ``minqa::bobyqa`` evaluated with lme4's settings (``lower = 0, upper = Inf``, minqa's
defaults) on a closed-form function, plus a few runs with other bounds and sixty runs on a seeded
family of wavy functions (thirty of them on finite boxes). minqa evaluates the start
once in R before the Fortran starts and the returned point once more afterwards; those two extra
calls are the first and last entries of a trace and are not part of the algorithm's path.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.errors import InputError
from livermet.evidence.glmer_bobyqa import BobyqaResult, bobyqa_1d

DATA = json.loads(
    (Path(__file__).parent / "data" / "glmer_path" / "bobyqa-traces.json").read_text()
)
W_DEV = [float(v) for v in DATA["deviance_like"]["w"]]
C_DEV = [float(v) for v in DATA["deviance_like"]["c"]]
POINT_RTOL = 1e-12
PAR_RTOL = 1e-13


def _deviance_like(t: float) -> float:
    total = 0.0
    for w, c in zip(W_DEV, C_DEV, strict=True):
        u = 1.0 + t * t * w
        total = total + math.log(u)
        total = total + c / u
    return total


def _quartic(t: float, m: float, a: float) -> float:
    u = (t - m) * (t - m)
    return u * u + a * u


def _pure_quartic(t: float) -> float:
    u = (t - 2) * (t - 2)
    return u * u


# The same expressions, in the same order, as in bobyqa-traces.R.
FUNCTIONS: dict[str, Callable[[float], float]] = {
    "quad_03": lambda t: (t - 0.3) * (t - 0.3),
    "quad_far_25": lambda t: (t - 25) * (t - 25) + 1,
    "quad_near0": lambda t: (t - 1e-3) * (t - 1e-3),
    "quad_bound": lambda t: (t + 0.5) * (t + 0.5),
    "quartic_07": lambda t: _quartic(t, 0.7, 0.1),
    "quartic_pure_2": lambda t: _pure_quartic(t),
    "flat": lambda t: 1e-10 * ((t - 0.5) * (t - 0.5)) + 3,
    "linear_up": lambda t: t + 1,
    "cosh_15": lambda t: math.cosh(t - 1.5),
    "log_barrier": lambda t: t - math.log(t + 0.01),
    "hyperbola_3": lambda t: math.sqrt(1 + (t - 3) * (t - 3)),
    "gauss_well": lambda t: -math.exp(-((t - 0.4) * (t - 0.4))),
    "deviance_like": _deviance_like,
    "inf_below_05": lambda t: math.inf if t < 0.5 else (t - 0.3) * (t - 0.3),
    "wavy": lambda t: math.sin(3 * t) + 0.1 * t * t,
    "double_well": lambda t: (t * t - 4) * (t * t - 4) + t,
    "steep_exp": lambda t: math.exp(3 * t) - 5 * t,
    "sqrt_cusp": lambda t: math.sqrt(math.sqrt(1e-4 + (t - 1.3) * (t - 1.3))),
    "rosen_1d": lambda t: 100 * ((t * t - 0.5) * (t * t - 0.5)) + (1 - t) * (1 - t),
}


def _floats(values: list[str]) -> list[float]:
    return [float(v) for v in values]


def _trace_id(trace: dict[str, Any]) -> str:
    return f"{trace['name']}-x0={trace['x0']}-[{trace['lower']},{trace['upper']}]"


def _run(trace: dict[str, Any], fn: Callable[[float], float], **kw: Any) -> BobyqaResult:
    return bobyqa_1d(fn, float(trace["x0"]), float(trace["lower"]), float(trace["upper"]), **kw)


def _assert_same_points(got: tuple[float, ...], want: list[float]) -> None:
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == pytest.approx(w, rel=POINT_RTOL, abs=0.0), f"evaluation {i + 1}"


@pytest.mark.parametrize("trace", DATA["traces"], ids=_trace_id)
def test_closed_forms_give_the_values_r_recorded(trace: dict[str, Any]) -> None:
    fn = FUNCTIONS[trace["name"]]
    for point, value in zip(_floats(trace["points"]), _floats(trace["values"]), strict=True):
        assert fn(point) == value


@pytest.mark.parametrize("trace", DATA["traces"], ids=_trace_id)
def test_evaluates_the_same_points_and_returns_the_same_par(trace: dict[str, Any]) -> None:
    result = _run(trace, FUNCTIONS[trace["name"]])
    points = _floats(trace["points"])
    assert points[0] == float(trace["x0"])  # R's check call (the Fortran may move the start)
    assert points[-1] == float(trace["par"])  # the wrapper's call that reports fval
    _assert_same_points(result.points, points[1:-1])
    assert result.x == pytest.approx(float(trace["par"]), rel=PAR_RTOL, abs=1e-300)
    assert result.fval == float(trace["fval"]) or result.fval == pytest.approx(
        float(trace["fval"]), rel=1e-12
    )
    assert result.evaluations == trace["feval"]
    assert result.ierr == trace["ierr"]


def _family(params: dict[str, str]) -> Callable[[float], float]:
    m, a, b, c, e = (float(params[k]) for k in ("m", "a", "b", "c", "e"))
    return lambda t: a * ((t - m) * (t - m)) + b * math.sin(c * t) + e * math.exp(-t)


@pytest.mark.parametrize(
    "trace", DATA["family"], ids=lambda t: f"x0={t['x0']}-m={t['params']['m']}"
)
def test_wavy_family_paths_match(trace: dict[str, Any]) -> None:
    fn = _family(trace["params"])
    points = _floats(trace["points"])
    assert [fn(p) for p in points] == _floats(trace["values"])
    result = _run(trace, fn)
    _assert_same_points(result.points, points[1:-1])
    assert result.x == pytest.approx(float(trace["par"]), rel=PAR_RTOL, abs=0.0)
    assert (result.evaluations, result.ierr) == (trace["feval"], trace["ierr"])


def test_lme4_stage1_deviance_path_is_replayed() -> None:
    # The real glmer deviance (binomial random-intercept model) is not coded here: the Python run
    # may only ask for points R evaluated, and gets the values R computed there.
    trace = DATA["lme4_stage1"]
    table = dict(zip(_floats(trace["points"]), _floats(trace["values"]), strict=True))
    result = _run(trace, lambda t: table[t])
    _assert_same_points(result.points, _floats(trace["points"])[1:-1])
    assert result.x == float(trace["par"]) == 0.29531691699855572
    assert result.fval == float(trace["fval"])
    assert result.evaluations == trace["feval"] == 19


def test_start_within_rhobeg_of_a_bound_is_moved_off_it() -> None:
    trace = next(t for t in DATA["traces"] if t["x0"] == "0.94999999999999996")
    result = _run(trace, FUNCTIONS[trace["name"]])
    rhobeg = 0.2 * 0.95
    assert result.points[0] == 1.0 - rhobeg == _floats(trace["points"])[1]


def test_maxfun_stops_on_the_same_path() -> None:
    trace = next(t for t in DATA["traces"] if t["name"] == "quartic_pure_2")
    result = _run(trace, FUNCTIONS["quartic_pure_2"], maxfun=12)
    points = _floats(trace["points"])[1:-1]
    assert result.points == tuple(points[:12])
    assert result.ierr == 1
    assert result.evaluations == 12
    best = min(range(12), key=lambda i: FUNCTIONS["quartic_pure_2"](points[i]))
    assert result.x == points[best]


def test_non_improving_model_reports_ierr_3() -> None:
    trace = next(t for t in DATA["traces"] if t["name"] == "flat")
    result = _run(trace, FUNCTIONS["flat"])
    assert (result.ierr, trace["ierr"]) == (3, 3)
    assert "failed to reduce q" in result.message


@pytest.mark.parametrize(
    ("x0", "lower", "upper", "field"),
    [
        (-0.1, 0.0, math.inf, "x0"),
        (math.nan, 0.0, math.inf, "x0"),
        (1.0, 2.0, 1.0, "bounds"),
        (0.0, 0.0, math.inf, "rhoend"),  # minqa: rhobeg = 0.2 |x0| = 0 fails its check
    ],
)
def test_bad_input_names_the_field(x0: float, lower: float, upper: float, field: str) -> None:
    with pytest.raises(InputError) as err:
        bobyqa_1d(lambda t: t * t, x0, lower, upper)
    assert err.value.field == field


@settings(max_examples=60, deadline=None)
@given(
    m=st.floats(0.0, 10.0),
    a=st.floats(0.05, 50.0),
    c=st.floats(-10.0, 10.0),
    x0=st.floats(0.1, 5.0),
)
def test_convex_quadratic_minimum_is_found_within_ten_rhoend(
    m: float, a: float, c: float, x0: float
) -> None:
    result = bobyqa_1d(lambda t: a * (t - m) * (t - m) + c, x0)
    rhoend = 1e-6 * min(0.95, 0.2 * x0)
    assert abs(result.x - max(m, 0.0)) <= 10 * rhoend


@settings(max_examples=60, deadline=None)
@given(
    m=st.floats(-3.0, 10.0),
    a=st.floats(0.0, 5.0),
    b=st.floats(0.01, 5.0),
    x0=st.floats(0.05, 8.0),
    upper=st.one_of(st.just(math.inf), st.floats(9.0, 20.0)),
)
def test_result_is_feasible_and_not_worse_than_the_start(
    m: float, a: float, b: float, x0: float, upper: float
) -> None:
    def fn(t: float) -> float:
        return b * _quartic(t, m, a) + math.cos(t)

    result = bobyqa_1d(fn, x0, 0.0, upper)
    assert 0.0 <= result.x <= upper
    assert all(0.0 <= p <= upper for p in result.points)
    assert result.fval <= fn(x0)
    assert result.fval == fn(result.x)
