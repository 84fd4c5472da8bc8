"""The assessment on variations of the seed case: each rule reacts to the facts it reads.

Expected values are the spec's worked examples (clinical-scores.md) or follow from its tables.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from livermet.case.assess import assess
from livermet.case.load import case_from_data
from tests.conftest import SEED_CASE

SEED = yaml.safe_load(SEED_CASE.read_text())


def _assess(mutate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(SEED)
    mutate(data)
    return assess(case_from_data(data)).to_dict()


def _verdicts(result: dict[str, Any]) -> dict[str, str]:
    return {o["option"]: o["verdict"] for o in result["options"]}


def test_labs_in_si_units_give_child_pugh_albi_meld() -> None:
    def labs(d: dict[str, Any]) -> None:
        d["labs"] = {
            "bilirubin": "8.55 umol/L",  # 0.5 mg/dL
            "albumin": "42 g/L",  # 4.2 g/dL
            "inr": 1.0,
            "creatinine": "70.72 umol/L",  # 0.8 mg/dL
            "sodium": "140 mmol/L",
            "ascites": "none",
            "encephalopathy": "none",
        }

    r = _assess(labs)["liver_function"]
    assert (r["child_pugh"]["points"], r["child_pugh"]["class"]) == (5, "A")
    assert r["albi"]["score"] == pytest.approx(-2.955, abs=5e-4)  # spec §4 worked example
    assert r["albi"]["grade"] == 1
    assert r["meld"]["meld"] == 6  # all floored to 1.0 (spec §5)


def test_poor_icg_makes_the_sectionectomy_unsafe() -> None:
    def icg(d: dict[str, Any]) -> None:
        d["liver_function"]["icg_r15"] = "25 %"  # Makuuchi: segmentectomy at most (spec §6)

    r = _assess(icg)
    assert r["liver_function"]["makuuchi"]["max_extent"] == "segmentectomy"
    assert r["resection"]["within_safe_extent"] is False
    # The sectionectomy (rung 4) exceeds the limit (rung 3), but segmentectomy 7 (rung 3) still
    # clears the S7 lesion within it (spec worked example: "within: partial, segmentectomy 7;
    # RPS not within"), so resection stays possible rather than not favoured (issue 10).
    assert r["resection"]["clearing_within_safe_extent"] == ["segmentectomy 7"]
    assert _verdicts(r)["liver resection"] == "possible"
    assert "plan-beyond-safe-extent" in {f["code"] for f in r["findings"]}
    assert _verdicts(r)["systemic chemotherapy"] == "possible"


def test_extrahepatic_disease_disfavours_resection() -> None:
    r = _assess(lambda d: d.update(extrahepatic_metastases=["lung"]))
    assert _verdicts(r)["liver resection"] == "not favoured"
    assert _verdicts(r)["observation"] == "possible"


def test_unknown_extrahepatic_staging_makes_resection_only_possible() -> None:
    r = _assess(lambda d: d.pop("extrahepatic_metastases"))
    assert _verdicts(r)["liver resection"] == "possible"


def test_hypervascular_lesion_keeps_chemoembolisation_possible() -> None:
    def hyper(d: dict[str, Any]) -> None:
        d["liver_lesions"][0]["vascularity"] = "hypervascular"

    assert _verdicts(_assess(hyper))["chemoembolisation"] == "possible"


def test_known_variant_completes_the_fnclcc_total() -> None:
    def variant(d: dict[str, Any]) -> None:
        d["primary_tumour"]["histology_variant"] = "conventional"

    fn = _assess(variant)["grading"]["fnclcc"]
    assert (fn["differentiation_score"], fn["total"], fn["grade"]) == (2, 7, 3)  # spec §1


def test_reported_grade_that_disagrees_is_a_finding() -> None:
    def graded(d: dict[str, Any]) -> None:
        d["primary_tumour"]["reported_grade"] = 2

    codes = {f["code"] for f in _assess(graded)["findings"]}
    assert "grade-discordant" in codes


def test_readmission_stated_gives_textbook_outcome() -> None:
    def stated(d: dict[str, Any]) -> None:
        d["procedures"][1]["readmission_90d"] = False

    r = _assess(stated)
    assert r["outcomes"]["liver_resection"]["textbook_outcome"]["status"] == "achieved"
    assert "readmission-not-reported" not in {f["code"] for f in r["findings"]}


def test_major_complication_fails_textbook_outcome() -> None:
    def major(d: dict[str, Any]) -> None:
        proc = d["procedures"][1]
        proc.pop("no_complications")
        proc["readmission_90d"] = False
        proc["complications"] = [
            {
                "description": "bile leak",
                "treatment": "percutaneous drainage",
                "clavien_dindo": "IIIa",
            }
        ]

    o = _assess(major)["outcomes"]["liver_resection"]
    assert o["clavien_dindo"] == "IIIa"
    assert o["cci"] == 26.2  # single IIIa (spec §12)
    assert o["textbook_outcome"]["status"] == "not achieved"


def test_grade_suggested_from_treatment_when_not_given() -> None:
    def ungraded(d: dict[str, Any]) -> None:
        d["procedures"][0]["complications"][0].pop("clavien_dindo")

    o = _assess(ungraded)["outcomes"]["primary_resection"]
    assert o["clavien_dindo"] == "II"  # antibiotics -> II (Dindo 2004)
    assert o["cci"] == 20.9


def test_volumetry_and_remnant_icg() -> None:
    def volumes(d: dict[str, Any]) -> None:
        d["liver_function"].update(
            total_liver_volume="1200 mL", future_liver_remnant_volume="900 mL"
        )

    rem = _assess(volumes)["liver_function"]["remnant"]
    assert rem["flr_percent"] == 75.0
    assert rem["minimum_flr_percent"] == 20  # normal liver (spec §9)
    assert rem["flr_adequate"] is True
    assert rem["icg_kf"] == pytest.approx(0.157, abs=5e-4)  # spec §7 worked example
    assert rem["icg_kf_acceptable"] is True


def test_resection_name_that_contradicts_segments() -> None:
    def wrong(d: dict[str, Any]) -> None:
        d["procedures"][1]["segments_resected"] = [7]

    r = _assess(wrong)
    assert r["resection"]["procedure_name"] == "segmentectomy 7"
    assert "resection-name-discordant" in {f["code"] for f in r["findings"]}


def test_retroperitoneal_site_is_staged_by_its_own_chapter() -> None:
    def retro(d: dict[str, Any]) -> None:
        d["primary_tumour"]["site_group"] = "retroperitoneum"

    staging = _assess(retro)["staging"]
    # 15 cm specimen -> T3; synchronous liver metastasis -> M1 -> stage IV (AJCC 8 ch. 44).
    assert staging["system"] == "ajcc8-retroperitoneum"
    assert (staging["ajcc8"]["t"], staging["ajcc8"]["m"], staging["ajcc8"]["stage"]) == (
        "T3",
        "M1",
        "IV",
    )


def test_head_and_neck_site_names_its_chapter_without_stage_groups() -> None:
    def neck(d: dict[str, Any]) -> None:
        d["primary_tumour"]["site_group"] = "head_neck"

    staging = _assess(neck)["staging"]
    assert staging["system"] == "ajcc8-head-neck-no-stage-groups"
    assert staging["chapter"] == 40 and staging["stage_groups"] is False
    assert staging["ajcc8"]["stage"] is None and "no stage groups" in staging["ajcc8"]["reason"]
    assert staging["at_diagnosis"]["t"] == "T3"  # 15 cm > 4 cm (head and neck T3)
