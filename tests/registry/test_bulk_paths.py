"""Test the bulk import's fast paths and the audit chain they write.

The fast paths: COPY on PostgreSQL and the sqlite3 driver's executemany on SQLite, and the
document check on JSON text.

Every test that takes ``world`` runs on both backends (``conftest.BACKENDS``).
"""

from __future__ import annotations

import gc
import json
import math
import multiprocessing
from typing import Any

import pytest
from sqlalchemy import text

from livermet.case.limits import MAX_DEPTH, check_document
from livermet.case.model import Case
from livermet.errors import InputError
from livermet.registry import CaseInput, ImportRejected, synthetic_cases
from livermet.registry.audit import COPY_MIN_ROWS, canonical_json, insert_rows
from livermet.registry.bulk import _surely_within_limits, encoded_document
from livermet.registry.derive import CaseColumns, derive_columns, derive_values
from livermet.registry.documents import case_document, stored_document
from livermet.registry.models import AuditRow, CaseRow

from .conftest import World


def _rows(world: World) -> dict[str, Any]:
    with world.db.engine.connect() as conn:
        return {
            "cases": conn.execute(text("SELECT count(*) FROM cases")).scalar_one(),
            "audit": conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one(),
            "head": tuple(conn.execute(text("SELECT seq, hash FROM audit_head")).one()),
        }


def _with_nul(case: Case) -> Case:
    """Return a case whose free text holds NUL, built in Python so only storage sees it."""
    tumour = case.primary_tumour.model_copy(update={"histology": "leiomyo\x00sarcoma"})
    return case.model_copy(update={"primary_tumour": tumour})


# --- the document check on JSON text ---------------------------------------------------------


def _refused(document: Any) -> bool:
    try:
        check_document(document)
    except InputError:
        return True
    return False


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels - 1):
        value = [value]
    return {"a": value}


BAD_DOCUMENTS = {
    "NUL in a value": {"notes": "a\x00b"},
    "NUL in a key": {"a\x00b": 1},
    "lone surrogate": {"notes": "\ud800"},
    "whole number above 2**63-1": {"n": 2**63},
    "negative whole number below -(2**63-1)": {"n": -(2**63)},
    f"{MAX_DEPTH + 1} levels": _nested(MAX_DEPTH + 1),
    "larger than 1 MB": {"notes": "x" * 1_000_001},
    "1 MB of small numbers": {"n": [1] * 60_000},
}

GOOD_DOCUMENTS = {
    f"{MAX_DEPTH} levels": _nested(MAX_DEPTH),
    "brackets and escapes in texts": {
        "notes": 'x"]]]]\\' + "[" * 40 + "{" * 40,
        "list": [{"a": [1, 2.5, None, True]} for _ in range(40)],
    },
    "whole numbers of 18 digits": {"n": 10**18 - 1, "m": -(10**18 - 1)},
    "non-ASCII text": {"notes": "résection hépatique 肝"},
}


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_the_text_check_never_passes_a_document_check_document_refuses(name: str) -> None:
    document = BAD_DOCUMENTS[name]
    assert _refused(document)
    assert not _surely_within_limits(canonical_json(document))


@pytest.mark.parametrize("name", sorted(GOOD_DOCUMENTS))
def test_the_text_check_passes_documents_within_the_limits(name: str) -> None:
    document = GOOD_DOCUMENTS[name]
    assert not _refused(document)
    assert _surely_within_limits(canonical_json(document))


def test_the_largest_whole_number_is_left_to_check_document() -> None:
    document = {"n": 2**63 - 1, "m": -(2**63 - 1)}
    assert not _refused(document)
    assert not _surely_within_limits(canonical_json(document))  # 19 digits: walked instead


def test_nan_is_refused_by_the_encoding_and_named_by_check_document() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": math.nan})
    assert _refused({"x": math.nan})


def test_encoded_document_is_stored_document_and_its_canonical_json(seed_case: Case) -> None:
    for case in [seed_case, *synthetic_cases(20, seed=11)]:
        document, encoded = encoded_document(case)
        assert document == stored_document(case) == case_document(case)
        assert encoded == canonical_json(document)
        assert json.loads(encoded) == document


def test_encoded_document_refuses_what_stored_document_refuses(seed_case: Case) -> None:
    bad = _with_nul(seed_case)
    with pytest.raises(InputError) as slow:
        stored_document(bad)
    with pytest.raises(InputError) as fast:
        encoded_document(bad)
    assert (fast.value.field, fast.value.message) == (slow.value.field, slow.value.message)
    assert fast.value.field == "primary_tumour.histology"


# --- imports on both backends ------------------------------------------------------------------


def test_a_bad_row_in_the_last_chunk_leaves_nothing_written(world: World) -> None:
    """Write the first two chunks before the bad row in the last one is checked.

    Three chunks of 150 rows: the first two are written (COPY / executemany, each past
    COPY_MIN_ROWS audit records) before the bad row in the last chunk is checked.
    """
    before = _rows(world)
    cases: list[Case | CaseInput] = list(synthetic_cases(449, seed=12))
    cases.append(CaseInput(_with_nul(synthetic_cases(1, seed=13)[0]), row=450))
    calls: list[int] = []
    with pytest.raises(ImportRejected) as err:
        world.as_("editor_alpha").import_cases(
            cases,
            source="last-chunk.csv",
            chunk_size=150,
            on_progress=lambda done, total: calls.append(done),
        )
    assert COPY_MIN_ROWS <= 150
    assert calls == [150, 300, 450]  # the first chunks were inserted before the failure
    assert [(p.row, p.field) for p in err.value.problems] == [(450, "primary_tumour.histology")]
    assert _rows(world) == before
    assert gc.isenabled()


def test_the_audit_verifies_after_a_bulk_import(world: World) -> None:
    cases = synthetic_cases(260, seed=14)
    report = world.as_("editor_alpha").import_cases(cases, source="big.csv", chunk_size=120)
    assert report.created == 260
    result = world.reg.verify_audit()
    assert result.ok, result.reason
    with world.db.engine.connect() as conn:
        stored = {
            r.case_id: (r.document if isinstance(r.document, dict) else json.loads(r.document))
            for r in conn.execute(text("SELECT case_id, document FROM cases"))
        }
        records = {
            r.entity_id: r.after
            for r in conn.execute(
                text("SELECT entity_id, after FROM audit_log WHERE entity = 'case'")
            )
        }
    for case in cases:
        assert stored[case.id] == case_document(case)
        assert records[case.id] == canonical_json(case_document(case))
    assert gc.isenabled()


def test_bulk_rows_and_ordinary_rows_are_stored_alike(world: World) -> None:
    """Read back created and imported cases with the same Python types.

    A case created one at a time and imported cases read back with the same Python types in every
    column (dates, booleans, documents), and the same case.
    """
    one, many = synthetic_cases(1, seed=15)[0], synthetic_cases(200, seed=16)
    world.as_("editor_alpha").create_case(one)
    world.as_("editor_alpha").import_cases(many, source="x.csv")
    with world.db.engine.connect() as conn:
        rows = {r.case_id: r for r in conn.execute(CaseRow.__table__.select())}
    single = rows[one.id]
    for case in many:
        row = rows[case.id]
        for name in CaseRow.__table__.c.keys():  # noqa: SIM118 (column names)
            if getattr(row, name) is not None and getattr(single, name) is not None:
                assert type(getattr(row, name)) is type(getattr(single, name)), name
        assert row.created_at == row.updated_at
        assert (row.version, row.created_by, row.synthetic) == (1, "editor_alpha", True)
    assert world.reg.get_case(many[0].id).case == many[0]
    assert world.reg.get_case(many[-1].id).case == many[-1]


def test_insert_rows_refuses_nul_naming_the_column(world: World) -> None:
    rows = [
        (i, "2026-01-01T00:00:00+00:00", "x", "a", "e", f"id{i}", None, None, None, "0", "0")
        for i in range(1, COPY_MIN_ROWS + 1)
    ]
    rows[-1] = (*rows[-1][:5], "bad\x00id", *rows[-1][6:])
    columns = (
        "seq",
        "at",
        "actor",
        "action",
        "entity",
        "entity_id",
        "site",
        "before",
        "after",
        "prev_hash",
        "hash",
    )
    with world.db.engine.connect() as conn:
        transaction = conn.begin()
        with pytest.raises(InputError) as err:
            insert_rows(conn, AuditRow.metadata.tables["audit_log"], columns, rows)
        transaction.rollback()
    assert err.value.field == "entity_id"
    assert "NUL" in err.value.message


# --- large imports: rows prepared by worker processes ------------------------------------------


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prepare every import's rows in 2 forked worker processes (as for a large import)."""
    from livermet.registry import bulk

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("worker processes are forked (POSIX only)")
    monkeypatch.setattr(bulk, "_worker_count", lambda rows: 2)


def _import_problems(world: World, cases: list[Case | CaseInput]) -> list[Any]:
    with pytest.raises(ImportRejected) as err:
        world.as_("editor_alpha").import_cases(cases, source="bad.csv", chunk_size=40)
    return list(err.value.problems)


def _bad_rows() -> list[Case | CaseInput]:
    synthetic = synthetic_cases(300, seed=21)
    cases: list[Case | CaseInput] = list(synthetic)
    real_id = synthetic[45].model_copy(update={"id": "REAL-45"})  # refused by check_case
    cases[45] = CaseInput(real_id, row=46)
    cases[170] = CaseInput(_with_nul(synthetic_cases(1, seed=22)[0]), row=171)  # by the limits
    cases[299] = CaseInput(synthetic[10], row=300)  # the same case as row 11 (a conflict)
    return cases


def test_workers_store_what_one_process_stores(world: World, workers: None) -> None:
    """Store worker-prepared chunks exactly as the cases and verify their audit.

    300 cases in chunks of 40 prepared by workers: the documents, the derived columns and the audit
    records are those of the cases, in the order of the rows, and the audit verifies (its replay
    derives every case's columns again and compares them).
    """
    cases = synthetic_cases(300, seed=20)
    progress: list[int] = []
    report = world.as_("editor_alpha").import_cases(
        cases, source="big.csv", chunk_size=40, on_progress=lambda d, t: progress.append(d)
    )
    assert report.created == 300 and report.case_ids == tuple(c.id for c in cases)
    assert progress == [*range(40, 300, 40), 300]
    result = world.reg.verify_audit()
    assert result.ok, result.reason
    with world.db.engine.connect() as conn:
        rows = {r.case_id: r for r in conn.execute(CaseRow.__table__.select())}
        records = [
            (r.entity_id, r.after)
            for r in conn.execute(
                text("SELECT entity_id, after FROM audit_log WHERE entity = 'case' ORDER BY seq")
            )
        ]
    assert records == [(c.id, canonical_json(case_document(c))) for c in cases]
    for case, columns in zip(cases, derive_columns(cases), strict=True):
        assert isinstance(columns, CaseColumns)
        row = rows[case.id]
        stored = row.document if isinstance(row.document, dict) else json.loads(row.document)
        assert stored == case_document(case)
        assert {name: getattr(row, name) for name in columns.as_row()} == pytest.approx(
            columns.as_row()
        )


def test_workers_refuse_the_rows_one_process_refuses(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Name bad rows in worker-prepared chunks as a single-process import does.

    Bad rows in chunks prepared by workers are named by row and field exactly as when the import is
    prepared in one process, and nothing is stored.
    """
    from livermet.registry import bulk

    before = _rows(world)
    alone = _import_problems(world, _bad_rows())
    assert [(p.row, p.field) for p in alone] == [
        (46, "id"),
        (171, "primary_tumour.histology"),
        (300, "id"),
    ]
    monkeypatch.setattr(bulk, "_worker_count", lambda rows: 2)
    assert _import_problems(world, _bad_rows()) == alone
    assert _rows(world) == before


def test_an_error_in_a_worker_rolls_the_import_back(
    world: World, workers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raise a worker's unexpected error and store nothing.

    An unexpected error while a worker prepares a chunk (a bug, not a bad row) is raised by the
    import, after earlier chunks were inserted, and nothing is stored.
    """
    from livermet.registry import bulk

    cases = synthetic_cases(200, seed=23)
    poisoned = cases[150].id

    def derive(batch: list[Case]) -> list[Any]:
        if any(c.id == poisoned for c in batch):
            raise RuntimeError("worker failure")
        return derive_values(batch)

    monkeypatch.setattr(bulk, "derive_values", derive)  # the forked workers inherit it
    before = _rows(world)
    with pytest.raises(RuntimeError, match="worker failure"):
        world.as_("editor_alpha").import_cases(cases, source="bug.csv", chunk_size=40)
    assert _rows(world) == before
    assert gc.isenabled()


def test_an_error_while_storing_stops_the_workers(
    world: World, workers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End the import with nothing stored when the importing process fails.

    An error in the importing process (here a failing insert of the third chunk) ends the import
    with nothing stored, and its workers are stopped.
    """
    from livermet.registry import bulk

    calls: list[int] = []

    def failing_insert(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("insert failure")
        insert_rows(*args, **kwargs)

    monkeypatch.setattr(bulk, "insert_rows", failing_insert)
    before = _rows(world)
    with pytest.raises(RuntimeError, match="insert failure"):
        world.as_("editor_alpha").import_cases(
            synthetic_cases(400, seed=24), source="fail.csv", chunk_size=40
        )
    assert multiprocessing.active_children() == []
    assert _rows(world) == before
