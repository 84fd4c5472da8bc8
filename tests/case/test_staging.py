"""Staging section of the assessment: the system by site, the stage at diagnosis, the recurrence.

Expected values are worked by hand from the staging tables (AJCC 8 chapters 41/44, FIGO
2009/2018 for uterine LMS) and the examples' data, not taken from livermet's output.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from livermet.case.assess import assess
from livermet.case.load import case_from_data, load_case
from livermet.case.staging import (
    SYSTEM_NAMES,
    combined_timing,
    staging_issues,
    staging_section,
    surveillance_stage,
)
from livermet.clinical.figo import BOUNDARY_NOTE, LIVER_M1_INTERPRETATION
from tests.conftest import SEED_CASE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
UTERINE = EXAMPLES / "preop-uterine-lms.yaml"
RETRO = EXAMPLES / "preop-retroperitoneal-lms.yaml"


def _data(path: Path) -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load(path.read_text()))


def _staging(data: dict[str, Any], grade: int | None = None, timing: Any = None) -> dict[str, Any]:
    return staging_section(case_from_data(data), grade, timing)


# --- the examples, end to end ---------------------------------------------------------------


@pytest.fixture(scope="module")
def uterine() -> dict[str, Any]:
    return cast(dict[str, Any], assess(load_case(UTERINE)).to_dict()["staging"])


@pytest.fixture(scope="module")
def retro() -> dict[str, Any]:
    return cast(dict[str, Any], assess(load_case(RETRO)).to_dict()["staging"])


def test_uterine_example_is_figo_ib_at_diagnosis(uterine: dict[str, Any]) -> None:
    # 9 cm pathology, confined to the uterus: 9 > 5 cm -> T1b; N0; liver lesions detected
    # 2024-12-02, 2 years 3 months after the diagnosis (2022-09-10): metachronous, so M0 at
    # diagnosis -> FIGO IB (T1b N0 M0).
    assert uterine["system"] == "figo-uterine-sarcoma"
    assert uterine["chapter"] == 54
    at = uterine["at_diagnosis"]
    assert (at["t"], at["n"], at["m"], at["stage"]) == ("T1b", "N0", "M0", "IB")
    assert at["stage_text"] == "FIGO IB"
    assert at["size_cm"] == 9 and at["size_method"] == "pathology"
    assert uterine["ajcc8"]["stage"] == "IB"  # AJCC 8 chapter 54 uses the FIGO stages
    assert uterine["distant_timing"] == "metachronous"


def test_uterine_example_recurrence_is_rm1_rivb(uterine: dict[str, Any]) -> None:
    rec = uterine["recurrence"]
    assert rec["classification"] == "rM1" and rec["m"] == "M1"
    assert rec["stage"] == "rIVB"
    assert rec["sites"] == ["liver"]
    assert "FIGO IB" in rec["text"]  # the stage at diagnosis is kept, not overwritten
    assert rec["engineering_choice"]
    assert rec["interpretations"] == [LIVER_M1_INTERPRETATION]


def test_retroperitoneal_example_is_t3_n1_m1_stage_iv(retro: dict[str, Any]) -> None:
    # 12.5 cm pathology (preferred to the 12 cm CT): 10 < 12.5 <= 15 -> T3; N1; the liver lesion
    # was seen on the day of diagnosis (2025-02-14): synchronous -> M1 -> stage IV. (N1 M0 would
    # have been IIIB in this chapter.)
    assert retro["system"] == "ajcc8-retroperitoneum"
    assert retro["chapter"] == 44
    at = retro["at_diagnosis"]
    assert (at["t"], at["n"], at["m"], at["stage"]) == ("T3", "N1", "M1", "IV")
    assert at["size_cm"] == 12.5 and at["size_method"] == "pathology"
    assert retro["ajcc8"]["stage"] == "IV"
    assert retro["recurrence"] is None  # synchronous: no r


def test_seed_case_unchanged() -> None:
    staging = assess(load_case(SEED_CASE)).to_dict()["staging"]
    aj = staging["ajcc8"]
    assert (aj["t"], aj["n"], aj["m"], aj["stage"]) == ("T3", "NX", "M1", "IV")
    assert staging["system"] == "ajcc8-extremity-trunk"
    assert staging["at_diagnosis"]["stage"] == "IV"
    assert staging["distant_timing"] == "synchronous"
    assert staging["recurrence"] is None


# --- the timing is a parameter --------------------------------------------------------------


def test_retroperitoneal_n1_without_timing_is_bounded() -> None:
    at = _staging(_data(RETRO), grade=2, timing=None)["at_diagnosis"]
    assert at["m"] is None and at["stage"] is None
    assert at["stage_candidates"] == ["IIIB", "IV"] and at["missing"] == ["M"]


def test_retroperitoneal_n1_metachronous_is_iiib_then_riv() -> None:
    s = _staging(_data(RETRO), grade=2, timing="metachronous")
    assert s["at_diagnosis"]["stage"] == "IIIB"  # N1 M0, retroperitoneum
    assert s["recurrence"]["stage"] == "rIV"


def test_uterine_synchronous_is_ivb_at_diagnosis_with_the_liver_interpretation() -> None:
    s = _staging(_data(UTERINE), timing="synchronous")
    assert s["at_diagnosis"]["stage"] == "IVB"
    assert s["at_diagnosis"]["interpretations"] == [LIVER_M1_INTERPRETATION]
    assert s["recurrence"] is None


def test_uterine_timing_unknown_is_ib_or_ivb() -> None:
    at = _staging(_data(UTERINE), timing=None)["at_diagnosis"]
    assert (at["stage"], at["stage_text"]) == (None, "FIGO IB or IVB")


def test_extremity_metachronous_keeps_the_stage_at_diagnosis() -> None:
    # Thigh LMS pT2 (8 cm) N0 G3 -> IIIA; liver metastasis later -> IIIA kept, recurrence rM1.
    data = copy.deepcopy(yaml.safe_load(SEED_CASE.read_text()))
    tumour = data["primary_tumour"]
    tumour["sizes"] = [{"method": "pathology", "greatest_dimension": "8 cm"}]
    tumour["nodal_status"] = "N0"
    s = _staging(data, grade=3, timing="metachronous")
    assert (s["at_diagnosis"]["m"], s["at_diagnosis"]["stage"]) == ("M0", "IIIA")
    assert s["ajcc8"]["stage"] == "IIIA"
    assert s["recurrence"]["classification"] == "rM1" and s["recurrence"]["stage"] == "rIV"
    # the follow-up plan still follows the distant disease
    assert surveillance_stage(s, case_from_data(data)) == "IV"


def test_combined_timing() -> None:
    assert combined_timing(["metachronous", "synchronous"]) == "synchronous"
    assert combined_timing(["metachronous", "metachronous"]) == "metachronous"
    assert combined_timing(["metachronous", None]) is None
    assert combined_timing([]) is None


# --- other systems ---------------------------------------------------------------------------


def test_uterine_5cm_boundary_note() -> None:
    data = _data(UTERINE)
    data["primary_tumour"]["sizes"] = [{"method": "pathology", "greatest_dimension": "50 mm"}]
    at = _staging(data, timing="metachronous")["at_diagnosis"]
    assert (at["t"], at["stage"]) == ("T1a", "IA")
    assert BOUNDARY_NOTE in at["notes"]


def test_uterine_size_unknown_is_stage_i() -> None:
    data = _data(UTERINE)
    data["primary_tumour"]["sizes"] = []
    at = _staging(data, timing="metachronous")["at_diagnosis"]
    assert at["stage"] is None and at["stage_text"] == "FIGO I (IA or IB)"
    assert at["missing"] == ["size"]


@pytest.mark.parametrize("histology", ["adenosarcoma", "carcinosarcoma"])
def test_uterine_histologies_outside_the_lms_scheme_are_not_staged(histology: str) -> None:
    data = _data(UTERINE)
    data["primary_tumour"]["histology"] = histology
    s = _staging(data, timing="metachronous")
    assert s["system"] == "not-staged" and s["ajcc8"]["stage"] is None
    assert s["ajcc8"]["reason"]


def test_visceral_names_chapter_42_without_stage_groups() -> None:
    data = _data(RETRO)
    data["primary_tumour"]["site_group"] = "visceral"
    s = _staging(data, grade=2, timing="synchronous")
    assert s["system"] == "ajcc8-visceral-no-stage-groups" and s["chapter"] == 42
    assert s["at_diagnosis"]["stage"] is None
    assert s["at_diagnosis"]["stage_text"] == "no AJCC stage group (chapter 42)"
    assert (s["at_diagnosis"]["n"], s["at_diagnosis"]["m"]) == ("N1", "M1")
    assert s["recurrence"] is None
    assert surveillance_stage(s, case_from_data(data)) is None


def test_gist_is_not_staged_by_the_soft_tissue_chapters() -> None:
    data = _data(RETRO)
    data["primary_tumour"]["histology"] = "gastrointestinal stromal tumour"
    s = _staging(data, timing="synchronous")
    assert s["system"] == "not-staged" and "43" in s["ajcc8"]["reason"]


def test_other_site_group_is_not_staged() -> None:
    data = _data(RETRO)
    data["primary_tumour"]["site_group"] = "other"
    s = _staging(data, timing="synchronous")
    assert s["system"] == "not-staged" and s["chapter"] is None


def test_every_system_has_a_name() -> None:
    assert set(SYSTEM_NAMES) == {
        "ajcc8-extremity-trunk",
        "ajcc8-retroperitoneum",
        "figo-uterine-sarcoma",
        "ajcc8-head-neck-no-stage-groups",
        "ajcc8-visceral-no-stage-groups",
        "not-staged",
    }


def test_metachronous_extrahepatic_sites_join_the_recurrence() -> None:
    data = _data(UTERINE)
    data["extrahepatic_metastases"] = ["lung"]
    s = _staging(data, timing="metachronous")
    assert s["recurrence"]["sites"] == ["liver", "lung"]
    assert s["at_diagnosis"]["m"] == "M0"


# --- findings ------------------------------------------------------------------------------


def test_findings_of_the_staging() -> None:
    data = _data(UTERINE)
    data["primary_tumour"]["sizes"] = [{"method": "pathology", "greatest_dimension": "50 mm"}]
    codes = {code for _, code, _ in staging_issues(_staging(data, timing="metachronous"))}
    assert codes == {"figo-5cm-boundary", "liver-metastasis-staged-as-m1"}
    issues = staging_issues(_staging(_data(RETRO), grade=2, timing=None))
    assert [code for _, code, _ in issues] == ["stage-at-diagnosis-undecided"]
    assert "IIIB or IV" in issues[0][2] and "M" in issues[0][2]
    data = _data(UTERINE)
    data["primary_tumour"]["histology"] = "carcinosarcoma"
    codes = {code for _, code, _ in staging_issues(_staging(data, timing="metachronous"))}
    assert codes == {"primary-not-staged"}


def test_seed_case_has_no_staging_finding() -> None:
    assert staging_issues(assess(load_case(SEED_CASE)).to_dict()["staging"]) == []
