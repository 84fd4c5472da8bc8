"""Many editors at once: with optimistic locking and retries, no edit is lost."""

from __future__ import annotations

import threading

from livermet.case.model import Case
from livermet.errors import ConflictError

from .conftest import World

EDITORS = 6
EDITS_EACH = 3


def test_concurrent_editors_lose_no_update(world: World, seed_case: Case) -> None:
    world.as_("editor_alpha").create_case(seed_case.model_copy(update={"notes": ""}))
    conflicts: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(EDITORS)

    def edit(n: int) -> None:
        registry = world.as_("editor_alpha" if n % 2 else "site_admin_alpha")
        try:
            start.wait()
            for k in range(EDITS_EACH):
                while True:  # read, change, save; on conflict reload and re-apply
                    current = registry.get_case("seed-case")
                    notes = f"{current.case.notes} e{n}.{k}".strip()
                    edited = current.case.model_copy(update={"notes": notes})
                    try:
                        registry.update_case("seed-case", edited, current.version)
                        break
                    except ConflictError:
                        conflicts.append(n)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(EDITORS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    final = world.reg.get_case("seed-case")
    marks = str(final.case.notes).split()
    assert sorted(marks) == sorted(f"e{n}.{k}" for n in range(EDITORS) for k in range(EDITS_EACH))
    assert final.version == 1 + EDITORS * EDITS_EACH
    updates = [e for e in world.reg.audit_entries(limit=1000) if e.action == "update"]
    assert len(updates) == EDITORS * EDITS_EACH
    assert world.db.verify_audit().ok
