"""``liver_function.child_pugh`` (bounded) and ``liver_function.meld`` (MELD, MELD-Na, MELD 3.0).

Expected values worked by hand from the Pugh 1973 table and the MELD formulas (Kamath 2001,
Kim 2008, Kim 2021).
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from livermet.case.liver_scores import child_pugh_section, meld_section
from livermet.case.load import case_from_data
from tests.conftest import ROOT

UTERINE = yaml.safe_load((ROOT / "examples" / "preop-uterine-lms.yaml").read_text())


def _case(labs: dict[str, Any] | None = None, **patient: Any) -> Any:
    data = copy.deepcopy(UTERINE)
    if labs is not None:
        data["labs"] = labs
    data["patient"].update(patient)
    return case_from_data(data)


def test_uterine_child_pugh_5_a() -> None:
    # bilirubin 0.9 (< 2: 1) + albumin 4.1 (> 3.5: 1) + INR 1.0 (< 1.7: 1) + no ascites (1)
    # + no encephalopathy (1) = 5 -> A
    cp = child_pugh_section(_case())
    assert (cp["points"], cp["class"], cp["points_min"], cp["points_max"]) == (5, "A", 5, 5)
    assert cp["status"] == "assessed" and cp["missing"] == []


def test_unknown_items_give_a_range_and_name_what_is_missing() -> None:
    # known bilirubin, albumin, INR: 3 points; ascites and encephalopathy 1-3 each -> 5..9
    cp = child_pugh_section(_case({"bilirubin": 0.9, "albumin": 4.1, "inr": 1.0}))
    assert cp["points"] is None
    assert (cp["points_min"], cp["points_max"], cp["points_range"]) == (5, 9, "5-9")
    assert cp["class"] is None and cp["status"] == "not assessable"
    assert cp["missing"] == ["ascites", "encephalopathy"]


def test_class_decided_with_an_unknown_item() -> None:
    # bilirubin 2.5 (2) + albumin 3.0 (2) + INR 1.0 (1) + mild/controlled ascites (2) = 7 known;
    # unknown encephalopathy 1..3 -> 8..10: B or C, undecided
    labs = {"bilirubin": 2.5, "albumin": 3.0, "inr": 1.0, "ascites": "controlled"}
    cp = child_pugh_section(_case(labs))
    assert (cp["points_min"], cp["points_max"], cp["class"]) == (8, 10, None)
    # with INR 1.0 and albumin 4.1 instead: 2 + 1 + 1 + 2 = 6 known -> 7..9: B whatever it is
    labs = {"bilirubin": 2.5, "albumin": 4.1, "inr": 1.0, "ascites": "controlled"}
    cp = child_pugh_section(_case(labs))
    assert (cp["points_min"], cp["points_max"], cp["class"]) == (7, 9, "B")
    assert cp["status"] == "class decided" and cp["missing"] == ["encephalopathy"]


def test_si_labs_use_the_si_table() -> None:
    # 34 umol/L: SI table 34-50 -> 2 points; as 1.99 mg/dL the conventional table would give 1
    cp = child_pugh_section(
        _case(
            {
                "bilirubin": "34 umol/L",
                "albumin": "36 g/L",
                "inr": 1.0,
                "ascites": "none",
                "encephalopathy": "none",
            }
        )
    )
    assert cp["components"]["bilirubin"] == 2  # SI table: 34-50 umol/L -> 2 (mg/dL would say 1)
    assert cp["thresholds"].startswith("SI")


def test_uterine_meld_scores() -> None:
    assumptions: list[str] = []
    m = meld_section(_case(), assumptions)
    # Cr 0.8, bili 0.9, INR 1.0 all floored to 1.0 -> MELD(i) 0.643 -> 6; MELD <= 11: MELD-Na 6
    assert (m["meld"], m["meld_na"]) == (6, 6)
    # MELD 3.0: female 1.33 + 6 (every log and deficit term 0) = 7.33 -> 7
    assert m["meld_3"] == 7
    assert m["missing"] == [] and m["status"] == "assessed"
    assert assumptions == [
        "Not on dialysis assumed for MELD: dialysis is not recorded (patient.dialysis)."
    ]


def test_dialysis_sets_creatinine_and_needs_no_value() -> None:
    labs = {"bilirubin": 4.2, "inr": 1.2, "sodium": 130, "albumin": 3.0}
    assumptions: list[str] = []
    m = meld_section(_case(labs, dialysis=True, sex="male"), assumptions)
    # UNOS: Cr -> 4.0: 0.957 ln4 (1.3267) + 0.378 ln4.2 (0.5425) + 1.12 ln1.2 (0.2042) + 0.643
    # = 2.7163 -> 2.7 -> 27
    assert m["meld"] == 27
    # MELD 3.0: Cr -> 3.0 (Kim 2021): 29.689 -> 30 (worked in tests/clinical/test_meld.py)
    assert m["meld_3"] == 30
    assert assumptions == []


def test_meld_3_not_assessable_names_its_missing_inputs() -> None:
    labs = {"bilirubin": 0.9, "inr": 1.0, "creatinine": 0.8}
    m = meld_section(_case(labs, sex="other", dialysis=False), [])
    assert m["meld"] == 6
    assert m["meld_na"] == 6  # MELD <= 11: sodium not needed
    assert m["meld_3"] is None
    assert m["not_assessable"] == {"meld_3": ["sodium", "albumin", "sex (female or male)"]}
    assert m["missing"] == ["albumin", "sex (female or male)", "sodium"]


def test_meld_na_needs_sodium_above_11() -> None:
    labs = {"bilirubin": 4.2, "inr": 1.2, "creatinine": 1.9}
    m = meld_section(_case(labs, dialysis=False), [])
    assert m["meld"] == 20  # the Medscape example
    assert m["meld_na"] is None and m["not_assessable"]["meld_na"] == ["sodium"]


def test_meld_not_assessable_without_creatinine() -> None:
    m = meld_section(_case({"bilirubin": 0.9, "inr": 1.0}), [])
    assert m == {"value": None, "status": "not assessable", "missing": ["creatinine"]}
