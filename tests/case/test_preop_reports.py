"""Issue 10: the printed and terminal reports show the pre-operative reasoning.

The printed report (Markdown, hence HTML and PDF) and the terminal report show phase and date, the
lesions against the plan, the clearing resections, RECIST 1.1, the prognostic factor panel,
fitness and the disease-free interval.

Values of ``examples/preop-uterine-lms.yaml`` worked by hand:

- phase: the liver resection (central bisectionectomy) is ``planned`` -> pre-operative; the file's
  ``assessed_on`` is 2025-05-15.
- lesions: L1 segment 4, 28 mm; L2 segment 8, 34 mm; both detected 2024-12-02, after the
  primary's diagnosis on 2022-09-10 -> metachronous from the dates. The plan (segments 4, 5, 8)
  contains segments 4 and 8 -> both covered by the resection.
- RECIST 1.1: baseline sum 28 + 34 = 62 mm (2024-12-02); current 2025-04-22 sum 49 mm;
  (49 - 62) / 62 = -13 / 62 = -20.97 % -> -21.0 %; PR needs <= -30 %, PD needs >= +20 % from the
  nadir (62 mm, the baseline) -> SD; SD on doxorubicin is no objective response.
- disease-free interval: primary resected 2022-10-03, first liver detection 2024-12-02:
  791 days / 30.4375 = 25.99 -> "26.0 months".
- Makuuchi (bilirubin 0.9 mg/dL, ICG-R15 12 %: 10-19 %) allows up to a sectionectomy: the
  bisegmentectomy 4,8 (two segments) is within, the central hepatectomy (three segments, the
  right hemihepatectomy rung) is beyond.

``preop-plan-misses-lesions.yaml`` is the same patient with a plan of segments 2, 3: neither
segment 4 nor 8 is in it, and no ablation is planned -> both lesions not covered.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from livermet.case.assess import assess
from livermet.case.assessment_model import DfiValue, Fitness, GradeRange
from livermet.case.load import case_from_data
from livermet.report.markdown import (
    _factor_value,
    _signed,
    as_model,
    coverage_text,
    dfi_text,
    fitness_text,
    render_markdown,
)
from livermet.report.text import print_text

ROOT = Path(__file__).resolve().parents[2]
UTERINE = yaml.safe_load((ROOT / "examples" / "preop-uterine-lms.yaml").read_text())
MISSES = yaml.safe_load((ROOT / "examples" / "preop-plan-misses-lesions.yaml").read_text())
SEED = yaml.safe_load((ROOT / "examples" / "seed-case.yaml").read_text())


def _data(document: dict[str, Any]) -> dict[str, Any]:
    return assess(case_from_data(copy.deepcopy(document))).to_dict()


def _text(data: dict[str, Any]) -> str:
    console = Console(record=True, width=250, color_system=None)
    print_text(data, console)
    return console.export_text()


def _row(text: str, *cells: str) -> bool:
    """Return whether a line of ``text`` holds every cell in order, each ending at a word end."""
    pattern = r"\W(.*\W)?".join(re.escape(c) for c in cells)
    return any(re.search(pattern, line) for line in text.splitlines())


def test_markdown_of_the_uterine_patient() -> None:
    md = render_markdown(_data(UTERINE))
    assert "**Phase:** pre-operative, assessed on 2025-05-15." in md
    # the lesion table, covered by the planned resection
    assert "| lesion | segments | size | timing | covered by the plan |" in md
    assert "| L1 | 4 | 28 mm | metachronous (from the dates) | yes (resection) |" in md
    assert "| L2 | 8 | 34 mm | metachronous (from the dates) | yes (resection) |" in md
    # RECIST: 62 -> 49 mm, -13/62 = -21.0 %, SD
    assert (
        "**Response (RECIST 1.1):** SD: sum of diameters 62 mm at the baseline (2024-12-02), "
        "49 mm on 2025-04-22, \u221221.0 % from the baseline; new lesions: no; "
        "on doxorubicin: no response." in md
    )
    # the plan against the lesions, and the clearing resections within / beyond Makuuchi
    assert "**Plan against the lesions:** clears every lesion; beyond the safe extent." in md
    assert "| bisegmentectomy 4,8 | 4, 8 | yes |" in md
    assert "| central hepatectomy | 4, 5, 8 | no |" in md
    # prognostic factors: this patient's value, direction, effect and source
    assert "| factor | this patient | direction | published effect and source |" in md
    assert "| disease-free interval | 26 months | favourable |" in md
    assert "| largest liver lesion | 34 mm | favourable |" in md
    assert (
        "| response to chemotherapy | RECIST SD, \u221221.0 % on doxorubicin | unfavourable |" in md
    )
    assert "| grade of the primary (FNCLCC) | grade 2-3 (undecided) | not known |" in md
    # fitness, the disease-free interval (791 days / 30.4375 = 25.99) and the timing window
    assert "Fitness: ECOG 1 (" in md and "; ASA II (" in md and "; age 55 years." in md
    assert "| Disease-free interval | 26.0 months (from the resection of the primary" in md
    assert "Timing: late metachronous, 26.7 months after the diagnosis of the primary" in md
    # the existing sections stay
    for heading in ("## Findings", "## Grading and staging", "## Resection", "## Timeline"):
        assert heading in md


def test_markdown_of_a_plan_that_misses_both_lesions() -> None:
    md = render_markdown(_data(MISSES))
    assert (
        "| L1 | 4 | 28 mm | metachronous (from the dates) | no: segment 4 outside the plan |" in md
    )
    assert (
        "| L2 | 8 | 34 mm | metachronous (from the dates) | no: segment 8 outside the plan |" in md
    )
    assert "**Plan against the lesions:** leaves lesions L1, L2 outside the resection" in md
    assert "yes (resection)" not in md
    assert "| liver resection margin (expected) | R2 expected" in md


def test_text_report_of_the_uterine_patient() -> None:
    text = _text(_data(UTERINE))
    assert "Phase: pre-operative, assessed on 2025-05-15" in text
    assert _row(text, "L1", "4", "28 mm", "metachronous (from the dates)", "yes (resection)")
    assert _row(text, "L2", "8", "34 mm", "metachronous (from the dates)", "yes (resection)")
    assert "Response (RECIST 1.1): SD: sum of diameters 62 mm" in text
    assert "\u221221.0 % from the baseline" in text
    assert _row(text, "response to chemotherapy", "RECIST SD, \u221221.0 % on doxorubicin")
    assert _row(text, "Disease-free interval", "26.0 months")
    assert _row(text, "Plan vs lesions", "clears every lesion; beyond the safe extent")
    assert _row(text, "MELD", "MELD 6, MELD-Na 6, MELD 3.0 7")


def test_text_report_of_a_plan_that_misses_both_lesions() -> None:
    text = _text(_data(MISSES))
    assert _row(text, "L1", "4", "28 mm", "no: segment 4 outside the plan")
    assert _row(text, "L2", "8", "34 mm", "no: segment 8 outside the plan")
    assert "yes (resection)" not in text


def test_seed_case_reports_are_post_operative() -> None:
    data = _data(SEED)
    md = render_markdown(data)
    assert "**Phase:** post-operative, assessed on" in md
    # no lesion id in the file: the table numbers the lesion; timing stated, not dated
    assert "| 1 | 7 | 21 mm | synchronous (as stated) | yes (resection) |" in md
    assert "| Disease-free interval | 0 months (never disease-free:" in md
    assert "**Response (RECIST 1.1):** not assessable (not known: imaging time points" in md
    assert (
        "ASA II-III (undecided" in md and "ECOG not known (reported: general condition good)" in md
    )
    assert "right posterior sectionectomy" in _text(data)


def test_lesion_ids_from_the_file_stay_text() -> None:
    document = copy.deepcopy(UTERINE)
    evil = "L1<img src=x>*b*|[y](z)"
    document["liver_lesions"][0]["id"] = evil
    for imaging in document.get("imaging", []):
        for m in imaging.get("measurements", []):
            if m.get("lesion") == "L1":
                m["lesion"] = evil
    data = _data(document)
    md = render_markdown(data)
    assert "| L1\\<img src=x\\>\\*b\\*\\|\\[y\\](z) | 4 | 28 mm |" in md
    assert "<img" not in md.replace("\\<img", "")
    document["liver_lesions"][0]["id"] = "[bold]L1[/bold]"
    assert "[bold]L1[/bold]" in _text(_data(document))


def test_helpers() -> None:
    assert _signed(-20.97) == "\u221221.0 %"
    assert _signed(20) == "+20.0 %"
    assert _signed(None) == "not known"
    assert _factor_value(None) == "not known"
    votes = {"DeMatteo": "favourable", "Adam": "favourable", "Jain": "favourable"}
    assert _factor_value(DfiValue(months=26.0, by_cut_off=votes)) == "26 months"
    assert _factor_value(GradeRange(grade_min=2, grade_max=3)) == "grade 2-3 (undecided)"
    model = as_model(_data(SEED))
    assert coverage_text(model.model_copy(update={"liver_lesions": []})) == (
        "no liver lesion recorded"
    )
    lesion = model.liver_lesions[0].model_copy(update={"covered_by_plan": None})
    no_plan = model.model_copy(update={"liver_lesions": [lesion]})
    assert coverage_text(no_plan) == "no liver resection or ablation planned in the case"
    timeline = model.timeline.model_copy(
        update={
            "disease_free_interval_months": None,
            "disease_free_interval_status": "not assessable",
            "disease_free_interval_reason": "the primary was not resected",
        }
    )
    assert dfi_text(timeline) == "not assessable (the primary was not resected)"
    assert fitness_text(None) == "not known"
    fitness = Fitness.model_validate(
        {
            "age": {"years": 70},
            "ecog": {
                "grade": 0,
                "status": "recorded",
                "description": None,
                "reported": None,
                "source": "Oken 1982",
            },
            "asa": {
                "class": 3,
                "label": None,
                "description": None,
                "status": "recorded",
                "range": None,
                "basis": "stated",
                "comorbidities": [],
                "source": "ASA",
            },
            "trial_context": {"within_collision_criteria": None, "text": "t", "source": "s"},
        }
    )
    assert fitness_text(fitness) == "ECOG 0; ASA III; age 70 years"
