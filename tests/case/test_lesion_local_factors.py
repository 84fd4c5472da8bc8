"""A lesion's local factors in the case file.

The surgeon's "peripheral" judgement (partial resection), the distance to the bile ducts and the
vessel abutting it (ablation).

Thresholds (livermet.clinical.ablation, from the pre-operative spec's sources): bile-duct distance
>= 10 mm (Lin, Dig Dis Sci 2017); a vessel > 3 mm abutting the lesion is a heat-sink risk (Lu, AJR
2002). The uterine example has L1 in segment 4 (28 mm) and L2 in segment 8 (34 mm); 28 mm <= 30 mm
(COLLISION) and 34 mm > 30 mm.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livermet.case.assess import assess
from livermet.case.load import case_from_data
from tests.conftest import ROOT

UTERINE = ROOT / "examples" / "preop-uterine-lms.yaml"


def _variant(mutate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = yaml.safe_load(UTERINE.read_text())
    mutate(data)
    return assess(case_from_data(data)).to_dict()


def _lesion(index: int, **fields: object) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        d["liver_lesions"][index].update(fields)

    return mutate


def _both(**fields: object) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        for lesion in d["liver_lesions"]:
            lesion.update(fields)

    return mutate


def _criterion(row: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in row["criteria"] if c["criterion"] == name)


# --- bile-duct distance: >= 10 mm meets the criterion -----------------------------------------


@pytest.mark.parametrize(
    ("distance", "status", "eligible"),
    [
        ("9.9 mm", "not met", False),
        ("10 mm", "met", True),
        ("10.1 mm", "met", True),
        ("1 cm", "met", True),  # 1 cm = 10 mm, converted
        ("0 mm", "not met", False),
    ],
)
def test_bile_duct_distance_threshold(distance: str, status: str, eligible: bool) -> None:
    r = _variant(_lesion(0, bile_duct_distance=distance))
    row = r["resection"]["ablation"][0]  # L1, 28 mm: size, number and extrahepatic criteria met
    assert _criterion(row, "bile-duct distance")["status"] == status
    assert row["eligible"] is eligible
    assert row["status"] == ("eligible" if eligible else "not eligible")


def test_unknown_bile_duct_distance_is_not_assessable_never_eligible() -> None:
    r = _variant(lambda d: None)
    row = r["resection"]["ablation"][0]
    assert _criterion(row, "bile-duct distance")["status"] == "not assessable"
    assert row["eligible"] is None and row["status"] == "not assessable"


def test_large_lesion_stays_ineligible_whatever_the_distance() -> None:
    r = _variant(_lesion(1, bile_duct_distance="25 mm"))
    row = r["resection"]["ablation"][1]  # L2, 34 mm > 30 mm
    assert _criterion(row, "size")["status"] == "not met"
    assert row["eligible"] is False


def test_eligible_lesion_is_worded_in_the_ablation_option() -> None:
    r = _variant(_lesion(0, bile_duct_distance="15 mm"))
    ablation = next(o for o in r["options"] if o["option"] == "ablation")
    texts = [reason["text"] for reason in ablation["reasons"]]
    assert any("segment 4 (28 mm) meets the size, number and location limits" in t for t in texts)
    sources = " ".join(reason["source"] for reason in ablation["reasons"])
    assert "Lin MX" in sources
    # L2 (34 mm) still fails the size limit: ablation of every lesion is not favoured
    assert ablation["verdict"] == "not favoured"


# --- abutting vessel: > 3 mm is a heat-sink risk -----------------------------------------------


@pytest.mark.parametrize(
    ("vessel", "risk"),
    [("0 mm", False), ("3 mm", False), ("3.1 mm", True), ("0.5 cm", True), (None, None)],
)
def test_heat_sink_threshold(vessel: str | None, risk: bool | None) -> None:
    mutate = _lesion(0, bile_duct_distance="15 mm")
    if vessel is not None:
        mutate = _both_steps(mutate, _lesion(0, abutting_vessel=vessel))
    r = _variant(mutate)
    row = r["resection"]["ablation"][0]
    assert row["heat_sink_risk"] is risk
    ablation = next(o for o in r["options"] if o["option"] == "ablation")
    worded = any("heat sink" in reason["text"] for reason in ablation["reasons"])
    assert worded is bool(risk)


def _both_steps(*steps: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        for step in steps:
            step(d)

    return mutate


# --- peripheral: the partial resection without its condition ---------------------------------


def test_every_lesion_peripheral_lists_partial_resection_without_condition() -> None:
    # ICG-R15 35 % -> limited resection only (Makuuchi): the partial resection is within the limit
    r = _variant(_both_steps(_both(peripheral=True), lambda d: _icg(d, "35 %")))
    partial = r["resection"]["clearing_resections"][0]
    assert partial["anatomical"] is False and partial["condition"] is None
    assert partial["within_safe_extent"] is True
    beyond = next(f for f in r["findings"] if f["code"] == "plan-beyond-safe-extent")
    assert "the surgeon marks every lesion peripheral" in beyond["message"]
    assert "if the surgeon judges" not in beyond["message"]
    verdicts = {o["option"]: o["verdict"] for o in r["options"]}
    assert verdicts["liver resection"] == "possible"


def test_one_lesion_not_peripheral_leaves_out_the_partial_resection() -> None:
    r = _variant(
        _both_steps(
            _lesion(0, peripheral=True), _lesion(1, peripheral=False), lambda d: _icg(d, "35 %")
        )
    )
    rs = r["resection"]
    assert all(c["anatomical"] for c in rs["clearing_resections"])
    assert rs["partial_within_safe_extent"] == []
    # nothing clears within a limited-resection limit: resection is not favoured
    verdicts = {o["option"]: o["verdict"] for o in r["options"]}
    assert verdicts["liver resection"] == "not favoured"


def test_unmarked_lesion_keeps_the_condition() -> None:
    r = _variant(_both_steps(_lesion(0, peripheral=True), lambda d: _icg(d, "35 %")))
    partial = r["resection"]["clearing_resections"][0]
    assert partial["anatomical"] is False
    assert partial["condition"] is not None and "peripheral" in partial["condition"]


def _icg(d: dict[str, Any], value: str) -> None:
    d["liver_function"]["icg_r15"] = value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(marks=st.lists(st.sampled_from([True, False, None]), min_size=2, max_size=2))
def test_partial_resection_follows_the_marks(marks: list[bool | None]) -> None:
    def mutate(d: dict[str, Any]) -> None:
        for lesion, mark in zip(d["liver_lesions"], marks, strict=True):
            if mark is not None:
                lesion["peripheral"] = mark

    r = _variant(mutate)
    partial = [c for c in r["resection"]["clearing_resections"] if not c["anatomical"]]
    if False in marks:
        assert partial == []
    elif None in marks:
        assert len(partial) == 1 and partial[0]["condition"] is not None
    else:
        assert len(partial) == 1 and partial[0]["condition"] is None


# --- bad input names the field -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("bile_duct_distance", "400 mm", "0 to 300 mm"),
        ("bile_duct_distance", "-2 mm", "0 to 300 mm"),
        ("abutting_vessel", "150 mm", "0 to 100 mm"),
        ("abutting_vessel", "4 kg", "unknown unit 'kg'"),
        ("peripheral", "perhaps", "expected true or false"),
    ],
)
def test_bad_local_factor_is_refused_naming_the_field(
    tmp_path: Path, field: str, value: str, expected: str
) -> None:
    data = yaml.safe_load(UTERINE.read_text())
    data["liver_lesions"][0][field] = value
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data))
    run = subprocess.run(
        [sys.executable, "-m", "livermet.cli.main", "assess", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert f"liver_lesions[0].{field}" in run.stderr
    assert expected in run.stderr
    assert "Traceback" not in run.stderr
