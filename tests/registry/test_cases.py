"""Storing cases: lossless round trip, pseudonyms, duplicates, optimistic locking, deletion."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from sqlalchemy import text

from livermet.case.model import Case
from livermet.errors import ConflictError, InputError, NotFoundError
from livermet.registry import Database
from livermet.registry.synthetic import synthetic_cases

from .conftest import World


def _secret(db: Database, site: str) -> str:
    with db.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT pseudonym_secret FROM sites WHERE code = :c"), {"c": site}
            ).scalar_one()
        )


def test_stored_case_comes_back_unchanged(world: World, seed_case: Case) -> None:
    editor = world.as_("editor_alpha")
    stored = editor.create_case(seed_case, hospital_number="A-123456")
    assert (stored.site, stored.version, stored.synthetic) == ("alpha", 1, False)
    again = editor.get_case("seed-case")
    assert again.case == seed_case
    assert again.case.model_dump() == seed_case.model_dump()
    assert again.created_by == "editor_alpha"


def test_synthetic_cases_round_trip(world: World) -> None:
    cases = synthetic_cases(30, seed=7)
    world.reg.import_cases(cases, source="syn", site="alpha")
    for case in cases:
        assert world.reg.get_case(case.id).case == case


def test_pseudonym_is_the_hmac_of_the_hospital_number(world: World, seed_case: Case) -> None:
    stored = world.as_("editor_alpha").create_case(seed_case, hospital_number=" a-123 456 ")
    key = bytes.fromhex(_secret(world.db, "alpha"))
    expected = hmac.new(key, b"hospital-number\x00A-123456", hashlib.sha256).hexdigest()
    assert stored.pseudonym == expected
    # the hospital number itself is stored nowhere
    with world.db.engine.connect() as conn:
        for table in ("cases", "audit_log", "sites", "users"):
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()
            assert "123456" not in repr(rows).replace(" ", "")
    # and the site's staff find the patient again by hospital number
    assert world.as_("viewer_alpha").find_case("A-123456").case_id == "seed-case"
    with pytest.raises(NotFoundError):
        world.as_("viewer_alpha").find_case("A-999")


def test_same_patient_at_one_site_is_refused(world: World, seed_case: Case) -> None:
    editor = world.as_("editor_alpha")
    editor.create_case(seed_case, hospital_number="123")
    other = seed_case.model_copy(update={"id": "seed-case-2"})
    with pytest.raises(ConflictError) as err:
        editor.create_case(other, hospital_number="123")
    assert err.value.field == "hospital_number"
    assert "seed-case" in err.value.message
    # the same hospital number at another site is another patient
    world.as_("editor_beta").create_case(other, hospital_number="123")
    assert world.reg.count_cases() == 2


def test_case_id_is_unique_in_the_registry(world: World, seed_case: Case) -> None:
    world.as_("editor_alpha").create_case(seed_case, hospital_number="1")
    with pytest.raises(ConflictError) as err:
        world.as_("editor_beta").create_case(seed_case, hospital_number="2")
    assert err.value.field == "id"


def test_without_hospital_number_duplicates_are_found_by_case_id(
    world: World, seed_case: Case
) -> None:
    editor = world.as_("editor_alpha")
    editor.create_case(seed_case)
    with pytest.raises(ConflictError):
        editor.create_case(seed_case)


def test_impossible_case_is_refused_naming_the_field(world: World, seed_case: Case) -> None:
    data = seed_case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["procedures"][1]["when"] = {"after": "no-such-event", "months": 1}
    bad = Case.model_validate(data)
    records_before = world.db.verify_audit().records
    with pytest.raises(InputError) as err:
        world.as_("editor_alpha").create_case(bad)
    assert err.value.field == "procedures[1].when.after"
    assert world.reg.count_cases() == 0
    assert world.db.verify_audit().records == records_before  # nothing written


def test_synthetic_flag_and_id_must_agree(world: World, seed_case: Case) -> None:
    editor = world.as_("editor_alpha")
    with pytest.raises(InputError) as err:
        editor.create_case(seed_case.model_copy(update={"id": "SYN-fake"}))
    assert err.value.field == "id"
    with pytest.raises(InputError):
        editor.create_case(seed_case.model_copy(update={"source": "synthetic"}))


def test_stale_edit_gets_a_conflict_not_a_lost_update(world: World, seed_case: Case) -> None:
    world.as_("editor_alpha").create_case(seed_case)
    # two editors, two registries (two sessions), both load version 1
    first, second = world.as_("editor_alpha"), world.as_("site_admin_alpha")
    mine, theirs = first.get_case("seed-case"), second.get_case("seed-case")
    assert mine.version == theirs.version == 1
    saved = first.update_case(
        "seed-case", mine.case.model_copy(update={"notes": "first"}), mine.version
    )
    assert saved.version == 2
    with pytest.raises(ConflictError) as err:
        second.update_case(
            "seed-case", theirs.case.model_copy(update={"notes": "second"}), theirs.version
        )
    assert err.value.field == "version"
    assert "version 2" in err.value.message and "editor_alpha" in err.value.message
    current = world.reg.get_case("seed-case")
    assert (current.version, current.case.notes, current.updated_by) == (2, "first", "editor_alpha")
    # reloading and re-applying succeeds
    retry = second.update_case(
        "seed-case", current.case.model_copy(update={"notes": "second"}), current.version
    )
    assert retry.version == 3 and world.reg.get_case("seed-case").case.notes == "second"


def test_update_recomputes_the_derived_columns(world: World, seed_case: Case) -> None:
    editor = world.as_("editor_alpha")
    editor.create_case(seed_case)
    procedures = list(seed_case.procedures)
    procedures[1] = procedures[1].model_copy(update={"approach": "open"})
    editor.update_case("seed-case", seed_case.model_copy(update={"procedures": procedures}), 1)
    frame = editor.cohort_frame()
    assert frame.loc[0, "approach"] == "open"


def test_update_cannot_change_the_id(world: World, seed_case: Case) -> None:
    editor = world.as_("editor_alpha")
    editor.create_case(seed_case)
    with pytest.raises(InputError) as err:
        editor.update_case("seed-case", seed_case.model_copy(update={"id": "other"}), 1)
    assert err.value.field == "id"


def test_delete(world: World, seed_case: Case) -> None:
    editor = world.as_("editor_alpha")
    editor.create_case(seed_case)
    with pytest.raises(ConflictError):
        editor.delete_case("seed-case", expected_version=5)
    editor.delete_case("seed-case", expected_version=1)
    with pytest.raises(NotFoundError) as err:
        editor.get_case("seed-case")
    assert err.value.field == "case_id"
    assert world.reg.count_cases() == 0


def test_timestamps_are_recorded(world: World, seed_case: Case) -> None:
    before = dt.datetime.now(dt.UTC)
    stored = world.as_("editor_alpha").create_case(seed_case)
    created = stored.created_at.replace(tzinfo=stored.created_at.tzinfo or dt.UTC)
    assert before <= created <= dt.datetime.now(dt.UTC)


# --- planned procedures: a plan is not an operation in the cohort columns -------------------------


def _with_procedures(case: Case, procedures: list[dict[str, object]]) -> Case:
    data = case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["procedures"] = procedures
    return Case.model_validate(data)


def test_a_planned_liver_resection_is_not_time_zero(seed_case: Case) -> None:
    from livermet.registry.derive import derive_columns

    procedures = seed_case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)[
        "procedures"
    ]
    plan = {k: v for k, v in procedures[1].items() if k != "discharge"} | {"status": "planned"}
    performed, planned = derive_columns(
        [seed_case, _with_procedures(seed_case, [procedures[0], plan])]
    )
    assert not isinstance(performed, InputError) and not isinstance(planned, InputError)
    # performed: survival from the resection (the seed case's follow-up after it)
    assert performed.os_months is not None and performed.approach == "laparoscopic"
    assert performed.liver_resection_day is not None
    # planned: no time zero, no survival, no approach of an operation that has not happened
    assert (planned.liver_resection_day, planned.os_months, planned.efs_months) == (None,) * 3
    assert (planned.approach, planned.first_event) == (None, None)


def test_a_planned_procedure_is_not_a_time_the_patient_was_alive(seed_case: Case) -> None:
    from livermet.registry.derive import derive_columns

    procedures = seed_case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)[
        "procedures"
    ]
    later = {"after": "liver-resection", "months": 200}  # far after the last follow-up
    base, with_plan, with_done = derive_columns(
        [
            seed_case,
            _with_procedures(
                seed_case,
                [*procedures, {"id": "redo", "kind": "other", "status": "planned", "when": later}],
            ),
            _with_procedures(
                seed_case, [*procedures, {"id": "redo", "kind": "other", "when": later}]
            ),
        ]
    )
    assert not isinstance(base, InputError) and not isinstance(with_plan, InputError)
    assert not isinstance(with_done, InputError)
    assert with_plan.os_months == base.os_months  # the plan adds nothing
    assert with_done.os_months == pytest.approx(200.0)  # a performed one is a time alive


def test_cohort_frame_of_a_preoperative_case(world: World) -> None:
    from pathlib import Path

    from livermet.case.load import load_case

    example = Path(__file__).resolve().parents[2] / "examples" / "preop-uterine-lms.yaml"
    case = load_case(example)
    assert case.procedure("liver_resection") is not None  # planned, dated
    editor = world.as_("editor_alpha")
    editor.create_case(case)
    row = editor.cohort_frame().iloc[0]
    assert row["approach"] is None or row["approach"] != row["approach"]  # None / NaN
    assert row["os_months"] != row["os_months"]  # NaN: no performed liver resection
    assert world.reg.get_case(case.id).case == case  # stored losslessly, plan included
