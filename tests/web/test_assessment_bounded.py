"""The web key cards show a bounded grade and stage as the printed report does.

The QA case (tests/report/data/qa-uterine-3-lesions.yaml): FNCLCC total 4-8 -> grade 2-3; FIGO
stage at diagnosis IB to IVA (extension and nodes unknown); see tests/report/test_bounded_wording.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_of, sign_in

CASE = Path(__file__).parents[1] / "report" / "data" / "qa-uterine-3-lesions.yaml"


def test_bounded_grade_and_stage_on_the_assessment_page(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    token = csrf_of(client.get("/assess").text)
    text = CASE.read_text(encoding="utf-8")
    page = client.post("/assess", data={"case_text": text, "csrf_token": token}).text
    assert '<dd id="grade">2-3 (undecided)</dd>' in page
    assert (
        "<dt>Stage at diagnosis (FIGO, uterine sarcoma)</dt>"
        '<dd id="stage">IB or IIA or IIB or IIIA or IIIB or IIIC or IVA</dd>'
    ) in page
    assert "not assessable</dd>" not in page.split('id="recurrence"')[0]
