"""The audit log: what is recorded, the hash chain, and tampering found by verification."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import text

from livermet.case.model import Case
from livermet.errors import ForbiddenError
from livermet.registry import synthetic_cases

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
