"""The web evidence page refuses a tau² method with the GLMM, as the CLI and the API do.

The GLMM is fitted by maximum likelihood (metafor ``rma.glmm``); a method other than ML is
refused with a message naming the field, and the form keeps what the user chose.
"""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from livermet.evidence.dataset import load_literature
from livermet.evidence.glmm_pool import pool_outcome_glmm
from livermet.evidence.glmm_report import glmm_report
from livermet.evidence.pooling import pool_outcome
from tests.web.conftest import sign_in

REFUSAL = "method: the binomial-normal GLMM is fitted by ML: method must be ML, not 'DL'"


def _text(page: str) -> str:
    """Return the page's visible text (tags and data URIs removed, entities decoded)."""
    page = re.sub(r'src="data:[^"]+"', "", page)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def test_glmm_with_a_tau2_method_is_refused_keeping_the_form(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    params = {"model": "glmm", "method": "DL", "nagq": "3", "outcome": "os3"}
    response = client.get("/evidence", params=params)
    assert response.status_code == 422
    assert REFUSAL in _text(response.text)
    assert 'id="glmm"' not in response.text and 'id="forest-plot"' not in response.text
    assert '<option value="glmm" selected>' in response.text
    assert "<option selected>DL</option>" in response.text
    assert "<option selected>os3</option>" in response.text
    assert 'name="nagq" value="3"' in response.text


@pytest.mark.parametrize("method", ["", "ML"])
def test_glmm_with_the_models_own_method_runs(client: TestClient, method: str) -> None:
    sign_in(client, "viewer_a")
    response = client.get("/evidence", params={"model": "glmm", "method": method})
    assert response.status_code == 200, _text(response.text)
    df = load_literature()
    report = glmm_report(pool_outcome_glmm(df, "os5", nagq=7), df)
    assert f"k = {report['k']}, PLO / ML (adaptive Gauss-Hermite, 7 points)" in _text(response.text)
    assert f"{100 * report['estimate']:.1f} % (95 % CI" in _text(response.text)


def test_blank_method_is_reml_for_rma_and_the_form_offers_it(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    page = client.get("/evidence")
    assert page.status_code == 200
    assert '<option value="" selected>model\'s own (rma: REML; GLMM: ML)</option>' in page.text
    pooled = pool_outcome(load_literature(), "os5").to_dict()
    assert pooled["method"] == "REML"
    assert f"{100 * pooled['estimate']:.1f} % (95 % CI" in _text(page.text)
    assert f"k = {pooled['k']}, PLO / REML" in _text(page.text)
