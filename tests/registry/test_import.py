"""Test imports.

All-or-nothing per file, duplicates refused or merged, and a process killed half-way through an
import leaving the registry as it was.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from livermet.case.model import Case
from livermet.errors import ForbiddenError
from livermet.registry import CaseInput, ImportConflict, ImportRejected, synthetic_cases

from .conftest import World

WORKER = Path(__file__).with_name("_import_worker.py")


def _bad_timeline(case: Case) -> Case:
    data = case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["procedures"][1]["discharge"] = {"after": "primary-resection", "days": 1}
    return Case.model_validate(data)


def _snapshot(world: World) -> dict[str, Any]:
    """Everything an import could change: cases (content, versions) and the audit log."""
    with world.db.engine.connect() as conn:
        cases = conn.execute(
            text("SELECT case_id, version, pseudonym, document FROM cases ORDER BY case_id")
        ).all()
        audit = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq")).all()
        head = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
    return {
        "cases": [(r[0], r[1], r[2], str(r[3])) for r in cases],
        "audit": [tuple(r) for r in audit],
        "head": tuple(head),
    }


def test_import_stores_everything_in_one_go(world: World) -> None:
    cases = synthetic_cases(25, seed=3)
    calls: list[tuple[int, int]] = []
    report = world.as_("editor_alpha").import_cases(
        cases, source="batch.csv", on_progress=lambda d, t: calls.append((d, t))
    )
    assert (report.total, report.created, report.merged, report.sites) == (25, 25, 0, ("alpha",))
    assert calls[-1] == (25, 25)
    assert world.reg.count_cases(include_synthetic=True) == 25
    entries = world.reg.audit_entries(limit=1)
    assert (entries[0].action, entries[0].entity_id) == ("import", "batch.csv")
    assert '"created":25' in (entries[0].after or "")


def test_progress_is_reported_per_chunk(world: World) -> None:
    calls: list[tuple[int, int]] = []
    world.as_("editor_alpha").import_cases(
        synthetic_cases(25, seed=4),
        source="big.csv",
        on_progress=lambda d, t: calls.append((d, t)),
        chunk_size=10,
    )
    assert calls == [(10, 25), (20, 25), (25, 25)]
    assert world.reg.count_cases(include_synthetic=True) == 25


def test_one_bad_row_rejects_the_whole_file(world: World, seed_case: Case) -> None:
    cases: list[Case | CaseInput] = list(synthetic_cases(5, seed=5))
    cases.insert(3, CaseInput(_bad_timeline(seed_case), row=17))
    cases.append(CaseInput(seed_case.model_copy(update={"id": "SYN-not-really"}), row=40))
    before = _snapshot(world)
    with pytest.raises(ImportRejected) as err:
        world.as_("editor_alpha").import_cases(cases, source="bad.csv")
    problems = err.value.problems
    assert [(p.row, p.field) for p in problems] == [(17, "procedures[1].discharge"), (40, "id")]
    assert "before the operation" in problems[0].message
    assert err.value.field == "row 17: procedures[1].discharge"
    assert "nothing was imported" in err.value.message
    assert _snapshot(world) == before


def test_duplicates_are_refused_or_merged_on_request(world: World, seed_case: Case) -> None:
    editor = world.as_("editor_alpha")
    editor.create_case(seed_case, hospital_number="H1")
    changed = seed_case.model_copy(update={"notes": "from the import"})
    others = synthetic_cases(3, seed=6)
    batch: list[Case | CaseInput] = [*others, CaseInput(changed, hospital_number="h 1")]
    before = _snapshot(world)
    with pytest.raises(ImportConflict) as err:
        editor.import_cases(batch, source="dup.csv")
    assert [(p.row, p.field) for p in err.value.problems] == [(4, "hospital_number")]
    assert _snapshot(world) == before  # the three new cases were not stored either
    report = editor.import_cases(batch, source="dup.csv", merge=True)
    assert (report.created, report.merged) == (3, 1)
    merged = editor.get_case("seed-case")
    assert (merged.version, merged.case.notes) == (2, "from the import")
    last_case_record = world.reg.audit_entries(entity_id="seed-case", entity="case", limit=1)[0]
    assert last_case_record.action == "import" and last_case_record.before is not None


def test_merging_a_stale_export_is_a_conflict(world: World, seed_case: Case) -> None:
    """Refuse a stale merge, as a stale edit is refused.

    An export at version 1, an edit (version 2), then a merge of the export: refused, as a stale
    edit is; the same export taken again at version 2 merges.
    """
    editor = world.as_("editor_alpha")
    editor.create_case(seed_case, site="alpha")
    (old,) = world.reg.export_cases(sites=["alpha"], deidentified=False)
    assert old.version == 1
    editor.update_case("seed-case", seed_case.model_copy(update={"notes": "newer edit"}), 1)
    stale = CaseInput(old.case.model_copy(update={"notes": "offline"}), version=old.version)
    new_case = synthetic_cases(1, seed=9)[0]
    before = _snapshot(world)
    with pytest.raises(ImportConflict) as err:
        editor.import_cases([new_case, stale], source="export.yaml", site="alpha", merge=True)
    assert [(p.row, p.field) for p in err.value.problems] == [(2, "version")]
    assert "'seed-case' was changed since it was exported" in err.value.message
    assert _snapshot(world) == before  # nor was the new case stored
    assert editor.get_case("seed-case").case.notes == "newer edit"
    (fresh,) = world.reg.export_cases(sites=["alpha"], deidentified=False)
    assert fresh.version == 2
    current = CaseInput(fresh.case.model_copy(update={"notes": "offline"}), version=2)
    report = editor.import_cases([current], source="export.yaml", site="alpha", merge=True)
    assert report.merged == 1
    merged = editor.get_case("seed-case")
    assert (merged.version, merged.case.notes) == (3, "offline")


def test_duplicates_within_one_file_are_refused_even_with_merge(world: World) -> None:
    a, b = synthetic_cases(2, seed=8)
    batch = [CaseInput(a, hospital_number="X"), CaseInput(b, hospital_number="x")]
    with pytest.raises(ImportConflict) as err:
        world.as_("editor_alpha").import_cases(batch, source="twice.csv", merge=True)
    assert err.value.problems[0].row == 2
    assert "row 1" in err.value.problems[0].message
    assert world.reg.count_cases(include_synthetic=True) == 0


def test_import_checks_the_sites(world: World) -> None:
    cases = synthetic_cases(2, seed=9)
    with pytest.raises(ForbiddenError):
        world.as_("editor_alpha").import_cases(cases, source="x", site="beta")
    with pytest.raises(ImportRejected) as err:
        world.reg.import_cases(cases, source="x")  # admin: no site of their own
    assert err.value.problems[0].field == "site"
    with pytest.raises(ImportRejected):
        world.reg.import_cases([CaseInput(cases[0], site="gamma")], source="x")
    assert world.reg.count_cases(include_synthetic=True) == 0


def _read_line(proc: subprocess.Popen[str], deadline: float) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line or time.monotonic() > deadline:
        raise AssertionError(f"worker stopped early: {proc.stderr.read() if proc.stderr else ''}")
    return line.strip()


def test_killed_import_leaves_the_registry_as_it_was(world: World) -> None:
    """Leave the registry as it was when an import is killed half-way.

    SIGKILL in the middle of a 2,000-case import, after at least 1,000 rows were inserted into the
    import's transaction (four chunks: a non-transactional import would have stored them).
    """
    editor = world.as_("editor_alpha")
    editor.import_cases(synthetic_cases(10, seed=100), source="before.csv")
    editor.update_case("SYN-100-000001", synthetic_cases(1, seed=100)[0], 1)
    before = _snapshot(world)
    assert len(before["cases"]) == 10

    proc = subprocess.Popen(
        [sys.executable, str(WORKER), world.db.url, "2000", "101", "250"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        assert _read_line(proc, deadline) == "ready"
        while True:
            line = _read_line(proc, deadline)
            assert line != "committed"
            _, done, total = line.split()
            if int(done) >= 1000:
                break
        # the rows are in the open transaction; nobody else sees them
        assert world.reg.count_cases(include_synthetic=True) == 10
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        assert int(total) == 2000
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    assert _snapshot(world) == before
    verification = world.db.verify_audit()
    assert verification.ok and verification.head_seq == before["head"][0]
    # and the registry takes the same import afterwards
    report = editor.import_cases(synthetic_cases(50, seed=101), source="after.csv")
    assert report.created == 50 and world.reg.count_cases(include_synthetic=True) == 60
    assert world.db.verify_audit().ok


def _gone(pid: int) -> bool:
    """Return True when process ``pid`` has exited (a zombie not yet reaped counts as exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return any(line.split()[:2] == ["State:", "Z"] for line in status)
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
def test_killed_import_with_workers_leaves_the_registry_as_it_was(world: World) -> None:
    """Leave the registry as it was when a worker-prepared import is killed.

    The same with the rows prepared by worker processes: SIGKILL to the importing process once
    1,000 rows are in its transaction; nothing is stored, and the workers end by themselves (their
    parent is gone).
    """
    before = _snapshot(world)
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), world.db.url, "2000", "102", "250", "workers"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 120
        assert _read_line(proc, deadline) == "ready"
        while True:
            line = _read_line(proc, deadline)
            assert line != "committed"
            if line.startswith("workers"):
                pids = [int(p) for p in line.split()[1:]]
                continue
            if int(line.split()[1]) >= 1000:
                break
        assert len(pids) == 2
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in pids)
    assert _snapshot(world) == before
    assert world.db.verify_audit().ok


def test_importing_the_same_file_twice_is_refused(world: World) -> None:
    cases = synthetic_cases(3, seed=12)
    editor = world.as_("editor_alpha")
    editor.import_cases(cases, source="first.csv")
    with pytest.raises(ImportConflict) as err:
        editor.import_cases(cases, source="again.csv")
    assert [(p.row, p.field) for p in err.value.problems] == [(1, "id"), (2, "id"), (3, "id")]
    assert world.reg.count_cases(include_synthetic=True) == 3
