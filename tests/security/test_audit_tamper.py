"""Edits made in the database behind the registry's back are found (issue 9, item 7).

Against a real ``livermet serve``: someone with write access to the database (not to the
application) makes a viewer an administrator and changes a patient's age in a stored case. The
server honours the forged role at once, which nothing in the application can prevent, but
``livermet registry verify-audit`` and the admin's audit page now report both rows, naming the
user and field. Cutting the last audit record and rewriting the head passes the chain check, and
is caught by the head the site kept outside the database.
"""

from __future__ import annotations

import sqlite3

from typer.testing import CliRunner

from livermet.cli.main import app as cli
from tests.security.conftest import LiveServer

runner = CliRunner()


def _verify(live: LiveServer, *args: str) -> tuple[int, str, str]:
    r = runner.invoke(cli, ["registry", "verify-audit", "--db", live.db_url, *args])
    return r.exit_code, r.stdout, r.stderr


def _sql(live: LiveServer, *statements: str) -> None:
    with sqlite3.connect(live.db_path) as conn:
        for statement in statements:
            conn.execute(statement)


def test_edits_behind_the_registrys_back_are_reported(fresh_live: LiveServer) -> None:
    live = fresh_live
    with live.api("editor_a") as api:  # ordinary work through the API, reads included
        assert api.get("/api/v1/cases/seed-case").status_code == 200
        assert api.get("/api/v1/cases").status_code == 200
    code, out, _ = _verify(live)
    assert code == 0 and "audit log intact" in out
    with live.api("viewer_a") as api:
        assert api.get("/api/v1/cases/beta-case").status_code in (403, 404)

    # the attack: direct SQL, the audit log left alone
    _sql(
        live,
        "UPDATE users SET role = 'admin', site_id = NULL WHERE username = 'viewer_a'",
        "UPDATE cases SET document = json_set(document, '$.patient.age_years', 19), "
        "age_years = 19 WHERE case_id = 'seed-case'",
    )
    with live.api("viewer_a") as api:  # the forged role works: the database is trusted
        assert api.get("/api/v1/cases/beta-case").status_code == 200

    code, _, err = _verify(live)
    assert code == 1 and "registry differs from its audit log" in err
    assert "user 'viewer_a': role: the audit log says 'viewer'" in err
    assert "case 'seed-case': document.patient.age_years: the audit log says 80" in err
    with live.browser("admin") as admin:
        page = admin.get("/admin/audit").text
    assert "Registry DIFFERS from its audit log" in page and "Chain verified" not in page


def test_a_cut_chain_is_caught_by_the_kept_head(fresh_live: LiveServer) -> None:
    live = fresh_live
    with live.api("site_admin_a") as api:
        assert api.get("/api/v1/cases").status_code == 200
    head = runner.invoke(cli, ["registry", "audit-head", "--db", live.db_url])
    assert head.exit_code == 0, head.output
    seq = int(head.stdout.split()[0])
    _sql(  # remove the last record (a read: no state) and rewrite the head to the one before
        live,
        f"DELETE FROM audit_log WHERE seq = {seq}",
        f"UPDATE audit_head SET seq = {seq - 1}, "
        f"hash = (SELECT hash FROM audit_log WHERE seq = {seq - 1})",
    )
    assert _verify(live)[0] == 0  # invisible to the chain alone
    code, _, err = _verify(live, "--head", head.stdout.strip())
    assert code == 1 and f"anchored record {seq} is missing" in err
