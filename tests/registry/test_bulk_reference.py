"""Test the bulk import's stored rows against the reference computation, case by case.

The bulk import (``livermet.registry.bulk``) prepares rows in forked workers, derives the columns
of a whole chunk at once (``derive_values``) and gives SQLite its values already bound. Here
every stored value is compared with what the one-case-at-a-time functions give for the same case
(``case_document``, ``derive_columns([case])``, SQLAlchemy's own bind processors), and every
refused row with the error those functions raise, on a varied sample: the shipped examples
(planned resections, FIGO-staged uterine cases), synthetic cases, non-ASCII text, and cases with
impossible timelines, bad ids and NUL characters.

Every test that takes ``world`` runs on both backends (``conftest.BACKENDS``).
"""

from __future__ import annotations

import json
import math
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from livermet.case.load import load_case
from livermet.case.model import Case, Offset
from livermet.errors import InputError
from livermet.registry import CaseInput, ImportRejected, synthetic_cases
from livermet.registry.audit import canonical_json, insert_rows
from livermet.registry.bulk import _DERIVED, _sqlite_values
from livermet.registry.derive import CaseColumns, derive_columns, derive_values
from livermet.registry.documents import case_document, check_case, stored_document
from livermet.registry.models import AuditRow, CaseRow

from .conftest import World

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prepare every import's rows in 2 forked worker processes (as for a large import)."""
    from livermet.registry import bulk

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("worker processes are forked (POSIX only)")
    monkeypatch.setattr(bulk, "_worker_count", lambda rows: 2)


def _examples() -> list[Case]:
    """Return the shipped example cases, each with a synthetic id (to import as one file)."""
    cases = []
    for i, path in enumerate(EXAMPLES, start=1):
        case = load_case(path)
        cases.append(case.model_copy(update={"id": f"SYN-EX-{i:03d}", "source": "synthetic"}))
    return cases


def _non_ascii(case: Case) -> Case:
    patient = case.patient.model_copy(update={"comorbidities": ["diabète", "肝炎", 'a "quote"']})
    return case.model_copy(update={"patient": patient, "id": f"{case.id}-é"})


def _good_cases() -> list[Case]:
    synthetic = synthetic_cases(90, seed=31)
    return [*_examples(), *synthetic[:80], *(_non_ascii(c) for c in synthetic[80:])]


def _with_nul(case: Case) -> Case:
    tumour = case.primary_tumour.model_copy(update={"histology": "leiomyo\x00sarcoma"})
    return case.model_copy(update={"primary_tumour": tumour})


def _discharged_before(case: Case) -> Case:
    """Return ``case`` with its first procedure discharged before it (built unvalidated)."""
    first, *rest = case.procedures
    assert first.discharge is not None
    discharge = Offset.model_construct(after=first.id, days=-5.0)
    first = first.model_copy(update={"discharge": discharge})
    return case.model_copy(update={"procedures": [first, *rest]})


def _after_ghost(case: Case) -> Case:
    event = case.follow_up[0].model_copy(update={"when": Offset(after="ghost", days=3)})
    return case.model_copy(update={"follow_up": [*case.follow_up, event]})


def _planned_discharged(case: Case) -> Case:
    """Return ``case`` with its liver resection planned, yet with a discharge."""
    procedures = [
        p.model_copy(update={"status": "planned"}) if p.kind == "liver_resection" else p
        for p in case.procedures
    ]
    return case.model_copy(update={"procedures": procedures})


def _bad_cases() -> dict[int, Case]:
    """Refused cases by position in the file (each refused for one reason)."""
    synthetic = synthetic_cases(8, seed=32)
    return {
        3: synthetic[0].model_copy(update={"id": "REAL-3"}),
        7: _with_nul(synthetic[1]),
        11: _discharged_before(synthetic[2]),
        19: synthetic[3].model_copy(update={"index_event": "nope"}),
        23: _after_ghost(synthetic[4]),
        40: _planned_discharged(synthetic[5]),
    }


def _reference_problem(case: Case) -> tuple[str | None, str] | None:
    """Return the field and message refusing ``case`` stored on its own (None: accepted)."""
    try:
        checked = check_case(case)
        stored_document(checked)
        (columns,) = derive_columns([checked])
    except InputError as exc:
        return exc.field, exc.message
    if isinstance(columns, InputError):
        return columns.field, columns.message
    return None


def _stored_rows(world: World) -> dict[str, dict[str, Any]]:
    """Every stored case's columns by case id; on SQLite, the values as stored, with their type."""
    with world.db.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return {r.case_id: dict(r._mapping) for r in conn.execute(CaseRow.__table__.select())}
        names = [c.name for c in CaseRow.__table__.columns]
        select = ", ".join(f'typeof("{n}"), "{n}"' for n in names)
        rows = conn.exec_driver_sql(f"SELECT {select} FROM cases").all()
    out = {}
    for row in rows:
        values = {n: (row[2 * i], row[2 * i + 1]) for i, n in enumerate(names)}
        out[values["case_id"][1]] = values
    return out


def _sqlite_expected(name: str, value: Any) -> tuple[str, Any]:
    """Return the type and value SQLite holds for ``value`` bound to column ``name``."""
    processor = CaseRow.__table__.c[name].type.bind_processor(sqlite.dialect())
    bound = processor(value) if processor is not None else value
    if bound is None:
        return "null", None
    kind = {int: "integer", float: "real", str: "text"}[type(bound)]
    return kind, bound


def assert_stored_as_reference(world: World, cases: list[Case]) -> None:
    """Each case's stored row holds what the one-case-at-a-time functions give."""
    rows = _stored_rows(world)
    on_sqlite = world.db.engine.dialect.name == "sqlite"
    for case in cases:
        row = rows[case.id]
        (columns,) = derive_columns([case])
        assert isinstance(columns, CaseColumns), case.id
        expected = {**columns.as_row(), "synthetic": True, "version": 1}
        if on_sqlite:
            # the text SQLAlchemy's JSON type writes for the document (json.dumps)
            assert row["document"] == ("text", json.dumps(case_document(case))), case.id
            for name, value in expected.items():
                assert row[name] == _sqlite_expected(name, value), (case.id, name)
            assert row["created_at"] == row["updated_at"]
            assert row["created_at"][1].endswith("+00:00")
        else:
            assert row["document"] == case_document(case), case.id
            assert {n: row[n] for n in expected} == expected, case.id
            assert row["created_at"] == row["updated_at"]


def test_worker_rows_are_the_reference_rows(world: World, workers: None) -> None:
    cases = _good_cases()
    rows = [
        CaseInput(case, row=i, hospital_number=f"H-{i}" if i % 2 else None)
        for i, case in enumerate(cases, start=1)
    ]
    report = world.as_("editor_alpha").import_cases(rows, source="varied.csv", chunk_size=16)
    assert report.created == len(cases)
    assert_stored_as_reference(world, cases)
    with world.db.engine.connect() as conn:
        records = [
            (r.entity_id, r.after)
            for r in conn.execute(
                text("SELECT entity_id, after FROM audit_log WHERE entity = 'case' ORDER BY seq")
            )
        ]
    assert records == [(c.id, canonical_json(case_document(c))) for c in cases]
    result = world.reg.verify_audit()
    assert result.ok, result.reason


def test_worker_refusals_are_the_reference_errors(world: World, workers: None) -> None:
    cases: list[Case] = _good_cases()[:60]
    bad = _bad_cases()
    for position, case in bad.items():
        cases[position] = case
    expected = []
    for position in sorted(bad):
        problem = _reference_problem(bad[position])
        assert problem is not None, position  # the reference refuses every bad case
        expected.append((position + 1, *problem))
    with pytest.raises(ImportRejected) as err:
        world.as_("editor_alpha").import_cases(cases, source="bad.csv", chunk_size=16)
    assert [(p.row, p.field, p.message) for p in err.value.problems] == expected
    fields = [field for _, field, _ in expected]
    assert fields[:4] == [
        "id",
        "primary_tumour.histology",
        "procedures[0].discharge",
        "index_event",
    ]
    assert fields[4] is not None and fields[4].endswith("].when.after")  # the unknown event
    assert fields[5] is not None and fields[5].endswith("].discharge")  # a planned operation
    with world.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == 0


def test_derive_values_of_a_batch_are_each_case_derived_alone() -> None:
    cases = [*_good_cases(), *_bad_cases().values()]
    batch = derive_values(cases)
    assert len(batch) == len(cases)
    refused = 0
    for case, value in zip(cases, batch, strict=True):
        (alone,) = derive_columns([case])
        if isinstance(alone, InputError):
            refused += 1
            assert isinstance(value, InputError), case.id
            assert (value.field, value.message) == (alone.field, alone.message)
        else:
            assert value == tuple(alone.as_row()[name] for name in _DERIVED), case.id
    assert refused >= 3  # the bad timelines are refused by the derivation itself


_derived_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**31), 2**31),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)


@given(st.tuples(*([_derived_value] * len(_DERIVED))))
def test_sqlite_values_are_those_of_the_bind_processors(values: tuple[Any, ...]) -> None:
    """Bind the derived values as SQLAlchemy's column types would on SQLite (or refuse them)."""
    dialect = sqlite.dialect()
    expected: list[Any] = []
    for name, value in zip(_DERIVED, values, strict=True):
        processor = CaseRow.__table__.c[name].type.bind_processor(dialect)
        try:
            expected.append(processor(value) if processor is not None else value)
        except (TypeError, ValueError):
            with pytest.raises((TypeError, ValueError)):
                _sqlite_values(values)
            return
    bound = _sqlite_values(values)
    assert len(bound) == len(expected)
    for got, want in zip(bound, expected, strict=True):
        assert type(got) is type(want)
        assert got == want or (isinstance(got, float) and math.isnan(got) and math.isnan(want))


def test_insert_rows_names_the_first_column_with_nul_among_nulls(world: World) -> None:
    """Name the first text column holding NUL, in a column that also holds None."""
    columns: tuple[str, ...] = ("seq", "at", "actor", "action", "entity", "entity_id", "site")
    columns += ("before", "after", "prev_hash", "hash")
    rows: list[tuple[Any, ...]] = [
        (i, "2026-01-01T00:00:00+00:00", "x", "a", "e", f"id{i}", None, None, None, "0", "0")
        for i in range(1, 201)
    ]
    rows[150] = (*rows[150][:6], "si\x00te", None, "af\x00ter", "0", "0")
    with world.db.engine.connect() as conn:
        transaction = conn.begin()
        with pytest.raises(InputError) as err:
            insert_rows(conn, AuditRow.metadata.tables["audit_log"], columns, rows)
        transaction.rollback()
    assert err.value.field == "site"
