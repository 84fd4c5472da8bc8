"""``response.recist`` from the case's imaging time points, and its reason in the options.

Expected values are worked by hand from RECIST 1.1 (Eisenhauer EA, et al. Eur J Cancer 2009).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from livermet.case.assess import assess
from livermet.case.load import case_from_data
from livermet.case.response import response_reasons
from livermet.errors import InputError
from tests.conftest import ROOT

UTERINE = yaml.safe_load((ROOT / "examples" / "preop-uterine-lms.yaml").read_text())


def _assess(mutate: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    data = copy.deepcopy(UTERINE)
    if mutate:
        mutate(data)
    return assess(case_from_data(data)).to_dict()


@pytest.fixture(scope="module")
def uterine() -> dict[str, Any]:
    return _assess()


def test_uterine_example_is_sd(uterine: dict[str, Any]) -> None:
    rec = uterine["response"]["recist"]
    # baseline 2024-12-02: L1 28 + L2 34 = 62 mm; current 2025-04-22: 22 + 27 = 49 mm
    assert rec["baseline"] == {"date": "2024-12-02", "sum_mm": 62}
    assert rec["current"] == {"date": "2025-04-22", "sum_mm": 49}
    # the nadir before the current time point is the baseline itself
    assert rec["nadir"] == {"date": "2024-12-02", "sum_mm": 62}
    # (49 - 62) / 62 = -13 / 62 = -0.2097 -> -21.0 %: above -30 % (not PR), no rise (not PD)
    assert rec["percent_change_from_baseline"] == -21.0
    assert rec["percent_change_from_nadir"] == -21.0
    assert rec["change_from_nadir_mm"] == -13
    assert rec["new_lesions"] is False
    assert (rec["target_response"], rec["category"]) == ("SD", "SD")
    assert "PR needs -30 %" in rec["rule"]
    # doxorubicin 2025-01-06 to 2025-04-07 lies between the two scans
    assert rec["systemic_therapy_between"] == ["doxorubicin"]
    assert rec["response_to_chemotherapy"] == "no response"
    # baseline 2024-12-02 -> start 2025-01-06: 35 days = 5.0 weeks > 4 weeks
    assert any("5.0 weeks" in n for n in rec["notes"])
    assert "Eisenhauer" in rec["source"]


def test_uterine_response_reaches_the_resection_option(uterine: dict[str, Any]) -> None:
    resection = next(o for o in uterine["options"] if o["option"] == "liver resection")
    hits = [r for r in resection["reasons"] if "RECIST 1.1 SD" in r["text"]]
    assert len(hits) == 1
    assert hits[0]["supports"] is False  # no objective response: non-response is adverse
    assert "doxorubicin" in hits[0]["text"] and "-21 %" in hits[0]["text"]
    assert "Tirotta" in hits[0]["source"]


def _second_scan(
    diameters: tuple[str, str], new: bool | None = False
) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        scan = d["imaging"][1]
        scan["measurements"] = [
            {"lesion": "L1", "diameter": diameters[0]},
            {"lesion": "L2", "diameter": diameters[1]},
        ]
        if new is None:
            scan.pop("new_lesions", None)
        else:
            scan["new_lesions"] = new

    return mutate


def test_pr_at_30_percent_and_reason_supports() -> None:
    # 62 x 0.7 = 43.4 mm: 20 + 23.4 -> exactly -30 % -> PR
    r = _assess(_second_scan(("20 mm", "23.4 mm")))
    rec = r["response"]["recist"]
    assert (rec["current"]["sum_mm"], rec["percent_change_from_baseline"]) == (43.4, -30.0)
    assert rec["category"] == "PR"
    assert rec["response_to_chemotherapy"] == "response"
    reasons = response_reasons(r)
    assert len(reasons) == 1 and reasons[0][2] is True


def test_just_above_minus_30_percent_is_sd() -> None:
    # 20 + 23.5 = 43.5 mm: -29.8 %
    rec = _assess(_second_scan(("20 mm", "23.5 mm")))["response"]["recist"]
    assert rec["percent_change_from_baseline"] == -29.8
    assert rec["category"] == "SD"


def test_new_lesion_is_pd_in_the_assessment() -> None:
    r = _assess(_second_scan(("22 mm", "27 mm"), new=True))
    rec = r["response"]["recist"]
    assert rec["category"] == "PD"
    assert rec["rule"].startswith("new lesion")
    text, _, supports = response_reasons(r)[0]
    assert "progressed on doxorubicin" in text and supports is False


def test_growth_of_20_percent_and_5_mm_is_pd() -> None:
    # 62 x 1.2 = 74.4 mm (+12.4 mm): 34 + 40.4
    rec = _assess(_second_scan(("34 mm", "40.4 mm")))["response"]["recist"]
    assert (rec["percent_change_from_nadir"], rec["change_from_nadir_mm"]) == (20.0, 12.4)
    assert rec["category"] == "PD"
    rec = _assess(_second_scan(("34 mm", "40.3 mm")))["response"]["recist"]
    assert rec["category"] == "SD"  # +19.8 %


def test_lesion_gone_recorded_as_0_mm() -> None:
    rec = _assess(_second_scan(("0 mm", "0 mm")))["response"]["recist"]
    assert rec["category"] == "CR"


def test_unrecorded_new_lesions_is_said() -> None:
    rec = _assess(_second_scan(("22 mm", "27 mm"), new=None))["response"]["recist"]
    assert rec["category"] == "SD"
    assert any("New lesions are not recorded" in n for n in rec["notes"])


def test_time_points_are_ordered_by_date() -> None:
    def swap(d: dict[str, Any]) -> None:
        d["imaging"].reverse()

    rec = _assess(swap)["response"]["recist"]
    assert rec["baseline"]["date"] == "2024-12-02"
    assert rec["category"] == "SD"


def test_offsets_are_placed_on_the_timeline() -> None:
    def offset(d: dict[str, Any]) -> None:
        d["imaging"][1]["when"] = {"after": "hysterectomy", "days": 932}  # 2025-04-22

    rec = _assess(offset)["response"]["recist"]
    assert rec["current"]["date"] == "2025-04-22"
    assert rec["category"] == "SD"


def test_without_chemotherapy_the_response_is_not_a_response_to_chemotherapy() -> None:
    r = _assess(lambda d: d.pop("systemic_therapy"))
    rec = r["response"]["recist"]
    assert rec["systemic_therapy_between"] == [] and rec["response_to_chemotherapy"] is None
    assert response_reasons(r) == []  # SD without therapy: no reason either way
    dfi = next(f for f in r["prognostic_factors"] if f["factor"] == "response to chemotherapy")
    assert dfi["direction"] == "not known"


def test_only_a_baseline_is_not_assessable() -> None:
    rec = _assess(lambda d: d["imaging"].pop())["response"]["recist"]
    assert rec["status"] == "not assessable"
    assert rec["category"] is None
    assert rec["missing"] == ["an imaging time point with measurements after the baseline"]


def test_no_measurements_is_not_assessable(seed_path: Path) -> None:
    from livermet.case.load import load_case

    rec = assess(load_case(seed_path)).to_dict()["response"]["recist"]
    assert rec == {**rec, "status": "not assessable", "category": None}
    assert rec["missing"] == ["imaging time points with lesion measurements"]


def test_bad_diameter_names_the_field() -> None:
    def bad(d: dict[str, Any]) -> None:
        d["imaging"][1]["measurements"][0]["diameter"] = "22 kg"

    with pytest.raises(InputError) as exc:
        _assess(bad)
    assert "imaging" in str(exc.value) and "measurements" in str(exc.value)


def test_not_evaluable_gives_no_reason() -> None:
    def drop(d: dict[str, Any]) -> None:
        d["imaging"][1]["measurements"].pop()  # L2 not measured: not all targets evaluated

    r = _assess(drop)
    assert r["response"]["recist"]["category"] == "NE"
    assert response_reasons(r) == []
