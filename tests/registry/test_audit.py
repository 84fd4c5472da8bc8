"""The audit log: what is recorded, the hash chain, and tampering found by verification."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import cast

import pytest
from sqlalchemy import delete, insert, select, text, update

from livermet.case.model import Case
from livermet.errors import ForbiddenError, InputError
from livermet.registry import AuditAnchor, security, synthetic_cases
from livermet.registry.audit import HASHED_COLUMNS as AUDIT_COLUMNS
from livermet.registry.audit import record_hash
from livermet.registry.models import CaseRow, SiteRow, TokenRow, UserRow

from .conftest import World


def _rows(world: World) -> list[dict[str, object]]:
    with world.db.engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM audit_log ORDER BY seq"))
        return [dict(r) for r in result.mappings()]


def _activity(world: World, seed_case: Case) -> None:
    editor = world.as_("editor_alpha")
    editor.create_case(seed_case, hospital_number="77")
    editor.update_case("seed-case", seed_case.model_copy(update={"notes": "edited"}), 1)
    editor.import_cases(synthetic_cases(3, seed=1), source="three.csv")
    world.as_("site_admin_alpha").export_cases()
    editor.delete_case("SYN-1-000002")


def test_every_change_and_export_is_recorded(world: World, seed_case: Case) -> None:
    setup = len(_rows(world))
    _activity(world, seed_case)
    rows = _rows(world)[setup:]
    summary = [(r["actor"], r["action"], r["entity"], r["entity_id"], r["site"]) for r in rows]
    assert summary == [
        ("editor_alpha", "create", "case", "seed-case", "alpha"),
        ("editor_alpha", "update", "case", "seed-case", "alpha"),
        ("editor_alpha", "import", "case", "SYN-1-000001", "alpha"),
        ("editor_alpha", "import", "case", "SYN-1-000002", "alpha"),
        ("editor_alpha", "import", "case", "SYN-1-000003", "alpha"),
        ("editor_alpha", "import", "import", "three.csv", None),
        ("site_admin_alpha", "export", "export", "de-identified", None),
        ("editor_alpha", "delete", "case", "SYN-1-000002", "alpha"),
    ]
    create, update = rows[0], rows[1]
    assert create["before"] is None
    assert json.loads(str(create["after"]))["id"] == "seed-case"
    assert "notes" not in json.loads(str(update["before"]))
    assert json.loads(str(update["after"]))["notes"] == "edited"
    export = json.loads(str(rows[6]["after"]))
    assert export["count"] == 1 and export["deidentified"] is True  # synthetic left out
    assert export["case_ids"] == ["seed-case"]  # the registry id, not the exported one
    assert json.loads(str(rows[7]["before"]))["id"] == "SYN-1-000002"
    assert rows[7]["after"] is None


def test_chain_follows_the_documented_formula(world: World, seed_case: Case) -> None:
    """Recompute every hash from the stored columns, independently of livermet.registry.audit."""
    _activity(world, seed_case)
    prev = "0" * 64
    for row in _rows(world):
        content = {
            k: row[k]
            for k in (
                "seq",
                "at",
                "actor",
                "action",
                "entity",
                "entity_id",
                "site",
                "before",
                "after",
            )
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row["prev_hash"] == prev
        prev = hashlib.sha256((prev + "\n" + canonical).encode()).hexdigest()
        assert row["hash"] == prev
    verification = world.db.verify_audit()
    assert verification.ok and verification.head_hash == prev


def _tampered(world: World, sql: str, **params: object) -> None:
    with world.db.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_edited_record_is_detected(world: World, seed_case: Case) -> None:
    _activity(world, seed_case)
    target = next(r["seq"] for r in _rows(world) if r["action"] == "update")
    _tampered(world, "UPDATE audit_log SET actor = 'someone_else' WHERE seq = :s", s=target)
    result = world.db.verify_audit()
    assert not result.ok
    assert result.first_broken == target
    assert "changed" in str(result.reason)


def test_edited_record_with_recomputed_hash_breaks_the_next_link(
    world: World, seed_case: Case
) -> None:
    _activity(world, seed_case)
    rows = _rows(world)
    target = rows[5]
    content = {
        k: target[k]
        for k in ("seq", "at", "actor", "action", "entity", "entity_id", "site", "before", "after")
    }
    content["after"] = '{"forged":true}'
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    forged = hashlib.sha256((str(target["prev_hash"]) + "\n" + canonical).encode()).hexdigest()
    _tampered(
        world,
        "UPDATE audit_log SET after = :a, hash = :h WHERE seq = :s",
        a=content["after"],
        h=forged,
        s=target["seq"],
    )
    result = world.db.verify_audit()
    assert (result.ok, result.first_broken) == (False, rows[6]["seq"])


def test_deleted_record_is_detected(world: World, seed_case: Case) -> None:
    _activity(world, seed_case)
    target = next(r["seq"] for r in _rows(world) if r["action"] == "create")
    _tampered(world, "DELETE FROM audit_log WHERE seq = :s", s=target)
    result = world.db.verify_audit()
    assert (result.ok, result.first_broken) == (False, target)
    assert "missing" in str(result.reason)


def test_deleted_last_records_are_detected(world: World, seed_case: Case) -> None:
    _activity(world, seed_case)
    last = _rows(world)[-1]["seq"]
    _tampered(world, "DELETE FROM audit_log WHERE seq >= :s", s=int(str(last)) - 1)
    result = world.db.verify_audit()
    assert (result.ok, result.first_broken) == (False, int(str(last)) - 1)


def test_reordered_records_are_detected(world: World, seed_case: Case) -> None:
    _activity(world, seed_case)
    a, b = 3, 4
    _tampered(world, "UPDATE audit_log SET seq = -1 WHERE seq = :a", a=a)
    _tampered(world, "UPDATE audit_log SET seq = :a WHERE seq = :b", a=a, b=b)
    _tampered(world, "UPDATE audit_log SET seq = :b WHERE seq = -1", b=b)
    result = world.db.verify_audit()
    assert (result.ok, result.first_broken) == (False, a)


def test_audit_rights(world: World, seed_case: Case) -> None:
    world.as_("editor_alpha").create_case(seed_case)
    world.as_("editor_beta").create_case(seed_case.model_copy(update={"id": "b-case"}))
    assert world.as_("coordinator").verify_audit().ok
    site_admin = world.as_("site_admin_alpha").audit_entries(limit=1000)
    assert {e.site for e in site_admin} == {"alpha"}
    assert "b-case" not in {e.entity_id for e in site_admin}
    for name in ("viewer_alpha", "editor_alpha"):
        with pytest.raises(ForbiddenError):
            world.as_(name).verify_audit()


# --- the tables against the state the chain describes ---------------------------------------


def _busy(world: World, seed_case: Case) -> None:
    """Audit every kind of write.

    Cases (create, update, import, merge, delete, re-create), sites, users (role, site,
    deactivation, password) and tokens (create, revoke).
    """
    _activity(world, seed_case)
    editor = world.as_("editor_alpha")
    again = list(synthetic_cases(3, seed=1))
    editor.import_cases(
        [again[i].model_copy(update={"notes": "merged"}) for i in (0, 2)],
        source="again.csv",
        merge=True,
    )
    editor.create_case(again[1])  # SYN-1-000002 again, after its deletion
    reg = world.reg
    reg.create_site("gamma", "Hospital gamma")
    reg.update_user("viewer_alpha", role="editor")
    reg.update_user("editor_beta", site="gamma")
    reg.update_user("viewer_beta", active=False)
    reg.set_password("coordinator", "a long enough password")
    token = world.as_("editor_alpha").create_token("laptop")
    world.as_("editor_alpha").create_token("desktop")
    reg.revoke_token(token.id)


def _edit(world: World, statement: object) -> None:
    with world.db.engine.begin() as conn:
        conn.execute(statement)  # type: ignore[call-overload]


def _case_row(world: World, case_id: str) -> dict[str, object]:
    with world.db.engine.connect() as conn:
        row = conn.execute(select(CaseRow.__table__).where(CaseRow.case_id == case_id)).mappings()
        return dict(row.one())


def _differences(world: World) -> set[tuple[str, str, str, object, object]]:
    result = world.db.verify_audit()
    assert not result.ok and result.differences == len(result.mismatches) > 0
    assert result.reason is not None and "differ from the audit log" in result.reason
    return {(m.entity, m.entity_id, m.field, m.expected, m.found) for m in result.mismatches}


def test_untampered_registry_verifies_clean(world: World, seed_case: Case) -> None:
    _busy(world, seed_case)
    result = world.db.verify_audit()
    assert (result.ok, result.mismatches, result.reason) == (True, (), None)
    assert world.as_("site_admin_alpha").verify_audit().ok


def test_records_of_reads_and_unknown_actions_change_no_state(
    world: World, seed_case: Case
) -> None:
    world.as_("editor_alpha").create_case(seed_case)
    with world.db.write("viewer_alpha") as (_, audit):
        audit.append("case.read", "case", "seed-case", site="alpha")
        audit.append("case.list", "case", "(list)", site="alpha", after={"count": 1})
        audit.append("case.frobnicate", "case", "seed-case", site="alpha", after={"x": 1})
    assert world.db.verify_audit().ok


def test_a_case_document_edited_in_sql_is_reported(world: World, seed_case: Case) -> None:
    _busy(world, seed_case)
    document = dict(_case_row(world, "seed-case")["document"])  # type: ignore[call-overload]
    age = document["patient"]["age_years"]
    document["patient"] = {**document["patient"], "age_years": age + 7}
    _edit(world, update(CaseRow).where(CaseRow.case_id == "seed-case").values(document=document))
    found = _differences(world)
    assert ("case", "seed-case", "document.patient.age_years", age, age + 7) in found
    result = world.db.verify_audit()
    last = max(cast(int, r["seq"]) for r in _rows(world) if r["entity_id"] == "seed-case")
    assert result.first_broken == last  # the record whose after-image the row contradicts


def test_cohort_columns_edited_in_sql_are_reported(world: World, seed_case: Case) -> None:
    _busy(world, seed_case)
    age = _case_row(world, "seed-case")["age_years"]
    _edit(world, update(CaseRow).where(CaseRow.case_id == "seed-case").values(age_years=99))
    _edit(world, update(CaseRow).where(CaseRow.case_id == "SYN-1-000001").values(version=9))
    assert _differences(world) == {
        ("case", "seed-case", "age_years", age, 99),
        ("case", "SYN-1-000001", "version", 2, 9),
    }


def test_a_case_moved_to_another_site_is_reported(world: World, seed_case: Case) -> None:
    _busy(world, seed_case)
    with world.db.engine.connect() as conn:
        beta = conn.execute(select(SiteRow.id).where(SiteRow.code == "beta")).scalar_one()
    _edit(world, update(CaseRow).where(CaseRow.case_id == "seed-case").values(site_id=beta))
    assert _differences(world) == {("case", "seed-case", "site", "alpha", "beta")}
    # a site admin of alpha sees that something differs, but not the details of beta's rows
    seen = world.as_("site_admin_beta").verify_audit()
    assert not seen.ok and [m.field for m in seen.mismatches] == ["site"]
    hidden = world.as_("site_admin_alpha").verify_audit()
    assert (hidden.ok, hidden.mismatches, hidden.differences) == (False, (), 1)
    assert "differences at other sites not shown: 1" in str(hidden.reason)


def test_a_viewer_made_admin_in_sql_is_reported(world: World, seed_case: Case) -> None:
    _busy(world, seed_case)
    _edit(
        world,
        update(UserRow).where(UserRow.username == "viewer_beta").values(role="admin", site_id=None),
    )
    _edit(world, update(UserRow).where(UserRow.username == "viewer_beta").values(active=True))
    assert _differences(world) == {
        ("user", "viewer_beta", "role", "viewer", "admin"),
        ("user", "viewer_beta", "site", "beta", None),
        ("user", "viewer_beta", "active", False, True),
    }


def test_a_password_or_token_planted_in_sql_is_reported(world: World, seed_case: Case) -> None:
    _busy(world, seed_case)
    known = security.hash_password("the attacker's password")
    _edit(world, update(UserRow).where(UserRow.username == "admin").values(password_hash=known))
    with world.db.engine.connect() as conn:
        admin_id = conn.execute(select(UserRow.id).where(UserRow.username == "admin")).scalar_one()
    planted = security.token_digest(security.new_token())
    _edit(world, insert(TokenRow).values(user_id=admin_id, token_hash=planted, label="x"))
    _edit(world, update(TokenRow).where(TokenRow.label == "laptop").values(revoked_at=None))
    found = {(e, i, f) for e, i, f, *_ in _differences(world)}
    assert ("user", "admin", "password_digest") in found
    assert {f for e, _, f in found if e == "token"} == {"(exists)", "revoked"}
    # no secret reaches the audit log: neither the hash nor the token's digest
    text = json.dumps(_rows(world))
    assert known not in text and planted not in text


def test_deleted_and_reinserted_case_rows_are_reported(world: World, seed_case: Case) -> None:
    _busy(world, seed_case)
    gone = _case_row(world, "SYN-1-000003")
    world.as_("editor_alpha").delete_case("SYN-1-000003")
    _edit(world, insert(CaseRow).values(**gone))  # the deleted case put back
    _edit(world, delete(CaseRow).where(CaseRow.case_id == "seed-case"))  # a case removed
    found = _differences(world)
    assert ("case", "SYN-1-000003", "(exists)", False, True) in found
    assert ("case", "seed-case", "(exists)", True, False) in found
    messages = [str(m) for m in world.db.verify_audit().mismatches]
    assert any("says it does not exist" in m and "SYN-1-000003" in m for m in messages)


def test_a_site_secret_replaced_in_sql_is_reported(world: World) -> None:
    _edit(world, update(SiteRow).where(SiteRow.code == "beta").values(pseudonym_secret="0" * 64))
    assert {(e, i, f) for e, i, f, *_ in _differences(world)} == {("site", "beta", "secret_digest")}


# --- anchors: truncation and rewrites after a kept head ---------------------------------------


def _cut_last_record(world: World) -> None:
    """Remove the last record and rewrite the head to the one before: the chain stays valid."""
    rows = _rows(world)
    last, before = rows[-1], rows[-2]
    _tampered(world, "DELETE FROM audit_log WHERE seq = :s", s=last["seq"])
    _tampered(world, "UPDATE audit_head SET seq = :s, hash = :h", s=before["seq"], h=before["hash"])


def test_truncation_is_detected_only_with_a_kept_head(world: World, seed_case: Case) -> None:
    _busy(world, seed_case)
    world.as_("site_admin_alpha").export_cases()  # the last record: an export, no state
    kept = world.db.verify_audit()
    anchor = AuditAnchor(kept.head_seq, kept.head_hash)
    _cut_last_record(world)
    assert world.db.verify_audit().ok  # undetectable without a head kept elsewhere
    result = world.db.verify_audit([anchor])
    assert (result.ok, result.first_broken) == (False, kept.head_seq)
    assert f"anchored record {kept.head_seq} is missing" in str(result.reason)
    by_hash = world.db.verify_audit([AuditAnchor(None, kept.head_hash)])
    assert (by_hash.ok, by_hash.first_broken) == (False, None)
    assert "not in the chain" in str(by_hash.reason)


def test_a_kept_head_stays_valid_as_the_chain_grows(world: World, seed_case: Case) -> None:
    world.as_("editor_alpha").create_case(seed_case.model_copy(update={"id": "first"}))
    kept = world.db.verify_audit()
    _busy(world, seed_case)
    anchors = [AuditAnchor(kept.head_seq, kept.head_hash), AuditAnchor(None, kept.head_hash)]
    result = world.db.verify_audit(anchors)
    assert (result.ok, result.anchors) == (True, 2)
    assert result.head_seq > kept.head_seq


def test_a_rewritten_anchored_record_is_detected(world: World, seed_case: Case) -> None:
    _busy(world, seed_case)
    world.as_("site_admin_alpha").export_cases()
    kept = world.db.verify_audit()
    last = _rows(world)[-1]
    content = {k: last[k] for k in (*AUDIT_COLUMNS,)}
    content["actor"] = "someone_else"
    forged = record_hash(str(last["prev_hash"]), content)
    _tampered(
        world,
        "UPDATE audit_log SET actor = 'someone_else', hash = :h WHERE seq = :s",
        h=forged,
        s=last["seq"],
    )
    _tampered(world, "UPDATE audit_head SET hash = :h", h=forged)
    assert world.db.verify_audit().ok  # a consistent rewrite of the chain's end
    result = world.db.verify_audit([AuditAnchor(kept.head_seq, kept.head_hash)])
    assert (result.ok, result.first_broken) == (False, kept.head_seq)
    assert "does not have the anchored hash" in str(result.reason)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 64, AuditAnchor(None, "a" * 64)),
        (f"12 {'B' * 64}", AuditAnchor(12, "b" * 64)),
        (f" 12:{'c' * 64}\n", AuditAnchor(12, "c" * 64)),
    ],
)
def test_anchor_forms(text: str, expected: AuditAnchor) -> None:
    assert AuditAnchor.parse(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "x" * 64, f"-1 {'a' * 64}", "a" * 65])
def test_bad_anchor_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InputError) as caught:
        AuditAnchor.parse(text)
    assert caught.value.field == "head" and "64 hexadecimal digits" in caught.value.message


def test_verification_during_writes_sees_one_moment(world: World, seed_case: Case) -> None:
    """Read the chain and the rows in one snapshot.

    A write committed between the two reads must not show up as a row the chain does not describe.
    """
    editor = world.as_("editor_alpha")
    editor.create_case(seed_case)
    done = threading.Event()

    def write() -> None:
        try:
            for version in range(1, 16):
                notes = {"notes": f"edit {version}"}
                editor.update_case("seed-case", seed_case.model_copy(update=notes), version)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    results = []
    while not done.is_set():
        results.append(world.db.verify_audit())
    writer.join()
    results.append(world.db.verify_audit())
    assert [r.reason for r in results if not r.ok] == []
    assert results[-1].records > results[0].records or len(results) == 1
