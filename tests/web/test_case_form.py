"""Test the add-a-case form and the web pages' handling of bad input.

The form saves in the default set-up, puts every error beside its field, covers the
assessment's inputs (the rest through its case-file text); every bad input on the web pages is
a 4xx naming the field, never a 5xx.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from livermet.case.assess import assess
from livermet.case.load import load_case
from livermet.cli.main import app as cli_app
from livermet.registry import Database, synthetic_cases
from livermet.web import create_app
from livermet.web.analysis_pages import FORM_LABELS
from tests.web.conftest import PASSWORD, csrf_of, sign_in

ROOT = Path(__file__).resolve().parents[2]
UTERINE = ROOT / "examples" / "preop-uterine-lms.yaml"

# The pre-operative uterine example as a user types it into the form ...
UTERINE_FORM: dict[str, str] = {
    "case_id": "preop-uterine-lms",
    "assessed_on": "2025-05-15",
    "age_years": "55",
    "sex": "female",
    "ecog": "1",
    "asa": "2",
    "histology": "leiomyosarcoma",
    "primary_site": "uterus",
    "site_group": "uterus",
    "diagnosed": "2022-09-10",
    "primary_size": "9 cm",
    "size_method": "pathology",
    "mitoses": "25",
    "necrosis": "<50%",
    "extension": "confined",
    "nodal_status": "N0",
    "primary_resected_on": "2022-10-03",
    "primary_margin": "R0",
    "lesion1_segments": "4",
    "lesion1_size": "28 mm",
    "lesion2_segments": "8",
    "lesion2_size": "34 mm",
    "lesion_method": "mri",
    "lesion_detected": "2024-12-02",
    "extrahepatic": "none",
    "bilirubin": "0.9 mg/dL",
    "albumin": "4.1 g/dL",
    "inr": "1.0",
    "creatinine": "0.8 mg/dL",
    "sodium": "140 mmol/L",
    "ascites": "none",
    "encephalopathy": "none",
    "icg_r15": "12 %",
    "liver_condition": "chemotherapy",
    "liver_kind": "liver_resection",
    "liver_status": "planned",
    "liver_name": "central bisectionectomy",
    "approach": "open",
    "segments_resected": "4,5,8",
    "liver_date": "2025-06-02",
}
# ... and what the form has no field for, pasted as case-file text
UTERINE_EXTRA = """\
imaging:
  - modality: mri
    target: liver
    finding: two metastases, segment 4 (28 mm) and segment 8 (34 mm)
    segments: [4, 8]
    when: 2024-12-02
    measurements:
      - {lesion: L1, diameter: 28 mm}
      - {lesion: L2, diameter: 34 mm}
  - modality: mri
    target: liver
    finding: both metastases smaller after doxorubicin, no new lesion
    segments: [4, 8]
    when: 2025-04-22
    new_lesions: false
    measurements:
      - {lesion: L1, diameter: 22 mm}
      - {lesion: L2, diameter: 27 mm}
systemic_therapy:
  - regimen: doxorubicin
    setting: neoadjuvant
    started: 2025-01-06
    ended: 2025-04-07
"""


def key_values(data: dict[str, Any]) -> dict[str, Any]:
    """Return what the tumour board reads first: grade, stage, the resection's verdict and why."""
    return {
        "phase": data["phase"],
        "grading": data["grading"]["fnclcc"],
        "stage": data["staging"]["at_diagnosis"]["stage_text"],
        "makuuchi": data["liver_function"]["makuuchi"]["max_extent"],
        "resection_segments": data["resection"]["segments"],
        "within_safe_extent": data["resection"]["within_safe_extent"],
        "coverage": data["resection"]["coverage"],
        "verdicts": {o["option"]: o["verdict"] for o in data["options"]},
        "recist": data["response"]["recist"].get("percent_change_from_baseline"),
        "dfi": data["timeline"]["disease_free_interval_months"],
    }


def cli_key_values() -> dict[str, Any]:
    result = CliRunner().invoke(cli_app, ["assess", str(UTERINE), "--format", "json"])
    assert result.exit_code == 0, result.output
    return key_values(json.loads(result.stdout))


def test_cli_key_values_are_the_examples() -> None:
    """Check the reference itself, worked out from the example.

    Mitoses 25/10 HPF score 3, necrosis <50 % score 1, differentiation unknown, so FNCLCC total 5-7
    and no single grade; FIGO IB (confined, 9 cm > 5 cm); ICG-R15 12 % allows up to a
    sectionectomy, so the planned central hepatectomy (4, 5, 8) exceeds it; RECIST
    (22+27)/(28+34) - 1 = -21 %.
    """
    kv = cli_key_values()
    assert (kv["grading"]["total_min"], kv["grading"]["total_max"]) == (5, 7)
    assert kv["grading"]["grade"] is None
    assert kv["stage"] == "FIGO IB"
    assert kv["resection_segments"] == [4, 5, 8] and kv["within_safe_extent"] is False
    assert kv["recist"] == -21
    assert kv["verdicts"]["liver resection"] == "possible"


@pytest.fixture
def one_site_url(tmp_path: Path) -> str:
    """Build the `make run` set-up and return its URL.

    An admin without a site, one site, the seed case, synthetic cases and a pre-operative case.
    """
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with Database(url) as db:
        reg = db.registry(db.bootstrap("admin", PASSWORD))
        reg.create_site("demo", "Demo hospital")
        reg.create_case(load_case(ROOT / "examples" / "seed-case.yaml"), site="demo")
        reg.import_cases(synthetic_cases(40, seed=2), source="synthetic", site="demo")
        reg.create_case(
            load_case(ROOT / "examples" / "preop-retroperitoneal-lms.yaml"), site="demo"
        )
    return url


@pytest.fixture
def one_site(one_site_url: str) -> Iterator[TestClient]:
    application: FastAPI = create_app(one_site_url, secret_key="test-secret-key")
    client = TestClient(application)
    sign_in(client, "admin")
    yield client
    application.state.db.close()


def _post_form(client: TestClient, values: dict[str, str], mode: str = "form") -> Any:
    token = csrf_of(client.get("/cases/new").text)
    data = {"csrf_token": token, "mode": mode, **values}
    return client.post("/cases/new", data=data, follow_redirects=False)


def _field_errors(page: str) -> dict[str, str]:
    found = re.findall(r'<span class="field-error" id="error-([^"]+)" role="alert">([^<]*)<', page)
    return {name: html.unescape(message) for name, message in found}


def test_admin_without_site_saves_in_a_one_site_registry(
    one_site: TestClient, one_site_url: str
) -> None:
    page = one_site.get("/cases/new").text
    assert "Site: demo" in page
    values = {"case_id": "form-1", "histology": "leiomyosarcoma", "primary_site": "thigh"}
    response = _post_form(one_site, {**values, "site_group": "extremity"})
    assert response.status_code == 303, _field_errors(response.text)
    assert response.headers["location"] == "/cases/form-1"
    with Database(one_site_url) as db:
        assert db.registry("admin").get_case("form-1").site == "demo"


def test_site_must_be_chosen_among_several_and_its_error_is_beside_it(client: TestClient) -> None:
    sign_in(client, "admin")
    values = {"case_id": "no-site", "histology": "leiomyosarcoma", "primary_site": "thigh"}
    response = _post_form(client, {**values, "site_group": "extremity", "site": ""})
    assert response.status_code == 422
    assert _field_errors(response.text) == {"site-form": "choose the site the case belongs to"}


def test_pasted_case_file_defaults_the_site_too(one_site: TestClient) -> None:
    text = UTERINE.read_text(encoding="utf-8").replace("preop-uterine-lms", "pasted-uterine")
    response = _post_form(one_site, {"case_text": text}, mode="file")
    assert response.status_code == 303


def test_every_error_is_beside_its_field(one_site: TestClient) -> None:
    bad = {
        **UTERINE_FORM,
        "lesion2_size": "34 mmm",
        "inr": "abc",
        "liver_date": "2022-02-30",
        "ecog": "7",
        "gsa_hh15": "3",
        "extra_text": "imaging:\n  - modality: mri\n    target: liver\n    finding: x\n"
        "    when: 2024-13-01\n",
    }
    response = _post_form(one_site, bad)
    assert response.status_code == 422
    errors = _field_errors(response.text)
    assert set(errors) == {
        "lesion2_size",
        "inr",
        "liver_date",
        "ecog",
        "gsa_hh15",
        "extra_text",
    }
    assert "mmm" in errors["lesion2_size"]
    assert "2022-02-30" in errors["liver_date"] and "YYYY-MM-DD" in errors["liver_date"]
    assert errors["extra_text"].startswith("imaging[0].when:")
    assert "correct the fields marked below" in response.text


def test_form_and_text_must_not_both_set_a_value(one_site: TestClient) -> None:
    response = _post_form(one_site, {**UTERINE_FORM, "extra_text": "labs:\n  inr: 1.1\n"})
    assert response.status_code == 422
    assert _field_errors(response.text) == {
        "extra_text": "labs.inr is set by the form's fields already; give it once"
    }
    both = {**UTERINE_FORM, "resection_after_months": "31"}
    assert "not both" in _field_errors(_post_form(one_site, both).text)["liver_date"]


def test_uterine_example_through_the_form_assesses_as_the_cli(
    one_site: TestClient, one_site_url: str
) -> None:
    response = _post_form(one_site, {**UTERINE_FORM, "extra_text": UTERINE_EXTRA})
    assert response.status_code == 303, _field_errors(response.text)
    with Database(one_site_url) as db:
        stored = db.registry("admin").get_case("preop-uterine-lms")
    assert key_values(assess(stored.case).to_dict()) == cli_key_values()
    assert stored.case.liver_lesions[1].id == "L2" and stored.case.patient.asa == 2
    page = one_site.get("/cases/preop-uterine-lms")
    assert page.status_code == 200 and "FIGO IB" in page.text


def test_lesion_rows_may_skip_a_row(one_site: TestClient) -> None:
    values = {
        "case_id": "gap",
        "histology": "leiomyosarcoma",
        "primary_site": "thigh",
        "site_group": "extremity",
        "lesion1_segments": "4",
        "lesion3_segments": "9",  # the second lesion given, in row 3
    }
    response = _post_form(one_site, values)
    assert response.status_code == 422
    assert set(_field_errors(response.text)) == {"lesion3_segments"}


# --- every bad input is a 4xx naming the field -----------------------------------------------


def test_impossible_date_pasted_on_the_tumour_board_page(client: TestClient) -> None:
    sign_in(client, "admin")
    text = UTERINE.read_text(encoding="utf-8").replace("2025-06-02", "2022-02-30")
    token = csrf_of(client.get("/assess").text)
    response = client.post("/assess", data={"csrf_token": token, "case_text": text})
    assert response.status_code == 422
    assert "procedures[1].when" in response.text and "2022-02-30" in response.text


def test_bad_edit_is_422_naming_the_field(client: TestClient) -> None:
    sign_in(client, "admin")
    page = client.get("/cases/seed-case/edit").text
    text = re.search(r'<textarea name="case_text"[^>]*>([^<]*)</textarea>', page)
    assert text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    original = text.group(1).replace("&#39;", "'").replace("&gt;", ">").replace("&lt;", "<")
    for old, new, field in (
        ("age_years: ", "age_years: 2", "patient.age_years"),  # 2xx years
        ("schema_version: 1", "schema_version: 1\nassessed_on: 2022-02-30", "assessed_on"),
    ):
        edited = original.replace(old, new, 1)
        response = client.post(
            "/cases/seed-case/edit",
            data={
                "csrf_token": csrf_of(page),
                "case_text": edited,
                "version": version.group(1),
            },
        )
        assert response.status_code == 422, field
        assert field in response.text
    stale = client.post(
        "/cases/seed-case/edit",
        data={"csrf_token": csrf_of(page), "case_text": original, "version": "x"},
    )
    assert stale.status_code == 422 and "version" in stale.text


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"id": "", "n_table": "10"}, "id"),
        ({"id": "mine", "n_table": "-3", "os5": "40"}, "n_table"),
        ({"id": "mine", "n_table": "20", "os5": "140"}, "os5"),
        ({"id": "mine", "n_table": "20", "os1": "abc"}, "os1"),
    ],
)
def test_bad_own_series_is_4xx_naming_the_field(
    client: TestClient, values: dict[str, str], field: str
) -> None:
    sign_in(client, "admin")
    token = csrf_of(client.get("/evidence").text)
    response = client.post(
        "/evidence/series", data={"csrf_token": token, **values}, follow_redirects=False
    )
    assert response.status_code == 422, response.status_code
    # named as the form labels the field, not as a CSV column the user never saw
    assert f"{FORM_LABELS[field]}: " in html.unescape(response.text)
    assert "column '" not in html.unescape(response.text)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("by=nosuch", "by"),
        ("endpoint=dfs", "endpoint"),
        ("covariates=approach,nosuch", "covariates"),
        ("synthetic=maybe", "synthetic"),
        ("outcome=os9", None),
    ],
)
def test_bad_cohort_and_evidence_parameters_are_422(
    client: TestClient, query: str, field: str | None
) -> None:
    sign_in(client, "admin")
    path = "/evidence" if query.startswith("outcome") else "/cohort"
    response = client.get(f"{path}?{query}")
    assert response.status_code == 422
    assert f"{field or 'outcome'}:" in response.text


# --- the cohort page ---------------------------------------------------------------------------


def _text(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def test_cohort_page_opens_on_defaults_that_work(one_site: TestClient) -> None:
    response = one_site.get("/cohort")
    assert response.status_code == 200
    assert 'class="error"' not in response.text
    text = _text(response.text)
    # one real case with follow-up: the synthetic cases are included, and the page says so
    assert "The registry holds 1 real case with follow-up" in text
    assert "includes synthetic data (40 of 42 cases)" in text
    assert "1 of 42 cases left out: 1 without os_months (no follow-up after a liver" in text
    assert "approach: open vs laparoscopic" in text and "age (per unit)" in text
    assert "Log-rank" in text
    assert response.text.count("data:image/png;base64,") == 2


def test_cohort_page_of_real_cases_only(one_site: TestClient) -> None:
    response = one_site.get("/cohort?synthetic=exclude")
    assert response.status_code == 200
    text = _text(response.text)
    # the seed case alone: one approach group, its curve without a log-rank test
    assert "one approach group only (laparoscopic): no log-rank test" in text
    assert "Log-rank χ²" not in text
    assert "synthetic" not in text.split("Cases")[-1].split("Analyse")[-1]
    assert "data:image/png;base64," in response.text
