"""The JSON API's evidence routes: the GLMM pooling, the added series, refused choices.

A GLMM answer is checked against the engine's result and against the OpenAPI document key by
key (the checks of ``test_openapi.py``); the random-effects answers stay as they were.
"""

from __future__ import annotations

import json
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
    assert body["rounded"] and body["events_note"]
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
    same = client.post(POOL, json={"method": "DL", "model": "rma", "nagq": 3}, headers=auth)
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


@pytest.mark.parametrize("nagq", [0, 101, "seven"])
def test_nagq_out_of_range_is_refused(
    client: TestClient, web_registry: WebRegistry, nagq: object
) -> None:
    response = client.post(POOL, json={"model": "glmm", "nagq": nagq}, headers=_auth(web_registry))
    assert response.status_code == 422
    assert [issue["loc"] for issue in response.json()["detail"]] == [["body", "nagq"]]


def test_glmm_ml_given_explicitly_is_accepted(
    client: TestClient, web_registry: WebRegistry
) -> None:
    request = {"model": "GLMM", "measure": "plo", "method": "ML", "test": "t"}
    body = client.post(POOL, json=request, headers=_auth(web_registry)).json()
    df = load_literature()
    assert body == _expected(glmm_report(pool_outcome_glmm(df, "os5", test="t"), df))
