"""A time point reported by one series: its own S(t), not a pooled one (evidence layer)."""

from __future__ import annotations

import math

from livermet.evidence.dataset import load_literature
from livermet.evidence.survival.series import SINGLE_SERIES_NOTE
from livermet.evidence.survival.time_points import pool_time_points, single_series_figure


def test_one_series_gives_its_own_figure_and_many_give_nothing() -> None:
    df = load_literature()
    one = df[df["id"] == "dematteo2001"].reset_index(drop=True)
    (point,) = pool_time_points(one, times=(60,)).to_dict("records")
    assert point["k"] == 1 and math.isnan(point["estimate"])
    figure = single_series_figure(one, point)
    row = one.iloc[0]
    assert figure == {
        "series_id": "dematteo2001",
        "reported": float(row["os5"]) / 100.0,
        "note": SINGLE_SERIES_NOTE,
    }
    many = pool_time_points(df, times=(60,)).to_dict("records")[0]
    assert many["k"] > 1 and single_series_figure(df, many) == {}
