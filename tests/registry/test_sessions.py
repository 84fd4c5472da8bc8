"""Browser sessions carry the user's session version; the registry ends them by raising it."""

from __future__ import annotations

import pytest

from livermet.errors import ForbiddenError
from tests.registry.conftest import World

PW = "a password of viewer alpha"


def _sign_in(world: World) -> int:
    world.reg.set_password("viewer_alpha", PW)
    user, version = world.db.sign_in("viewer_alpha", PW)
    assert world.db.session_user("viewer_alpha", version) == user
    return version


def _ended(world: World, version: int) -> bool:
    try:
        world.db.session_user("viewer_alpha", version)
    except ForbiddenError as exc:
        assert exc.field == "session"
        return True
    return False


def test_signing_out_ends_every_session_of_the_user(world: World) -> None:
    version = _sign_in(world)
    world.db.end_sessions("viewer_alpha")
    assert _ended(world, version)
    _, new = world.db.sign_in("viewer_alpha", PW)
    assert new == version + 1 and not _ended(world, new)
    assert world.db.session_user("editor_alpha", 1).username == "editor_alpha"  # others stay
    with pytest.raises(ForbiddenError):
        world.db.session_user("nobody", 1)


def test_deactivation_ends_sessions_and_reactivation_keeps_them_ended(world: World) -> None:
    version = _sign_in(world)
    world.reg.update_user("viewer_alpha", active=False)
    assert _ended(world, version)
    world.reg.update_user("viewer_alpha", active=True)
    assert _ended(world, version)
    _, current = world.db.sign_in("viewer_alpha", PW)
    world.reg.update_user("viewer_alpha", active=False)
    for v in (current, current + 1):  # a deactivated user has no session at any version
        assert _ended(world, v)


def test_password_role_and_site_changes_end_sessions_a_no_change_does_not(world: World) -> None:
    version = _sign_in(world)
    world.reg.update_user("viewer_alpha", role="viewer", site="alpha", active=True)  # no change
    assert not _ended(world, version)
    world.reg.update_user("viewer_alpha", role="editor")
    assert _ended(world, version)
    _, version = world.db.sign_in("viewer_alpha", PW)
    world.reg.update_user("viewer_alpha", site="beta")
    assert _ended(world, version)
    _, version = world.db.sign_in("viewer_alpha", PW)
    world.as_("viewer_alpha").set_password("viewer_alpha", "a newer password")
    assert _ended(world, version)
    with pytest.raises(ForbiddenError):
        world.db.sign_in("viewer_alpha", PW)


def test_the_audit_snapshot_leaves_the_session_version_out(world: World) -> None:
    """Session state is not a permission: sign-outs write no audit record."""
    before = len(world.reg.audit_entries(limit=1000))
    world.db.end_sessions("viewer_alpha")
    assert len(world.reg.audit_entries(limit=1000)) == before
    world.reg.update_user("viewer_alpha", active=False)
    entry = world.reg.audit_entries(entity_id="viewer_alpha", limit=1)[0]
    assert entry.after is not None and "session_version" not in entry.after
    assert world.reg.verify_audit().ok
