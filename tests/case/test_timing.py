"""Synchronous / metachronous and the disease-free interval, from the case's dates.

Months are mean Gregorian months (30.4375 days). Definitions: Siriwardena AK, et al. Br J Surg
2023 (E-AHPBA consensus: synchronous at or before the primary's diagnosis, early metachronous
<= 12 months, late > 12 months) and Jain AJ, et al. SSAT 2023 (< 6 months = synchronous).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from livermet.case.assess import assess
from livermet.case.load import case_from_data
from livermet.case.timeline import build_timeline
from livermet.case.timing import LesionTiming, lesion_timings, phase, timing_section
from livermet.clinical.timing import (
    DEFAULT_SCHEME,
    E_AHPBA_2023,
    JAIN_2023,
    classify_timing,
    disease_free_interval,
)
from livermet.errors import InputError
from tests.conftest import ROOT, SEED_CASE

M = 30.4375  # days per mean Gregorian month
EXAMPLES = ROOT / "examples"


def _data(path: Path) -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load(path.read_text()))


UTERINE = _data(EXAMPLES / "preop-uterine-lms.yaml")
RETRO = _data(EXAMPLES / "preop-retroperitoneal-lms.yaml")
SEED = _data(SEED_CASE)


def _assess(
    base: dict[str, Any], mutate: Callable[[dict[str, Any]], None] | None = None, **kw: object
) -> dict[str, Any]:
    data = copy.deepcopy(base)
    if mutate:
        mutate(data)
    return assess(case_from_data(data), **kw).to_dict()  # type: ignore[arg-type]


def _codes(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["code"]: f for f in result["findings"]}


# --- the rule, at its thresholds ------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "category"),
    [
        (-30, "synchronous"),  # found before the primary was diagnosed
        (0, "synchronous"),  # at the diagnosis: "at or before"
        (1, "early metachronous"),  # one day after
        (365, "early metachronous"),  # 11.99 months
        (365.25, "early metachronous"),  # exactly 12 months: "within 12 months"
        (366, "late metachronous"),  # 12.02 months
    ],
)
def test_e_ahpba_window_and_split(days: float, category: str) -> None:
    result = classify_timing(days, E_AHPBA_2023)
    assert result.category == category
    assert result.timing == ("synchronous" if category == "synchronous" else "metachronous")


@pytest.mark.parametrize(
    ("days", "timing"),
    [
        (182, "synchronous"),  # 5.98 months
        (6 * M, "metachronous"),  # exactly 6 months (182.625 d): "< 6 months" is synchronous
        (183, "metachronous"),  # 6.01 months
    ],
)
def test_jain_six_month_window(days: float, timing: str) -> None:
    result = classify_timing(days, JAIN_2023)
    assert result.timing == timing
    assert result.category == timing  # no early/late split


def test_default_is_the_consensus_definition() -> None:
    assert DEFAULT_SCHEME is E_AHPBA_2023
    assert "Br J Surg 2023" in DEFAULT_SCHEME.source


def test_worked_example_a() -> None:
    # dx 2020-01-15, resection 2020-02-20, liver 2021-03-01
    from_dx = (dt.date(2021, 3, 1) - dt.date(2020, 1, 15)).days  # 411 d
    from_res = (dt.date(2021, 3, 1) - dt.date(2020, 2, 20)).days  # 375 d
    assert (from_dx, from_res) == (411, 375)
    assert round(from_dx / M, 1) == 13.5 and round(from_res / M, 1) == 12.3
    assert classify_timing(from_dx).category == "late metachronous"
    assert classify_timing(from_dx, JAIN_2023).timing == "metachronous"
    dfi = disease_free_interval(primary_resected=True, resection_to_detection_days=from_res)
    assert dfi.status == "disease-free interval"
    assert dfi.months == pytest.approx(375 / M)


def test_worked_example_b_the_schemes_disagree() -> None:
    # dx 2022-01-10, liver 2022-06-10: 151 d = 4.96 months
    days = (dt.date(2022, 6, 10) - dt.date(2022, 1, 10)).days
    assert days == 151 and round(days / M, 2) == 4.96
    assert classify_timing(days).category == "early metachronous"
    assert classify_timing(days, JAIN_2023).timing == "synchronous"


@given(
    st.floats(min_value=-1000, max_value=5000, allow_nan=False),
    st.floats(min_value=0, max_value=5000, allow_nan=False),
)
def test_a_later_detection_never_becomes_synchronous(days: float, later_by: float) -> None:
    rank = {"synchronous": 0, "early metachronous": 1, "metachronous": 1, "late metachronous": 2}
    for scheme in (E_AHPBA_2023, JAIN_2023):
        before, after = classify_timing(days, scheme), classify_timing(days + later_by, scheme)
        assert rank[after.category] >= rank[before.category]
        if before.timing == "metachronous":
            assert after.timing == "metachronous"


@pytest.mark.parametrize("bad", [math.nan, math.inf, "12", True])
def test_bad_interval(bad: object) -> None:
    with pytest.raises(InputError) as info:
        classify_timing(bad)  # type: ignore[arg-type]
    assert info.value.field == "interval_days"


def test_disease_free_interval_rules() -> None:
    dfi = disease_free_interval
    assert dfi(primary_resected=False, resection_to_detection_days=None).status == (
        "not assessable"
    )
    r2 = dfi(primary_resected=True, resection_to_detection_days=400, margin="R2")
    assert (r2.months, r2.status) == (0.0, "never disease-free")
    same_day = dfi(primary_resected=True, resection_to_detection_days=0)
    assert (same_day.months, same_day.status) == (0.0, "never disease-free")
    one_day = dfi(primary_resected=True, resection_to_detection_days=1)
    assert one_day.status == "disease-free interval" and one_day.months == pytest.approx(1 / M)
    stated = dfi(primary_resected=True, resection_to_detection_days=None, synchronous=True)
    assert (stated.months, stated.status) == (0.0, "never disease-free")
    unknown = dfi(primary_resected=True, resection_to_detection_days=None)
    assert (unknown.months, unknown.status) == (None, "not assessable")


# --- the three examples and the seed case ---------------------------------------------------


@pytest.fixture(scope="module")
def uterine() -> dict[str, Any]:
    return _assess(UTERINE)


def test_uterine_is_late_metachronous_from_the_dates(uterine: dict[str, Any]) -> None:
    tl = uterine["timeline"]
    assert tl["metastasis_timing"] == "metachronous"
    assert tl["metastasis_timing_basis"] == "dates"
    t = tl["timing"]
    assert t["scheme"] == "e-ahpba-2023" and "12 months" in t["definition"]
    assert t["anchor"] == "diagnosis of the primary" and t["anchor_date"] == "2022-09-10"
    assert t["first_detection_date"] == "2024-12-02"
    # 2022-09-10 -> 2024-12-02: 21 (Sep) + 31 + 30 + 31 = 113 days to 2023-01-01, + 365 (2023)
    # + 366 (2024, leap) - 30 (Dec 2-31) = 814 days; 814 / 30.4375 = 26.74 months
    assert t["months_from_diagnosis"] == 26.74
    assert t["category"] == "late metachronous"  # > 12 months
    assert [o["timing"] for o in t["other_definitions"]] == ["metachronous"]  # >= 6 months
    assert [le["timing"] for le in t["lesions"]] == ["metachronous", "metachronous"]
    assert [le["detected_basis"] for le in t["lesions"]] == ["detected", "detected"]


def test_uterine_disease_free_interval(uterine: dict[str, Any]) -> None:
    tl = uterine["timeline"]
    # hysterectomy 2022-10-03 -> 2024-12-02: 814 - 23 (Sep 10 -> Oct 3) = 791 days;
    # 791 / 30.4375 = 25.9877 -> 25.99 months
    assert tl["disease_free_interval_months"] == 25.99
    assert tl["disease_free_interval_status"] == "disease-free interval"
    assert "resection of the primary tumour" in tl["disease_free_interval_definition"]
    assert tl["timing"]["months_from_primary_resection"] == 25.99


def test_uterine_is_pre_operative_without_outcomes(uterine: dict[str, Any]) -> None:
    assert uterine["phase"] == "pre-operative"
    assert uterine["assessed_on"] == "2025-05-15"
    assert uterine["outcomes"]["liver_resection"] is None
    tl = uterine["timeline"]
    assert tl["follow_up_after_liver_resection_months"] is None  # was -2.5 months
    assert tl["liver_resection_after_primary_months"] is None
    assert "readmission-not-reported" not in _codes(uterine)
    sv = uterine["surveillance"]
    assert sv["index"] == "planned liver resection" and sv["index_status"] == "planned"
    assert all(m > 0 for m in sv["visits_months"])


def test_uterine_events_include_imaging_therapy_and_the_plan(uterine: dict[str, Any]) -> None:
    events = {e["event"]: e for e in uterine["timeline"]["events"]}
    assert events["diagnosis of the primary tumour"]["day"] == -23
    mri = next(e for k, e in events.items() if k.startswith("MRI of the liver: both"))
    assert mri["date"] == "2025-04-22" and mri["day"] == 932  # 2022-10-03 + 932 d
    assert events["doxorubicin (neoadjuvant) started"]["date"] == "2025-01-06"
    plan = events["central bisectionectomy (planned)"]
    assert plan["status"] == "planned" and plan["date"] == "2025-06-02"
    days = [e["day"] for e in uterine["timeline"]["events"]]
    assert days == sorted(days)


def test_retroperitoneal_is_synchronous_never_disease_free() -> None:
    result = _assess(RETRO)
    tl = result["timeline"]
    assert tl["metastasis_timing"] == "synchronous"
    # diagnosed and detected on 2025-02-14: 0 days, "at or before the diagnosis"
    assert tl["timing"]["months_from_diagnosis"] == 0
    assert tl["timing"]["category"] == "synchronous"
    # detected 24 days before the resection (2025-03-10): -24 / 30.4375 = -0.79 months
    assert tl["timing"]["months_from_primary_resection"] == -0.79
    assert tl["disease_free_interval_months"] == 0
    assert tl["disease_free_interval_status"] == "never disease-free"
    assert result["phase"] == "pre-operative"
    assert result["outcomes"]["liver_resection"] is None


def test_seed_case_keeps_its_stated_timing() -> None:
    result = _assess(SEED, today=dt.date(2025, 1, 31))
    tl = result["timeline"]
    assert tl["metastasis_timing"] == "synchronous"
    assert tl["metastasis_timing_basis"] == "stated"  # no dates in the case report
    assert tl["disease_free_interval_months"] == 0  # synchronous: never disease-free
    assert tl["disease_free_interval_status"] == "never disease-free"
    assert result["phase"] == "post-operative"
    assert result["assessed_on"] == "2025-01-31"  # no date in the file: the caller's
    assert result["surveillance"]["index"] == "liver resection"
    assert "readmission-not-reported" in _codes(result)


def test_the_file_date_wins_over_the_callers() -> None:
    assert _assess(UTERINE, today=dt.date(2030, 1, 1))["assessed_on"] == "2025-05-15"


def test_without_any_date_the_assessment_is_dated_today() -> None:
    data = copy.deepcopy(SEED)
    assert build_timeline(case_from_data(data)).assessed_on == dt.date.today()


# --- dates and stated timings that disagree --------------------------------------------------


def test_a_stated_timing_the_dates_contradict_is_a_warning() -> None:
    def stated(d: dict[str, Any]) -> None:
        d["liver_lesions"][0]["timing"] = "synchronous"

    result = _assess(UTERINE, stated)
    f = _codes(result)["metastasis-timing-discordant"]
    assert f["severity"] == "warning"
    assert "L1 (segment 4)" in f["message"] and "late metachronous" in f["message"]
    assert "26.7 months" in f["message"]
    # The dates decide; the stated timing is kept beside them.
    lesion = result["timeline"]["timing"]["lesions"][0]
    assert (lesion["timing"], lesion["stated"]) == ("metachronous", "synchronous")


def test_stated_agreeing_with_the_dates_is_no_finding() -> None:
    def stated(d: dict[str, Any]) -> None:
        for lesion in d["liver_lesions"]:
            lesion["timing"] = "metachronous"

    assert "metastasis-timing-discordant" not in _codes(_assess(UTERINE, stated))


def test_discordance_names_the_leiomyosarcoma_window_when_it_agrees() -> None:
    def early(d: dict[str, Any]) -> None:
        d["primary_tumour"]["diagnosed"] = dt.date(2024, 7, 5)  # 150 d before 2024-12-02
        d["procedures"][0]["when"] = dt.date(2024, 7, 20)
        d["liver_lesions"][0]["timing"] = "synchronous"

    f = _codes(_assess(UTERINE, early))["metastasis-timing-discordant"]["message"]
    assert "early metachronous" in f and "Jain, SSAT 2023" in f


def test_liver_resection_before_the_diagnosis_is_a_warning() -> None:
    def early(d: dict[str, Any]) -> None:
        d["procedures"][1].update(status="performed", when=dt.date(2022, 8, 1))

    f = _codes(_assess(UTERINE, early))["liver-resection-before-primary"]
    assert f["severity"] == "warning" and "2022-08-01" in f["message"]


def test_liver_first_sequence_is_an_info() -> None:
    def liver_first(d: dict[str, Any]) -> None:
        d["procedures"][1].update(status="performed", when=dt.date(2022, 9, 20))

    f = _codes(_assess(UTERINE, liver_first))["liver-resection-before-primary"]
    assert f["severity"] == "info" and "liver-first" in f["message"]


def test_liver_resection_after_the_primary_is_no_finding(uterine: dict[str, Any]) -> None:
    assert "liver-resection-before-primary" not in _codes(uterine)


def test_planned_operation_dated_before_the_board() -> None:
    def later_board(d: dict[str, Any]) -> None:
        d["assessed_on"] = dt.date(2025, 6, 3)  # the plan said 2025-06-02

    assert "planned-procedure-in-the-past" in _codes(_assess(UTERINE, later_board))
    on_the_day = _assess(UTERINE, lambda d: d.update(assessed_on=dt.date(2025, 6, 2)))
    assert "planned-procedure-in-the-past" not in _codes(on_the_day)


def test_performed_operation_dated_after_the_board() -> None:
    def performed(d: dict[str, Any]) -> None:
        d["procedures"][1]["status"] = "performed"  # 2025-06-02, board 2025-05-15

    result = _assess(UTERINE, performed)
    assert "performed-procedure-in-the-future" in _codes(result)
    assert result["phase"] == "post-operative"


def test_performed_liver_resection_has_outcomes_and_follow_up() -> None:
    def done(d: dict[str, Any]) -> None:
        d["procedures"][1].update(status="performed", when=dt.date(2025, 3, 3))
        d["follow_up"] = [{"kind": "last_contact", "when": dt.date(2025, 5, 2)}]

    result = _assess(UTERINE, done)
    assert result["phase"] == "post-operative"
    assert result["outcomes"]["liver_resection"] is not None
    # 2025-03-03 -> 2025-04-03: 31 d, -> 2025-05-03: 30 d, minus one day = 60 days
    assert result["timeline"]["follow_up_after_liver_resection_months"] == round(60 / M, 1)
    assert "readmission-not-reported" in _codes(result)
    assert result["surveillance"]["index"] == "liver resection"


# --- where the detection date comes from -------------------------------------------------------


def _timings(base: dict[str, Any], mutate: Callable[[dict[str, Any]], None]) -> list[LesionTiming]:
    data = copy.deepcopy(base)
    mutate(data)
    case = case_from_data(data)
    return lesion_timings(case, build_timeline(case, today=dt.date(2025, 5, 15)))


def test_detection_falls_back_to_the_first_liver_imaging() -> None:
    def no_detected(d: dict[str, Any]) -> None:
        for lesion in d["liver_lesions"]:
            del lesion["detected"]

    timings = _timings(UTERINE, no_detected)
    assert [t.detection.basis for t in timings] == ["first liver imaging"] * 2
    assert timings[0].interval_days == 814  # the first MRI, 2024-12-02


def test_imaging_of_other_segments_does_not_date_a_lesion() -> None:
    def elsewhere(d: dict[str, Any]) -> None:
        for lesion in d["liver_lesions"]:
            del lesion["detected"]
        d["imaging"] = [{**d["imaging"][0], "segments": [2]}]

    assert [t.detection.basis for t in _timings(UTERINE, elsewhere)] == [None, None]


def test_a_liver_imaging_without_segments_dates_every_lesion() -> None:
    # The model allows imaging of the liver that names no segment: it saw the whole liver.
    def whole_liver(d: dict[str, Any]) -> None:
        for lesion in d["liver_lesions"]:
            del lesion["detected"]
        d["imaging"] = [{**d["imaging"][0], "segments": []}]

    timings = _timings(UTERINE, whole_liver)
    assert [t.detection.basis for t in timings] == ["first liver imaging"] * 2
    assert timings[0].interval_days == 814


def test_detection_falls_back_to_a_liver_biopsy() -> None:
    def biopsy(d: dict[str, Any]) -> None:
        for lesion in d["liver_lesions"]:
            del lesion["detected"]
        d["imaging"] = []
        d["biopsies"] = [
            {"target": "liver", "method": "needle", "diagnosis": "LMS", "when": dt.date(2025, 1, 2)}
        ]

    timings = _timings(UTERINE, biopsy)
    assert timings[0].detection.basis == "first liver biopsy"
    assert timings[0].interval_days == 845  # 814 + 31 (2024-12-02 -> 2025-01-02)


def test_without_a_diagnosis_date_the_resection_is_the_anchor() -> None:
    def no_dx(d: dict[str, Any]) -> None:
        del d["primary_tumour"]["diagnosed"]

    data = copy.deepcopy(UTERINE)
    no_dx(data)
    case = case_from_data(data)
    section = timing_section(case, build_timeline(case))
    assert section["timing"]["anchor"].startswith("resection of the primary")
    assert section["timing"]["months_from_diagnosis"] is None
    assert section["timing"]["lesions"][0]["months_from_anchor"] == 25.99  # 791 d


def test_a_planned_primary_resection_gives_no_anchor_and_no_dfi() -> None:
    def planned(d: dict[str, Any]) -> None:
        del d["primary_tumour"]["diagnosed"]
        d["procedures"][0]["status"] = "planned"

    result = _assess(UTERINE, planned)
    tl = result["timeline"]
    assert tl["metastasis_timing"] is None and tl["timing"]["anchor"] is None
    assert tl["disease_free_interval_status"] == "not assessable"
    assert result["outcomes"]["primary_resection"] is None


@given(st.integers(min_value=-400, max_value=2000), st.integers(min_value=0, max_value=2000))
def test_moving_detection_later_never_turns_metachronous_into_synchronous(
    offset: int, later: int
) -> None:
    diagnosed = dt.date(2022, 9, 10)

    def at(days: int) -> str:
        data = copy.deepcopy(UTERINE)
        for lesion in data["liver_lesions"]:
            lesion["detected"] = diagnosed + dt.timedelta(days=days)
        case = case_from_data(data)
        return str(timing_section(case, build_timeline(case))["metastasis_timing"])

    if at(offset) == "metachronous":
        assert at(offset + later) == "metachronous"


def test_phase() -> None:
    assert phase(case_from_data(copy.deepcopy(UTERINE))) == "pre-operative"
    assert phase(case_from_data(copy.deepcopy(SEED))) == "post-operative"
    no_liver = copy.deepcopy(UTERINE)
    no_liver["procedures"] = no_liver["procedures"][:1]
    assert phase(case_from_data(no_liver)) == "pre-operative"


def test_registry_survival_does_not_start_at_a_planned_resection() -> None:
    from livermet.registry.derive import survival

    case = case_from_data(copy.deepcopy(UTERINE))
    assert survival(case, build_timeline(case)).liver_resection_day is None
    data = copy.deepcopy(UTERINE)
    data["procedures"][1]["status"] = "performed"
    done = case_from_data(data)
    assert survival(done, build_timeline(done)).liver_resection_day == 973  # 2025-06-02
