"""The GLMM's warnings reach the API's answer and the web evidence page.

Data: identical proportions (3/10, 6/20, 9/30 survivors), on which metafor 3.8-1 stops ("Cannot
fit ML model"; tests/evidence/data/glmm/glmm-nagq-high.json) and livermet reports the converged
fit with the reason under ``warnings``; Table 1, on which nothing is warned.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import livermet.web.analysis_pages as analysis_pages
from livermet.evidence.dataset import load_literature
from livermet.evidence.glmm_pool import pool_outcome_glmm
from tests.web.conftest import WebRegistry, sign_in
from tests.web.test_evidence_glmm_api import POOL, assert_documented

CANNOT_FIT = "metafor cannot fit these data with its defaults"
OWN = "id,n_table,os5\nmine_a,10,30\nmine_b,20,30\nmine_c,30,30\n"


def _auth(web_registry: WebRegistry) -> dict[str, str]:
    return {"Authorization": f"Bearer {web_registry.tokens['viewer_a']}"}


def test_api_answer_carries_the_warning(client: TestClient, web_registry: WebRegistry) -> None:
    table1 = list(load_literature()["id"])
    request = {"model": "glmm", "series_csv": OWN, "exclude": table1}
    with pytest.warns(UserWarning, match=CANNOT_FIT):
        response = client.post(POOL, json=request, headers=_auth(web_registry))
    assert response.status_code == 200
    body = response.json()
    assert [s["id"] for s in body["series"]] == ["mine_a", "mine_b", "mine_c"]
    assert body["optimizer"] == "converged"
    assert len(body["warnings"]) == 1 and body["warnings"][0].startswith(CANNOT_FIT)
    assert body["fit"]["warnings"] == body["warnings"]
    assert_documented(client, body, "GlmmPoolAnswer")


def test_api_documents_warnings(client: TestClient) -> None:
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    for name in ("GlmmPoolAnswer", "GlmmFit"):
        prop = schemas[name]["properties"]["warnings"]
        assert prop["type"] == "array" and prop["items"] == {"type": "string"}
        assert "warnings" in schemas[name]["required"]


def test_api_table1_has_no_warnings(client: TestClient, web_registry: WebRegistry) -> None:
    body = client.post(POOL, json={"model": "glmm"}, headers=_auth(web_registry)).json()
    assert body["warnings"] == [] and body["optimizer"] == "metafor"


def _identical(df: pd.DataFrame, outcome: str, **kwargs: Any) -> Any:
    """Pool the identical proportions instead of the page's series (the page's GLMM pooling)."""
    del df
    own = pd.DataFrame({"id": ["a", "b", "c"], "n_table": [10, 20, 30], "os5": [30.0] * 3})
    return pool_outcome_glmm(own, outcome, **kwargs)


def _glmm_section(page: str) -> str:
    found = re.search(r'<section id="glmm">(.*?)</section>', page, re.S)
    assert found
    return html.unescape(found.group(1))


def test_page_shows_the_warning(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis_pages, "pool_outcome_glmm", _identical)
    sign_in(client, "viewer_a")
    with pytest.warns(UserWarning, match=CANNOT_FIT):
        page = client.get("/evidence", params={"model": "glmm"})
    assert page.status_code == 200
    section = _glmm_section(page.text)
    warned = re.findall(r'<p class="note">Warning: ([^<]+)</p>', section)
    assert len(warned) == 1 and warned[0].startswith(CANNOT_FIT)
    assert 'id="glmm-warnings"' in section and "converged to the maximum" in section


def test_page_without_warnings_shows_none(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    section = _glmm_section(client.get("/evidence", params={"model": "glmm"}).text)
    assert "glmm-warnings" not in section and "Warning:" not in section
