"""Test what a reader sees of an assessment.

The Markdown and text reports and the web assessment page carry no verification tags, spec
section numbers, file paths or internal series keys; the web page states the notice once and
shows the pooled-survival plot in its evidence section.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from livermet.case.assess import assess
from livermet.case.load import load_case
from livermet.evidence.dataset import load_literature
from livermet.report.markdown import render_markdown
from livermet.report.text import print_text
from tests.web.conftest import ROOT, csrf_of, sign_in

CASES = sorted((ROOT / "examples").glob("*.yaml"))
SERIES_KEYS = [str(i) for i in load_literature()["id"]]  # foster1978, ..., unknown19, unknown20

INTERNAL = {
    "verification tag": re.compile(r"\[[^\]]*\b(?:V\d+|UNV|ENG)\b[^\]]*\]|\bUNV\b|\bENG\b"),
    "spec section": re.compile(r"§|\bclinical-scores\b|\b[\w-]+\.md\b"),
    "file path": re.compile(
        r"(?<![\w.])\.?/?(?:src|shared|work|tmp|home|examples|tests|livermet)/[\w./-]+"
        r"|\b[\w-]+\.(?:py|ya?ml|json|csv)\b"
    ),
    "series key": re.compile(r"\b(?:" + "|".join(map(re.escape, SERIES_KEYS)) + r")\b"),
}


def _internal(text: str) -> dict[str, list[str]]:
    found = {name: pattern.findall(text) for name, pattern in INTERNAL.items()}
    return {name: hits for name, hits in found.items() if hits}


class _Text(HTMLParser):
    """The text a reader sees: text nodes, not attributes (image data, hidden form fields)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def test_the_patterns_catch_what_they_should() -> None:
    """The checks below can fail: each pattern finds its kind of internal text."""
    for text, kind in [
        ("FNCLCC [V1 verified]", "verification tag"),
        ("Makuuchi (UNV)", "verification tag"),
        ("see clinical-scores.md §15", "spec section"),
        ("read /work/shared/spec/design.md", "file path"),
        ("examples/seed-case.yaml", "file path"),
        ("Table 1 (foster1978, unknown19)", "series key"),
    ]:
        assert kind in _internal(text), text
    assert not _internal("ICG-K 0.21 /min; CT chest + abdomen/pelvis; Foster 1978 (engineering)")


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_markdown_and_text_reports_show_no_internal_text(path: Path) -> None:
    data = assess(load_case(path)).to_dict()
    markdown = render_markdown(data)
    console = Console(record=True, width=160, file=open("/dev/null", "w"))  # noqa: SIM115
    print_text(data, console)
    text = console.export_text()
    assert _internal(markdown) == {}
    assert _internal(text) == {}
    assert markdown.count("not medical advice") == 1  # at the top, not again at the end
    assert markdown.index("not medical advice") < markdown.index("## Findings")
    assert text.count("not medical advice") == 1
    assert "Foster 1978" in markdown  # the evidence names the series for readers


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_web_assessment_page_states_the_notice_once_and_shows_no_internal_text(
    client: TestClient, path: Path
) -> None:
    sign_in(client, "viewer_a")
    token = csrf_of(client.get("/assess").text)
    response = client.post(
        "/assess", data={"case_text": path.read_text(encoding="utf-8"), "csrf_token": token}
    )
    assert response.status_code == 200, response.text[:500]
    page = response.text
    seen = visible_text(page)
    assert _internal(seen) == {}
    assert seen.lower().count("not medical advice") == 1
    assert "Decision support, not medical advice" in seen
    # the plot closes the evidence section, inside the page's main content, before the footer
    evidence = page.index("<h2>Evidence: survival after hepatectomy in published series</h2>")
    plot = page.index('id="pooled-survival"')
    assert evidence < plot < page.index("<h2>Surveillance</h2>") < page.index("</article>")
    assert page.index("</article>") < page.index("</main>") < page.index("<footer")
    assert page.count("data:image/png;base64,") == 1


def test_stored_case_page_has_the_plot_in_its_evidence_section(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    page = client.get("/cases/seed-case/assessment").text
    assert visible_text(page).lower().count("not medical advice") == 1
    plot = page.index('id="pooled-survival"')
    assert page.index("<h2>Evidence: survival") < plot < page.index("<h2>Surveillance</h2>")
    assert plot < page.index("<footer")


def test_evidence_page_names_series_of_uncertain_source(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    page = client.get("/evidence").text
    row = next(r for r in page.split("<tr") if "<td>unknown19</td>" in r)
    assert "Series of uncertain source (case report ref. 19)" in row
    assert "your series" not in row
    assert "(your series)" not in page  # no series of one's own was added
    assert ">Foster 1978</a>" in page  # a series with a DOI links to it


def test_evidence_page_calls_only_a_users_own_series_theirs(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    token = csrf_of(client.get("/evidence").text)
    added = client.post(
        "/evidence/series",
        data={"id": "mine2024", "n_table": "20", "os5": "35", "csrf_token": token},
    )
    assert added.status_code in (200, 303)
    page = client.get("/evidence").text
    row = next(r for r in page.split("<tr") if "<td>mine2024</td>" in r)
    assert "mine2024 (your series)" in row
    assert page.count("(your series)") == 1
