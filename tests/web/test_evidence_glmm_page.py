"""The web evidence page: model choice (rma / binomial-normal GLMM), added series, reconstructed.

Numbers are checked against the evidence engine run on the same series, and the Table 1 GLMM
against metafor 3.8-1 (tests/evidence/data/glmm/glmm-refs.json, written by glmm-refs.R).
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import livermet.evidence.glmm_pool as glmm_pool
import livermet.evidence.ipd as ipd
import livermet.report.glmm_plots as glmm_plots
import livermet.web.analysis_pages as analysis_pages
from livermet.evidence.dataset import load_literature
from livermet.evidence.glmm_pool import ROUNDING_NOTE, pool_outcome_glmm
from livermet.evidence.glmm_report import glmm_report
from livermet.evidence.pooling import pool_outcome
from livermet.evidence.selection import series_with_own
from livermet.evidence.survival.one_stage import reconstructed_section
from tests.analysis.literature_data import write_ipd_folder
from tests.web.conftest import csrf_of, sign_in

DISCLAIMER = "decision support, not medical advice"
GLMM_REFS = Path(__file__).resolve().parents[1] / "evidence" / "data" / "glmm" / "glmm-refs.json"


def _text(page: str) -> str:
    """Return the page's visible text (tags and data URIs removed, entities decoded)."""
    page = re.sub(r'src="data:[^"]+"', "", page)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _metafor_table1(nagq: int) -> dict[str, Any]:
    cases = json.loads(GLMM_REFS.read_text(encoding="utf-8"))["cases"]
    found = [
        c
        for c in cases
        if c["name"] == "table1_os5" and c["nagq"] == nagq and c["control"] == "default"
    ]
    assert len(found) == 1
    case: dict[str, Any] = found[0]
    return case


def assert_glmm_numbers(text: str, report: dict[str, Any]) -> None:
    """Check the page shows the GLMM's estimate, intervals, tau², I² and tests as computed."""
    assert (
        f"{_pct(report['estimate'])} % (95 % CI {_pct(report['ci_lb'])} to "
        f"{_pct(report['ci_ub'])} %)"
    ) in text
    assert f"between {_pct(report['pi_lb'])} and {_pct(report['pi_ub'])} %" in text
    assert f"tau² = {report['tau2']:.4g}, I² = {report['i2']:.1f} %" in text
    wald, lrt = report["wald"], report["lrt"]
    assert f"Wald = {wald['statistic']:.2f} (df {wald['df']}, p = {wald['p']:.3g})" in text
    assert f"likelihood ratio = {lrt['statistic']:.2f} (df {lrt['df']}, p = {lrt['p']:.3g})" in text
    assert f"k = {report['k']}, PLO / ML ({report['approximation']})" in text


def assert_rounding_listed(text: str, report: dict[str, Any]) -> None:
    """Check the rounding note and every rounded series with its S·n and whole survivors."""
    assert f"Note: {ROUNDING_NOTE}." in text
    assert report["rounded"], "Table 1's S·n are not all whole: some series are rounded"
    for r in report["rounded"]:
        line = f"{r['label']}: {r['survivors_unrounded']:.3g} → {r['survivors']} survivors"
        assert line in text


def test_the_form_offers_the_model_nagq_and_added_series(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    page = client.get("/evidence").text
    assert '<option value="rma" selected>random effects (rma)</option>' in page
    assert '<option value="glmm">binomial-normal GLMM</option>' in page
    assert 'name="nagq" value="" placeholder="7"' in page  # blank: 7 for the GLMM, none for rma
    assert 'name="include_added" value="on">' in page  # not checked, the API's name
    assert 'name="added"' not in page
    assert 'id="forest-plot"' in page and 'id="glmm"' not in page
    assert DISCLAIMER in _text(page)


@pytest.mark.parametrize("nagq", [7, 1])
def test_glmm_page_shows_the_engine_and_metafor_numbers(client: TestClient, nagq: int) -> None:
    sign_in(client, "viewer_a")
    response = client.get("/evidence", params={"model": "glmm", "nagq": str(nagq)})
    assert response.status_code == 200
    text = _text(response.text)
    df = load_literature()
    report = glmm_report(pool_outcome_glmm(df, "os5", nagq=nagq), df)
    assert_glmm_numbers(text, report)
    assert_rounding_listed(text, report)
    ref = _metafor_table1(nagq)
    assert f"{_pct(ref['prop'])} % (95 % CI {_pct(ref['prop_ci_lb'])}" in text
    assert f"between {_pct(ref['prop_pi_lb'])} and {_pct(ref['prop_pi_ub'])} %" in text
    assert f"likelihood ratio = {ref['QE_LRT']:.2f} (df {ref['QE_df']}" in text
    approximation = "Laplace" if nagq == 1 else "adaptive Gauss-Hermite, 7 points"
    assert f"PLO / ML ({approximation})" in text
    assert 'id="forest-plot"' not in response.text and 'id="glmm"' in response.text
    assert '<option value="glmm" selected>' in response.text
    assert DISCLAIMER in text


def test_added_series_with_each_model(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    everything = load_literature(include_added=True)
    added_ids = set(everything["id"]) - set(load_literature()["id"])
    assert added_ids
    rma_page = client.get("/evidence", params={"include_added": "on", "outcome": "os3"})
    assert rma_page.status_code == 200
    assert 'name="include_added" value="on" checked' in rma_page.text
    for ident in added_ids:
        assert f"<td>{ident}</td>" in rma_page.text
    pooled = pool_outcome(everything, "os3").to_dict()
    text = _text(rma_page.text)
    assert f"{_pct(pooled['estimate'])} % (95 % CI {_pct(pooled['ci_lb'])}" in text
    assert f"k = {pooled['k']}, PLO / REML" in text
    glmm_page = client.get("/evidence", params={"include_added": "on", "model": "glmm"})
    assert glmm_page.status_code == 200
    report = glmm_report(pool_outcome_glmm(everything, "os5"), everything)
    assert report["k"] > glmm_report(pool_outcome_glmm(load_literature(), "os5"))["k"]
    assert_glmm_numbers(_text(glmm_page.text), report)
    without = client.get("/evidence").text
    assert not any(f"<td>{ident}</td>" in without for ident in added_ids)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"model": "glmm", "nagq": "0"}, "nagq"),
        ({"model": "glmm", "nagq": "seven"}, "nagq"),
        ({"model": "glmm", "nagq": "101"}, "nagq"),
        ({"model": "bayes"}, "model"),
        ({"model": "glmm", "measure": "PFT"}, "measure"),
        ({"model": "glmm", "test": "knha"}, "test"),
    ],
)
def test_bad_choices_are_named_on_the_page(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    sign_in(client, "viewer_a")
    response = client.get("/evidence", params=params)
    assert response.status_code == 422
    found = re.search(r'<p class="error" role="alert">([^<]+)</p>', response.text)
    assert found, "no error on the page"
    assert html.unescape(found.group(1)).startswith(f"{field}: ")
    assert 'id="glmm"' not in response.text and 'id="forest-plot"' not in response.text
    assert "<h2>Series</h2>" in response.text and DISCLAIMER in _text(response.text)


def _page_error(response: Any) -> str:
    found = re.search(r'<p class="error" role="alert">([^<]+)</p>', response.text)
    assert found, "no error on the page"
    return html.unescape(found.group(1))


@pytest.mark.parametrize("nagq", ["1", "7", "0", "seven"])
def test_rma_ignores_nagq_filled_in(client: TestClient, nagq: str) -> None:
    """The form keeps nagq across submissions: with rma it is not used (nor checked), said so.

    (The CLI and the API, where nagq is the user's explicit input, refuse it with rma.)
    """
    sign_in(client, "viewer_a")
    response = client.get("/evidence", params={"model": "rma", "nagq": nagq})
    assert response.status_code == 200
    assert 'class="error"' not in response.text and 'id="forest-plot"' in response.text
    assert "nAGQ and optimiser apply to the GLMM only: not used" in _text(response.text)
    assert f'name="nagq" value="{nagq}"' in response.text  # kept for a switch back to GLMM
    pooled = pool_outcome(load_literature(), "os5").to_dict()
    assert f"{_pct(pooled['estimate'])} %" in _text(response.text)


@pytest.mark.parametrize("nagq", ["", "  "])
def test_blank_nagq_is_no_choice(client: TestClient, nagq: str) -> None:
    sign_in(client, "viewer_a")
    rma = client.get("/evidence", params={"model": "rma", "nagq": nagq})
    assert rma.status_code == 200 and 'id="forest-plot"' in rma.text
    glmm = client.get("/evidence", params={"model": "glmm", "nagq": nagq})
    assert glmm.status_code == 200
    df = load_literature()
    assert_glmm_numbers(_text(glmm.text), glmm_report(pool_outcome_glmm(df, "os5"), df))


def test_added_is_still_accepted_as_the_former_name(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    old = client.get("/evidence", params={"added": "on"})
    new = client.get("/evidence", params={"include_added": "on"})
    assert old.status_code == new.status_code == 200
    assert 'name="include_added" value="on" checked' in old.text
    everything = load_literature(include_added=True)
    k = pool_outcome(everything, "os5").to_dict()["k"]
    assert f"k = {k}, PLO / REML" in _text(old.text) and f"k = {k}, PLO / REML" in _text(new.text)


def _glmm_forest_png(page: str) -> bytes:
    """Return the PNG of the page's GLMM forest plot (its ``<img>`` holds it as a data URI)."""
    found = re.search(r'<img id="glmm-forest-plot" src="data:image/png;base64,([^"]+)"', page)
    assert found, "no GLMM forest plot on the page"
    return base64.b64decode(found.group(1))


def test_glmm_page_shows_its_forest_plot(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    glmm = client.get("/evidence", params={"model": "glmm"}).text
    section = re.search(r'<section id="glmm">.*?</section>', glmm, re.S)
    assert section and 'id="glmm-forest-plot"' in section.group(0)
    png = _glmm_forest_png(glmm)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert 'id="forest-plot"' not in glmm and "No forest plot" not in _text(glmm)
    rma = client.get("/evidence").text
    assert 'id="glmm-forest-plot"' not in rma and 'id="forest-plot"' in rma


@pytest.mark.parametrize(
    ("params", "nagq", "optimizer", "outcome"),
    [
        ({}, 7, "metafor", "os5"),
        ({"nagq": "1", "optimizer": "converged", "outcome": "OS3"}, 1, "converged", "os3"),
    ],
)
def test_glmm_forest_plot_draws_the_page_pooling(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, str],
    nagq: int,
    optimizer: str,
    outcome: str,
) -> None:
    """The plot is drawn from the same pooling as the page's figures, with the series' names."""
    calls: list[tuple[Any, list[str], dict[str, Any]]] = []
    real = glmm_plots.glmm_forest_plot

    def spy(pooled: Any, labels: list[str], **kwargs: Any) -> Any:
        calls.append((pooled, list(labels), kwargs))
        return real(pooled, labels, **kwargs)

    monkeypatch.setattr(analysis_pages, "glmm_forest_plot", spy)
    sign_in(client, "viewer_a")
    page = client.get("/evidence", params={"model": "glmm", **params})
    assert page.status_code == 200
    ((pooled, labels, kwargs),) = calls
    df = load_literature()
    report = glmm_report(pool_outcome_glmm(df, outcome, nagq=nagq, optimizer=optimizer), df)
    assert (pooled.fit.nagq, pooled.fit.optimizer, pooled.outcome) == (nagq, optimizer, outcome)
    assert pooled.estimate == pytest.approx(report["estimate"], rel=1e-12)
    assert labels == [r["label"] for r in report["series"]]
    assert kwargs["xlabel"] == f"{int(outcome[-1])}-year overall survival (%)"
    assert_glmm_numbers(_text(page.text), report)
    _glmm_forest_png(page.text)


def test_no_glmm_forest_plot_when_the_choice_is_refused(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    response = client.get("/evidence", params={"model": "glmm", "method": "REML"})
    assert response.status_code == 422
    assert 'id="glmm-forest-plot"' not in response.text
    assert _page_error(response).startswith("method: ")


@pytest.mark.parametrize("model", ["rma", "glmm"])
def test_outcome_in_any_case(client: TestClient, model: str) -> None:
    sign_in(client, "viewer_a")
    response = client.get("/evidence", params={"model": model, "outcome": "OS3"})
    assert response.status_code == 200
    assert "<option selected>os3</option>" in response.text  # the form shows what was pooled
    text = _text(response.text)
    df = load_literature()
    if model == "glmm":
        assert_glmm_numbers(text, glmm_report(pool_outcome_glmm(df, "os3"), df))
    else:
        pooled = pool_outcome(df, "os3").to_dict()
        assert f"{_pct(pooled['estimate'])} % (95 % CI {_pct(pooled['ci_lb'])}" in text


def test_glmm_test_knha_names_the_tests_it_supports(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    response = client.get("/evidence", params={"model": "glmm", "test": "knha"})
    assert response.status_code == 422
    assert (
        _page_error(response) == "test: the binomial-normal GLMM supports tests z and t, not 'knha'"
    )


def test_glmm_page_says_survivors_not_events(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    response = client.get("/evidence", params={"model": "glmm"})
    section = re.search(r'<section id="glmm">.*?</section>', response.text, re.S)
    assert section
    assert "event" not in re.sub(r'src="data:[^"]+"', "", section.group(0)).lower()
    assert "Note: survivors = S·n rounded to whole patients" in _text(section.group(0))


def test_without_reconstructed_series_one_honest_line(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    text = _text(client.get("/evidence").text)
    reason = reconstructed_section(load_literature())["reason"]
    assert f"No reconstructed series available: {reason}." in text


def test_reconstructed_series_with_their_median_verdicts(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_ipd_folder(tmp_path / "ipd")
    monkeypatch.setattr(ipd, "dataset_folder", lambda: folder)
    sign_in(client, "viewer_a")
    response = client.get("/evidence")
    assert response.status_code == 200
    text = _text(response.text)
    section = reconstructed_section(load_literature())
    assert section["available"] and section["series"]
    assert "No reconstructed series available" not in text
    for s in section["series"]:
        check = s["median_check"]
        assert f"{check['verdict']} : {check['reason']}" in text
        assert f"{s['label']} {s['n']} {s['events']} " in text
    pooled = section["pooled"]
    assert f"pooled {pooled['n']} {pooled['events']} {pooled['median']['estimate']:.1f}" in text
    between = section["between_series_logrank"]
    assert f"χ² = {between['chisq']:.2f}, df = {between['df']}" in text
    assert f"RMST to {section['rmst']['horizon']:g} months" in text
    assert DISCLAIMER in text


def test_a_broken_ipd_folder_is_an_error_not_a_crash(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_ipd_folder(tmp_path / "ipd")
    (folder / "provenance.csv").write_text("series,file\n", encoding="utf-8")
    monkeypatch.setattr(ipd, "dataset_folder", lambda: folder)
    sign_in(client, "viewer_a")
    response = client.get("/evidence")
    assert response.status_code == 200  # the pooling itself is fine
    found = re.search(r'id="reconstructed">.*?<p class="error">([^<]+)</p>', response.text, re.S)
    assert found and "ipd" in found.group(1)


def test_engine_text_is_escaped(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(glmm_pool, "ROUNDING_NOTE", "<script>alert(1)</script>")
    sign_in(client, "viewer_a")
    page = client.get("/evidence", params={"model": "glmm"}).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_own_series_is_pooled_by_the_glmm(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    token = csrf_of(client.get("/evidence").text)
    client.post(
        "/evidence/series",
        data={"csrf_token": token, "id": "mine", "n_table": "33", "os5": "40"},
    )
    page = client.get("/evidence", params={"model": "glmm"})
    assert page.status_code == 200
    df = series_with_own("id,n_table,mst_months,os1,os3,os5\nmine,33,,,,40\n")
    report = glmm_report(pool_outcome_glmm(df, "os5"), df)
    mine = [r for r in report["rounded"] if r["id"] == "mine"]
    assert len(mine) == 1 and mine[0]["survivors"] == round(0.40 * 33)  # S·n = 13.2
    assert report["k"] == len(load_literature()["os5"].dropna()) + 1
    text = _text(page.text)
    assert_glmm_numbers(text, report)
    assert f"{mine[0]['label']}: 13.2 → {mine[0]['survivors']} survivors" in text


def test_own_series_may_not_take_the_id_of_an_added_series(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    added = sorted(set(load_literature(include_added=True)["id"]) - set(load_literature()["id"]))
    token = csrf_of(client.get("/evidence").text)
    response = client.post(
        "/evidence/series",
        data={"csrf_token": token, "id": added[0], "n_table": "20", "os5": "40"},
    )
    assert response.status_code == 422
    assert f"id: series id {added[0]} is in the literature already" in _text(response.text)


def test_glmm_optimizer_choice_on_the_page(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    page = client.get("/evidence").text
    assert '<option value="" selected>as metafor (default)</option>' in page
    df = load_literature()
    for choice, shown in [("", "as metafor (glmer's defaults)"), ("converged", "converged")]:
        response = client.get("/evidence", params={"model": "glmm", "optimizer": choice})
        assert response.status_code == 200
        text = _text(response.text)
        assert f"optimiser: {shown}" in text
        report = glmm_report(pool_outcome_glmm(df, "os5", optimizer=choice or "metafor"), df)
        assert report["optimizer"] == (choice or "metafor")
        assert_glmm_numbers(text, report)
    picked = client.get("/evidence", params={"model": "glmm", "optimizer": "converged"}).text
    assert '<option value="converged" selected>' in picked
    ignored = client.get("/evidence", params={"model": "rma", "optimizer": "converged"})
    assert ignored.status_code == 200 and 'id="forest-plot"' in ignored.text
    assert "nAGQ and optimiser apply to the GLMM only: not used" in _text(ignored.text)
    assert '<option value="converged" selected>' in ignored.text
