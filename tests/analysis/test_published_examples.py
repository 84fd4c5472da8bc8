"""A second, independent reference: R survival's own regression test on the ``aml`` data.

``aml`` (Miller 1981, *Survival Analysis*; R dataset ``survival::aml``): acute myelogenous
leukaemia, remission duration in weeks, maintenance chemotherapy or not. The expected values
are printed in survival's ``tests/doaml.Rout.save`` (the session below, abridged):

    > fit <- coxph(Surv(aml$time, aml$status) ~ aml$x, method='breslow')
    aml$xNonmaintained 0.9042    2.4700   0.5122 1.765 0.0775
    Likelihood ratio test=3.3  on 1 df, p=0.06945
    > fit <- survfit(Surv(aml$time, aml$status) ~ aml$x)      # conf.type "log", R's default
    aml$x=Maintained    11      7     31      18      NA
    aml$x=Nonmaintained 12     11     23       8      NA
    > summary(fit)   (survival, std.err, lower 95% CI, upper 95% CI at each event time)
    > survdiff(Surv(aml$time, aml$status)~ aml$x)
    aml$x=Maintained    11        7    10.69      1.27       3.4
    aml$x=Nonmaintained 12       11     7.31      1.86       3.4
     Chisq= 3.4  on 1 degrees of freedom, p= 0.07
    > x1 <- coxph(Surv(time, status)~x, aml, method='efron')
    xNonmaintained 0.9155    2.4981   0.5119 1.788 0.0737
    Likelihood ratio test=3.38  on 1 df, p=0.06581

R printed these rounded, so each tolerance is half a unit of the last printed digit.
This checks what the registry reference does not: the ``"log"`` transform, Breslow ties,
a median interval that is never reached (NA), and a curve that drops to 0.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from livermet.analysis import CoxPH, kaplan_meier_by_group, logrank_test

MAINTAINED = [(9, 1), (13, 1), (13, 0), (18, 1), (23, 1), (28, 0), (31, 1), (34, 1), (45, 0)]
MAINTAINED += [(48, 1), (161, 0)]
NONMAINTAINED = [(5, 1), (5, 1), (8, 1), (8, 1), (12, 1), (16, 0), (23, 1), (27, 1), (30, 1)]
NONMAINTAINED += [(33, 1), (43, 1), (45, 1)]


@pytest.fixture(scope="module")
def aml() -> pd.DataFrame:
    rows = [(t, s, "Maintained") for t, s in MAINTAINED]
    rows += [(t, s, "Nonmaintained") for t, s in NONMAINTAINED]
    return pd.DataFrame(rows, columns=["time", "status", "x"])


# summary(fit): time, survival, std.err, lower, upper (conf.type = "log")
SUMMARY = {
    "Maintained": [
        (9, 0.909, 0.0867, 0.7541, 1.000),
        (13, 0.818, 0.1163, 0.6192, 1.000),
        (18, 0.716, 0.1397, 0.4884, 1.000),
        (23, 0.614, 0.1526, 0.3769, 0.999),
        (31, 0.491, 0.1642, 0.2549, 0.946),
        (34, 0.368, 0.1627, 0.1549, 0.875),
        (48, 0.184, 0.1535, 0.0359, 0.944),
    ],
    "Nonmaintained": [
        (5, 0.8333, 0.1076, 0.6470, 1.000),
        (8, 0.6667, 0.1361, 0.4468, 0.995),
        (12, 0.5833, 0.1423, 0.3616, 0.941),
        (23, 0.4861, 0.1481, 0.2675, 0.883),
        (27, 0.3889, 0.1470, 0.1854, 0.816),
        (30, 0.2917, 0.1387, 0.1148, 0.741),
        (33, 0.1944, 0.1219, 0.0569, 0.664),
        (43, 0.0972, 0.0919, 0.0153, 0.620),
    ],
}


def _half_unit(printed: float) -> float:
    """Half a unit of the last digit R printed (3 or 4 decimals here, as in the output)."""
    text = f"{printed}"
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0 ** (-max(decimals, 3))


@pytest.mark.parametrize("group", list(SUMMARY))
def test_km_log_intervals_match_r_summary(aml: pd.DataFrame, group: str) -> None:
    fits = kaplan_meier_by_group(aml, "time", "status", "x", conf_type="log")
    table = fits[group].at([row[0] for row in SUMMARY[group]])
    for (_, surv, se, lower, upper), (_, ours) in zip(
        SUMMARY[group], table.iterrows(), strict=True
    ):
        assert ours["survival"] == pytest.approx(surv, abs=_half_unit(surv) + 1e-12)
        assert ours["std_err"] == pytest.approx(se, abs=5e-5)
        assert ours["lower"] == pytest.approx(lower, abs=5e-5)
        assert ours["upper"] == pytest.approx(upper, abs=5e-4)


def test_curve_reaching_zero_has_no_interval(aml: pd.DataFrame) -> None:
    # R: "45 1 1 0.0000 NaN NA NA"
    km = kaplan_meier_by_group(aml, "time", "status", "x", conf_type="log")["Nonmaintained"]
    row = km.at([45]).iloc[0]
    assert row["survival"] == 0.0
    assert math.isnan(row["std_err"]) and math.isnan(row["lower"]) and math.isnan(row["upper"])


@pytest.mark.parametrize(
    ("group", "n", "events", "median", "lcl"),
    [("Maintained", 11, 7, 31, 18), ("Nonmaintained", 12, 11, 23, 8)],
)
def test_median_and_unreached_upper_limit(
    aml: pd.DataFrame, group: str, n: int, events: int, median: float, lcl: float
) -> None:
    km = kaplan_meier_by_group(aml, "time", "status", "x", conf_type="log")[group]
    assert (km.n_, km.events_) == (n, events)
    assert (km.median_.estimate, km.median_.lower, km.median_.upper) == (median, lcl, None)


def test_logrank_matches_survdiff(aml: pd.DataFrame) -> None:
    lr = logrank_test(aml, "time", "status", "x")
    assert lr.groups == ["Maintained", "Nonmaintained"]
    assert lr.observed == [7.0, 11.0]
    assert lr.expected == pytest.approx([10.69, 7.31], abs=0.005)
    assert lr.chisq == pytest.approx(3.4, abs=0.05)
    assert lr.df == 1
    assert lr.p == pytest.approx(0.07, abs=0.005)


@pytest.mark.parametrize(
    ("ties", "coef", "hr", "se", "z", "p", "lr", "lr_p"),
    [
        ("breslow", 0.9042, 2.4700, 0.5122, 1.765, 0.0775, 3.3, 0.06945),
        ("efron", 0.9155, 2.4981, 0.5119, 1.788, 0.0737, 3.38, 0.06581),
    ],
)
def test_cox_ties_match_coxph(
    aml: pd.DataFrame,
    ties: str,
    coef: float,
    hr: float,
    se: float,
    z: float,
    p: float,
    lr: float,
    lr_p: float,
) -> None:
    fit = CoxPH(ties=ties).fit(aml, "time", "status", ["x"])  # type: ignore[arg-type]
    assert fit.terms_ == ["xNonmaintained"]
    assert fit.coef_[0] == pytest.approx(coef, abs=5e-5)
    assert fit.hr_[0] == pytest.approx(hr, abs=5e-5)
    assert fit.se_[0] == pytest.approx(se, abs=5e-5)
    assert fit.z_[0] == pytest.approx(z, abs=5e-4)
    assert fit.p_[0] == pytest.approx(p, abs=5e-5)
    assert fit.lr_test_.chisq == pytest.approx(lr, abs=0.05 if ties == "breslow" else 0.005)
    assert fit.lr_test_.p == pytest.approx(lr_p, abs=5e-6)
