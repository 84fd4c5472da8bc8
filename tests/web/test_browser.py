"""The acceptance flow in a real browser: Playwright driving Debian's Chromium, headless.

Screenshots of every page go to ``$LIVERMET_ARTIFACTS`` (default ``tests/web/artifacts/``).
Without Chromium the tests are skipped locally but FAIL in CI (``CI=true``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from livermet.web import create_app
from tests.web.conftest import PASSWORD, WebRegistry, artifacts_dir, free_port

CHROMIUM = Path(os.environ.get("LIVERMET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
    pytest.skip(f"no Chromium at {CHROMIUM}")


@pytest.fixture
def live_url(web_registry: WebRegistry) -> Iterator[str]:
    """Serve the app with uvicorn on a free loopback port, in a thread; yield its URL."""
    port = free_port()
    app = create_app(web_registry.url, secret_key="browser-test-key")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.db.close()


@pytest.fixture
def page(live_url: str) -> Iterator[object]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_url, accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        yield pg
        context.close()
        browser.close()


def _shot(page: object, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _sign_in(page: object, username: str) -> None:
    pg = page
    pg.goto("/signin")  # type: ignore[attr-defined]
    pg.fill("input[name=username]", username)  # type: ignore[attr-defined]
    pg.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    pg.click("button:has-text('Sign in')")  # type: ignore[attr-defined]
    pg.wait_for_url("**/assess")  # type: ignore[attr-defined]


def test_tumour_board_flow(page: object, tmp_path: Path) -> None:
    """Sign in, open the seed case, see grade 3, stage IV and the resection, download the PDF."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto("/signin")
    _shot(page, "01-signin")
    _sign_in(page, "editor_a")
    _shot(page, "02-tumour-board")
    page.click("a:has-text('seed-case')")
    expect(page.locator("#grade")).to_have_text("3")
    expect(page.locator("#stage")).to_have_text("IV")
    expect(page.locator("#resection")).to_have_text("right posterior sectionectomy")
    expect(page.locator("article.report")).to_contain_text("Decision support, not medical advice")
    _shot(page, "03-assessment")
    with page.expect_download() as info:
        page.click("a:has-text('Download PDF')")
    pdf = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    page.goto("/cases")
    _shot(page, "04-cases")
    page.goto("/cases/seed-case")
    expect(page.locator("ol.timeline")).to_contain_text("right thigh")
    _shot(page, "05-case-detail")


def test_add_case_with_wrong_unit(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    _sign_in(page, "editor_a")
    page.goto("/cases/new")
    page.fill("input[name=case_id]", "browser-1")
    page.fill("input[name=histology]", "leiomyosarcoma")
    page.fill("input[name=primary_site]", "thigh")
    page.fill("input[name=primary_size]", "15 kg")
    page.click("button:has-text('Save case')")
    error = page.locator("#error-primary_size")
    expect(error).to_contain_text("unknown unit 'kg'")
    _shot(page, "06-case-field-error")
    page.fill("input[name=primary_size]", "15 cm")
    page.click("button:has-text('Save case')")
    page.wait_for_url("**/cases/browser-1")
    expect(page.locator("h1")).to_have_text("Case browser-1")


def test_pool_evidence_and_see_forest_plot(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    _sign_in(page, "viewer_a")
    page.goto("/evidence")
    page.select_option("select[name=method]", "DL")
    page.select_option("select[name=outcome]", "os3")
    page.click("button:has-text('Pool')")
    forest = page.locator("#forest-plot")
    expect(forest).to_be_visible()
    width = forest.evaluate("img => img.naturalWidth")
    assert width > 300  # the PNG decoded in the browser
    expect(page.locator("#pooled")).to_contain_text("PLO / DL")
    _shot(page, "07-evidence")
    page.goto("/cohort?synthetic=include")
    _shot(page, "08-cohort")


def test_viewer_of_site_a_cannot_open_a_case_of_site_b(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    _sign_in(page, "viewer_a")
    response = page.goto("/cases/beta-case")
    # Exactly what an unknown id gets: nothing tells that the case exists, nor where.
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("main")).to_contain_text("no case 'beta-case'")
    expect(page.locator("main")).not_to_contain_text("site")
    _shot(page, "09-forbidden")
    page.goto("/cases")
    expect(page.locator("table")).not_to_contain_text("beta-case")


def test_admin_pages(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    _sign_in(page, "admin")
    page.goto("/admin")
    expect(page.locator("main")).to_contain_text("viewer_a")
    _shot(page, "10-admin")
    page.goto("/admin/audit")
    expect(page.locator("#audit-verification")).to_contain_text("Chain verified")
    _shot(page, "11-audit")
