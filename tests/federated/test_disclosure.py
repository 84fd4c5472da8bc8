"""Disclosure control of the file exchange: coarsening, the minimum cell rule, release reports."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.federated import SurvivalRequest, respond
from livermet.federated.disclosure import (
    MIN_CELL_DEFAULT,
    Refusal,
    check_cells,
    coarsen_months,
    release_lines,
)
from livermet.federated.exchange import Analysis, Disclosure
from livermet.federated.offline import combine, new_request, site_answer

times = st.floats(min_value=0, max_value=600, allow_nan=False, allow_infinity=False)


@given(st.lists(times, min_size=1, max_size=50))
def test_coarsened_time_is_the_month_it_falls_in(values: list[float]) -> None:
    frame = pd.DataFrame({"t": values, "other": range(len(values))})
    out = coarsen_months(frame, "t")
    for t, c in zip(values, out["t"], strict=True):
        assert float(c).is_integer()
        assert c - 1 < round(t, 9) <= c or (t == 0 and c == 0)
    assert out["other"].tolist() == frame["other"].tolist()
    assert frame["t"].tolist() == values  # the site's table itself is left alone


def test_coarsening_keeps_whole_months_and_missing_times() -> None:
    frame = pd.DataFrame({"t": [0.0, 12.0, 12.000000000001, 12.01, None, 0.2]})
    assert coarsen_months(frame, "t")["t"].tolist()[:4] == [0.0, 12.0, 12.0, 13.0]
    assert math.isnan(coarsen_months(frame, "t")["t"][4])
    text = pd.DataFrame({"t": ["a", "1"]})
    assert coarsen_months(text, "t") is text  # left for the analysis to refuse, naming the row


def test_cells_below_the_minimum_are_refused_saying_why() -> None:
    check_cells({"patients": 5, "events": 0}, MIN_CELL_DEFAULT)
    check_cells({"patients": 1}, 0)
    with pytest.raises(Refusal) as info:
        check_cells({"patients": 12, "events with approach = open": 3}, 5)
    assert info.value.field == "min_cell"
    assert "3 events with approach = open in total over all sites" in info.value.message
    assert "could identify" in info.value.message


@given(st.integers(min_value=1, max_value=4), st.integers(min_value=0, max_value=10_000))
def test_minimum_applies_to_totals_not_sites(k: int, seed: int) -> None:
    """Sites of one or two patients take part when the totals reach the minimum."""
    rng = np.random.default_rng(seed)
    sites = [
        pd.DataFrame({"os_months": rng.uniform(0, 60, n).round(2), "death": rng.integers(0, 2, n)})
        for n in rng.integers(1, 3, k)
    ]
    request = new_request(Analysis(kind="km", time="os_months", event="death"), Disclosure())
    files = [(f"s{i}.json", site_answer(s, request, f"s{i}")) for i, s in enumerate(sites)]
    n = sum(len(s) for s in sites)
    events = int(sum(s["death"].sum() for s in sites))
    if 0 < n < 5 or 0 < events < 5:
        with pytest.raises(Refusal):
            combine(files)  # type: ignore[arg-type]
    else:
        assert combine(files).report["overall"]["n"] == n  # type: ignore[arg-type, index]


def test_release_report_lists_every_number() -> None:
    frame = pd.DataFrame({"t": [1.5, 2.0, 2.0, 7.25], "e": [1, 0, 1, 1], "g": list("abab")})
    aggregate = respond(frame, SurvivalRequest(time="t", event="e", by="g"))
    lines, count = release_lines(aggregate)
    numbers = json.loads(aggregate.model_dump_json(exclude={"request_id", "version"}))
    expected = 1 + len(numbers["times"]) + 2 * 2 * len(numbers["times"])
    assert count == expected
    text = "\n".join(lines)
    for field in ("n —", "times —", "n_event —", "n_censor —", "groups —"):
        assert field in text
    assert "[1.5, 2.0, 7.25]" in text
    assert "Events, per group (outer) and time (inner)" in text


def test_stratified_requests_send_no_time() -> None:
    strat = Analysis(kind="cox", time="t", event="e", covariates=["x"], stratified=True)
    assert not strat.sends_times()
    assert not Analysis(kind="meta", time="t", event="e", covariates=["x"]).sends_times()
    assert Analysis(kind="cox", time="t", event="e", covariates=["x"]).sends_times()
    assert Analysis(kind="km", time="t", event="e").sends_times()
