"""The registry as composed services: the facade delegates, the unit of work checks first.

:class:`Registry` is a facade over four services sharing one context; these tests hold the
facade and the services to one another (every public method exposed once, with the service's
signature) and check what the one unit-of-work helper promises: the acting user re-read, the
permission checked before anything is written, reads without the audit lock.
"""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import text

from livermet.errors import ForbiddenError
from livermet.registry import Registry
from livermet.registry.access import Action
from livermet.registry.audit_service import AuditService
from livermet.registry.case_service import CaseService
from livermet.registry.exchange_service import ExchangeService
from livermet.registry.people_service import PeopleService

from .conftest import World

SERVICES = {
    "cases": CaseService,
    "people": PeopleService,
    "audit": AuditService,
    "exchange": ExchangeService,
}


def _public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


def test_every_service_method_is_on_the_facade_once_with_its_signature() -> None:
    seen: dict[str, str] = {}
    for attribute, service in SERVICES.items():
        for name in _public_methods(service):
            assert name not in seen, f"{name} in both {seen.get(name)} and {attribute}"
            seen[name] = attribute
            facade = inspect.signature(getattr(Registry, name))
            assert facade == inspect.signature(getattr(service, name)), name
    assert _public_methods(Registry) == set(seen)


def test_the_facade_delegates_to_its_services(world: World) -> None:
    reg = world.as_("admin")
    for attribute, service in SERVICES.items():
        assert isinstance(getattr(reg, attribute), service)
        assert getattr(reg, attribute)._ctx is reg.context
    assert reg.user == world.admin
    assert [s.code for s in reg.list_sites()] == [s.code for s in reg.people.list_sites()]


def _head(world: World) -> tuple[int, str]:
    with world.db.engine.connect() as conn:
        seq, digest = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
    return int(seq), str(digest)


def test_a_refused_write_stores_nothing_and_appends_nothing(world: World) -> None:
    before = _head(world)
    with (
        pytest.raises(ForbiddenError, match="may not create or change sites"),
        world.as_("editor_alpha").context.writing(Action.MANAGE_SITES) as _,
    ):
        raise AssertionError("the unit of work must refuse before its body runs")
    assert _head(world) == before


def test_the_unit_of_work_rereads_the_acting_user(world: World) -> None:
    editor = world.as_("editor_alpha")
    with editor.context.reading(Action.WRITE, "alpha") as unit:
        assert unit.actor.username == "editor_alpha"
    world.reg.update_user("editor_alpha", active=False)
    with pytest.raises(ForbiddenError, match="deactivated"), editor.context.reading():
        raise AssertionError("a deactivated user must not get a unit of work")
    world.reg.update_user("editor_alpha", active=True, role="viewer")
    refused = pytest.raises(ForbiddenError, match="may not create")
    with refused, editor.context.writing(Action.WRITE):
        raise AssertionError("the role changed since sign-in: the new one counts")


def test_a_write_unit_appends_its_records_in_its_own_transaction(world: World) -> None:
    seq, _ = _head(world)
    with world.reg.context.writing() as unit:
        unit.audit.append("case.frobnicate", "case", "nothing", site="alpha")
    assert _head(world)[0] == seq + 1
    with pytest.raises(RuntimeError), world.reg.context.writing() as unit:
        unit.audit.append("case.frobnicate", "case", "nothing", site="alpha")
        raise RuntimeError("rolled back")
    assert _head(world)[0] == seq + 1
    assert world.db.verify_audit().ok
