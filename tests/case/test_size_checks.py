"""A liver lesion larger than the liver could hold is a warning (livermet.case.size_checks).

Thresholds worked out by hand: a sphere of diameter d (cm) holds pi d³ / 6 mL, so the largest
diameter a liver of V mL holds is (6 V / pi)^(1/3).
- recorded total liver volume 1000 mL -> 12.407 cm: 124 mm passes, 125 mm is flagged;
- 170 cm, 70 kg: Mosteller BSA sqrt(170 x 70 / 3600) = 1.8181 m², Vauthey TLV = -794.41 +
  1267.28 x 1.8181 = 1509.7 mL -> 14.23 cm: 142 mm passes, 143 mm is flagged;
- no volume, no body size: BSA sqrt(230 x 250 / 3600) = 3.9965 m², TLV 4270.3 mL -> 20.13 cm:
  201 mm passes, 202 mm is flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.case.assess import assess
from livermet.case.load import case_from_data
from livermet.case.size_checks import CODE, lesion_size_issues, sphere_volume_ml
from tests.conftest import ROOT

UTERINE = ROOT / "examples" / "preop-uterine-lms.yaml"


def _case(size: str, mutate: Callable[[dict[str, Any]], None] | None = None) -> Any:
    data = yaml.safe_load(UTERINE.read_text())
    data["liver_lesions"][1]["size"] = size
    if mutate is not None:
        mutate(data)
    return case_from_data(data)


def _flagged(case: Any) -> bool:
    return any(code == CODE for _, code, _ in lesion_size_issues(case))


def _volume(d: dict[str, Any]) -> None:
    d["liver_function"]["total_liver_volume"] = "1000 mL"


def _body(d: dict[str, Any]) -> None:
    d["patient"]["height"] = "170 cm"
    d["patient"]["weight"] = "70 kg"


@pytest.mark.parametrize(
    ("size", "mutate", "flagged"),
    [
        ("124 mm", _volume, False),
        ("125 mm", _volume, True),
        ("142 mm", _body, False),
        ("143 mm", _body, True),
        ("201 mm", None, False),
        ("202 mm", None, True),
        ("20.2 cm", None, True),
        ("34 mm", None, False),
    ],
)
def test_threshold_and_its_neighbours(
    size: str, mutate: Callable[[dict[str, Any]], None] | None, flagged: bool
) -> None:
    assert _flagged(_case(size, mutate)) is flagged


def test_the_finding_names_the_field_and_the_volume() -> None:
    result = assess(_case("40 cm")).to_dict()
    finding = next(f for f in result["findings"] if f["code"] == CODE)
    assert finding["severity"] == "warning"
    assert "liver_lesions[1].size (400 mm)" in finding["message"]
    assert "33,510 mL" in finding["message"]  # pi x 40³ / 6 = 33,510 cm³


def test_sphere_volume() -> None:
    assert sphere_volume_ml(10.0) == pytest.approx(0.5235987756)  # 1 cm sphere: pi / 6 mL


@settings(max_examples=30, deadline=None)
@given(st.floats(1.0, 1000.0), st.floats(1.0, 1000.0))
def test_a_larger_lesion_is_never_less_suspicious(a: float, b: float) -> None:
    small, large = sorted((a, b))
    assert _flagged(_case(f"{large} mm")) >= _flagged(_case(f"{small} mm"))
