"""The JSON API's evidence routes: the GLMM pooling, the added series, refused choices.

A GLMM answer is checked against the engine's result and against the OpenAPI document key by
key (the checks of ``test_openapi.py``); the random-effects answers stay as they were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from livermet.analysis.summary import json_safe
from livermet.evidence.dataset import load_literature
from livermet.evidence.glmm_pool import pool_outcome_glmm
from livermet.evidence.glmm_report import glmm_report
from livermet.evidence.pooling import pool_outcome
from livermet.evidence.selection import series_with_own
from tests.web.conftest import WebRegistry
from tests.web.test_openapi import _validator, unnamed_keys

POOL = "/api/v1/evidence/pool"
GLMM_DATA = Path(__file__).resolve().parents[1] / "evidence" / "data" / "glmm"


def _auth(web_registry: WebRegistry, name: str = "viewer_a") -> dict[str, str]:
    return {"Authorization": f"Bearer {web_registry.tokens[name]}"}


def _expected(value: Any) -> Any:
    """Return the engine's result as a client reads it (json_safe, then through JSON)."""
    return json.loads(json.dumps(json_safe(value)))


def assert_documented(client: TestClient, body: Any, schema_name: str) -> None:
    """Check the answer against the OpenAPI document; every key of it must be named there."""
    doc = client.get("/api/v1/openapi.json").json()
    route = doc["paths"][POOL]["post"]["responses"]["200"]["content"]["application/json"]
    for schema in (route["schema"], {"$ref": f"#/components/schemas/{schema_name}"}):
        problems = [e.message for e in _validator(schema, doc).iter_errors(body)]
        assert problems == []
        assert unnamed_keys(body, schema, doc) == []


@pytest.mark.parametrize("nagq", [7, 1])
def test_glmm_answer_is_the_engines(
    client: TestClient, web_registry: WebRegistry, nagq: int
) -> None:
    response = client.post(POOL, json={"model": "glmm", "nagq": nagq}, headers=_auth(web_registry))
    assert response.status_code == 200
    body = response.json()
    df = load_literature()
    assert body == _expected(glmm_report(pool_outcome_glmm(df, "os5", nagq=nagq), df))
    assert body["model"] == "glmm" and body["nagq"] == nagq and body["method"] == "ML"
    assert body["rounded"] and body["survivors_note"]
    assert body["wald"]["statistic"] == body["qe_wld"] and body["lrt"]["p"] == body["qe_lrt_p"]
    assert_documented(client, body, "GlmmPoolAnswer")


def test_glmm_with_added_and_own_series(client: TestClient, web_registry: WebRegistry) -> None:
    own = "id,n_table,os5\nmine,30,25\n"
    request = {"model": "glmm", "include_added": True, "series_csv": own, "exclude": ["lang2000"]}
    body = client.post(POOL, json=request, headers=_auth(web_registry)).json()
    df = series_with_own(own, include_added=True)
    expected = glmm_report(pool_outcome_glmm(df, "os5", exclude=["lang2000"]), df)
    assert body == _expected(expected)
    ids = [s["id"] for s in body["series"]]
    assert "mine" in ids and "lang2000" not in ids
    added = set(load_literature(include_added=True)["id"]) - set(load_literature()["id"])
    assert added & set(ids), "no added series pooled"
    assert_documented(client, body, "GlmmPoolAnswer")


def test_rma_answer_unchanged_and_added_on_request(
    client: TestClient, web_registry: WebRegistry
) -> None:
    auth = _auth(web_registry)
    plain = client.post(POOL, json={"method": "DL"}, headers=auth).json()
    assert plain == _expected(pool_outcome(load_literature(), "os5", method="DL").to_dict())
    assert "model" not in plain and "nagq" not in plain
    same = client.post(POOL, json={"method": "DL", "model": "rma"}, headers=auth)
    assert same.json() == plain
    added = client.post(POOL, json={"include_added": True}, headers=auth).json()
    everything = load_literature(include_added=True)
    assert added == _expected(pool_outcome(everything, "os5").to_dict())
    assert added["k"] > plain["k"]
    assert_documented(client, added, "PoolAnswer")


def test_series_endpoint_include_added(client: TestClient, web_registry: WebRegistry) -> None:
    auth = _auth(web_registry)
    table1 = client.get("/api/v1/evidence/series", headers=auth).json()["series"]
    everything = client.get(
        "/api/v1/evidence/series", params={"include_added": "true"}, headers=auth
    ).json()["series"]
    assert [s["id"] for s in table1] == list(load_literature()["id"])
    assert [s["id"] for s in everything] == list(load_literature(include_added=True)["id"])
    assert {s["source_set"] for s in table1} == {"table1"}
    assert {s["source_set"] for s in everything} == {"table1", "added"}


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"model": "bayes"}, "model"),
        ({"model": "glmm", "measure": "PFT"}, "measure"),
        ({"model": "glmm", "method": "REML"}, "method"),
        ({"model": "glmm", "test": "knha"}, "test"),
        ({"model": "glmm", "outcome": "os9"}, "outcome"),
    ],
)
def test_refused_choices_name_the_field(
    client: TestClient, web_registry: WebRegistry, request_body: dict[str, Any], field: str
) -> None:
    response = client.post(POOL, json=request_body, headers=_auth(web_registry))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def assert_input_error(response: Any, field: str) -> str:
    """Check a 422 in the API's error shape naming ``field``; return its message."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"error"}, body  # not FastAPI's {"detail": [...]}
    assert body["error"]["kind"] == "input"
    assert body["error"]["field"] == field
    message: str = body["error"]["message"]
    assert message
    return message


@pytest.mark.parametrize("model", ["glmm", "rma"])
@pytest.mark.parametrize("nagq", [0, 101, "seven", 7.5, True, False, "7", 7.0])
def test_nagq_out_of_range_is_refused_in_the_error_shape(
    client: TestClient, web_registry: WebRegistry, nagq: object, model: str
) -> None:
    response = client.post(POOL, json={"model": model, "nagq": nagq}, headers=_auth(web_registry))
    message = assert_input_error(response, "nagq")
    assert "from 1 (Laplace) to 100" in message
    assert repr(nagq) in message


def test_nagq_null_means_the_default_as_a_blank_field(
    client: TestClient, web_registry: WebRegistry
) -> None:
    """A null nagq is not given: 7 points for the GLMM (a blank field on the page), none for rma."""
    glmm = client.post(POOL, json={"model": "glmm", "nagq": None}, headers=_auth(web_registry))
    assert glmm.status_code == 200, glmm.text
    df = load_literature()
    assert glmm.json() == _expected(glmm_report(pool_outcome_glmm(df, "os5", nagq=7), df))
    assert glmm.json()["nagq"] == 7
    rma = client.post(POOL, json={"model": "rma", "nagq": None}, headers=_auth(web_registry))
    assert rma.status_code == 200, rma.text
    assert rma.json() == _expected(pool_outcome(df, "os5").to_dict())


def test_nagq_true_is_not_laplace(client: TestClient, web_registry: WebRegistry) -> None:
    """A boolean is refused (strict whole number), not read as 1 point (Laplace)."""
    response = client.post(POOL, json={"model": "glmm", "nagq": True}, headers=_auth(web_registry))
    message = assert_input_error(response, "nagq")
    assert "valid integer" in message and "from 1 (Laplace) to 100" in message
    assert message.endswith("got True")


@pytest.mark.parametrize("nagq", [1, 7, 100])
def test_nagq_with_rma_is_refused(client: TestClient, web_registry: WebRegistry, nagq: int) -> None:
    """As the CLI and the web page: the quadrature points belong to the GLMM."""
    response = client.post(POOL, json={"model": "rma", "nagq": nagq}, headers=_auth(web_registry))
    assert "nagq applies to the GLMM only" in assert_input_error(response, "nagq")
    default = client.post(POOL, json={"nagq": nagq}, headers=_auth(web_registry))  # rma default
    assert "nagq applies to the GLMM only" in assert_input_error(default, "nagq")


def test_model_null_is_refused_in_the_error_shape(
    client: TestClient, web_registry: WebRegistry
) -> None:
    response = client.post(POOL, json={"model": None}, headers=_auth(web_registry))
    assert "None" in assert_input_error(response, "model")


@pytest.mark.parametrize("key", ["with_added_series", "added", "nAGQ"])
def test_unknown_keys_are_refused_not_ignored(
    client: TestClient, web_registry: WebRegistry, key: str
) -> None:
    response = client.post(POOL, json={key: True}, headers=_auth(web_registry))
    assert assert_input_error(response, key) == f"unknown field {key!r}"


def test_several_issues_are_all_named(client: TestClient, web_registry: WebRegistry) -> None:
    response = client.post(POOL, json={"nagq": 0, "bogus": 1}, headers=_auth(web_registry))
    message = assert_input_error(response, "nagq")
    assert "nagq: " in message and "bogus: unknown field 'bogus'" in message


def test_unusable_body_is_refused_in_the_error_shape(
    client: TestClient, web_registry: WebRegistry
) -> None:
    headers = {**_auth(web_registry), "Content-Type": "application/json"}
    assert "JSON" in assert_input_error(client.post(POOL, content=b"{", headers=headers), "body")
    assert_input_error(client.post(POOL, json=[1, 2], headers=_auth(web_registry)), "body")


def test_series_include_added_not_a_boolean(client: TestClient, web_registry: WebRegistry) -> None:
    response = client.get(
        "/api/v1/evidence/series", params={"include_added": "maybe"}, headers=_auth(web_registry)
    )
    assert "'maybe'" in assert_input_error(response, "include_added")


def test_evidence_422_documented_as_the_error_shape(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    for path, method in [(POOL, "post"), ("/api/v1/evidence/series", "get")]:
        documented = doc["paths"][path][method]["responses"]["422"]["content"]
        assert documented["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    assert doc["components"]["schemas"]["PoolRequest"]["additionalProperties"] is False


@pytest.mark.parametrize("outcome", ["OS5", "Os3", " os1 "])
@pytest.mark.parametrize("model", ["rma", "glmm"])
def test_outcome_in_any_case(
    client: TestClient, web_registry: WebRegistry, outcome: str, model: str
) -> None:
    body = client.post(
        POOL, json={"model": model, "outcome": outcome}, headers=_auth(web_registry)
    ).json()
    name = outcome.strip().lower()
    df = load_literature()
    if model == "glmm":
        assert body == _expected(glmm_report(pool_outcome_glmm(df, name), df))
    else:
        assert body == _expected(pool_outcome(df, name).to_dict())
    assert body["outcome"] == name


def test_glmm_says_which_tests_it_supports(client: TestClient, web_registry: WebRegistry) -> None:
    response = client.post(
        POOL, json={"model": "glmm", "test": "knha"}, headers=_auth(web_registry)
    )
    message = assert_input_error(response, "test")
    assert "supports tests z and t" in message and "unknown" not in message


def test_glmm_answer_says_survivors_not_events(
    client: TestClient, web_registry: WebRegistry
) -> None:
    body = client.post(POOL, json={"model": "glmm"}, headers=_auth(web_registry)).json()
    text = json.dumps(body)
    assert "events" not in text  # in survival an event is a death
    assert body["survivors_note"].startswith("survivors = S·n rounded to whole patients")
    for s in body["series"]:
        assert s["survivors"] == round(s["survivors_unrounded"])
    foster = next(r for r in body["rounded"] if r["id"] == "foster1978")
    assert (foster["survivors"], foster["survivors_unrounded"]) == (1, pytest.approx(1.44))


def test_glmm_ml_given_explicitly_is_accepted(
    client: TestClient, web_registry: WebRegistry
) -> None:
    request = {"model": "GLMM", "measure": "plo", "method": "ML", "test": "t"}
    body = client.post(POOL, json=request, headers=_auth(web_registry)).json()
    df = load_literature()
    assert body == _expected(glmm_report(pool_outcome_glmm(df, "os5", test="t"), df))


def _table1_default_and_tight() -> dict[str, float]:
    """Return the Table 1 intercept of metafor, default and converged (glmm-refs.json)."""
    refs = json.loads((GLMM_DATA / "glmm-refs.json").read_text(encoding="utf-8"))["cases"]
    return {
        c["control"]: float(c["beta"]) for c in refs if c["name"] == "table1_os5" and c["nagq"] == 7
    }


def test_optimizer_metafor_by_default_converged_on_request(
    client: TestClient, web_registry: WebRegistry
) -> None:
    auth = _auth(web_registry)
    beta = _table1_default_and_tight()
    default = client.post(POOL, json={"model": "glmm"}, headers=auth).json()
    converged = client.post(POOL, json={"model": "glmm", "optimizer": "Converged"}, headers=auth)
    assert converged.status_code == 200
    body = converged.json()
    assert default["optimizer"] == default["fit"]["optimizer"] == "metafor"
    assert body["optimizer"] == body["fit"]["optimizer"] == "converged"
    assert default["fit"]["coefficients"][0]["estimate"] == pytest.approx(
        beta["default"], abs=1e-12
    )
    assert body["fit"]["coefficients"][0]["estimate"] == pytest.approx(beta["tight"], abs=1e-6)
    assert_documented(client, body, "GlmmPoolAnswer")


@pytest.mark.parametrize(
    "request_body", [{"model": "glmm", "optimizer": "newton"}, {"optimizer": "converged"}]
)
def test_bad_optimizer_is_refused_naming_it(
    client: TestClient, web_registry: WebRegistry, request_body: dict[str, Any]
) -> None:
    response = client.post(POOL, json=request_body, headers=_auth(web_registry))
    message = assert_input_error(response, "optimizer")
    assert "metafor" in message or "GLMM only" in message
