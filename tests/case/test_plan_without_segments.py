"""A liver resection recorded without its segments: said so, with the field to fill in.

The QA case (tests/report/data/qa-uterine-3-lesions.yaml) with ``segments_resected: []``: a
resection is planned, only its segments are missing; the plan cannot be compared with the
lesions or scored for difficulty.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from livermet.case.assess import assess
from livermet.case.assessment_model import AssessmentModel
from livermet.case.load import case_from_data
from livermet.report.printable import coverage_text
from livermet.report.text import print_text

CASE = Path(__file__).parents[1] / "report" / "data" / "qa-uterine-3-lesions.yaml"


def _model() -> AssessmentModel:
    data: dict[str, Any] = yaml.safe_load(CASE.read_text(encoding="utf-8"))
    data["procedures"][1]["segments_resected"] = []
    return assess(case_from_data(data)).model()


def test_a_finding_names_the_field_to_fill_in() -> None:
    found = {f.code: f for f in _model().findings}
    finding = found["resection-segments-missing"]
    assert "procedures[1].segments_resected" in finding.message
    assert "planned" in finding.message


def test_the_plan_is_said_to_lack_its_segments() -> None:
    m = _model()
    text, tone = coverage_text(m)
    assert text.startswith("a liver resection is planned but its segments are not recorded")
    assert tone == "warn"
    console = Console(file=io.StringIO(), width=250, record=True, color_system=None)
    print_text(m, console)
    terminal = re.sub(r"\s+", " ", console.export_text())
    assert "no liver resection or ablation planned" not in terminal
    assert "Plan vs lesions │ a liver resection is planned but its segments" in terminal
    assert "Difficulty │ not known: a liver resection is planned" in terminal
