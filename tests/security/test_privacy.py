"""Privacy of reads, against a running ``livermet serve`` (issue 9, findings 4 and 6).

- A coordinator (de-identified exports only) listed and fetched every case with real dates,
  ages and notes: now every face gives them the de-identified view (``DEID-`` ids).
- Reads were not audited: every read of case data now appends one record.
- A case of another site answered 403 naming the site (an oracle of ids): now the 404 of an
  unknown id.
- De-identified exports kept free text (a name, a date of birth, a hospital number in
  ``performance_status``; "CT on 2025-03-05" in a finding): every free text is removed, every
  date shifted.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from livermet.cli.main import app as cli
from tests.security.conftest import PASSWORD, LiveServer
from tests.web.conftest import SEED_CASE

SECRETS = (
    "John Smith",
    "1931-02-03",
    "99887766",
    "H-777",
    "Mrs Doe",
    "2024-01-10",
    "2025-03-05",
    "identified-95",
)
"""What the identified case holds that must never reach a de-identified reader."""


def _identified_case(live: LiveServer) -> None:
    """Store (as the admin, at alpha) a case full of identifiers.

    Age 95, notes, a name, a date of birth and a hospital number in free text, real dates and a
    date in a text. The two real dates are more than 364 days apart: a shift (1 to 364 days
    back) could otherwise move the later one onto the earlier, which the check would read as a
    leak (it did, once in 364 secrets, with dates 55 days apart).
    """
    doc = yaml.safe_load(SEED_CASE.read_text())
    doc["id"] = "identified-95"
    doc["patient"]["age_years"] = 95
    doc["patient"]["performance_status"] = "John Smith, born 1931-02-03, hospital no. 99887766"
    doc["notes"] = "Mrs Doe's father, ward 5"
    doc["procedures"][0]["when"] = "2024-01-10"
    doc["imaging"].append({"modality": "ct", "target": "liver", "finding": "CT on 2025-03-05"})
    doc["imaging"][-1]["when"] = "2025-03-05"
    body = {"case": doc, "hospital_number": "H-777", "site": "alpha"}
    with live.api("admin") as admin:
        created = admin.post("/api/v1/cases", json=body)
    assert created.status_code == 201, created.text


def _clean(text: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"identified data reached a de-identified reader: {leaked}"


def _audit(live: LiveServer) -> list[dict[str, Any]]:
    with sqlite3.connect(live.db_path) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
    return [dict(r) for r in rows]


def test_a_coordinator_reads_only_deidentified_data(fresh_live: LiveServer) -> None:
    live = fresh_live
    _identified_case(live)
    with live.api("coordinator") as coordinator:
        listed = coordinator.get("/api/v1/cases")
        assert listed.status_code == 200
        _clean(listed.text)
        rows = listed.json()["cases"]
        assert len(rows) == 3 and all(r["case_id"].startswith("DEID-") for r in rows)
        assert "seed-case" not in listed.text and "beta-case" not in listed.text
        (old,) = [r for r in rows if r["age_years"] == 90]  # 95 -> "90 or older"
        # the identified id is unknown to a coordinator; the DEID- id is theirs
        assert coordinator.get("/api/v1/cases/identified-95").status_code == 404
        fetched = coordinator.get(f"/api/v1/cases/{old['case_id']}")
        assert fetched.status_code == 200
        _clean(fetched.text)
        case = fetched.json()["case"]
        assert case["id"] == old["case_id"] and case["patient"]["age_years"] == 90
        assert "notes" not in case and "performance_status" not in case["patient"]
        assert {i["finding"] for i in case["imaging"]} == {"[removed]"}
        assessment = coordinator.get(f"/api/v1/cases/{old['case_id']}/assessment")
        assert assessment.status_code == 200
        _clean(assessment.text)
        cohort = coordinator.get("/api/v1/cohort", params={"covariates": "age"})
        _clean(cohort.text)
    with live.browser("coordinator") as browser:
        for path in ("/cases", f"/cases/{old['case_id']}", f"/cases/{old['case_id']}/assessment"):
            page = browser.get(path)
            assert page.status_code == 200, path
            _clean(page.text)
        assert browser.get("/cases/identified-95").status_code == 404
        # The audit log gives no more: no case documents, no identified case ids.
        audit = browser.get("/admin/audit")
        assert audit.status_code == 200
        _clean(audit.text)
        assert "seed-case" not in audit.text and old["case_id"] in audit.text
        by_real_id = browser.get("/admin/audit", params={"entity_id": "identified-95"})
        assert "<tr><td>" not in by_real_id.text  # no oracle of identified ids either
        by_own_id = browser.get("/admin/audit", params={"entity_id": old["case_id"]})
        assert "<tr><td>" in by_own_id.text


def test_every_read_of_case_data_is_audited(live: LiveServer) -> None:
    reads = [
        ("editor_a", "/api/v1/cases", "case.list", "cases"),
        ("editor_a", "/api/v1/cases/seed-case", "case.read", "seed-case"),
        ("site_admin_a", "/api/v1/cases/seed-case/assessment", "case.read", "seed-case"),
        ("admin", "/api/v1/cases?site=beta", "case.list", "cases"),
    ]
    for user, path, action, entity_id in reads:
        before = _audit(live)
        with live.api(user) as client:
            assert client.get(path).status_code == 200, path
        (record,) = _audit(live)[len(before) :]  # one record per request, not one per row
        assert (record["actor"], record["action"], record["entity"]) == (user, action, "read")
        assert record["entity_id"] == entity_id
        assert "leiomyosarcoma" not in (record["after"] or "")  # never the case's content
    with live.browser("viewer_a") as browser:
        for path in ("/cases", "/cases/seed-case", "/cases/seed-case/assessment"):
            n_before = len(_audit(live))
            assert browser.get(path).status_code == 200
            actions = [r["action"] for r in _audit(live)[n_before:]]
            assert actions and all(a.startswith("case.") for a in actions), (path, actions)
    listed = [r for r in _audit(live) if r["action"] == "case.list" and r["actor"] == "admin"]
    assert json.loads(listed[-1]["after"])["sites"] == ["beta"]  # the filters, and the count
    assert json.loads(listed[-1]["after"])["count"] == 1


def test_another_sites_case_is_not_found_and_the_site_is_not_named(live: LiveServer) -> None:
    with live.api("editor_b") as editor:
        hidden = editor.get("/api/v1/cases/seed-case")
        unknown = editor.get("/api/v1/cases/no-such-case")
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.json()["error"]["kind"] == unknown.json()["error"]["kind"] == "notfound"
        assert "alpha" not in hidden.text
        assessment = editor.get("/api/v1/cases/seed-case/assessment")
        assert assessment.status_code == 404 and "alpha" not in assessment.text
        doc = yaml.safe_load(SEED_CASE.read_text())
        put = editor.put("/api/v1/cases/seed-case", json={"case": doc, "version": 1})
        assert put.status_code == 404 and "alpha" not in put.text
    with live.browser("editor_b") as browser:
        for path in ("/cases/seed-case", "/cases/seed-case/assessment", "/cases/seed-case/edit"):
            page = browser.get(path)
            assert page.status_code == 404 and "alpha" not in page.text, path
    with live.api("admin") as admin:  # the case is there all the same
        assert admin.get("/api/v1/cases/seed-case").status_code == 200


def test_deidentified_export_keeps_no_free_text_and_no_real_date(
    fresh_live: LiveServer, tmp_path: Path
) -> None:
    live = fresh_live
    _identified_case(live)
    env = {"LIVERMET_DATABASE_URL": live.db_url, "LIVERMET_PASSWORD": PASSWORD}
    for fmt in ("case", "csv", "fhir", "redcap"):
        out = tmp_path / f"export.{fmt}"
        args = ["registry", "export", "--format", fmt, "-o", str(out), "--user", "coordinator"]
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 0, result.output
        text = out.read_text()
        assert "DEID-" in text and "[removed]" in text, fmt
        _clean(text)  # neither the typed dates nor the one inside a text survive
