"""``rma_glmm`` with 26 to 100 quadrature points against metafor 3.8-1 with its defaults.

References: ``data/glmm/glmm-nagq-high.json``, written by ``data/glmm/glmm-nagq-high.R``:
``rma.glmm(measure = "PLO", nAGQ = 26, 50, 100)`` on Table 1's 5-year survivors, extreme
heterogeneity (logits -4 .. 4), very large n and a 0/1 moderator; lme4 1.1-31 has Gauss-Hermite
rules up to 100 points (``GHrule``), so metafor fits them all. Every number is held to
``|ours - R| <= 1e-6 + 1e-6 |R|``. Identical proportions, which metafor cannot fit at any nAGQ,
give the converged fit with the reason on the result (``warnings``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from livermet.evidence.glmm import rma_glmm

from .test_glmm_parity import assert_close

REFS = json.loads((Path(__file__).parent / "data" / "glmm" / "glmm-nagq-high.json").read_text())
CASES = REFS["cases"]
FITTED = [c for c in CASES if not c["error"]]
FAILED = [c for c in CASES if c["error"]]
TIGHT = 1e-6


def _id(case: dict[str, Any]) -> str:
    return f"{case['name']}-nagq{case['nagq']}"


def _f(values: Any) -> Any:
    """Numbers stored as %.17g strings (a length-1 vector is unboxed) as a 1-d float array."""
    return np.atleast_1d(np.asarray(values, dtype=float))


def test_reference_file() -> None:
    assert REFS["metafor"] == "3.8.1" and REFS["lme4"] == "1.1.31"
    assert {26, 50, 100} <= {c["nagq"] for c in FITTED}
    assert len({c["name"] for c in FITTED if c["nagq"] > 25}) >= 3


@pytest.mark.parametrize("case", FITTED, ids=_id)
def test_many_points_match_metafor(case: dict[str, Any]) -> None:
    """beta, SE, tau², QE.Wld, QE.LRT, I² and ll at 1e-6, on glmer's path, without a warning."""
    mods = None if case["mods"] is None else np.column_stack(case["mods"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = rma_glmm(case["x"], case["n"], mods, nagq=case["nagq"])
    assert fit.optimizer == "metafor" and fit.nagq == case["nagq"]
    assert fit.warnings == () and fit.to_dict()["warnings"] == []
    for name, got in [
        ("beta", fit.beta),
        ("se", fit.se),
        ("tau2", fit.tau2),
        ("QE_Wld", fit.qe_wld),
        ("QE_LRT", fit.qe_lrt),
        ("I2", fit.i2),
        ("ll", fit.ll_metafor),
    ]:
        assert_close(name, got, _f(case[name]), TIGHT, TIGHT)


def test_points_matter_where_metafor_says_so() -> None:
    """Extreme heterogeneity: metafor's tau² moves between 26 and 50 points, and so does ours."""
    ref = {c["nagq"]: float(c["tau2"]) for c in FITTED if c["name"] == "extreme_het"}
    assert abs(ref[26] - ref[50]) > 1e-5
    x = [1, 6, 25, 44, 49]
    got = {q: rma_glmm(x, [50] * 5, nagq=q).tau2 for q in (26, 50)}
    assert abs(got[26] - got[50]) == pytest.approx(abs(ref[26] - ref[50]), rel=1e-3)


@pytest.mark.parametrize("case", FAILED, ids=_id)
def test_metafor_fails_we_warn_and_say_so(case: dict[str, Any]) -> None:
    """Identical proportions: R stops ("Cannot fit ML model"); we warn, converge and record why."""
    assert "Cannot fit ML model" in case["message"]
    with pytest.warns(UserWarning, match="metafor cannot fit these data") as record:
        fit = rma_glmm(case["x"], case["n"], nagq=case["nagq"])
    assert fit.optimizer == "converged"
    assert len(fit.warnings) == 1 and "Response is constant" in fit.warnings[0]
    assert fit.warnings == tuple(str(w.message) for w in record)
    assert fit.to_dict()["warnings"] == list(fit.warnings)
    assert fit.tau2 == pytest.approx(0.0, abs=1e-8)
    assert fit.predict(transf="ilogit").pred[0] == pytest.approx(0.3, abs=1e-6)
