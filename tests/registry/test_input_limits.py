"""Test that storage refuses what a database cannot keep.

A NUL character (PostgreSQL fails the whole transaction on one) or a lone surrogate, even in a
``Case`` built in Python, on both backends.
"""

from __future__ import annotations

import pytest

from livermet.case.model import Case
from livermet.errors import InputError
from livermet.registry import ImportRejected
from tests.registry.conftest import World


@pytest.mark.parametrize(("text", "message"), [("a\x00b", "NUL"), ("\udcff", "surrogate")])
def test_unstorable_text_is_an_input_error_on_every_backend(
    world: World, seed_case: Case, text: str, message: str
) -> None:
    reg = world.reg
    bad = seed_case.model_copy(update={"id": "bad", "notes": text})  # skips validation
    with pytest.raises(InputError, match=message) as err:
        reg.create_case(bad, site="alpha")
    assert err.value.field == "notes"

    stored = reg.create_case(seed_case, site="alpha")
    edit = seed_case.model_copy(update={"notes": text})
    with pytest.raises(InputError, match=message) as err:
        reg.update_case(stored.case_id, edit, stored.version)
    assert err.value.field == "notes"

    with pytest.raises(ImportRejected) as rejected:
        reg.import_cases([bad], source="test.csv", site="beta")
    assert [(p.row, p.field) for p in rejected.value.problems] == [(1, "notes")]

    assert [c.case_id for c in reg.list_cases()] == [seed_case.id]
    assert reg.get_case(seed_case.id).version == 1


def test_nul_outside_case_documents_is_an_input_error_on_every_backend(world: World) -> None:
    """Refuse NUL in user names, site names and token labels on both backends.

    These never reach PostgreSQL with a NUL in them (there, psycopg's error would be a server
    error): the same InputError on both backends.
    """
    for attempt in (
        lambda: world.db.user("ad\x00min"),
        lambda: world.db.authenticate_password("ad\x00min", "whatever"),
        lambda: world.reg.create_site("nul", "Hospital\x00"),
        lambda: world.reg.create_token("label\x00"),
    ):
        with pytest.raises(InputError, match="NUL"):
            attempt()
    assert world.db.user("admin").active  # the registry is usable afterwards
