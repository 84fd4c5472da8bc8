"""The cohort page's "with literature" choice: plot, test or why there is none, escaping."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import livermet.analysis.literature as literature
import livermet.evidence.ipd as ipd
from tests.analysis.literature_data import write_ipd_folder
from tests.web.conftest import sign_in

PAGE = "/cohort?synthetic=exclude&literature=on"
DISCLAIMER = "decision support, not medical advice"


def _text(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def assert_literature_plot(page: str) -> None:
    found = re.search(
        r'<img src="data:image/png;base64,([^"]+)" alt="Kaplan-Meier of the registry', page
    )
    assert found and len(found.group(1)) > 10_000, "no plot of the registry beside the literature"


def test_checkbox_is_offered_and_off_by_default(client: TestClient) -> None:
    sign_in(client, "admin")
    response = client.get("/cohort?synthetic=exclude")
    assert response.status_code == 200
    assert 'name="literature" value="on">' in response.text  # not checked
    assert "Registry beside the literature" not in response.text


def test_without_reconstructed_series_the_weibull_curve_and_no_test(client: TestClient) -> None:
    sign_in(client, "admin")
    response = client.get(PAGE)
    assert response.status_code == 200
    assert 'name="literature" value="on" checked' in response.text
    text = _text(response.text)
    assert "Registry beside the literature (overall survival, all patients)" in text
    assert "Literature: Weibull from summary points" in text
    assert "no literature risk table and no test" in text
    assert "Log-rank registry vs literature" not in text
    assert DISCLAIMER in text
    assert_literature_plot(response.text)


def test_with_reconstructed_series_the_log_rank_test(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_ipd_folder(tmp_path / "ipd")
    monkeypatch.setattr(ipd, "dataset_folder", lambda: folder)
    sign_in(client, "admin")
    response = client.get(PAGE)
    assert response.status_code == 200
    text = _text(response.text)
    assert "Literature: reconstructed IPD; series lang2000, dematteo2001, rehders2009" in text
    assert re.search(r"Log-rank registry vs literature: χ² = \d+\.\d{3}, df = 1, p = ", text)
    assert "Holm-adjusted p" in text and "Between the series: χ² =" in text
    assert "Stratified by series: not computed" in text
    assert_literature_plot(response.text)
    assert DISCLAIMER in text


def test_event_free_survival_is_refused_for_the_literature(client: TestClient) -> None:
    sign_in(client, "admin")
    response = client.get(PAGE + "&endpoint=efs")
    assert response.status_code == 200  # the other analyses still run
    assert "the literature reports overall survival: choose endpoint os" in _text(response.text)


def test_text_in_the_literature_section_is_escaped(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(literature, "MONTHS_NOTE", "<script>alert(1)</script>")
    sign_in(client, "admin")
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
