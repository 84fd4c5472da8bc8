"""``glmer_nelder_mead`` walks the same simplex as lme4 1.1-31's ``Nelder_Mead``.

References: ``data/glmer_path/nelder-mead-traces.json``, written by ``nelder-mead-traces.R``
(every point lme4 evaluated, on closed-form functions coded identically below, with glmer's
stage-2 step rule ``xt = 5e-4 xst``). The sequence must agree point for point: the search stops a
few 1e-6 from the minimum, so only the same path gives metafor's numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.evidence.glmer_nelder_mead import initial_simplex, nelder_mead

FloatArray = npt.NDArray[np.float64]
TRACES = json.loads(
    (Path(__file__).parent / "data" / "glmer_path" / "nelder-mead-traces.json").read_text()
)
W = np.array([2.5, 7.1, 3.3, 11.2, 5.0])
C0 = np.array([0.4, 1.9, 0.2, 3.1, 0.7])
SLOPE = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
DUMMY = np.array([0.0, 1.0, 0.0, 1.0, 1.0])


def _devlike4(p: FloatArray) -> float:
    eta = p[1] + p[2] * SLOPE + p[3] * DUMMY
    return float(np.sum(np.log(1 + p[0] ** 2 * W)) + np.sum((C0 - eta) ** 2 / (1 / W + p[0] ** 2)))


FUNCTIONS: dict[str, Callable[[FloatArray], float]] = {
    "quad2": lambda p: float(
        (p[0] - 0.3) ** 2 * 40 + (p[1] + 0.5) ** 2 * 3 + (p[0] - 0.3) * (p[1] + 0.5) * 2
    ),
    "rosen2": lambda p: float(100 * (p[1] - p[0] ** 2) ** 2 + (1 - p[0]) ** 2),
    "bound2": lambda p: float((p[0] + 0.2) ** 2 * 10 + (p[1] - 1) ** 2),
    "quart3": lambda p: float(
        (p[0] - 0.1) ** 4
        + (p[0] - 0.1) ** 2
        + 5 * (p[1] + 1) ** 2
        + (p[2] - 2) ** 2 * 0.5
        + 0.3 * p[1] * p[2]
    ),
    "devlike4": _devlike4,
}


def _floats(values: list[str]) -> FloatArray:
    return np.array([float(v) for v in values])


def test_every_reference_function_is_coded() -> None:
    assert set(TRACES["cases"]) == set(FUNCTIONS)
    assert TRACES["lme4"] == "1.1.31"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_same_points_as_lme4(name: str) -> None:
    case = TRACES["cases"][name]
    seen: list[FloatArray] = []

    def fn(p: FloatArray) -> float:
        seen.append(p.copy())
        return FUNCTIONS[name](p)

    x0, xst = _floats(case["start"]), _floats(case["xst"])
    lower = np.array(case["lower"], dtype=float)
    result = nelder_mead(fn, x0, lower, np.full(x0.size, np.inf), xst, xst * 5e-4)
    want = [_floats(p) for p in case["points"]]
    assert len(seen) == len(want) == case["feval"] == result.evaluations
    for i, (got, ref) in enumerate(zip(seen, want, strict=True)):
        np.testing.assert_array_equal(got, ref, err_msg=f"{name}: evaluation {i + 1}")
    np.testing.assert_array_equal(result.x, _floats(case["par"]))
    assert result.fval == float(case["fval"])
    assert result.status == "xcvg" and case["convergence"] == 0


def test_initial_vertex_beyond_a_bound_moves_onto_it_or_across() -> None:
    lower, upper = np.array([0.0, -np.inf]), np.array([0.05, np.inf])
    pts = initial_simplex(np.array([0.0, 1.0]), lower, upper, np.array([-0.02, 0.3]))
    # coordinate 0: x0 - 0.02 < 0 and the bound is within 0.1 * step, so it goes to x0 + 0.02
    assert pts[0, 1] == pytest.approx(0.02)
    assert pts[1, 2] == pytest.approx(1.3)
    pts = initial_simplex(np.array([0.04, 1.0]), lower, upper, np.array([0.02, 0.3]))
    assert pts[0, 1] == 0.05  # onto the upper bound, 0.01 away (more than 0.1 * step)


def test_maxfun_stops_the_search_and_keeps_the_best_point() -> None:
    f = FUNCTIONS["rosen2"]
    result = nelder_mead(
        f,
        np.array([0.5, 0.2]),
        np.zeros(2) - 5,
        np.full(2, 5.0),
        np.full(2, 0.1),
        np.full(2, 1e-12),
        maxfun=30,
    )
    assert result.status == "maxfun" and result.evaluations == 31
    assert result.fval == f(result.x) < f(np.array([0.5, 0.2]))


def test_start_outside_the_bounds_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the bounds"):
        nelder_mead(
            FUNCTIONS["quad2"],
            np.array([-1.0, 0.0]),
            np.zeros(2),
            np.full(2, np.inf),
            np.full(2, 0.1),
            np.full(2, 1e-5),
        )


@settings(max_examples=40, deadline=None)
@given(
    centre=st.tuples(st.floats(-3, 3), st.floats(-3, 3)),
    curvature=st.tuples(st.floats(0.5, 50), st.floats(0.5, 50)),
)
def test_quadratics_end_near_their_bounded_minimum(
    centre: tuple[float, float], curvature: tuple[float, float]
) -> None:
    def f(p: FloatArray) -> float:
        return float(
            curvature[0] * (p[0] - centre[0]) ** 2 + curvature[1] * (p[1] - centre[1]) ** 2
        )

    xst = np.array([0.02, 0.05])
    result = nelder_mead(
        f, np.array([1.0, 0.0]), np.array([0.0, -np.inf]), np.full(2, np.inf), xst, xst * 5e-4
    )
    assert result.x[0] >= 0.0
    assert result.fval <= f(np.array([1.0, 0.0]))
    assert abs(result.x[0] - max(centre[0], 0.0)) < 1e-3
    assert abs(result.x[1] - centre[1]) < 1e-3
