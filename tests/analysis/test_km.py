"""Kaplan-Meier details the R reference does not pin down, and refused input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from livermet.analysis import KaplanMeier, kaplan_meier, kaplan_meier_by_group
from livermet.errors import InputError


def test_median_on_a_flat_at_one_half_is_the_midpoint() -> None:
    # R: survfit(Surv(1:4) ~ 1) prints median 2.5 (S = 0.5 on [2, 3), the midpoint rule)
    km = KaplanMeier().fit([1, 2, 3, 4], [1, 1, 1, 1])
    assert km.median_.estimate == 2.5


def test_median_not_reached_is_none() -> None:
    km = KaplanMeier().fit([1] + [5] * 19, [1] + [0] * 19)  # S never below 0.95
    assert km.median_ == km.median_.__class__(None, None, None)


def test_values_between_before_and_after_observed_times() -> None:
    km = KaplanMeier(conf_type="log").fit([5, 8, 8, 12, 20], [1, 1, 0, 1, 0])
    table = km.at([0, 4.9, 5, 10, 25])
    # S: 1 before 5; 4/5 at 5; x (1 - 1/4) at 8 = 0.6; x (1 - 1/2) at 12 = 0.3
    assert table["survival"].tolist() == pytest.approx([1, 1, 0.8, 0.6, 0.3])
    # at risk = still followed at t (time >= t); nobody after the last time
    assert table["n_risk"].tolist() == [5, 5, 5, 2, 0]
    # events in (previous requested time, t]
    assert table["n_event"].tolist() == [0, 0, 1, 1, 1]
    assert table.loc[0, ["lower", "upper"]].to_numpy().tolist() == [1.0, 1.0]


def test_greenwood_standard_error_by_hand() -> None:
    km = KaplanMeier().fit([5, 8, 8, 12, 20], [1, 1, 0, 1, 0])
    # Greenwood: var(log S) = sum d / (n (n - d)) = 1/(5*4) + 1/(4*3) + 1/(2*1)
    se_log = math.sqrt(1 / 20 + 1 / 12 + 1 / 2)
    assert km.at([12])["std_err"].iloc[0] == pytest.approx(0.3 * se_log, rel=1e-14)


def test_log_log_band_agrees_with_lifelines(cohort: pd.DataFrame) -> None:
    from lifelines import KaplanMeierFitter  # independent implementation (exponential Greenwood)

    km = kaplan_meier(cohort, "os_months", "death")
    lf = KaplanMeierFitter().fit(cohort["os_months"], cohort["death"])
    times = km.time_[km.n_event_ > 0]
    ci = lf.confidence_interval_.loc[times]
    assert km.survival_at(times) == pytest.approx(lf.survival_function_.loc[times].iloc[:, 0])
    idx = np.searchsorted(km.time_, times)
    assert km.lower_[idx] == pytest.approx(ci.iloc[:, 0].to_numpy(), rel=1e-9)
    assert km.upper_[idx] == pytest.approx(ci.iloc[:, 1].to_numpy(), rel=1e-9)


@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_bands_contain_the_estimate(cohort: pd.DataFrame, conf_type: str) -> None:
    km = kaplan_meier(cohort, "os_months", "death", conf_type=conf_type)  # type: ignore[arg-type]
    ok = km.survival_ > 0
    assert np.all(km.lower_[ok] <= km.survival_[ok] + 1e-15)
    assert np.all(km.survival_[ok] <= km.upper_[ok] + 1e-15)
    assert np.all((km.lower_[ok] >= 0) & (km.upper_[ok] <= 1))


def test_plain_band_is_symmetric_greenwood_clipped_to_0_1() -> None:
    km = KaplanMeier(conf_type="plain").fit([5, 8, 8, 12, 20], [1, 1, 0, 1, 0])
    z = 1.959963984540054
    rows = km.at([5, 12])
    first, last = rows.iloc[0], rows.iloc[1]
    assert first["lower"] == pytest.approx(0.8 - z * first["std_err"], rel=1e-12)
    assert first["upper"] == 1.0  # 0.8 + 0.78 clipped
    assert last["lower"] == 0.0  # 0.3 - 0.47 clipped


def test_groups_follow_level_order_or_sorted_values(cohort: pd.DataFrame) -> None:
    default = kaplan_meier_by_group(cohort, "os_months", "death", "approach")
    assert list(default) == ["laparoscopic", "open"]  # R's factor() default: sorted
    given = kaplan_meier_by_group(
        cohort, "os_months", "death", "approach", levels=["open", "laparoscopic"]
    )
    assert list(given) == ["open", "laparoscopic"]
    assert sum(k.n_ for k in given.values()) == 300


def _table(**columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame(columns)


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        (_table(t=[1, 2], e=[1, 0]), "os", "column not found"),
        (_table(os=[1.0, "abc", 3.0], e=[1, 0, 1]), "os", "row 2: 'abc' is not a number"),
        (_table(os=[1.0, -2.0, 3.0], e=[1, 0, 1]), "os", "row 2: negative time -2"),
        (_table(os=[1.0, 2.0, 3.0], e=[1, 2, 1]), "e", "row 2: event must be 0"),
        (_table(os=[1.0, None, 3.0], e=[1, 0, 1]), "os", "row 2: missing value"),
        (_table(os=[1.0, 2.0, 3.0], e=[1, "yes", 1]), "e", "row 2: 'yes' is not a number"),
    ],
    ids=["missing-column", "text-time", "negative-time", "event-2", "missing-time", "text-event"],
)
def test_bad_input_names_column_and_row(data: pd.DataFrame, field: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        kaplan_meier(data, "os", "e")
    assert info.value.field == field
    assert fragment in info.value.message


def test_dropna_skips_incomplete_rows_but_still_names_original_rows() -> None:
    data = _table(os=[1.0, None, 3.0, -1.0], e=[1, 0, 1, 1])
    with pytest.raises(InputError, match="row 4: negative time"):
        kaplan_meier(data, "os", "e", dropna=True)
    km = kaplan_meier(data.iloc[:3], "os", "e", dropna=True)
    assert km.n_ == 2


def test_indexed_table_names_the_patient() -> None:
    data = pd.DataFrame({"os": [1.0, -3.0], "e": [1, 1]}, index=["P1", "P2"])
    with pytest.raises(InputError, match=r"row 2 \(P2\)"):
        kaplan_meier(data, "os", "e")


def test_unknown_conf_type_is_refused() -> None:
    with pytest.raises(InputError) as info:
        KaplanMeier(conf_type="logit")  # type: ignore[arg-type]
    assert info.value.field == "conf_type"
