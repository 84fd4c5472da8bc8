"""Issue 9, items 1 and 2: case text never becomes markup, and reports fetch nothing.

A case carries a payload (``<link rel=attachment href=file://...>``, ``<img>``, ``<iframe>``,
``<object>``, CSS ``url()`` and ``@import``, ``<meta http-equiv=refresh>``, ``<style>``, SVG,
Markdown images and links, Rich markup; ``file://``, ``http://`` and ``https://`` targets) in every
free-text field of the case model. It is rendered as HTML, printable HTML, Markdown, text and PDF,
by the CLI and by a live server, and viewed on every page that shows a case. No payload becomes
markup, the listener on 127.0.0.1 receives no connection, and the PDFs carry no attachment.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from typer.testing import CliRunner

from livermet.case.assess import assess
from livermet.case.load import case_from_data
from livermet.cli.main import app as cli
from livermet.report.html import markdown_to_html, render_html
from livermet.report.markdown import markdown_text, render_markdown
from livermet.report.pdf import allowed_url, html_to_pdf, render_pdf
from tests.security.conftest import Listener, LiveServer
from tests.security.payloads import (
    assert_no_injected_markup,
    free_text_paths,
    label_of,
    payload,
    poisoned_document,
    seed_document,
)
from tests.web.conftest import csrf_of


def embedded_files(pdf: bytes, tmp_path: Path) -> str:
    """``pdfdetach -list`` of a PDF: the files embedded in it (poppler-utils)."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(
        ["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return listing


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def assert_no_attachment(pdf: bytes, tmp_path: Path) -> None:
    assert pdf.startswith(b"%PDF")
    listing = embedded_files(pdf, tmp_path)
    assert listing.strip().startswith("0 embedded files"), listing


def assert_nothing_fetched(listener: Listener) -> None:
    time.sleep(0.3)  # a fetch in flight would have connected by now
    assert listener.received == [], listener.received


def test_the_model_has_many_free_text_fields() -> None:
    paths = {label_of(p) for p in free_text_paths()}
    # The walk finds the fields the attack used (and the others): it cannot pass vacuously.
    expected = {
        "id",
        "notes",
        "primary_tumour.histology",
        "primary_tumour.site",
        "patient.performance_status",
        "procedures.0.name",
        "follow_up.0.status",
        "imaging.0.finding",
    }
    assert expected <= paths, expected - paths
    assert len(paths) >= 20


def test_markdown_text_is_literal() -> None:
    text = "a *b* _c_ `d` [e](f) ![g](h) <i> &amp; | j # k ~l~ {m} \\n\nsecond line"
    html = markdown_to_html(markdown_text(text))
    assert html == (
        "<p>a *b* _c_ `d` [e](f) ![g](h) &lt;i&gt; &amp;amp; | j # k ~l~ {m} \\n second line</p>\n"
    )


def test_the_report_renderer_makes_no_links_images_or_html() -> None:
    # Defence in depth: even Markdown that was not escaped yields no element that fetches.
    html = markdown_to_html(
        '![x](http://127.0.0.1:9/i) [y](http://127.0.0.1:9/l) <http://127.0.0.1:9/a> <img src="z">'
        "\n\n[ref]: http://127.0.0.1:9/r\n\n<iframe src=q></iframe>"
    )
    assert not re.search(r"<(img|a|iframe)\b", html), html


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("data:image/png;base64,iVBORw0KGgo=", True),
        ("file:///proc/self/environ", False),
        ("file:///etc/passwd", False),
        ("http://127.0.0.1:9/x", False),
        ("https://127.0.0.1:9/x", False),
        ("ftp://127.0.0.1/x", False),
        ("file://otherhost/x", False),
        ("relative/path.css", False),
        ("", False),
    ],
)
def test_the_pdf_fetcher_allows_only_data_and_packaged_assets(url: str, allowed: bool) -> None:
    assert allowed_url(url) is allowed


def test_the_pdf_fetcher_allows_packaged_assets_but_not_their_neighbours() -> None:
    import livermet.web

    static = Path(livermet.web.__file__).parent / "static" / "style.css"
    assert allowed_url(static.as_uri())
    assert not allowed_url((static.parent / ".." / ".." / "registry" / "db.py").as_uri())
    assert not allowed_url(Path("/work").as_uri())


def test_reports_of_a_poisoned_case_carry_no_markup_and_fetch_nothing(
    listener: Listener, tmp_path: Path
) -> None:
    document = poisoned_document(listener.url)
    data = assess(case_from_data(document)).to_dict()
    clean = assess(case_from_data(seed_document())).to_dict()

    html = render_html(data)
    assert_no_injected_markup(html, render_html(clean), listener.url)
    assert "&lt;iframe" in html  # the histology is there, as text

    markdown = render_markdown(data)
    # Every "<" and "]" of the payload is escaped: no raw HTML, no link or image syntax.
    assert not re.search(r"(?<!\\)(<iframe|\]\(http)", markdown)
    assert "\\<iframe" in markdown

    pdf = render_pdf(data)
    assert_no_attachment(pdf, tmp_path)
    assert "<iframe" in pdf_text(pdf, tmp_path)  # printed as the text it is
    assert_nothing_fetched(listener)


def test_the_case_id_is_text_too(listener: Listener, tmp_path: Path) -> None:
    document = seed_document()
    document["id"] = payload(listener.url, "id")
    data = assess(case_from_data(document)).to_dict()
    html = render_html(data)
    assert_no_injected_markup(
        html, render_html(assess(case_from_data(seed_document())).to_dict()), listener.url
    )
    assert "<title>livermet assessment — x &lt;link" in html
    assert_no_attachment(render_pdf(data), tmp_path)
    assert_nothing_fetched(listener)


def test_raw_html_given_to_weasyprint_fetches_nothing(listener: Listener, tmp_path: Path) -> None:
    # The fetcher is the last line: even raw HTML with every resource kind loads none of them.
    raw = "<html><body>" + payload(listener.url, "raw") + "</body></html>"
    pdf = html_to_pdf(raw)
    assert_no_attachment(pdf, tmp_path)
    assert_nothing_fetched(listener)


def test_cli_reports_of_a_poisoned_case(listener: Listener, tmp_path: Path) -> None:
    case_file = tmp_path / "poisoned.yaml"
    case_file.write_text(yaml.safe_dump(poisoned_document(listener.url)), "utf-8")
    runner = CliRunner()
    outputs = {}
    for fmt in ("html", "md", "pdf", "json"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(cli, ["assess", str(case_file), "-f", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        outputs[fmt] = out.read_bytes()
    clean = render_html(assess(case_from_data(seed_document())).to_dict())
    assert_no_injected_markup(outputs["html"].decode(), clean, listener.url)
    assert not re.search(rb"(?<!\\)<iframe", outputs["md"])
    assert_no_attachment(outputs["pdf"], tmp_path)
    assert json.loads(outputs["json"])["case"]["histology"].startswith("x <link")  # data, as is

    # The terminal report prints Rich markup in the case as the text it is.
    text = subprocess.run(
        [sys.executable, "-m", "livermet.cli.main", "assess", str(case_file)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"},
        check=True,
    ).stdout
    assert "[bold]rich[/bold]" in text and "[link=file:///etc/passwd]" in text
    assert_nothing_fetched(listener)


def test_a_pdf_without_an_output_file_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["assess", str(Path(__file__).parents[2] / "examples" / "seed-case.yaml"), "-f", "pdf"]
    )
    assert result.exit_code == 2
    assert "--output" in result.output


# --- the live server: every page that shows a case, and the reports it renders ----------------


def _store(live: LiveServer, document: dict[str, Any]) -> None:
    with live.api("editor_a") as api:
        response = api.post("/api/v1/cases", json={"case": document})
        assert response.status_code == 201, response.text


def test_viewer_pdf_attack_of_the_issue_is_closed(
    live: LiveServer, listener: Listener, tmp_path: Path
) -> None:
    """The reproduction of item 1: a viewer posts a case to /assess/report with fmt=pdf."""
    document = seed_document()
    document["primary_tumour"]["histology"] = (
        'x <link rel="attachment" href="file:///proc/self/environ">'
        f'<link rel="attachment" href="{live.db_path.as_uri()}">'
        f'<link rel="attachment" href="{live.base}/admin">'
        + "".join(f'<img src="{listener.url}/slow{i}">' for i in range(6))
    )
    with live.browser("viewer_a") as browser:
        token = csrf_of(browser.get("/assess").text)
        started = time.monotonic()
        response = browser.post(
            "/assess/report",
            data={"csrf_token": token, "case_json": json.dumps(document), "fmt": "pdf"},
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert_no_attachment(response.content, tmp_path)
    assert b"security-test-secret-key" not in response.content
    assert elapsed < 20  # no fetch to hold the request
    assert_nothing_fetched(listener)


def test_every_page_and_report_of_a_poisoned_case(
    live: LiveServer, listener: Listener, tmp_path: Path
) -> None:
    _store(live, poisoned_document(listener.url, "poisoned-pages"))
    _store(live, seed_document() | {"id": "clean-pages"})
    pages = ["/cases/{id}", "/cases/{id}/assessment", "/cases/{id}/report.html"]
    with live.browser("editor_a") as browser:
        for page in [*pages, "/cases/{id}/edit"]:
            poisoned = browser.get(page.format(id="poisoned-pages"))
            clean = browser.get(page.format(id="clean-pages"))
            assert poisoned.status_code == clean.status_code == 200, page
            assert_no_injected_markup(poisoned.text, clean.text, listener.url)
        listing = browser.get("/cases")
        assert_no_injected_markup(listing.text, browser.get("/cases?site=beta").text, listener.url)
        pdf = browser.get("/cases/poisoned-pages/report.pdf")
        assert pdf.status_code == 200
        assert_no_attachment(pdf.content, tmp_path)

        token = csrf_of(browser.get("/assess").text)
        text = json.dumps(poisoned_document(listener.url, "posted"))
        assessed = browser.post("/assess", data={"csrf_token": token, "case_text": text})
        clean_text = json.dumps(seed_document())
        baseline = browser.post("/assess", data={"csrf_token": token, "case_text": clean_text})
        assert assessed.status_code == baseline.status_code == 200
        assert_no_injected_markup(assessed.text, baseline.text, listener.url)
        for fmt in ("html", "pdf"):
            report = browser.post(
                "/assess/report", data={"csrf_token": token, "case_json": text, "fmt": fmt}
            )
            assert report.status_code == 200
            if fmt == "pdf":
                assert_no_attachment(report.content, tmp_path)
            else:
                base = browser.post(
                    "/assess/report",
                    data={"csrf_token": token, "case_json": clean_text, "fmt": "html"},
                )
                assert_no_injected_markup(report.text, base.text, listener.url)
    assert_nothing_fetched(listener)


def test_a_case_id_with_markup_on_the_pages(live: LiveServer, listener: Listener) -> None:
    case_id = payload(listener.url, "case-id")
    _store(live, seed_document() | {"id": case_id})
    with live.browser("viewer_a") as browser:
        listing = browser.get("/cases")
        assert "x &lt;link" in listing.text
        assert_no_injected_markup(listing.text, browser.get("/cases?site=beta").text, listener.url)
        detail = browser.get("/cases/" + quote(case_id, safe=""))
        clean = browser.get("/cases/seed-case")
        if detail.status_code == 200:  # ids with '/' may not route; either way, no markup
            assert_no_injected_markup(detail.text, clean.text, listener.url)
    assert_nothing_fetched(listener)


def test_no_page_turns_stored_text_into_markup(fresh_live: LiveServer, listener: Listener) -> None:
    """Every page an admin can open, before and after text with markup was stored.

    The markup goes everywhere it can be: a case (every free-text field), a site name, a user
    name's token label.
    """
    from livermet.registry import Database

    pages = ["/", "/assess", "/cases", "/evidence", "/cohort", "/admin", "/admin/audit"]
    with fresh_live.browser("admin") as browser:
        before = {page: browser.get(page) for page in pages}
        _store(fresh_live, poisoned_document(listener.url, "poisoned-everywhere"))
        with Database(fresh_live.db_url) as db:
            reg = db.registry("admin")
            reg.create_site("gamma", payload(listener.url, "site-name"))
            reg.create_token(payload(listener.url, "token-label"))
        for page in pages:
            after = browser.get(page)
            assert after.status_code == before[page].status_code == 200, page
            assert_no_injected_markup(after.text, before[page].text, listener.url)
        assert "x &lt;link" in browser.get("/admin").text  # the stored text is shown, as text
    assert_nothing_fetched(listener)
