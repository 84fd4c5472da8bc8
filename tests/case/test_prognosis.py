"""``prognostic_factors[]``: each factor's value, direction and source, at every cut-off.

Cut-offs: DeMatteo 2001 (> 24 months), Adam 2006 (< 12 months; age > 60), Jain 2023 (>= 12
months), Tirotta 2020 (>= 100 mm; extrahepatic disease; non-response), Zacherl 2011 (> 50 mm).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from livermet.case.assess import assess
from livermet.case.load import case_from_data, load_case
from livermet.case.prognosis import grade_range, prognostic_factors
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
UTERINE = yaml.safe_load((EXAMPLES / "preop-uterine-lms.yaml").read_text())


def _panel(
    case_data: dict[str, Any], data: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    case = case_from_data(case_data)
    rows = prognostic_factors(case, data if data is not None else assess(case).to_dict())
    return {row["factor"]: row for row in rows}


def _with(**changes: Any) -> dict[str, Any]:
    d: dict[str, Any] = copy.deepcopy(UTERINE)
    d.update(changes)
    return d


@pytest.fixture(scope="module")
def uterine() -> dict[str, Any]:
    return assess(case_from_data(copy.deepcopy(UTERINE))).to_dict()


def test_every_row_has_value_direction_effect_and_source(uterine: dict[str, Any]) -> None:
    rows = uterine["prognostic_factors"]
    assert [r["factor"] for r in rows][:7] == [
        "disease-free interval",
        "extrahepatic disease",
        "histology",
        "largest liver lesion",
        "number of liver lesions",
        "response to chemotherapy",
        "liver resection margin (expected)",
    ]
    for r in rows:
        assert r["direction"] in ("favourable", "unfavourable", "mixed", "not known")
        assert r["effect"] and r["source"] and r["population"]
        assert "points" not in r and "score" not in r  # cite, don't score
        assert ".md" not in r["source"] and "[V" not in r["effect"]
        if r["direction"] == "not known":
            assert r["missing"] or r.get("note")


def test_uterine_panel_by_hand(uterine: dict[str, Any]) -> None:
    rows = {r["factor"]: r for r in uterine["prognostic_factors"]}
    # extrahepatic: [] = none found -> favourable
    assert (rows["extrahepatic disease"]["value"], rows["extrahepatic disease"]["direction"]) == (
        "none found",
        "favourable",
    )
    assert rows["histology"]["direction"] == "unfavourable"  # leiomyosarcoma
    # largest 34 mm: not > 50 mm, not >= 100 mm
    assert rows["largest liver lesion"]["value"] == {"size_mm": 34.0}
    assert rows["largest liver lesion"]["direction"] == "favourable"
    # 2 lesions: multiple (engineering reading of "more = worse")
    assert rows["number of liver lesions"]["value"] == 2
    assert rows["number of liver lesions"]["direction"] == "unfavourable"
    assert "engineering choice" in rows["number of liver lesions"]["note"]
    # SD on doxorubicin: no objective response -> unfavourable
    resp = rows["response to chemotherapy"]
    assert resp["value"]["recist"] == "SD" and resp["direction"] == "unfavourable"
    # central bisectionectomy 4, 5, 8 covers L1 (4) and L2 (8)
    assert rows["liver resection margin (expected)"]["direction"] == "favourable"
    assert rows["margin of the primary resection"]["value"] == "R0"
    # FNCLCC: mitoses 25 -> 3, necrosis < 50 % -> 1, differentiation unknown -> 5..7: grade 2..3
    grade = rows["grade of the primary (FNCLCC)"]
    assert grade["value"] == {"grade_min": 2, "grade_max": 3}
    assert grade["direction"] == "not known"
    assert grade["missing"] == ["FNCLCC components: differentiation"]
    assert (rows["age"]["value"], rows["age"]["direction"]) == (55, "favourable")  # not > 60


def test_uterine_dfi_when_the_timeline_gives_it(uterine: dict[str, Any]) -> None:
    dfi = uterine["timeline"].get("disease_free_interval_months")
    row = next(r for r in uterine["prognostic_factors"] if r["factor"] == "disease-free interval")
    if dfi is None:  # the timeline part may not provide it: then the factor is not known
        assert row["direction"] == "not known" and row["missing"]
    else:
        # hysterectomy 2022-10-03 -> liver metastases 2024-12-02: 791 days / 30.4375 = 26.0
        assert dfi == pytest.approx(26.0, abs=0.05)
        assert row["value"]["months"] == pytest.approx(26.0, abs=0.05)
        assert row["direction"] == "favourable"  # > 24, >= 12, not < 12


@pytest.mark.parametrize(
    ("months", "votes", "direction"),
    [
        (11.9, ("unfavourable", "unfavourable", "unfavourable"), "unfavourable"),
        (12.0, ("unfavourable", "favourable", "favourable"), "mixed"),
        (24.0, ("unfavourable", "favourable", "favourable"), "mixed"),
        (24.1, ("favourable", "favourable", "favourable"), "favourable"),
    ],
)
def test_dfi_cut_offs(months: float, votes: tuple[str, str, str], direction: str) -> None:
    data = {"timeline": {"disease_free_interval_months": months}}
    row = _panel(copy.deepcopy(UTERINE), data)["disease-free interval"]
    assert tuple(row["value"]["by_cut_off"][k] for k in ("DeMatteo", "Adam", "Jain")) == votes
    assert row["direction"] == direction


def test_dfi_absent_is_not_known_and_synchronous_is_zero() -> None:
    row = _panel(copy.deepcopy(UTERINE), {"timeline": {}})["disease-free interval"]
    assert (row["value"], row["direction"]) == (None, "not known") and row["missing"]
    row = _panel(copy.deepcopy(UTERINE), {"timeline": {"metastasis_timing": "synchronous"}})[
        "disease-free interval"
    ]
    assert row["value"]["months"] == 0.0 and row["direction"] == "unfavourable"
    assert "never disease-free" in row["note"]


@pytest.mark.parametrize(
    ("sizes", "direction"),
    [
        (["50 mm", "20 mm"], "favourable"),  # not > 50
        (["50.1 mm", "20 mm"], "unfavourable"),  # > 50 mm: shorter RFS (Zacherl)
        (["10 cm"], "unfavourable"),  # >= 100 mm: shorter OS (Tirotta)
    ],
)
def test_largest_lesion_cut_offs(sizes: list[str], direction: str) -> None:
    lesions = [{"segments": [4 + i], "size": s} for i, s in enumerate(sizes)]
    row = _panel(_with(liver_lesions=lesions), {})["largest liver lesion"]
    assert row["direction"] == direction


def test_unmeasured_lesion_bounds_the_size() -> None:
    small = [{"segments": [4], "size": "30 mm"}, {"segments": [8]}]
    row = _panel(_with(liver_lesions=small), {})["largest liver lesion"]
    assert row["direction"] == "not known" and row["missing"] == ["liver_lesions[1].size"]
    big = [{"segments": [4], "size": "60 mm"}, {"segments": [8]}]
    row = _panel(_with(liver_lesions=big), {})["largest liver lesion"]
    assert row["direction"] == "unfavourable"  # > 50 mm whatever the other measures


@pytest.mark.parametrize(
    ("sites", "value", "direction"),
    [
        (None, None, "not known"),
        ([], "none found", "favourable"),
        (["lung"], "lung", "unfavourable"),
    ],
)
def test_extrahepatic(sites: list[str] | None, value: str | None, direction: str) -> None:
    d = copy.deepcopy(UTERINE)
    if sites is None:
        d.pop("extrahepatic_metastases")
    else:
        d["extrahepatic_metastases"] = sites
    row = _panel(d, {})["extrahepatic disease"]
    assert (row["value"], row["direction"]) == (value, direction)


@pytest.mark.parametrize(
    ("histology", "direction"),
    [
        ("leiomyosarcoma", "unfavourable"),
        ("gastrointestinal stromal tumour", "favourable"),
        ("liposarcoma", "not known"),
    ],
)
def test_histology(histology: str, direction: str) -> None:
    d = copy.deepcopy(UTERINE)
    d["primary_tumour"]["histology"] = histology
    assert _panel(d, {})["histology"]["direction"] == direction


@pytest.mark.parametrize(("age", "direction"), [(60, "favourable"), (61, "unfavourable")])
def test_age_cut_off(age: int, direction: str) -> None:
    d = copy.deepcopy(UTERINE)
    d["patient"]["age_years"] = age
    assert _panel(d, {})["age"]["direction"] == direction


def test_plan_that_misses_lesions_expects_r2() -> None:
    case = load_case(EXAMPLES / "preop-plan-misses-lesions.yaml")
    rows = {r["factor"]: r for r in assess(case).to_dict()["prognostic_factors"]}
    margin = rows["liver resection margin (expected)"]
    # left lateral sectionectomy (2, 3) leaves L1 (segment 4) and L2 (segment 8)
    assert margin["direction"] == "unfavourable"
    assert "R2 expected" in margin["value"] and "L1, L2" in margin["value"]


def test_seed_case_panel(seed_path: Path) -> None:
    rows = {r["factor"]: r for r in assess(load_case(seed_path)).to_dict()["prognostic_factors"]}
    # research note's worked example: synchronous -> DFI 0, adverse by every rule; no extrahepatic
    # disease; LMS; solitary 21 mm; R0 liver; primary margin not stated; age 80 (> 60);
    # no chemotherapy -> response not known
    assert rows["disease-free interval"]["value"]["months"] == 0.0
    assert rows["disease-free interval"]["direction"] == "unfavourable"
    assert rows["extrahepatic disease"]["direction"] == "favourable"
    assert rows["histology"]["direction"] == "unfavourable"
    assert rows["largest liver lesion"]["value"] == {"size_mm": 21.0}
    assert rows["number of liver lesions"]["direction"] == "favourable"
    assert rows["liver resection margin"]["value"] == "R0"
    assert rows["margin of the primary resection"]["direction"] == "not known"
    assert rows["age"]["direction"] == "unfavourable"
    assert rows["response to chemotherapy"]["direction"] == "not known"
    assert rows["grade of the primary (FNCLCC)"]["value"] == 3


@pytest.mark.parametrize(
    ("total_min", "total_max", "expected"),
    [(2, 3, (1, 1)), (3, 4, (1, 2)), (5, 6, (2, 3)), (4, 8, (2, 3)), (6, 8, (3, 3))],
)
def test_grade_range_from_totals(total_min: int, total_max: int, expected: tuple[int, int]) -> None:
    # FNCLCC: total 2-3 -> grade 1, 4-5 -> 2, 6-8 -> 3
    grading = {"fnclcc": {"total_min": total_min, "total_max": total_max}}
    assert grade_range(grading) == expected
    assert grade_range({"fnclcc": {}}) is None


def test_not_evaluable_response_is_not_known() -> None:
    d = copy.deepcopy(UTERINE)
    d["imaging"][1]["measurements"].pop()
    row = _panel(d)["response to chemotherapy"]
    assert row["direction"] == "not known" and row["missing"]
