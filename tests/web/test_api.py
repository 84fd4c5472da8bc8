"""The JSON API: token authentication, access rules, assessment, pooling, cohort, OpenAPI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from livermet.case.assess import assess
from livermet.case.load import load_case
from tests.web.conftest import SEED_CASE, WebRegistry


def _auth(reg: WebRegistry, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {reg.tokens[user]}"}


def _seed() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(Path(SEED_CASE).read_text(encoding="utf-8"))
    return data


def test_api_needs_a_valid_token(client: TestClient) -> None:
    assert client.get("/api/v1/cases").status_code == 401
    bad = client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"


def test_paging_out_of_bounds_is_a_422_not_a_server_error(
    client: TestClient, web_registry: WebRegistry
) -> None:
    admin = _auth(web_registry, "admin")
    for query in ("offset=-1", f"offset={2**63}", "limit=0", "limit=1001"):
        response = client.get(f"/api/v1/cases?{query}", headers=admin)
        assert response.status_code == 422, query
    assert client.get("/api/v1/cases?offset=1", headers=admin).json()["offset"] == 1


def test_assessment_of_a_posted_case(client: TestClient, web_registry: WebRegistry) -> None:
    response = client.post(
        "/api/v1/assessments", json=_seed(), headers=_auth(web_registry, "viewer_a")
    )
    assert response.status_code == 200
    data = response.json()
    assert data["grading"]["fnclcc"]["grade"] == 3
    assert data["staging"]["ajcc8"]["stage"] == "IV"
    assert data["resection"]["procedure_name"] == "right posterior sectionectomy"


def test_bad_case_gives_422_naming_the_field(client: TestClient, web_registry: WebRegistry) -> None:
    case = _seed()
    case["liver_function"]["icg_r15"] = "140 %"
    response = client.post(
        "/api/v1/assessments", json=case, headers=_auth(web_registry, "viewer_a")
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "liver_function.icg_r15"


def test_cases_follow_the_site_rules(client: TestClient, web_registry: WebRegistry) -> None:
    viewer = _auth(web_registry, "viewer_a")
    listed = client.get("/api/v1/cases", headers=viewer).json()["cases"]
    assert [c["case_id"] for c in listed] == ["seed-case"]
    # another site's case is answered like an unknown id (404), without naming the site
    hidden = client.get("/api/v1/cases/beta-case", headers=viewer)
    unknown = client.get("/api/v1/cases/no-such-case", headers=viewer)
    assert hidden.status_code == unknown.status_code == 404
    assert "beta" not in hidden.json()["error"]["message"].replace("beta-case", "")
    admin = client.get("/api/v1/cases", headers=_auth(web_registry, "admin")).json()["cases"]
    assert {c["case_id"] for c in admin} == {"seed-case", "beta-case"}
    new = {"case": {**_seed(), "id": "api-new"}, "site": "alpha"}
    assert client.post("/api/v1/cases", json=new, headers=viewer).status_code == 403


def test_update_with_a_stale_version_is_a_conflict(
    client: TestClient, web_registry: WebRegistry
) -> None:
    editor = _auth(web_registry, "editor_a")
    stored = client.get("/api/v1/cases/seed-case", headers=editor).json()
    case = stored["case"]
    case["notes"] = "edited once"
    first = client.put(
        "/api/v1/cases/seed-case", json={"case": case, "version": stored["version"]}, headers=editor
    )
    assert first.status_code == 200 and first.json()["version"] == stored["version"] + 1
    again = client.put(
        "/api/v1/cases/seed-case", json={"case": case, "version": stored["version"]}, headers=editor
    )
    assert again.status_code == 409 and again.json()["error"]["field"] == "version"


def test_pooling_api(client: TestClient, web_registry: WebRegistry) -> None:
    viewer = _auth(web_registry, "viewer_a")
    body = {"outcome": "os5", "method": "DL", "measure": "PLO", "test": "z"}
    pooled = client.post("/api/v1/evidence/pool", json=body, headers=viewer).json()
    assert pooled["method"] == "DL" and pooled["k"] >= 2
    assert pooled["ci_lb"] < pooled["estimate"] < pooled["ci_ub"]
    bad = client.post("/api/v1/evidence/pool", json={"method": "XX"}, headers=viewer)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "method"


def test_browser_session_writes_need_the_csrf_header(client: TestClient) -> None:
    from tests.web.conftest import sign_in

    sign_in(client, "viewer_a")
    assert client.get("/api/v1/me").json()["username"] == "viewer_a"
    assert client.post("/api/v1/assessments", json=_seed()).status_code == 403


def test_openapi_document(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/cases", "/api/v1/assessments", "/api/v1/evidence/pool", "/api/v1/cohort"):
        assert path in doc["paths"]
    assert "HTTPBearer" in doc["components"]["securitySchemes"]


def _example(name: str) -> dict[str, Any]:
    text = (Path(SEED_CASE).parent / f"{name}.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(json.dumps(yaml.safe_load(text), default=str))
    return data


def test_assessments_match_the_documented_response_schema(
    client: TestClient, web_registry: WebRegistry
) -> None:
    """Validate both assessment routes' answers against the OpenAPI document.

    Both assessment routes document the assessment model, and what they answer matches it (every
    key, every null), by JSON Schema validation against the OpenAPI document.
    """
    doc = client.get("/api/v1/openapi.json").json()
    viewer = _auth(web_registry, "viewer_a")
    routes = {
        ("/api/v1/assessments", "post"),
        ("/api/v1/cases/{case_id}/assessment", "get"),
    }
    for path, method in routes:
        schema = doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        assert schema["schema"] == {"$ref": "#/components/schemas/AssessmentModel"}
    documented = doc["components"]["schemas"]["AssessmentModel"]
    assert documented["properties"]["phase"]["enum"] == ["pre-operative", "post-operative"]
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/AssessmentModel", "components": doc["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    answers = [client.get("/api/v1/cases/seed-case/assessment", headers=viewer)]
    for name in (
        "seed-case",
        "preop-uterine-lms",
        "preop-retroperitoneal-lms",
        "preop-plan-misses-lesions",
    ):
        answers.append(client.post("/api/v1/assessments", json=_example(name), headers=viewer))
    for answer in answers:
        assert answer.status_code == 200
        errors = [
            f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(answer.json())
        ]
        assert errors == []
    # the stored seed case and the posted one give the same assessment, the CLI's JSON
    assert answers[0].json() == answers[1].json()
    assert answers[1].json() == assess(load_case(SEED_CASE)).to_dict()
    # the schema is not a blank cheque: a verdict outside the vocabulary is refused
    wrong = answers[1].json()
    wrong["options"][0]["verdict"] = "maybe"
    assert any(
        "verdict" in str(list(e.absolute_path)) or "maybe" in e.message
        for e in validator.iter_errors(wrong)
    )


def test_every_route_answers_bad_input_in_the_api_error_shape(
    client: TestClient, web_registry: WebRegistry
) -> None:
    # FastAPI's own {"detail": [...]} never reaches a client: the README promises one shape.
    admin = _auth(web_registry, "admin")
    bad = [
        client.get("/api/v1/cases?offset=-1", headers=admin),
        client.get("/api/v1/cases?limit=lots", headers=admin),
        client.post("/api/v1/cases", json={"hospital_number": "H-1"}, headers=admin),
        client.post(
            "/api/v1/cases",
            content=b"{not json",
            headers={**admin, "Content-Type": "application/json"},
        ),
    ]
    for response in bad:
        assert response.status_code == 422, response.text
        body = response.json()
        assert set(body) == {"error"}, body
        assert body["error"]["kind"] == "input" and body["error"]["field"], body
    assert bad[0].json()["error"]["field"] == "offset"
    assert bad[2].json()["error"]["field"] == "case"
