"""The evidence page's forms and the pool API: errors in the words of the field filled in.

Choices are kept across submissions (QA: the GLMM fields trapped an rma pooling); the "Add your
own series" form spoke of a CSV; the API named a CSV column as the request field.

Numbers are the evidence engine's on the same series (its own tests check it against metafor).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from livermet.evidence.dataset import load_literature
from livermet.evidence.glmm_pool import pool_outcome_glmm
from livermet.evidence.glmm_report import glmm_report
from livermet.evidence.pooling import pool_outcome
from tests.web.conftest import WebRegistry, csrf_of, sign_in

NOTE = "nAGQ and optimiser apply to the GLMM only: not used"
POOL = "/api/v1/evidence/pool"


def _text(page: str) -> str:
    page = re.sub(r'src="data:[^"]+"', "", page)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def _errors(page: str) -> list[str]:
    return [
        html.unescape(m) for m in re.findall(r'<p class="error" role="alert">([^<]+)</p>', page)
    ]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def test_switching_from_glmm_to_rma_keeps_the_glmm_fields_and_pools(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    glmm_choice = {"model": "glmm", "nagq": "26", "optimizer": "converged"}
    df = load_literature()
    glmm = client.get("/evidence", params=glmm_choice)
    assert glmm.status_code == 200
    report = glmm_report(pool_outcome_glmm(df, "os5", nagq=26, optimizer="converged"), df)
    assert f"{_pct(report['estimate'])} %" in _text(glmm.text)
    assert NOTE not in _text(glmm.text)

    rma = client.get("/evidence", params={**glmm_choice, "model": "rma"})
    assert rma.status_code == 200, _errors(rma.text)
    assert _errors(rma.text) == []
    pooled = pool_outcome(df, "os5").to_dict()
    text = _text(rma.text)
    assert f"{_pct(pooled['estimate'])} % (95 % CI {_pct(pooled['ci_lb'])}" in text
    assert re.search(r'<p class="muted" id="glmm-only-note">[^<]*not used', rma.text)
    # kept in the form, so that switching back to the GLMM restores them
    assert 'name="nagq" value="26"' in rma.text
    assert '<option value="converged" selected>' in rma.text


def test_rma_without_glmm_fields_has_no_note(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    response = client.get("/evidence", params={"model": "rma", "nagq": " ", "optimizer": ""})
    assert response.status_code == 200 and NOTE not in _text(response.text)


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        (
            {"model": "glmm", "nagq": "0", "optimizer": "best", "measure": "PFT", "test": "knha"},
            ["measure", "test", "nagq", "optimizer"],
        ),
        ({"model": "glmm", "method": "REML", "outcome": "os9"}, ["outcome", "method"]),
        (
            {"model": "rma", "measure": "XX", "test": "bad", "method": "nope"},
            ["method", "measure", "test"],
        ),
    ],
)
def test_every_bad_choice_is_named_at_once(
    client: TestClient, params: dict[str, str], fields: list[str]
) -> None:
    sign_in(client, "viewer_a")
    response = client.get("/evidence", params=params)
    assert response.status_code == 422
    [message] = _errors(response.text)
    named = [part.split(": ", 1)[0] for part in message.split("; ")]
    assert named == fields, message
    assert 'id="forest-plot"' not in response.text and 'id="glmm"' not in response.text


def _add(client: TestClient, **fields: str) -> Any:
    token = csrf_of(client.get("/evidence").text)
    return client.post("/evidence/series", data={"csrf_token": token, **fields})


def test_own_series_error_names_the_form_field_and_the_series(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    response = _add(client, id="mine", n_table="0", os5="30")
    assert response.status_code == 422
    [message] = _errors(response.text)
    assert message == "series 'mine', Patients (n): 0 must be at least 1 (number of patients)"
    assert "CSV" not in message and "n_table" not in message and "row " not in message


def test_own_series_decimal_comma_gets_the_hint(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    response = _add(client, id="mine", n_table="30", os1="80", os5="0,5")
    assert response.status_code == 422
    [message] = _errors(response.text)
    assert message == (
        "series 'mine', OS 5y (%): cannot read '0,5': use a point as the decimal separator "
        "(e.g. '0.5')"
    )


def test_own_series_lists_every_problem_in_the_form_words(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    response = _add(client, id="mine", n_table="12.5", os1="30", os3="40")
    assert response.status_code == 422
    [message] = _errors(response.text)
    assert message.split("; ") == [
        "series 'mine', Patients (n): 12.5 is not a whole number",
        "series 'mine', OS 3y (%): 40 % exceeds OS 1y (%) = 30 % (survival cannot rise)",
    ]
    missing = _add(client, id="mine", n_table="20")
    [message] = _errors(missing.text)
    assert message == (
        "series 'mine', MST (months) or OS 1y (%) or OS 3y (%) or OS 5y (%): "
        "no median or survival percentage given"
    )


def test_own_series_duplicate_id_is_named(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    first = _add(client, id="mine", n_table="20", os5="30")
    assert first.status_code == 200 and _errors(first.text) == []  # redirected to the page
    assert ">mine</td>" in first.text
    again = _add(client, id="mine", n_table="25", os5="35")
    assert again.status_code == 422
    assert _errors(again.text) == [
        "series 'mine', id: duplicate id 'mine' (one of your series already)"
    ]


def _auth(web_registry: WebRegistry) -> dict[str, str]:
    return {"Authorization": f"Bearer {web_registry.tokens['viewer_a']}"}


@pytest.mark.parametrize(
    ("series_csv", "words"),
    [
        ("garbage", ["header (CSV line 1), column 'id': required column is missing"]),
        ("id,n_table,os5\nmine,0,30\n", ["row 1 (CSV line 2), column 'n_table': 0 must be"]),
        (
            "id,n_table,os5\nmine,0,30\nmore,-1,3\n",
            ["row 1 (CSV line 2), column 'n_table'", "row 2 (CSV line 3), column 'n_table'"],
        ),
    ],
)
@pytest.mark.parametrize("model", ["glmm", "rma"])
def test_api_series_csv_problem_names_the_request_field(
    client: TestClient, web_registry: WebRegistry, series_csv: str, words: list[str], model: str
) -> None:
    response = client.post(
        POOL, json={"model": model, "series_csv": series_csv}, headers=_auth(web_registry)
    )
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["kind"] == "seriesinput" and error["field"] == "series_csv"
    assert error["message"].startswith("series_csv: ")
    for word in words:
        assert word in error["message"]


def test_api_series_csv_with_a_literature_id_names_the_request_field(
    client: TestClient, web_registry: WebRegistry
) -> None:
    ident = str(load_literature()["id"].iloc[0])
    response = client.post(
        POOL,
        json={"series_csv": f"id,n_table,os5\n{ident},20,30\n"},
        headers=_auth(web_registry),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["kind"] == "input" and error["field"] == "series_csv"
    assert f"series id {ident} is in the literature already" in error["message"]
