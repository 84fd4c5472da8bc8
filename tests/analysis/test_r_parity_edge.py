"""Pointwise intervals at the edges, against ``data/survival-3.5-3-edge.json`` (issue 12).

Written by ``data/survival-edge-refs.R`` (R 4.2.2, survival 3.5-3) on datasets shipped with
survival, for ``conf.type`` "log-log", "log" and "plain":

- ``rats``: censorings at 23 and 32 before the first event (34), so S(t) = 1 after time 0: R's
  log-log interval is NA there, and so is ours (NaN, None in JSON);
- ``aml`` (Nonmaintained arm): S = 0 after the last death; R's std.err and bounds are NA;
- ``mgus2``: Aalen-Johansen of progression (pcm) vs death; p(pcm) = 0 at month 1: the plain
  interval is [0, 0] (R), NA with log and log-log;
- ``rats`` as a one-event-type Aalen-Johansen fit: the event-free state is 1 after time 0.

Every curve value is compared (R's ``fit$time``, ``n.risk``, ``surv``/``pstate``,
``std.err``, ``lower``, ``upper``) and ``summary(fit, times=, extend=TRUE)``. Tolerances as
``test_r_parity.py``: times, counts and medians exact; closed-form estimates 1e-12 relative
(no absolute slack: an R 0 must be an exact 0 here). An R NA must be a NaN here, and only there.

One deliberate difference, asserted below: before the first observed time R's ``survfit0`` gives
every state of a multi-state fit the bounds [0, 0], also the event-free state whose probability
is 1; livermet reports [1, 1] for that state (the interval of a probability known to be 1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from livermet.analysis import CumulativeIncidence, KaplanMeier

DATA = Path(__file__).parent / "data"
REF: dict[str, Any] = json.loads((DATA / "survival-3.5-3-edge.json").read_text())
CASES: list[dict[str, Any]] = REF["cases"]
REL = 1e-12


def _of(kind: str) -> list[dict[str, Any]]:
    return [c for c in CASES if c["kind"] == kind]


def _id(c: dict[str, Any]) -> str:
    return f"{c['data']}-{c['conf_type']}"


def _same(actual: Any, expected: Any, rel: float = REL) -> None:
    """Equal within ``rel`` where R has a number; NaN (or inf) exactly where R has NA."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray([np.nan if x is None else x for x in np.ravel(expected)], dtype=float)
    e = e.reshape(a.shape)
    missing = np.isnan(e)
    assert np.array_equal(~np.isfinite(a), missing), (a, e)
    np.testing.assert_allclose(a[~missing], e[~missing], rtol=rel, atol=0)


def test_reference_versions() -> None:
    assert REF["survival"] == "3.5.3"
    assert REF["R"].startswith("R version 4.2.2")


@pytest.mark.parametrize("case", _of("km"), ids=_id)
def test_kaplan_meier(case: dict[str, Any]) -> None:
    data = REF["data"][case["data"]]
    km = KaplanMeier(conf_type=case["conf_type"]).fit(data["time"], data["status"])
    curve = case["curve"]
    assert km.time_.tolist() == curve["time"]
    assert km.n_risk_.tolist() == curve["n_risk"]
    assert km.n_event_.tolist() == curve["n_event"]
    _same(km.survival_, curve["surv"])
    _same(km.se_log_, curve["std_err"])
    _same(km.lower_, curve["lower"])
    _same(km.upper_, curve["upper"])
    at = km.at(case["at"]["time"])
    assert at["time"].tolist() == case["at"]["time"]
    assert at["n_risk"].tolist() == case["at"]["n_risk"]
    for ours, theirs in (("survival", "surv"), ("std_err", "std_err"), ("lower", "lower")):
        _same(at[ours], case["at"][theirs])
    _same(at["upper"], case["at"]["upper"])
    assert km.median_.to_dict() == case["median"]


def test_log_log_is_missing_where_survival_is_one_after_time_zero() -> None:
    (case,) = [c for c in _of("km") if c["data"] == "rats" and c["conf_type"] == "log-log"]
    data = REF["data"]["rats"]
    km = KaplanMeier().fit(data["time"], data["status"])
    at = km.at([0, 10, 23, 32, 34])
    assert at["survival"].tolist()[:4] == [1.0, 1.0, 1.0, 1.0]
    assert at["lower"].tolist()[:2] == [1.0, 1.0]  # before the first observed time, as R
    assert np.isnan(at.loc[2:3, ["lower", "upper"]].to_numpy()).all()  # 23, 32: R's NA
    assert case["at"]["lower"][2:5] == [None, None, None]
    assert 0.97 < at["lower"].iloc[4] < at["survival"].iloc[4] < at["upper"].iloc[4] < 1


def _aj(case: dict[str, Any]) -> CumulativeIncidence:
    data = REF["data"][f"{case['data']}_aj"]
    levels = data["levels"]
    codes = [levels.index(e) for e in data["event"]]  # first level: censored (0)
    return CumulativeIncidence(conf_type=case["conf_type"]).fit(data["time"], codes, levels[1:])


@pytest.mark.parametrize("case", _of("aj"), ids=_id)
def test_aalen_johansen(case: dict[str, Any]) -> None:
    fit = _aj(case)
    assert len(case["states"]) == len(fit.states_)  # (s0) = event-free, then the types in order
    curve = case["curve"]
    assert fit.time_.tolist() == curve["time"]
    assert fit.n_risk_.tolist() == curve["n_risk"]
    _same(fit.pstate_, curve["pstate"])
    _same(fit.std_err_, curve["std_err"])
    _same(fit.lower_, curve["lower"])
    _same(fit.upper_, curve["upper"])
    at = fit.at(case["at"]["time"])
    n_states = len(fit.states_)

    def wide(column: str) -> Any:
        return at[column].to_numpy().reshape(-1, n_states)

    _same(wide("probability"), case["at"]["pstate"])
    _same(wide("std_err"), case["at"]["std_err"])
    after = np.asarray(case["at"]["time"]) >= fit.time_[0]
    _same(wide("lower")[after], np.asarray(case["at"]["lower"], dtype=object)[after])
    _same(wide("upper")[after], np.asarray(case["at"]["upper"], dtype=object)[after])
    # before the first observed time: R [0, 0] for every state, livermet [1, 1] for event-free
    before = ~after
    assert before.any()
    assert np.all(np.asarray(case["at"]["lower"], dtype=float)[before] == 0)
    assert np.all(np.asarray(case["at"]["upper"], dtype=float)[before] == 0)
    assert np.all(wide("lower")[before] == [1.0] + [0.0] * (n_states - 1))
    assert np.all(wide("upper")[before] == [1.0] + [0.0] * (n_states - 1))


def test_plain_interval_of_a_zero_probability_is_zero_zero() -> None:
    (case,) = [c for c in _of("aj") if c["data"] == "mgus2" and c["conf_type"] == "plain"]
    fit = _aj(case)
    row = fit.at([1.0]).set_index("state").loc["pcm"]
    assert (row["probability"], row["std_err"], row["lower"], row["upper"]) == (0, 0, 0, 0)
    assert case["at"]["lower"][2][1] == 0 and case["at"]["upper"][2][1] == 0
