"""A bounded grade and stage read the same in the printed cards, the appendix and the terminal.

The QA case (tests/report/data/qa-uterine-3-lesions.yaml): uterine leiomyosarcoma of 11 cm,
necrosis >= 50 % (score 2), mitotic count and differentiation not recorded; extension of the
primary and nodes not recorded; bilirubin 12 umol/L; ascites and ICG-R15 not recorded; a
laparoscopic right posterior sectionectomy (segments 6, 7) planned.

Worked by hand:
- FNCLCC total = 2 (necrosis) + 1..3 (mitosis) + 1..3 (differentiation) = 4..8, i.e. grade 2
  (4-5) to grade 3 (6-8) (Trojani 1984): "2-3 (undecided)".
- FIGO 2009/2018 uterine LMS, > 5 cm: confined IB, adnexa IIA, pelvis IIB, abdomen IIIA or IIIB,
  nodes IIIC, bladder or rectum IVA; extension and N unknown leave all seven.
- Makuuchi: bilirubin 0.7 mg/dL (normal) so both the ascites status and ICG-R15 decide.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from livermet.case.assess import assess
from livermet.case.assessment_model import AssessmentModel
from livermet.case.load import load_case
from livermet.report.html import render_html
from livermet.report.text import print_text
from livermet.report.wording import grade_text, stage_label, stage_text, tnm_text

CASE = Path(__file__).parent / "data" / "qa-uterine-3-lesions.yaml"
GRADE = "2-3 (undecided)"
STAGE = "IB or IIA or IIB or IIIA or IIIB or IIIC or IVA"


def _model() -> AssessmentModel:
    return assess(load_case(CASE)).model()


def _terminal(m: AssessmentModel) -> str:
    console = Console(file=io.StringIO(), width=250, record=True, color_system=None)
    print_text(m, console)
    return re.sub(r"\s+", " ", console.export_text())


def _printable(m: AssessmentModel) -> str:
    text = re.sub(r"<[^>]+>", " ", render_html(m))
    return re.sub(r"\s+", " ", text).replace("&amp;", "&")


def test_the_shared_words_of_a_bounded_grade_and_stage() -> None:
    m = _model()
    assert grade_text(m.grading.fnclcc) == GRADE
    assert stage_text(m.staging) == STAGE
    assert stage_label(m.staging) == f"FIGO {STAGE}"
    assert tnm_text(m.staging.at_diagnosis) == "TX NX M0 GX"


def test_the_printed_card_and_appendix_say_the_same() -> None:
    text = _printable(_model())
    assert f"FNCLCC grade {GRADE}" in text  # page-1 card
    assert f"total 4-8; grade {GRADE}" in text  # appendix A1
    assert "grade not known" not in text
    assert f"FIGO {STAGE}" in text  # card
    assert f"TX NX M0 GX: FIGO {STAGE}" in text  # appendix A1


def test_the_terminal_says_the_same_and_names_what_is_not_known() -> None:
    text = _terminal(_model())
    assert (
        f"mitosis not known, necrosis 2, differentiation not known; total 4-8 -> grade {GRADE}"
        in text
    )
    assert "None" not in text
    assert f"Stage at diagnosis │ TX NX M0 GX: FIGO {STAGE}" in text  # as appendix A1
    assert "not known not known" not in text
    assert "up to not known" not in text
    assert "ascites status and ICG-R15 unknown" in text


def test_the_visits_name_their_anchor_once() -> None:
    text = _printable(_model())
    assert "Visits (months after the planned liver resection): 3, 6, 9," in text
    assert "after the planned liver resection, after" not in text
