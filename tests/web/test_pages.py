"""Server-rendered pages: sign-in, sessions, CSRF, assessment, reports, cases, evidence, admin."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, SEED_CASE, csrf_of, sign_in


def test_pages_need_sign_in(client: TestClient) -> None:
    response = client.get("/cases/seed-case", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    token = csrf_of(client.get("/signin").text)
    response = client.post(
        "/signin",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert response.status_code == 303 and "livermet_session=" in cookie
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_security_headers(client: TestClient) -> None:
    headers = client.get("/signin").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"


def test_form_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/signin")
    response = client.post("/signin", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert "csrf_token" in response.text


def test_sign_in_is_rate_limited(client: TestClient) -> None:
    token = csrf_of(client.get("/signin").text)
    codes = [
        client.post(
            "/signin", data={"username": "admin", "password": "wrong", "csrf_token": token}
        ).status_code
        for _ in range(6)
    ]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # the right password is refused too while the limit holds
    response = client.post(
        "/signin", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429


def test_seed_case_assessment_page(client: TestClient) -> None:
    """The case report: FNCLCC grade III, AJCC stage IV, right posterior sectionectomy."""
    sign_in(client, "viewer_a")
    page = client.get("/cases/seed-case/assessment").text
    assert '<dd id="grade">3</dd>' in page
    assert '<dd id="stage">IV</dd>' in page
    assert "right posterior sectionectomy" in page
    assert "Decision support, not medical advice" in page
    assert "data:image/png;base64," in page


def test_printable_report_and_pdf(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    html = client.get("/cases/seed-case/report.html").text
    assert "Decision support, not medical advice" in html and "Sources" in html
    pdf = client.get("/cases/seed-case/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 5000
    assert 'filename="livermet-assessment-seed-case.pdf"' in pdf.headers["content-disposition"]


def test_pasted_case_is_assessed_without_storing(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    token = csrf_of(client.get("/assess").text)
    text = SEED_CASE.read_text(encoding="utf-8").replace("seed-case", "pasted")
    page = client.post("/assess", data={"case_text": text, "csrf_token": token})
    assert page.status_code == 200 and '<dd id="stage">IV</dd>' in page.text
    assert "pasted" not in client.get("/cases").text


def test_bad_pasted_case_names_the_field(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    token = csrf_of(client.get("/assess").text)
    text = SEED_CASE.read_text(encoding="utf-8")
    text = text.replace("icg_r15: 4.3 %", "icg_r15: 140 %")
    page = client.post("/assess", data={"case_text": text, "csrf_token": token})
    assert page.status_code == 422 and "liver_function.icg_r15" in page.text


def _new_case_form(**overrides: str) -> dict[str, str]:
    values = {
        "mode": "form",
        "site": "alpha",
        "case_id": "web-new-1",
        "age_years": "61",
        "sex": "female",
        "histology": "leiomyosarcoma",
        "primary_site": "thigh",
        "site_group": "extremity",
        "primary_size": "8 cm",
        "size_method": "pathology",
        "bilirubin": "0.8 mg/dL",
    }
    values.update(overrides)
    return values


def test_add_case_with_wrong_unit_shows_the_field_error(client: TestClient) -> None:
    sign_in(client, "editor_a")
    token = csrf_of(client.get("/cases/new").text)
    page = client.post(
        "/cases/new", data={**_new_case_form(bilirubin="0.8 kg"), "csrf_token": token}
    )
    assert page.status_code == 422
    assert 'id="error-bilirubin"' in page.text and "unknown unit" in page.text
    assert 'value="0.8 kg"' in page.text  # what was typed is kept
    assert "web-new-1" not in client.get("/cases").text  # nothing stored


def test_add_case_then_edit_with_conflict(client: TestClient) -> None:
    sign_in(client, "editor_a")
    token = csrf_of(client.get("/cases/new").text)
    created = client.post("/cases/new", data={**_new_case_form(), "csrf_token": token})
    assert created.status_code == 200 and created.url.path == "/cases/web-new-1"
    edit = client.get("/cases/web-new-1/edit").text
    original = edit.split('name="case_text" rows="30">')[1].split("</textarea>")[0]
    import html

    text = html.unescape(original)
    first = client.post(
        "/cases/web-new-1/edit",
        data={"csrf_token": token, "version": "1", "case_text": text.replace("61", "62")},
    )
    assert first.status_code == 200 and first.url.path == "/cases/web-new-1"
    stale = client.post(
        "/cases/web-new-1/edit",
        data={"csrf_token": token, "version": "1", "case_text": text.replace("61", "63")},
    )
    assert stale.status_code == 409
    assert "Someone else saved this case first" in stale.text and "editor_a" in stale.text
    assert "age_years: 62" in stale.text  # the current version is shown beside the edit


def test_viewer_cannot_open_another_sites_case(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    response = client.get("/cases/beta-case")
    assert response.status_code in {403, 404}
    assert "beta-case" not in client.get("/cases").text
    assert client.get("/cases/beta-case/report.pdf").status_code in {403, 404}


def test_viewer_cannot_add_cases(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    assert client.get("/cases/new").status_code == 403


def test_evidence_page_pools_with_chosen_method(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    page = client.get("/evidence", params={"outcome": "os3", "method": "DL"}).text
    assert 'id="forest-plot"' in page and "PLO / DL" in page
    bad = client.get("/evidence", params={"method": "NOPE"}).text
    assert "method" in bad and 'id="forest-plot"' not in bad


def test_add_own_series_is_checked(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    token = csrf_of(client.get("/evidence").text)
    client.post(
        "/evidence/series",
        data={"csrf_token": token, "id": "mine", "n_table": "20", "os1": "90", "os3": "120"},
    )
    page = client.get("/evidence").text
    assert "os3" in page and "mine</td>" not in page  # 120 % refused
    client.post(
        "/evidence/series",
        data={"csrf_token": token, "id": "mine", "n_table": "20", "os1": "90", "os5": "40"},
    )
    assert "mine</td>" in client.get("/evidence").text


def test_admin_pages(client: TestClient) -> None:
    sign_in(client, "admin")
    page = client.get("/admin").text
    assert "viewer_a" in page and "Hospital B" in page
    audit = client.get("/admin/audit").text
    assert "Chain verified" in audit and "<td>create</td><td>case seed-case</td>" in audit


def test_viewer_sees_no_administration(client: TestClient) -> None:
    sign_in(client, "viewer_a")
    assert client.get("/admin/audit").status_code == 403
    assert "viewer_a" not in client.get("/admin").text.split("<main>")[1].split("API tokens")[0]


def test_sign_out_ends_the_session(client: TestClient) -> None:
    sign_in(client, "admin")
    token = csrf_of(client.get("/assess").text)
    client.post("/signout", data={"csrf_token": token})
    assert client.get("/assess", follow_redirects=False).status_code == 303


def test_pre_operative_assessment_page(client: TestClient) -> None:
    """Show the key cards of issue 10.

    The key cards show the phase, the board's date, the stage in its system and whether the plan
    clears every lesion within the safe extent.
    """
    sign_in(client, "viewer_a")
    examples = SEED_CASE.parent
    token = csrf_of(client.get("/assess").text)
    text = (examples / "preop-uterine-lms.yaml").read_text(encoding="utf-8")
    page = client.post("/assess", data={"case_text": text, "csrf_token": token}).text
    assert '<dd id="phase">pre-operative</dd>' in page
    assert '<dd id="assessed-on">2025-05-15</dd>' in page
    assert '<dt>Stage at diagnosis (FIGO, uterine sarcoma)</dt><dd id="stage">IB</dd>' in page
    assert '<dd id="recurrence">rIVB</dd>' in page
    # central hepatectomy (segments 4, 5, 8) holds both lesions but exceeds the ICG-R15 12 % limit
    assert '<dd id="plan-clears">yes, but beyond the safe extent</dd>' in page
    text = (examples / "preop-plan-misses-lesions.yaml").read_text(encoding="utf-8")
    page = client.post("/assess", data={"case_text": text, "csrf_token": token}).text
    assert '<dd id="plan-clears">no: L1, L2 left outside</dd>' in page
