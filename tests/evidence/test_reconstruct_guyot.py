"""Guyot's algorithm against survHE 2.0.5's ``digitise()`` on Guyot's own example, row for row.

The reference (tests/evidence/data/reconstruct/, copied from the shared references; README.md
there says how it was made) is R's output: the IPD (time, event, arm) and the KM table (time,
n.risk, n.event, n.censored). R writes numbers with 15 significant digits, so the times are
compared at that precision; every count is compared exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from livermet.evidence.reconstruct import (
    DigitisedCurve,
    RiskTableInput,
    bin_counts,
    clean_curve,
    read_curve,
    read_risk_table,
    reconstruct,
)

DATA = Path(__file__).parent / "data" / "reconstruct"


def _r_digits(x: np.ndarray) -> np.ndarray:
    """Numbers as R's write.table prints them (15 significant digits)."""
    return np.array([float(f"{v:.15g}") for v in x])


@pytest.fixture(scope="module")
def reference() -> dict[str, pd.DataFrame]:
    return {
        "ipd": pd.read_csv(DATA / "guyot-example-ipd-survHE-2.0.5.txt", sep="\t"),
        "km": pd.read_csv(DATA / "guyot-example-km-survHE-2.0.5.txt", sep="\t"),
    }


def _run(with_indexes: bool):  # type: ignore[no-untyped-def]
    curve = clean_curve(read_curve(DATA / "guyot-example-survival.txt"))
    risk = read_risk_table(DATA / "guyot-example-nrisk.txt")
    if not with_indexes:
        risk = RiskTableInput(risk.time, risk.n_risk, risk.lines, source=risk.source)
    return reconstruct(curve, risk)


def assert_same_as_survhe(result, reference: dict[str, pd.DataFrame]) -> None:  # type: ignore[no-untyped-def]
    ipd, km = reference["ipd"], reference["km"]
    assert result.ipd.shape[0] == ipd.shape[0] == 61
    np.testing.assert_array_equal(_r_digits(result.ipd["time"].to_numpy()), ipd["time"])
    np.testing.assert_array_equal(result.ipd["event"].to_numpy(), ipd["event"])
    table = result.km_table()
    np.testing.assert_array_equal(_r_digits(table["time"].to_numpy()), km["time"])
    for mine, theirs in (
        ("n_risk", "n.risk"),
        ("n_event", "n.event"),
        ("n_censored", "n.censored"),
    ):
        np.testing.assert_array_equal(table[mine].to_numpy(), km[theirs].to_numpy(), err_msg=mine)


@pytest.mark.parametrize("with_indexes", [True, False], ids=["guyot-indexes", "computed-indexes"])
def test_guyot_example_reproduces_survhe_row_for_row(
    with_indexes: bool, reference: dict[str, pd.DataFrame]
) -> None:
    assert_same_as_survhe(_run(with_indexes), reference)


def test_guyot_example_numbers_at_risk_as_r_survival_counts_them() -> None:
    # README: R survival on the IPD gives 55, 49, 32, 13 at 4, 8, 12, 16 (published 31 at 12:
    # one patient censored at 12.16, midway between the digitised 11.96 and 12.36).
    risk = _run(True).risk
    assert risk["reconstructed"].tolist() == [61, 55, 49, 32, 13]
    assert risk["published"].tolist() == [61, 55, 49, 31, 13]
    assert risk["algorithm"].tolist() == [61, 55, 49, 31, 13]
    assert not risk["lowered"].any()


def test_guyot_example_survival_at_risk_times_matches_r_survival() -> None:
    from livermet.analysis.km import KaplanMeier

    ipd = _run(True).ipd
    km = KaplanMeier().fit(ipd["time"], ipd["event"])
    # README: S = 0.933, 0.848, 0.750, 0.583 at 4, 8, 12, 16 (R survival, 3 decimals).
    assert np.round(km.survival_at([4, 8, 12, 16]), 3).tolist() == [0.933, 0.848, 0.75, 0.583]


def test_guyot_example_fits_the_digitised_points_closely() -> None:
    fit = _run(True).fit
    assert fit.n_points == 31
    assert 0 < fit.rmse < 0.01
    assert fit.max_abs_error < 0.02


def test_total_events_equal_to_the_free_reconstruction_changes_nothing(
    reference: dict[str, pd.DataFrame],
) -> None:
    curve = clean_curve(read_curve(DATA / "guyot-example-survival.txt"))
    risk = read_risk_table(DATA / "guyot-example-nrisk.txt")
    free = reconstruct(curve, risk)
    given = reconstruct(curve, risk, total_events=int(reference["ipd"]["event"].sum()))
    pd.testing.assert_frame_equal(free.ipd, given.ipd)


@pytest.mark.parametrize("total", [18, 21, 25, 28])
def test_total_events_are_met_when_the_last_interval_allows(total: int) -> None:
    curve = clean_curve(read_curve(DATA / "guyot-example-survival.txt"))
    risk = read_risk_table(DATA / "guyot-example-nrisk.txt")
    result = reconstruct(curve, risk, total_events=total)
    events = int(result.ipd["event"].sum())
    before_last = int(result.table.n_event[: result.table.upper[-2] + 1].sum())  # 17 here
    # Only the last interval is adjusted: the total is met unless the earlier intervals alone
    # exceed it, or the last interval cannot take more events than the curve's drop allows.
    if total <= before_last:
        assert events == before_last
        assert result.table.n_event[result.table.lower[-1] :].sum() == 0
    else:
        assert events == total or any("events reconstructed" in n for n in result.notes)
    assert result.ipd.shape[0] == 61
    assert result.risk["algorithm"].tolist()[:4] == [61, 55, 49, 31]


HIST = json.loads((DATA / "hist-counts-R-4.2.2.json").read_text())["cases"]


@pytest.mark.parametrize("case", HIST, ids=[str(i) for i in range(len(HIST))])
def test_bin_counts_match_r_hist(case: dict[str, list[float]]) -> None:
    # hist-refs.R: tied breaks, values on a break and within hist()'s fuzz of one.
    counts = bin_counts(np.array(case["x"], dtype=float), np.array(case["breaks"], dtype=float))
    assert counts.tolist() == case["counts"]


def test_a_single_interval_curve_is_reconstructed() -> None:
    curve = clean_curve(DigitisedCurve.from_arrays([0, 1, 2, 3], [1, 0.9, 0.8, 0.8]))
    result = reconstruct(curve, RiskTableInput(np.array([0.0]), np.array([20.0]), np.array([2])))
    assert result.ipd.shape[0] == 20
    assert int(result.ipd["event"].sum()) == 4  # 20 x 0.2
    assert result.ipd["time"].max() == 3
