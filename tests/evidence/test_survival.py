"""Tests of the survival synthesis from summary points.

Independent references:
- consistency flags worked out by hand from the case report's Table 1;
- per-time-point pooling at 60 months against metafor 3.8-1 (``escalc("PLO")`` with
  events = S·n, ``rma(method="REML", test="z")``, iterated to 1e-12:
  ``data/metafor-3.8-1-table1-os5-tight.json``, produced by shared/refs/metafor-refs.R);
- the Weibull model against exact Weibull-consistent summary points (closed form), against
  summary points simulated from a known Weibull, and against metafor ``rma.mv`` fits of the
  same model on Table 1 (evidence-research.md §7, printed to 3-4 digits);
- median of medians against hand computation and the metamedian / Hmisc numbers of
  evidence-research.md §7.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from livermet.errors import InputError
from livermet.evidence.dataset import load_literature, subset
from livermet.evidence.survival import (
    LOG_LOG_2,
    check_consistency,
    median_of_medians,
    pool_time_points,
    weibull_synthesis,
)

REF = Path(__file__).parent / "data" / "metafor-3.8-1-table1-os5-tight.json"


def _series(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Return a series table from dicts (missing survival columns as NaN)."""
    df = pd.DataFrame(rows)
    for column in ("mst_months", "os1", "os3", "os5"):
        if column not in df:
            df[column] = np.nan
    return df


# ------------------------------------------------------------------------------------------
# consistency check
# ------------------------------------------------------------------------------------------


def test_table1_flags_exactly_three_series() -> None:
    # By hand: Foster MST 11 < 12 months yet S(12) = 58 % > 50 %; Groeschl MST 72 > 60 months
    # yet S(60) = 32 % < 50 %; Grimme MST 77 > 60 yet S(60) = 42 %. Every other median lies
    # between its last point >= 50 % and first point <= 50 % (DeMatteo: S(36) = 50 % exactly,
    # MST 39 — boundary, not flagged); unknown19 has no median.
    flags = check_consistency(load_literature())
    flagged = flags[flags["flagged"]]
    assert dict(zip(flagged["id"], flagged["reason"], strict=True)) == {
        "foster1978": "median 11 months but 58 % alive at 12 months",
        "groeschl2012": "median 72 months but only 32 % alive at 60 months",
        "grimme2019": "median 77 months but only 42 % alive at 60 months",
    }
    assert len(flags) == 10
    notes = flags.set_index("id")["note"]
    assert notes["dematteo2001"].startswith("50 % alive at 36 months with median 39 months")
    assert (notes.drop("dematteo2001") == "").all()


def test_consistency_rules_on_edge_cases() -> None:
    df = _series(
        [
            {"id": "eq", "mst_months": 36, "os3": 40},  # t == median: no check
            {"id": "half", "mst_months": 20, "os3": 50},  # S == 0.5 after median: boundary
            {"id": "two", "mst_months": 30, "os1": 40, "os5": 60},  # both directions
            {"id": "nomed", "os1": 10},
        ]
    )
    flags = check_consistency(df).set_index("id")
    assert not flags.loc["eq", "flagged"] and not flags.loc["nomed", "flagged"]
    assert not flags.loc["half", "flagged"] and flags.loc["half", "note"]
    assert flags.loc["two", "reason"] == (
        "median 30 months but only 40 % alive at 12 months; "
        "median 30 months but 60 % alive at 60 months"
    )


# ------------------------------------------------------------------------------------------
# per-time-point pooling
# ------------------------------------------------------------------------------------------


def _reference(measure: str = "PLO", method: str = "REML", test: str = "z") -> dict[str, Any]:
    cases = json.loads(REF.read_text(encoding="utf-8"))
    matches = [
        c for c in cases if c["measure"] == measure and c["method"] == method and c["test"] == test
    ]
    assert len(matches) == 1
    return dict(matches[0])


def _require_core() -> None:
    try:
        from livermet.evidence import rma  # noqa: F401
    except ImportError:  # pragma: no cover - only while the core is being written
        pytest.skip("livermet.evidence.rma not available yet")


@pytest.mark.parametrize(
    ("measure", "test"),
    [("PLO", "z"), ("PLO", "knha"), ("PFT", "z"), ("PAS", "z"), ("PLN", "z"), ("PR", "z")],
)
def test_pooled_five_year_survival_matches_metafor(measure: str, test: str) -> None:
    _require_core()
    ref = _reference(measure, "REML", test)
    table = pool_time_points(load_literature(), times=(60,), measure=measure, test=test)
    row = table.set_index("time_months").loc[60.0]
    assert row["k"] == ref["k"] == 10
    back = ref.get("back") or {
        "pred": ref["beta"],
        "ci_lb": ref["ci_lb"],
        "ci_ub": ref["ci_ub"],
        "pi_lb": ref["pi_lb"],
        "pi_ub": ref["pi_ub"],
    }
    for ours, theirs in (
        ("estimate", "pred"),
        ("ci_lb", "ci_lb"),
        ("ci_ub", "ci_ub"),
        ("pi_lb", "pi_lb"),
        ("pi_ub", "pi_ub"),
    ):
        assert row[ours] == pytest.approx(back[theirs], rel=1e-7)
    assert row["tau2"] == pytest.approx(ref["tau2"], rel=1e-7)
    assert row["i2"] == pytest.approx(ref["I2"], rel=1e-7)


def test_pooling_counts_and_ordering_per_time_point() -> None:
    _require_core()
    table = pool_time_points(load_literature())
    assert list(table["time_months"]) == [12.0, 36.0, 60.0]
    assert list(table["k"]) == [5, 7, 10]
    assert table.loc[0, "ids"] == "foster1978,dematteo2001,marudanayagam2011,grimme2019,unknown20"
    for _, row in table.iterrows():
        assert row["pi_lb"] <= row["ci_lb"] < row["estimate"] < row["ci_ub"] <= row["pi_ub"]


def test_rounded_events_match_published_metafor_numbers() -> None:
    # evidence-research.md §7, metafor 3.8-1 with default control, x = round(n·S), REML, PLO:
    # 1 year 0.874836 [0.717486, 0.950584] (tau2 0.910, I2 70.4 %); 3 years 0.569337
    # [0.497918, 0.637984]; 5 years 0.389588 [0.323051, 0.460506], PI [0.253873, 0.544871],
    # tau2 0.080992289, I2 39.821199 %.
    _require_core()
    table = pool_time_points(load_literature(), round_events=True, control="metafor")
    one, three, five = (table.iloc[i] for i in range(3))
    assert [one["estimate"], one["ci_lb"], one["ci_ub"]] == pytest.approx(
        [0.874836, 0.717486, 0.950584], abs=1e-6
    )
    assert (round(one["tau2"], 3), round(one["i2"], 1)) == (0.910, 70.4)
    assert [three["estimate"], three["ci_lb"], three["ci_ub"]] == pytest.approx(
        [0.569337, 0.497918, 0.637984], abs=1e-6
    )
    assert [five[c] for c in ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub")] == pytest.approx(
        [0.389588, 0.323051, 0.460506, 0.253873, 0.544871], abs=1e-6
    )
    assert five["tau2"] == pytest.approx(0.080992289, abs=1e-9)
    assert five["i2"] == pytest.approx(39.821199, abs=1e-6)


def test_single_series_time_point_is_not_pooled() -> None:
    df = _series([{"id": "a", "n_table": 20, "os1": 80}, {"id": "b", "n_table": 20, "os5": 30}])
    row = pool_time_points(df, times=(12,)).iloc[0]
    assert row["k"] == 1 and math.isnan(row["estimate"])
    with pytest.raises(InputError):
        pool_time_points(df, times=(24,))


# ------------------------------------------------------------------------------------------
# Weibull synthesis
# ------------------------------------------------------------------------------------------


def _weibull_s(t: float, scale: float, shape: float) -> float:
    return math.exp(-((t / scale) ** shape))


def test_weibull_recovers_exact_consistent_points() -> None:
    # One Weibull (median 40 months, shape 1.3) reported by series of different sizes with
    # different subsets of the time points: every point lies exactly on the curve, so the fit
    # must return it exactly with tau2 = 0.
    shape, median = 1.3, 40.0
    scale = median / math.log(2.0) ** (1.0 / shape)
    rows = []
    for i, (n, cols) in enumerate(
        [(20, "135"), (45, "35"), (80, "5"), (33, "13"), (60, "1"), (25, "135")]
    ):
        row: dict[str, Any] = {"id": f"s{i}", "n_table": n}
        for c in cols:
            row[f"os{c}"] = 100.0 * _weibull_s(12.0 * int(c), scale, shape)
        if i % 2 == 0:
            row["mst_months"] = median
        rows.append(row)
    fit = weibull_synthesis(_series(rows))
    assert fit.shape == pytest.approx(shape, rel=1e-9)
    assert fit.intercept == pytest.approx(-shape * math.log(scale), rel=1e-9)
    assert fit.median == pytest.approx(median, rel=1e-9)
    assert fit.scale == pytest.approx(scale, rel=1e-9)
    assert fit.tau2 == pytest.approx(0.0, abs=1e-10)
    assert fit.qe == pytest.approx(0.0, abs=1e-12)
    assert fit.excluded == []
    t = np.array([6.0, 24.0, 100.0])
    s, lower, upper = fit.curve(t)
    np.testing.assert_allclose(s, [_weibull_s(x, scale, shape) for x in t], rtol=1e-9)
    assert np.all(lower < s) and np.all(s < upper)


def test_weibull_recovers_shape_and_median_from_simulated_series() -> None:
    # 40 series of 150-300 patients from Weibull(shape 1.3) with a series-level random scale
    # (cloglog intercept sd 0.2) around a typical median of 40 months; no censoring, so the
    # empirical S(t) and median are the summary points a paper would report.
    rng = np.random.default_rng(7)
    shape, median, sd = 1.3, 40.0, 0.2
    alpha = LOG_LOG_2 - shape * math.log(median)
    rows = []
    for i in range(40):
        n = int(rng.integers(150, 301))
        a_i = alpha + rng.normal(0.0, sd)
        scale_i = math.exp(-a_i / shape)
        times = scale_i * rng.exponential(1.0, n) ** (1.0 / shape)
        rows.append(
            {
                "id": f"sim{i}",
                "n_table": n,
                "mst_months": float(np.median(times)),
                **{c: 100.0 * float(np.mean(times > t)) for c, t in (("os1", 12), ("os3", 36))},
                "os5": 100.0 * float(np.mean(times > 60)),
            }
        )
    fit = weibull_synthesis(_series(rows))
    assert fit.shape == pytest.approx(shape, abs=0.08)
    assert fit.median == pytest.approx(median, rel=0.06)
    assert fit.median_ci[0] < median < fit.median_ci[1]
    assert fit.shape_ci[0] < shape < fit.shape_ci[1]
    assert fit.tau2 == pytest.approx(sd**2, abs=0.03)
    assert not [e for e in fit.excluded if e[1].startswith("median")]


def test_weibull_table1_excludes_the_three_inconsistent_medians() -> None:
    fit = weibull_synthesis(load_literature())
    assert fit.excluded == [
        ("foster1978", "median left out: median 11 months but 58 % alive at 12 months"),
        ("groeschl2012", "median left out: median 72 months but only 32 % alive at 60 months"),
        ("grimme2019", "median left out: median 77 months but only 42 % alive at 60 months"),
    ]
    assert fit.k == 10
    assert (fit.points["kind"] == "survival").sum() == 5 + 7 + 10
    assert set(fit.points.loc[fit.points["kind"] == "median", "id"]) == {
        "lang2000",
        "dematteo2001",
        "rehders2009",
        "marudanayagam2011",
        "brudvik2015",
        "unknown20",
    }
    assert fit.qe_df == 28 - 2
    assert 0 < fit.median_ci[0] < fit.median < fit.median_ci[1]


def test_weibull_matches_metafor_rma_mv_on_table1() -> None:
    # evidence-research.md §7: rma.mv(y, V, mods = ~ log(t), random = ~ 1 | study), V from the
    # multinomial covariance of the S points. S points only: shape 1.1405 (se 0.1076), S(12)
    # 0.851, S(36) 0.569, S(60) 0.364, median 43.1 months. Adding the 9 medians as independent
    # points: shape 0.968, S 0.811 / 0.545 / 0.370, median 41.3, Q_E 67.2 on 29 df.
    df = load_literature()
    s_only = weibull_synthesis(df, medians="none", within="multinomial")
    assert s_only.shape == pytest.approx(1.1405, abs=5e-5)
    assert s_only.shape_se == pytest.approx(0.1076, abs=5e-5)
    assert s_only.curve([12, 36, 60])[0] == pytest.approx([0.851, 0.569, 0.364], abs=5e-4)
    assert s_only.median == pytest.approx(43.1, abs=0.05)
    all_med = weibull_synthesis(df, medians="all", within="multinomial")
    assert all_med.shape == pytest.approx(0.968, abs=5e-4)
    # 3-digit printed values; we get S(60) = 0.369486, the note's 0.370 is presumably 0.3695
    # rounded twice, hence the tolerance of one unit in the third digit.
    assert all_med.curve([12, 36, 60])[0] == pytest.approx([0.811, 0.545, 0.370], abs=1e-3)
    assert all_med.median == pytest.approx(41.3, abs=0.05)
    assert all_med.qe == pytest.approx(67.2, abs=0.05)
    assert all_med.qe_df == 29
    assert all_med.excluded == []


def test_reml_optimum_against_brute_force_likelihood() -> None:
    # The restricted likelihood of y ~ N(X b, V + tau2 ZZ'), written out directly, is
    # maximised at the fitted tau2 (fine grid), and b is the GLS estimate there.
    fit = weibull_synthesis(load_literature())
    pts = fit.points
    y = pts["y"].to_numpy()
    x = np.column_stack([np.ones(len(y)), np.log(pts["time_months"].to_numpy())])
    v = np.diag(pts["v"].to_numpy())
    z = pd.get_dummies(pts["id"]).to_numpy(dtype=float)

    def restricted_loglik(tau2: float) -> float:
        sigma = v + tau2 * z @ z.T
        inv = np.linalg.inv(sigma)
        info = x.T @ inv @ x
        b = np.linalg.solve(info, x.T @ inv @ y)
        r = y - x @ b
        return float(
            -0.5 * (np.linalg.slogdet(sigma)[1] + np.linalg.slogdet(info)[1] + r @ inv @ r)
        )

    grid = np.linspace(max(fit.tau2 - 0.02, 0), fit.tau2 + 0.02, 401)
    best = grid[np.argmax([restricted_loglik(g) for g in grid])]
    assert fit.tau2 == pytest.approx(best, abs=1e-4)
    assert restricted_loglik(fit.tau2) >= max(restricted_loglik(g) for g in grid) - 1e-12
    sigma = v + fit.tau2 * z @ z.T
    inv = np.linalg.inv(sigma)
    info = x.T @ inv @ x
    np.testing.assert_allclose(np.linalg.inv(info), fit.cov, rtol=1e-8)
    np.testing.assert_allclose(
        np.linalg.solve(info, x.T @ inv @ y), [fit.intercept, fit.shape], rtol=1e-8
    )


def test_fieller_median_interval_is_where_the_band_crosses_half() -> None:
    fit = weibull_synthesis(load_literature())
    lo, hi = fit.median_ci
    assert fit.curve([lo])[1][0] == pytest.approx(0.5, abs=1e-10)  # lower band edge
    assert fit.curve([hi])[2][0] == pytest.approx(0.5, abs=1e-10)  # upper band edge
    s, lower, upper = fit.curve([fit.median])
    assert s[0] == pytest.approx(0.5, rel=1e-12)
    _, p_lower, p_upper = fit.curve([fit.median], prediction=True)
    assert p_lower[0] < lower[0] and p_upper[0] > upper[0]


def test_curve_at_time_zero_and_single_series() -> None:
    fit = weibull_synthesis(load_literature())
    s, lower, upper = fit.curve(np.array([0.0, 12.0]))
    assert (s[0], lower[0], upper[0]) == (1.0, 1.0, 1.0)
    assert 0 < lower[1] < s[1] < upper[1] < 1
    with pytest.raises(InputError):
        fit.curve([-1.0])
    one = weibull_synthesis(_series([{"id": "a", "n_table": 40, "os1": 80, "os3": 50, "os5": 30}]))
    assert one.tau2 == 0.0 and one.k == 1
    assert one.curve([36.0])[0][0] == pytest.approx(0.5, abs=0.05)


def test_weibull_input_errors_and_unusable_points() -> None:
    with pytest.raises(InputError):
        weibull_synthesis(_series([{"id": "a", "n_table": 20, "os1": 80, "os3": 50}]))
    df = _series(
        [
            {"id": "a", "n_table": 20, "os1": 100, "os3": 60, "os5": 40},
            {"id": "b", "n_table": 30, "os1": 80, "os3": 45, "os5": 30},
            {"id": "c", "n_table": 30, "mst_months": 30, "os5": 0},
        ]
    )
    fit = weibull_synthesis(df)
    reasons = dict(fit.excluded)
    assert set(reasons) == {"a", "c"}
    assert "S(12) = 100 %" in reasons["a"] and "S(60) = 0 %" in reasons["c"]
    with pytest.raises(InputError):
        weibull_synthesis(df, medians="some")  # type: ignore[arg-type]


def test_weibull_uses_n_column_from_subset() -> None:
    df = load_literature()
    by_source = weibull_synthesis(subset(df, n_column="n_source"))
    by_table = weibull_synthesis(df)
    dematteo = by_source.points[by_source.points["id"] == "dematteo2001"]
    assert (dematteo["n"] == 56).all()
    assert by_source.shape != pytest.approx(by_table.shape, rel=1e-6)


# ------------------------------------------------------------------------------------------
# median of medians
# ------------------------------------------------------------------------------------------

TABLE1_MEDIANS = [11, 24, 32, 39, 42.1, 44, 61.6, 72, 77]  # sorted; unknown19 has none


def test_unweighted_exact_interval_by_hand() -> None:
    # K = 9: P(Bin(9, 1/2) <= 1) = 10/512 <= 0.025 < P(<= 2) = 46/512, so j = 2 and the
    # interval is [x_(2), x_(8)] = [24, 72] with coverage 1 - 20/512.
    res = median_of_medians(load_literature())
    assert res.estimate == 42.1
    assert (res.ci_lb, res.ci_ub) == (24.0, 72.0)
    assert res.coverage == pytest.approx(1 - 20 / 512, abs=1e-15)
    assert res.k == 9 and "unknown19" not in res.ids


def test_unweighted_normal_interval_by_hand() -> None:
    # metamedian norm.approx: quantiles (type 7) at 1/2 -+ z/(2 sqrt 9).
    res = median_of_medians(load_literature(), interval="normal")
    half = stats.norm.ppf(0.975) / 6.0
    x = TABLE1_MEDIANS

    def type7(p: float) -> float:
        h = 8 * p
        lo = math.floor(h)
        return x[lo] + (h - lo) * (x[lo + 1] - x[lo])

    assert res.ci_lb == pytest.approx(type7(0.5 - half), rel=1e-12)
    assert res.ci_ub == pytest.approx(type7(0.5 + half), rel=1e-12)
    assert (round(res.ci_lb, 2), round(res.ci_ub, 2)) == (27.09, 67.98)  # research note §7


def test_weighted_median_by_hand() -> None:
    # Sorted medians with n: 11(12) 24(31) 32(15) 39(42) 42.1(47) 44(27) 61.6(62) 72(98) 77(21),
    # cumulative 12 43 58 100 147 174 236 334 355. Median position 1 + 354/2 = 178 -> 61.6.
    # Interval at 1/2 -+ 0.32666: positions 62.36 and 293.6 -> 39 and 72 (Hmisc, §7).
    res = median_of_medians(load_literature(), weighted=True)
    assert res.estimate == 61.6
    assert (res.ci_lb, res.ci_ub) == (39.0, 72.0)
    assert res.interval == "normal" and res.coverage is None


def test_weighted_quantile_interpolates_between_blocks() -> None:
    # medians 10 (n 1), 20 (n 2): expanded 10, 20, 20; N = 3, median position 2 -> 20;
    # with equal n (1, 1): position 1.5 -> 15 (ordinary median of two values).
    df = _series(
        [{"id": "a", "n_table": 1, "mst_months": 10}, {"id": "b", "n_table": 2, "mst_months": 20}]
    )
    assert median_of_medians(df, weighted=True).estimate == 20.0
    df["n_table"] = [1, 1]
    assert median_of_medians(df, weighted=True).estimate == 15.0
    assert median_of_medians(df, interval="normal").estimate == 15.0


def test_small_k_exact_interval_is_the_range_with_its_coverage() -> None:
    df = _series([{"id": str(i), "n_table": 10, "mst_months": m} for i, m in enumerate([5, 9, 7])])
    res = median_of_medians(df)
    assert (res.estimate, res.ci_lb, res.ci_ub) == (7.0, 5.0, 9.0)
    assert res.coverage == pytest.approx(1 - 2 / 8)


def test_exclude_inconsistent_and_bootstrap() -> None:
    df = load_literature()
    res = median_of_medians(df, exclude_inconsistent=True)
    # 24 32 39 42.1 44 61.6: median (39 + 42.1)/2; K = 6 -> j = 1, coverage 1 - 2/64
    assert res.estimate == pytest.approx(40.55)
    assert (res.ci_lb, res.ci_ub) == (24.0, 61.6)
    assert res.coverage == pytest.approx(1 - 2 / 64)
    boot1 = median_of_medians(df, weighted=True, interval="bootstrap", n_boot=300, seed=3)
    boot2 = median_of_medians(df, weighted=True, interval="bootstrap", n_boot=300, seed=3)
    assert boot1 == boot2
    assert min(TABLE1_MEDIANS) <= boot1.ci_lb <= boot1.estimate <= boot1.ci_ub
    with pytest.raises(InputError):
        median_of_medians(df, weighted=True, interval="exact")
    with pytest.raises(InputError):
        median_of_medians(df.assign(mst_months=np.nan))
