"""Edge cases of ``rma_glmm`` against metafor 3.8-1 ``rma.glmm(measure="PLO")`` with its defaults.

References: ``data/glmm/glmm-edge-defaults.json``, written by ``data/glmm/glmm-edge-defaults.R``
(93 fits: k = 2, all or most series with 0 or n events, series of one patient, n of 10000+, n
from 5 to 5000, logits from -4 to 4, identical proportions, Nelder-Mead ending with theta in
(0, 1e-5), moderators of ~1e6 and ~1e-5, a dummy, nearly collinear moderators, a moderator
constant except in one series, intercept-free models, six data sets from a random hunt; nAGQ 7
and 1, some 2, 3 and 15).

Every case metafor fits is held to ``|ours - R| <= 1e-6 + 1e-6 |R|`` (``assert_close`` of
``test_glmm_parity.py``) for beta, SE, tau², QE.Wld, QE.LRT, I² and ll; glmer's path itself
(stage-1 theta and beta, the final parameters, metafor's ``X.fit``) is checked bit for bit.
Where metafor stops, we refuse the same data (every series 0 or n events) or warn and report the
converged fit (lme4's "Response is constant": the same proportion in every series).

Known differences (marked ``xfail(strict=True)``, so that a fix shows):
    * Moderator scaling (``mod_collinear``, ``hunt_sparse_mod``, ``hunt_mod_tau2`` at nAGQ 7):
      ``rma_glmm`` scales the moderators as ``X @ M`` (numpy rounding), which differs from R's
      ``scale()`` in the last bit; on ill-conditioned designs (nearly collinear moderators, or a
      moderator of ~1e5 with sparse series) that bit changes glmer's path (beta up to 4e-6, SE up
      to 1.5e-4). With :func:`.glmer_path.scale_as_metafor` (R's rounding) the path is R's bit
      for bit (``test_scaled_path_with_r_rounding``).
    * ``hunt_hessian_not_pd``: lme4's finite-difference Hessian is not positive definite at
      nAGQ 7, so ``vcov`` warns and falls back to ``pp$unsc()`` (from RX); ``rma_glmm`` uses its
      own Hessian. :class:`.glmer_path.GlmerOptimum` carries ``unsc`` (``test_unsc_fallback``).
    * ``hunt_fe_glm_start``: the fixed-effects logistic fit of ``glmm_glm`` (Newton from an
      unweighted least-squares start) diverges and ``rma_glmm`` raises LinAlgError; metafor fits.
    * ``mod_tiny`` (a moderator of ~1e-5): metafor stops ("Model matrix not of full rank", an
      eigenvalue of X'X below its ``evtol`` 1e-7) before scaling; ``rma_glmm`` fits.

Where metafor's own statistics fail they are not compared (``test_metafor_statistics_failed``
checks that R says so): its saturated glm diverges ("Cannot invert Hessian for saturated model":
QE.Wld NA, QE.LRT 0 and ll from a log-likelihood of -1e5 in ``hunt_sat_glm_diverges``; QE.Wld NA
in ``hunt_mod_tau2``), or lme4's deviance residual of one series is -4e-14 and ``deviance()``
NaN (ll NaN in ``hunt_devresid_negative`` at nAGQ 7).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from livermet.errors import InputError
from livermet.evidence.glmer_bobyqa import bobyqa_1d
from livermet.evidence.glmer_path import fit_as_glmer, scale_as_metafor
from livermet.evidence.glmer_pirls import THETA_START, GlmerDevfun
from livermet.evidence.glmm import GLMMResult, rma_glmm

from .test_glmm_parity import assert_close

REFS = json.loads((Path(__file__).parent / "data" / "glmm" / "glmm-edge-defaults.json").read_text())
CASES = REFS["cases"]
TIGHT = 1e-6
SCALED = {"mod_collinear", "hunt_sparse_mod", "hunt_mod_tau2", "hunt_hessian_not_pd"}
"""Ill-conditioned moderators: glmer's path changes with the last bit of R's scale()."""
UNSC_FALLBACK = {("hunt_hessian_not_pd", 7)}
"""lme4's Hessian is not positive definite: vcov warns and falls back to pp$unsc()."""
NOT_FULL_RANK = {"mod_tiny"}
"""metafor refuses X'X with an eigenvalue below evtol = 1e-7."""
SATURATED_FAILED = "Cannot invert Hessian for saturated model."
STATS = ("QE_Wld", "QE_LRT", "I2", "ll")


def _id(case: dict[str, Any]) -> str:
    return f"{case['name']}-nagq{case['nagq']}"


def _f(values: Any) -> Any:
    """Numbers stored as %.17g strings (a length-1 vector is unboxed) as a 1-d float array."""
    return np.atleast_1d(np.asarray(values, dtype=float))


def _inputs(case: dict[str, Any]) -> tuple[Any, Any, Any]:
    mods = None if case["mods"] is None else np.column_stack(case["mods"])
    return case["x"], case["n"], mods


def _fit(case: dict[str, Any]) -> GLMMResult:
    x, n, mods = _inputs(case)
    return rma_glmm(x, n, mods, intercept=case["intercept"], nagq=case["nagq"])


def _metafor_failed(case: dict[str, Any], name: str) -> bool:
    """Whether metafor's statistic is NaN or comes from a saturated glm that did not converge."""
    if math.isnan(float(case[name])):
        return True
    return name in ("QE_Wld", "QE_LRT", "ll") and SATURATED_FAILED in case["warnings"]


def _all_zero_or_n(case: dict[str, Any]) -> bool:
    x, n = _f(case["x"]), _f(case["n"])
    return bool(np.all(x == 0) or np.all(x == n))


FITTED = [c for c in CASES if not c["error"]]
FAILED = [c for c in CASES if c["error"]]
FAILED_STATS = [c for c in FITTED if any(_metafor_failed(c, q) for q in STATS)]
SCALED_DIFFERENTLY = [c for c in FITTED if c["name"] in SCALED]


def test_reference_file_covers_the_edges() -> None:
    assert REFS["metafor"] == "3.8.1"
    assert REFS["lme4"] == "1.1.31"
    assert len(CASES) >= 60
    assert {1, 2, 3, 7, 15} <= {c["nagq"] for c in CASES}
    assert min(len(c["x"]) for c in FITTED) == 2
    assert any(not c["intercept"] for c in FITTED)
    assert max(max(c["n"]) for c in FITTED) >= 10000


@pytest.mark.parametrize("case", FITTED, ids=_id)
def test_metafor_estimates(case: dict[str, Any]) -> None:
    """Every case metafor fits: beta, SE and tau² at 1e-6, on glmer's path.

    No warning, except lme4's own fallback of vcov to pp$unsc(), which metafor prints too.
    """
    if (case["name"], case["nagq"]) in UNSC_FALLBACK:
        with pytest.warns(UserWarning, match="not positive definite"):
            fit = _fit(case)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fit = _fit(case)
    assert fit.optimizer == "metafor"
    for name, got in [("beta", fit.beta), ("se", fit.se), ("tau2", fit.tau2)]:
        assert_close(name, got, _f(case[name]), TIGHT, TIGHT)


@pytest.mark.parametrize("case", FITTED, ids=_id)
def test_metafor_statistics(case: dict[str, Any]) -> None:
    """QE.Wld, QE.LRT, I² and ll at 1e-6 wherever metafor computes them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = _fit(case)
    got = {"QE_Wld": fit.qe_wld, "QE_LRT": fit.qe_lrt, "I2": fit.i2, "ll": fit.ll_metafor}
    compared = [q for q in STATS if not _metafor_failed(case, q)]
    assert "I2" in compared
    for name in compared:
        rtol = TIGHT
        if name == "QE_Wld" and (case["x"][-1] == 0 or case["x"][-1] == case["n"][-1]):
            # metafor codes the saturated model with the last series as reference; with 0 or n
            # events its logit is ~±25 with variance ~1e10 and b' V^-1 b loses ~5e-6 to
            # cancellation (as the all_events case of test_glmm_parity.py)
            rtol = 1e-5
        assert_close(name, got[name], _f(case[name]), TIGHT, rtol)


@pytest.mark.parametrize("case", FAILED_STATS, ids=_id)
def test_metafor_statistics_failed(case: dict[str, Any]) -> None:
    """Where metafor's statistics fail, R says so (NaN or its warning); ours are finite."""
    nan = {q for q in STATS if math.isnan(float(case[q]))}
    assert nan or SATURATED_FAILED in case["warnings"]
    assert nan <= {"QE_Wld", "ll"}
    fit = _fit(case)
    for value in (fit.qe_wld, fit.qe_lrt, fit.ll_metafor):
        assert math.isfinite(value)
    assert fit.qe_lrt > 0.0
    assert fit.ll_metafor <= fit.ll_saturated


@pytest.mark.parametrize("case", FITTED, ids=_id)
def test_glmer_path_bit_for_bit(case: dict[str, Any]) -> None:
    """On metafor's X.fit: stage-1 theta and beta, and the final (theta, beta), equal glmer's."""
    x, n = _f(case["x"]), _f(case["n"])
    X = np.column_stack([_f(col) for col in case["x_fit"]])
    dev = GlmerDevfun(x, n, X)
    first = bobyqa_1d(dev.stage1, THETA_START, 0.0, math.inf)
    dev.stage1(first.x)
    assert first.x == float(case["stage1_theta"])
    assert np.array_equal(dev.delb, _f(case["stage1_beta"]))
    assert np.array_equal(fit_as_glmer(x, n, X, case["nagq"]).params, _f(case["final_par"]))


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["mods"] is not None and c["intercept"] and "x_fit" in c],
    ids=_id,
)
def test_scale_as_metafor_is_r_scale(case: dict[str, Any]) -> None:
    """Metafor's X.fit (R's scale() of the non-dummy columns) to the last bit."""
    X = np.column_stack([np.ones(len(case["x"]))] + [_f(m) for m in case["mods"]])
    want = np.column_stack([_f(col) for col in case["x_fit"]])
    assert np.array_equal(scale_as_metafor(X), want)


@pytest.mark.parametrize("case", SCALED_DIFFERENTLY, ids=_id)
def test_scaled_path_with_r_rounding(case: dict[str, Any]) -> None:
    """With R's rounding of the scaled moderators these cases follow glmer's path exactly."""
    x, n, mods = _inputs(case)
    X = np.column_stack([np.ones(len(x)), mods])
    opt = fit_as_glmer(_f(x), _f(n), scale_as_metafor(X), case["nagq"])
    assert np.array_equal(opt.params, _f(case["final_par"]))


@pytest.mark.parametrize("case", [c for c in FITTED if c["name"] == "hunt_hessian_not_pd"], ids=_id)
def test_unsc_fallback(case: dict[str, Any]) -> None:
    """lme4's vcov: the Hessian's, or pp$unsc() where that is not positive definite (nAGQ 7)."""
    x, n, mods = _inputs(case)
    X = np.column_stack([np.ones(len(x)), mods])
    opt = fit_as_glmer(_f(x), _f(n), scale_as_metafor(X), case["nagq"])
    inv = np.linalg.inv(opt.hessian)[1:, 1:]
    v_hess = inv + inv.T
    hess_pd = float(np.linalg.eigvalsh(v_hess).min()) > 0
    assert hess_pd == (case["nagq"] == 1)  # R warned of the fallback at nAGQ 7 only
    assert opt.unsc is not None
    col = np.asarray(mods, dtype=float)[:, 0]
    sd = col.std(ddof=1)
    M = np.array([[1.0, -col.mean() / sd], [0.0, 1.0 / sd]])  # metafor's back-scaling
    vb = M @ (v_hess if hess_pd else opt.unsc) @ M.T
    assert_close("se", np.sqrt(np.diag(vb)), _f(case["se"]), TIGHT, TIGHT)


@pytest.mark.parametrize("case", [c for c in FAILED if _all_zero_or_n(c)], ids=_id)
def test_all_zero_or_all_events_refused_as_in_metafor(case: dict[str, Any]) -> None:
    """Metafor stops (lme4: 'Response is constant'); we refuse the data, naming xi."""
    assert case["message"].startswith("Cannot fit ML model")
    assert case["stage1_error"] == "Response is constant"
    with pytest.raises(InputError) as err:
        _fit(case)
    assert err.value.field == "xi"


@pytest.mark.parametrize("case", [c for c in FAILED if c["name"] in NOT_FULL_RANK], ids=_id)
def test_not_full_rank_refused_as_in_metafor(case: dict[str, Any]) -> None:
    """Metafor: "Model matrix not of full rank"; we refuse the moderators, naming mods."""
    assert "full rank" in case["message"]
    with pytest.raises(InputError, match="not of full rank") as err:
        _fit(case)
    assert err.value.field == "mods"


@pytest.mark.parametrize(
    "case",
    [c for c in FAILED if not _all_zero_or_n(c) and c["name"] not in NOT_FULL_RANK],
    ids=_id,
)
def test_metafor_errors_warn_and_converge(case: dict[str, Any]) -> None:
    """Where metafor stops on other data, we warn and report the converged maximum."""
    with pytest.warns(UserWarning, match="metafor cannot fit these data") as rec:
        fit = _fit(case)
    assert fit.optimizer == "converged"
    assert fit.converged
    if case.get("stage1_error") == "Response is constant":
        assert any("Response is constant" in str(w.message) for w in rec)
