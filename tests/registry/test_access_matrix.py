"""The access matrix, through the registry API: role x own/other site x read/write/export.

All tests of this module share one populated registry per backend (``shared_world``); each adds
cases with ids of its own, so they do not depend on one another.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from livermet.case.model import Case
from livermet.errors import ForbiddenError, NotFoundError
from livermet.registry import Registry
from livermet.registry.access import reads_deidentified
from livermet.registry.privacy import deidentified_id

from .conftest import World

# The documented policy (livermet.registry.access), written out here independently:
# for each role, the operations allowed on its own site's cases and on another site's.
# Coordinator and admin belong to no site: "own" is site alpha, "other" site beta for them.
POLICY: dict[str, dict[str, tuple[bool, bool]]] = {
    #               read          write          export de-identified  export full
    "viewer": {
        "read": (True, False),
        "write": (False, False),
        "export_deid": (False, False),
        "export_full": (False, False),
    },
    "editor": {
        "read": (True, False),
        "write": (True, False),
        "export_deid": (False, False),
        "export_full": (False, False),
    },
    "site_admin": {
        "read": (True, False),
        "write": (True, False),
        "export_deid": (True, False),
        "export_full": (True, False),
    },
    "coordinator": {
        "read": (True, True),
        "write": (False, False),
        "export_deid": (True, True),
        "export_full": (False, False),
    },
    "admin": {
        "read": (True, True),
        "write": (True, True),
        "export_deid": (True, True),
        "export_full": (True, True),
    },
}
USERNAME = {
    "viewer": "viewer_alpha",
    "editor": "editor_alpha",
    "site_admin": "site_admin_alpha",
    "coordinator": "coordinator",
    "admin": "admin",
}


def _deidentified_id(reg: Registry, case_id: str) -> str:
    """Return the id a coordinator knows the case by (computed as an administrator would)."""
    db = reg._db
    stored = db.registry("admin").get_case(case_id)
    with db.engine.connect() as conn:
        secret = conn.execute(
            text("SELECT pseudonym_secret FROM sites WHERE code = :c"), {"c": stored.site}
        ).scalar_one()
    return deidentified_id(stored.pseudonym, secret)


def _operation(
    name: str, reg: Registry, site: str, case_id: str, seed: Case
) -> Callable[[], object]:
    if name == "read":
        return lambda: reg.get_case(case_id)
    if name == "read_deid":  # a coordinator reads de-identified, by the DEID- id
        return lambda: reg.get_case(_deidentified_id(reg, case_id))
    if name == "write":

        def write() -> object:
            reg.update_case(case_id, seed.model_copy(update={"id": case_id, "notes": "x"}), 1)
            return reg.create_case(seed.model_copy(update={"id": f"new-{case_id}"}), site=site)

        return write
    if name == "export_deid":
        return lambda: reg.export_cases(sites=[site], deidentified=True)
    return lambda: reg.export_cases(sites=[site], deidentified=False)


@pytest.mark.parametrize("role", list(POLICY))
@pytest.mark.parametrize("operation", ["read", "write", "export_deid", "export_full"])
@pytest.mark.parametrize("which", ["own", "other"])
def test_access_matrix(
    shared_world: World, seed_case: Case, role: str, operation: str, which: str
) -> None:
    world = shared_world
    site = "alpha" if which == "own" else "beta"
    case_id = f"case-{role}-{operation}-{which}"
    world.reg.create_case(seed_case.model_copy(update={"id": case_id}), site=site)
    reg = world.as_(USERNAME[role])
    allowed = POLICY[role][operation][0 if which == "own" else 1]
    audit_before = world.db.verify_audit().head_seq
    deidentified = reads_deidentified(reg.user)
    name = "read_deid" if operation == "read" and deidentified else operation
    run = _operation(name, reg, site, case_id, seed_case)
    if allowed:
        result = run()
        assert result is not None
        if operation.startswith("export"):  # exactly the site asked for
            assert {e.site for e in result} == {site}  # type: ignore[attr-defined]
        if operation == "read" and deidentified:  # never the identified case
            assert result.case_id.startswith("DEID-")  # type: ignore[attr-defined]
            with pytest.raises(NotFoundError):
                reg.get_case(case_id)
    elif (
        (operation == "read" or (operation == "write" and POLICY[role]["write"][0]))
        and which == "other"
        and not POLICY[role]["read"][1]
    ):
        # a case of a site the user may not read: the same answer as an unknown id (a role
        # without the right at all is refused before any look-up)
        with pytest.raises(NotFoundError) as missing:
            run()
        assert site not in missing.value.message and missing.value.field == "case_id"
        assert world.db.verify_audit().head_seq == audit_before  # nothing written
        assert world.reg.get_case(case_id).version == 1
    else:
        with pytest.raises(ForbiddenError) as err:
            run()
        assert err.value.field == "site"
        assert world.db.verify_audit().head_seq == audit_before  # nothing written
        assert world.reg.get_case(case_id).version == 1
