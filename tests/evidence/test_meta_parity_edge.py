"""Parity with metafor 3.8-1 at edge cases (issue 12): ``data/metafor-3.8-1-edge.json``.

Produced by ``data/metafor-edge-refs.R`` (R 4.2.2, metafor 3.8-1, tight control) on metafor's own
datasets:

* ``r2_ee``: R² of meta-regressions of the BCG trials (log risk ratios) on latitude and year,
  latitude, year, allocation (a factor) and an unrelated moderator, with EE, DL and REML. For EE
  metafor reports ``max(0, 100 adjusted R²)`` of the weighted ``lm`` (77.7 % down to a value
  clipped at 0); for DL/REML the pseudo R² of tau².
* ``trimfill_q0``: the magnesium trials (``dat.egger2001``), where Q0's square root has a
  negative argument and metafor stops; the Li 2007 trials (``dat.li2007``), where only the
  standard error of k0 is NaN, and a regular Q0 fill (k0 = 11).

Tolerances as ``test_meta_parity_extra.py``: RTOL 1e-7, ATOL 1e-9; the models with ``year``
(values ~1950 next to an intercept, an ill-conditioned X'WX) RTOL 1e-6.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from livermet.errors import InputError
from livermet.evidence import rma

DATA = Path(__file__).parent / "data"
RTOL = 1e-7
ATOL = 1e-9
REF: dict[str, Any] = json.loads((DATA / "metafor-3.8-1-edge.json").read_text())
CASES: list[dict[str, Any]] = REF["cases"]


def _of(kind: str) -> list[dict[str, Any]]:
    return [c for c in CASES if c["kind"] == kind]


def _close(actual: Any, expected: Any, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(
        np.ravel(np.asarray(actual, dtype=float)),
        np.ravel(np.asarray(expected, dtype=float)),
        rtol=rtol,
        atol=ATOL,
    )


def test_reference_versions() -> None:
    assert REF["metafor"] == "3.8.1"
    assert REF["R"].startswith("R version 4.2.2")


@pytest.mark.parametrize("case", _of("r2_ee"), ids=lambda c: f"{c['model']}-{c['method']}")
def test_meta_regression_r2(case: dict[str, Any]) -> None:
    mods = np.column_stack(case["mods"])
    fit = rma(case["yi"], case["vi"], mods=mods, method=case["method"])
    rtol = 1e-6 if "year" in case["model"] else RTOL
    _close(fit.beta, case["beta"], rtol)
    _close(fit.se, case["se"], rtol)
    _close([fit.tau2, fit.qe, fit.qm, fit.i2], [case[k] for k in ("tau2", "QE", "QM", "I2")], rtol)
    assert fit.r2 is not None
    _close(fit.r2, case["R2"], rtol)


def test_equal_effects_r2_values() -> None:
    """The EE values span a large R², a small one and one clipped at 0 (negative adjusted R²)."""
    ee = {c["model"]: c["R2"] for c in _of("r2_ee") if c["method"] == "EE"}
    assert ee["ablat_year"] == pytest.approx(77.6722717249586, rel=1e-12)
    assert 0 < ee["noise"] < 1
    assert ee["alloc"] == 0


def test_equal_effects_r2_edges() -> None:
    (case,) = [c for c in _of("r2_ee") if c["model"] == "ablat" and c["method"] == "EE"]
    x = np.asarray(case["mods"][0])
    # identical estimates: metafor sets R² = 0 (var(yi) is 0)
    assert rma(np.full(x.size, 0.3), case["vi"], mods=x, method="EE").r2 == 0.0
    # k = p: no residual degrees of freedom, adjusted R² undefined
    assert rma([0.1, 0.5], [0.04, 0.09], mods=[1.0, 2.0], method="EE").r2 is None
    # no moderators: no R²
    assert rma(case["yi"], case["vi"], method="EE").r2 is None


def _q0_id(c: dict[str, Any]) -> str:
    return f"{c['data']}-{c['method']}-{c['side_arg'] or 'auto'}"


@pytest.mark.parametrize("case", _of("trimfill_q0"), ids=_q0_id)
def test_trimfill_q0(case: dict[str, Any]) -> None:
    fit = rma(case["yi"], case["vi"], method=case["method"])
    kwargs: dict[str, Any] = {"estimator": "Q0"}
    if case["side_arg"] is not None:
        kwargs["side"] = case["side_arg"]
    if "error" in case:  # metafor stops: livermet says why
        with pytest.raises(InputError) as info:
            fit.trimfill(**kwargs)
        assert info.value.field == "estimator"
        msg = info.value.message
        assert "Q0" in msg and "negative argument" in msg and "metafor" in msg
        assert "'L0'" in msg and "'R0'" in msg
        assert "math domain error" not in str(info.value)
        return
    tf = fit.trimfill(**kwargs)
    assert (tf.k0, tf.side) == (case["k0"], case["side"])
    if case["se_k0"] is None:  # R: sqrt of a negative variance, NaN
        assert math.isnan(tf.se_k0)
    else:
        _close(tf.se_k0, case["se_k0"])
    _close([tf.beta, tf.se, tf.tau2], [case["beta"], case["se"], case["tau2"]])


def test_trimfill_q0_error_leaves_other_estimators_usable() -> None:
    (case,) = [c for c in _of("trimfill_q0") if c["data"] == "magnesium" and c["method"] == "DL"]
    fit = rma(case["yi"], case["vi"], method="DL")
    for est in ("L0", "R0"):
        tf = fit.trimfill(estimator=est)
        assert tf.k0 >= 0 and math.isfinite(tf.beta)


@pytest.mark.parametrize("method", ["EE", "REML"])
def test_trimfill_side_needs_unequal_variances(method: str) -> None:
    # With equal variances the sei slope is not estimable; metafor 3.8-1 stops too ("missing
    # value where TRUE/FALSE needed", checked by hand with R 4.2.2).
    fit = rma([0.1, 0.3, 0.5, 0.2, 0.9], [0.04] * 5, method=method)
    with pytest.raises(InputError) as info:
        fit.trimfill()
    assert info.value.field == "side"
    assert "all sampling variances are equal" in info.value.message
    # Given a side, trim-and-fill runs.
    assert fit.trimfill(side="left").side == "left"
