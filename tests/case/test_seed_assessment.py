"""The case report's patient, assessed end to end.

Expected values come from the case report's text and the worked examples of
shared/spec/clinical-scores.md, not from livermet's own output.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from livermet.case.assess import assess
from livermet.case.load import load_case
from tests.conftest import SEED_CASE


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return assess(load_case(SEED_CASE)).to_dict()


def test_fnclcc_grade_3_with_differentiation_unknown(result: dict[str, Any]) -> None:
    fn = result["grading"]["fnclcc"]
    # 42 mitoses/10 HPF -> 3; necrosis > 50 % -> 2 (spec §1 worked example).
    assert (fn["mitosis_score"], fn["necrosis_score"]) == (3, 2)
    assert fn["differentiation_score"] is None  # the report does not state it
    assert (fn["total_min"], fn["total_max"]) == (6, 8)
    assert fn["grade"] == 3  # = the report's "FNCLCC grade III"


def test_ajcc_stage_iv_t3_from_the_specimen(result: dict[str, Any]) -> None:
    aj = result["staging"]["ajcc8"]
    assert aj["t"] == "T3"  # 15 cm pathology specimen, T3 is "> 10 and <= 15 cm"
    assert aj["m"] == "M1"
    assert aj["stage"] == "IV"
    assert aj["size_method"] == "pathology"


def test_liver_function(result: dict[str, Any]) -> None:
    lf = result["liver_function"]
    assert lf["icg"]["r15_percent"] == 4.3
    # ln(100/4.3)/15 = 0.20978... (spec §7 worked example 0.2098)
    assert lf["icg"]["k_per_min"] == pytest.approx(math.log(100 / 4.3) / 15, abs=5e-5)
    assert lf["gsa"] == {**lf["gsa"], "hh15": 0.535, "lhl15": 0.933, "assessment": "normal"}
    assert lf["makuuchi"]["max_extent"] == "right hemihepatectomy or trisectionectomy"
    assert lf["child_pugh"]["status"] == "not assessable"  # no lab values in the report


def test_resection(result: dict[str, Any]) -> None:
    rs = result["resection"]
    assert rs["segments"] == [6, 7]
    assert rs["procedure_name"] == "right posterior sectionectomy"
    assert rs["approach"] == "laparoscopic"
    assert rs["within_safe_extent"] is True
    assert rs["difficulty"]["grade"] == "III"
    assert rs["tumour_segments"] == [7]
    assert "right posterior sectionectomy" in rs["candidates"]


def test_liver_resection_outcome(result: dict[str, Any]) -> None:
    o = result["outcomes"]["liver_resection"]
    assert o["clavien_dindo"] == "none"
    assert o["cci"] == 0
    assert o["operative_minutes"] == 314  # 5 h 14 min
    assert o["blood_loss_ml"] == 80
    assert o["length_of_stay_days"] == 11
    # readmission not reported -> not assessable, no criterion failed (spec §13 worked example)
    assert o["textbook_outcome"]["status"] == "not assessable"
    assert o["textbook_outcome"]["missing"] == ["readmission_90d"]


def test_primary_resection_outcome(result: dict[str, Any]) -> None:
    o = result["outcomes"]["primary_resection"]
    assert o["clavien_dindo"] == "II"  # antibiotics (Dindo 2004)
    assert o["cci"] == 20.9  # sqrt(1750)/2 (spec §12)
    assert o["length_of_stay_days"] == 25


def test_timeline(result: dict[str, Any]) -> None:
    tl = result["timeline"]
    assert tl["metastasis_timing"] == "synchronous"
    assert tl["liver_resection_after_primary_months"] == 4
    assert tl["follow_up_after_liver_resection_months"] == 5
    assert tl["follow_up_after_primary_months"] == 9


def test_the_three_findings(result: dict[str, Any]) -> None:
    codes = {f["code"]: f for f in result["findings"]}
    size = codes["primary-size-discordant"]["message"]
    assert "18 cm" in size and "25 mm" in size and "15 cm" in size
    period = codes["observation-period-discordant"]["message"]
    assert "7 months" in period and "5.0 months" in period
    assert codes["readmission-not-reported"]["severity"] == "warning"
    assert all(set(f) == {"severity", "code", "message"} for f in result["findings"])


def test_options_follow_the_report(result: dict[str, Any]) -> None:
    verdicts = {o["option"]: o["verdict"] for o in result["options"]}
    assert verdicts == {
        "liver resection": "favoured",
        "systemic chemotherapy": "not favoured",
        "chemoembolisation": "not favoured",
        "ablation": "possible",
        "observation": "not favoured",
    }
    reasons = {o["option"]: " ".join(r["text"] for r in o["reasons"]) for o in result["options"]}
    assert "solitary" in reasons["liver resection"]
    assert "re-resection" in reasons["liver resection"]
    assert "hypovascular" in reasons["chemoembolisation"]
    assert "response rate" in reasons["systemic chemotherapy"]
    assert all(r["source"] for o in result["options"] for r in o["reasons"])


def test_surveillance_plan_present(result: dict[str, Any]) -> None:
    sv = result["surveillance"]
    assert sv["rows"] and sv["visits_months"]
    assert sv["visits_months"] == sorted(sv["visits_months"])


def test_notice(result: dict[str, Any]) -> None:
    assert "not medical advice" in result["notice"]


def test_evidence_section(result: dict[str, Any]) -> None:
    ev = result["evidence"]
    five = next(p for p in ev["pooled_survival"] if p["months"] == 60)
    # metafor 3.8-1, PLO/REML/z on Table 1's 5-year column (shared/refs, tight file)
    assert five["estimate"] == pytest.approx(0.388858019806682, rel=1e-7)
    assert five["pi_lb"] == pytest.approx(0.249539702962745, rel=1e-7)
    assert five["k"] == 10
    rng = ev["range_across_series"]
    # The case report: "5-year OS of 12-51.8 % and a median survival time of 11-77 months"
    assert (rng["os5_percent"]["min"], rng["os5_percent"]["max"]) == (12, 51.8)
    assert (rng["median_months"]["min"], rng["median_months"]["max"]) == (11, 77)
    med = ev["pooled_median_months"]
    assert med["ci_lb"] < med["estimate"] < med["ci_ub"]
    assert {e["id"] for e in med["excluded_medians"]} == {
        "foster1978",
        "groeschl2012",
        "grimme2019",
    }
    assert any("43.7-88" in q["text"] for q in ev["quoted"])
    assert all(q["source"] for q in ev["quoted"])
