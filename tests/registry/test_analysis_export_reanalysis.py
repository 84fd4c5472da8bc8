"""Re-analysing the analysis export gives the registry's own curves and log-rank test.

Times that come from offsets in days ("152 days after") and in months ("4.994 months after")
differ by less than 0.01 month; the export used to round both to 4.99, which made a tie between
the two groups and changed the log-rank statistic of ``cohort km --data export.csv``.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest
import yaml

from livermet.analysis.cohort import with_endpoints
from livermet.analysis.summary import km_analysis
from livermet.case.load import case_from_data
from livermet.registry import Registry, synthetic_cases
from livermet.registry.analysis_export import export_analysis
from tests.registry.conftest import SEED_CASE, World

# (id, approach, offset of the follow-up event after the liver resection, died)
CLOSE_TIMES: tuple[tuple[str, str, dict[str, float], bool], ...] = (
    ("open-days-152", "open", {"days": 152}, True),  # 152 / 30.4375 = 4.99384 months
    ("lap-months-4994", "laparoscopic", {"months": 4.994}, True),
    ("open-days-61", "open", {"days": 61}, True),  # 2.00411 months
    ("lap-months-2001", "laparoscopic", {"months": 2.001}, True),
    ("open-months-8", "open", {"months": 8}, False),
    ("lap-months-9", "laparoscopic", {"months": 9}, True),
    ("lap-days-100", "laparoscopic", {"days": 100}, True),
)


def _case(case_id: str, approach: str, when: dict[str, float], died: bool) -> Any:
    data = yaml.safe_load(SEED_CASE.read_text(encoding="utf-8"))
    data["id"] = case_id
    for procedure in data["procedures"]:
        if procedure["id"] == "liver-resection":
            procedure["approach"] = approach
    data["follow_up"] = [
        {"kind": "death" if died else "last_contact", "when": {"after": "liver-resection", **when}}
    ]
    data.pop("statements", None)
    return case_from_data(data)


def _exported(reg: Registry) -> pd.DataFrame:
    out = io.StringIO()
    export_analysis(reg, out, deidentified=False, include_synthetic=True)
    return pd.read_csv(io.StringIO(out.getvalue()))


def _same_km(registry: pd.DataFrame, exported: pd.DataFrame, time: str, event: str) -> None:
    mine = km_analysis(registry, time, event, by="approach", dropna=True).report
    theirs = km_analysis(exported, time, event, by="approach", dropna=True).report
    assert theirs["logrank"]["chisq"] == mine["logrank"]["chisq"]
    assert theirs["logrank"]["p"] == mine["logrank"]["p"]
    for group in ("open", "laparoscopic"):
        a, b = mine["groups"][group], theirs["groups"][group]
        assert b["median"] == a["median"]
        assert b["rmst"] == a["rmst"]
        assert b["at"] == a["at"]


def test_close_times_stay_apart_and_the_log_rank_test_is_the_registrys(world: World) -> None:
    reg = world.reg
    for spec in CLOSE_TIMES:
        reg.create_case(_case(*spec), site="alpha")
    exported = _exported(reg)
    cohort = with_endpoints(reg.cohort_frame(include_synthetic=True))
    months = exported.set_index("case_id")["os_months"]
    # the two pairs are different times, and the export keeps them apart
    assert months["open-days-152"] == pytest.approx(152 / 30.4375, rel=1e-15)
    assert months["lap-months-4994"] == pytest.approx(4.994, rel=1e-12)
    assert months["open-days-61"] != months["lap-months-2001"]
    # rounded to 0.01 they would tie, and the test would change (what the export used to do)
    rounded = exported.assign(os_months=exported["os_months"].round(2))
    before = km_analysis(rounded, "os_months", "death", by="approach").report["logrank"]["chisq"]
    registry = km_analysis(cohort, "os_months", "death", by="approach").report["logrank"]["chisq"]
    assert before != pytest.approx(registry, rel=1e-6)
    _same_km(cohort, exported, "os_months", "death")


def test_the_exported_months_are_the_registrys_exactly(world: World) -> None:
    reg = world.reg
    reg.import_cases(synthetic_cases(80, seed=11), source="synthetic", site="alpha")
    exported = _exported(reg).set_index("case_id")
    cohort = with_endpoints(reg.cohort_frame(include_synthetic=True)).set_index("id")
    for name in ("os_months", "efs_months"):
        pd.testing.assert_series_equal(
            exported[name].sort_index(), cohort[name].astype(float).sort_index(), check_names=False
        )
    _same_km(cohort.reset_index(), exported.reset_index(), "efs_months", "efs_event")
