"""Every API route documents its answer, and what it answers matches that documentation.

For each operation of ``/api/v1/openapi.json``: a 2xx response with a JSON schema that says
something (not ``{}``), a real call that answers 2xx, JSON Schema validation of the answer
against the document, and every key of the answer named by the schema (the response models
pass unnamed keys on, so a key the model forgot would otherwise go undocumented).
``test_schemathesis.py`` checks the same conformance on generated requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from tests.web.conftest import SEED_CASE, WebRegistry

JSON = "application/json"


def _json_safe(value: Any) -> Any:
    """Dates of the YAML case file as ISO text, as a JSON client would send them."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def _examples(client: TestClient, auth: dict[str, str]) -> dict[tuple[str, str], Any]:
    """One real call per documented operation: (method, path template) -> the answer."""
    seed = _json_safe(yaml.safe_load(Path(SEED_CASE).read_text(encoding="utf-8")))
    stored = client.get("/api/v1/cases/seed-case", headers=auth).json()
    new = {"case": {**seed, "id": "openapi-new"}, "site": "alpha", "hospital_number": "H1"}
    return {
        ("get", "/api/v1/me"): client.get("/api/v1/me", headers=auth),
        ("get", "/api/v1/cases"): client.get("/api/v1/cases?include_synthetic=true", headers=auth),
        ("post", "/api/v1/cases"): client.post("/api/v1/cases", json=new, headers=auth),
        ("get", "/api/v1/cases/{case_id}"): client.get("/api/v1/cases/seed-case", headers=auth),
        ("put", "/api/v1/cases/{case_id}"): client.put(
            "/api/v1/cases/seed-case",
            json={"case": stored["case"], "version": stored["version"]},
            headers=auth,
        ),
        ("get", "/api/v1/cases/{case_id}/assessment"): client.get(
            "/api/v1/cases/seed-case/assessment", headers=auth
        ),
        ("post", "/api/v1/assessments"): client.post(
            "/api/v1/assessments", json=seed, headers=auth
        ),
        ("get", "/api/v1/evidence/series"): client.get("/api/v1/evidence/series", headers=auth),
        ("post", "/api/v1/evidence/pool"): client.post(
            "/api/v1/evidence/pool",
            json={"method": "DL", "test": "knha", "series_csv": "id,n_table,os5\nmine,30,25\n"},
            headers=auth,
        ),
        ("get", "/api/v1/cohort"): client.get(
            "/api/v1/cohort?by=site&covariates=age", headers=auth
        ),
    }


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def _success_schema(operation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return the operation's one 2xx status and its JSON schema."""
    ok = [(code, r) for code, r in operation["responses"].items() if code.startswith("2")]
    assert len(ok) == 1, f"{operation['operationId']}: {len(ok)} 2xx responses"
    code, response = ok[0]
    schema: dict[str, Any] = response.get("content", {}).get(JSON, {}).get("schema", {})
    return code, schema


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = doc["components"]["schemas"][name]
    return schema


def _fits(value: Any, schema: dict[str, Any], doc: dict[str, Any]) -> bool:
    """Tell whether a branch of a union is of the value's JSON type (object, array or other)."""
    schema = _resolve(schema, doc)
    if "anyOf" in schema or "oneOf" in schema:
        return True
    kind = schema.get("type", "object" if "properties" in schema else None)
    if isinstance(value, dict):
        return kind == "object"
    if isinstance(value, list):
        return kind == "array"
    return kind not in {"object", "array"}


def unnamed_keys(
    value: Any, schema: dict[str, Any], doc: dict[str, Any], at: str = ""
) -> list[str]:
    """Return the paths of the keys of ``value`` that its schema does not name."""
    schema = _resolve(schema, doc)
    branches = [
        b for b in schema.get("anyOf", []) + schema.get("oneOf", []) if _fits(value, b, doc)
    ]
    if branches:  # the branch that fits best: a union of models names keys in one of them
        return min((unnamed_keys(value, b, doc, at) for b in branches), key=len)
    found: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        found += [f"{at}.{key}" for key in value if key not in properties]
        for key, item in value.items():
            if key in properties:
                found += unnamed_keys(item, properties[key], doc, f"{at}.{key}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found += unnamed_keys(item, schema["items"], doc, f"{at}[{i}]")
    return found


def _validator(schema: dict[str, Any], doc: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(
        {**schema, "components": doc["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@pytest.fixture
def documented(client: TestClient) -> dict[str, Any]:
    """Return the application's OpenAPI document, as a client reads it."""
    doc: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    return doc


def test_every_api_route_documents_a_response_schema(documented: dict[str, Any]) -> None:
    """Each operation has one 2xx response whose schema names its keys."""
    operations = list(_operations(documented))
    assert len(operations) >= 10
    for method, path, operation in operations:
        assert path.startswith("/api/"), path
        code, schema = _success_schema(operation)
        resolved = _resolve(schema, documented)
        assert resolved.get("properties"), f"{method} {path} {code}: empty response schema"


def test_every_answer_matches_its_documented_schema(
    client: TestClient, web_registry: WebRegistry, documented: dict[str, Any]
) -> None:
    """A real call of each operation answers what its schema describes, key for key."""
    examples = _examples(client, {"Authorization": f"Bearer {web_registry.tokens['admin']}"})
    documented_ops = {(m, p) for m, p, _ in _operations(documented)}
    assert set(examples) == documented_ops, "each documented operation needs an example here"
    for method, path, operation in _operations(documented):
        code, schema = _success_schema(operation)
        answer = examples[(method, path)]
        assert str(answer.status_code) == code, f"{method} {path}: {answer.text[:300]}"
        assert answer.headers["content-type"] == JSON
        body = answer.json()
        problems = [
            f"{list(e.absolute_path)}: {e.message}"
            for e in _validator(schema, documented).iter_errors(body)
        ]
        assert problems == [], f"{method} {path}"
        assert unnamed_keys(body, schema, documented) == [], f"{method} {path}"


def test_the_checks_refuse_a_wrong_answer(
    client: TestClient, web_registry: WebRegistry, documented: dict[str, Any]
) -> None:
    """The schemas are not blank cheques: a missing key, a wrong type or an unnamed key fail."""
    auth = {"Authorization": f"Bearer {web_registry.tokens['viewer_a']}"}
    listed = client.get("/api/v1/cases", headers=auth).json()
    schema = {"$ref": "#/components/schemas/CaseList"}
    validator = _validator(schema, documented)
    assert not list(validator.iter_errors(listed))
    missing = {**listed, "cases": [{k: v for k, v in listed["cases"][0].items() if k != "site"}]}
    assert any("site" in e.message for e in validator.iter_errors(missing))
    wrong = {**listed, "limit": "many"}
    assert list(validator.iter_errors(wrong))
    extra = {**listed, "cases": [{**listed["cases"][0], "undocumented": 1}]}
    assert unnamed_keys(extra, schema, documented) == [".cases[0].undocumented"]
    pooled = client.post("/api/v1/evidence/pool", json={}, headers=auth).json()
    pooled["series"][0]["weight"] = pooled["series"][0].pop("weight_percent")
    pool_schema = {"$ref": "#/components/schemas/PoolAnswer"}
    assert unnamed_keys(pooled, pool_schema, documented) == [".series[0].weight"]
    assert list(_validator(pool_schema, documented).iter_errors(pooled))
    assessed = client.get("/api/v1/cases/seed-case/assessment", headers=auth).json()
    assessed["grading"]["fnclcc"]["bogus"] = 1
    assessed["liver_function"]["remnant"]["bogus"] = 2
    found = unnamed_keys(assessed, {"$ref": "#/components/schemas/AssessmentModel"}, documented)
    assert found == [".grading.fnclcc.bogus", ".liver_function.remnant.bogus"]
