"""Access control beyond the matrix: listings, user management, passwords and tokens."""

from __future__ import annotations

import hashlib

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from livermet.case.model import Case
from livermet.errors import ForbiddenError, InputError
from livermet.registry import Database, security

from .conftest import World, populate


def _case_at(world: World, site: str, seed_case: Case) -> str:
    case_id = f"case-{site}"
    world.reg.create_case(seed_case.model_copy(update={"id": case_id}), site=site)
    return case_id


def test_listing_is_limited_to_the_sites_a_user_may_read(world: World, seed_case: Case) -> None:
    _case_at(world, "alpha", seed_case)
    _case_at(world, "beta", seed_case)
    assert list(world.as_("viewer_alpha").cohort_frame()["site"]) == ["alpha"]
    assert [c.site for c in world.as_("editor_beta").list_cases()] == ["beta"]
    assert list(world.as_("coordinator").cohort_frame()["site"]) == ["alpha", "beta"]
    with pytest.raises(ForbiddenError):
        world.as_("viewer_alpha").cohort_frame(sites=["beta"])
    with pytest.raises(ForbiddenError):
        world.as_("viewer_alpha").export_cases()
    # a coordinator's export without sites covers every site
    assert {e.site for e in world.as_("coordinator").export_cases()} == {"alpha", "beta"}


@pytest.mark.parametrize(
    ("limit", "offset", "field"),
    [(0, 0, "limit"), (2**31, 0, "limit"), (10, -1, "offset"), (10, 2**63, "offset")],
)
def test_listing_pages_within_bounds(world: World, limit: int, offset: int, field: str) -> None:
    with pytest.raises(InputError) as err:
        world.reg.list_cases(limit=limit, offset=offset)
    assert err.value.field == field
    assert world.reg.list_cases(limit=2**31 - 1, offset=2**31 - 1) == []  # the bounds themselves


def test_site_admin_manages_only_their_site(world: World) -> None:
    site_admin = world.as_("site_admin_alpha")
    created = site_admin.create_user("new_editor", role="editor")
    assert (created.site, created.role.value) == ("alpha", "editor")
    with pytest.raises(ForbiddenError):
        site_admin.create_user("x1", role="editor", site="beta")
    with pytest.raises(ForbiddenError):
        site_admin.create_user("x2", role="coordinator")
    with pytest.raises(ForbiddenError):
        site_admin.update_user("editor_beta", active=False)
    with pytest.raises(ForbiddenError):
        site_admin.create_site("gamma", "Hospital gamma")
    assert {u.username for u in site_admin.list_users()} == {
        "viewer_alpha",
        "editor_alpha",
        "site_admin_alpha",
        "new_editor",
    }
    for name in ("editor_alpha", "viewer_alpha", "coordinator"):
        with pytest.raises(ForbiddenError):
            world.as_(name).create_user("x3", role="viewer", site="alpha")


def test_bad_user_input_names_the_field(world: World) -> None:
    with pytest.raises(InputError) as err:
        world.reg.create_user("bad name", role="viewer", site="alpha")
    assert err.value.field == "username"
    with pytest.raises(InputError) as err:
        world.reg.create_user("ok", role="boss", site="alpha")
    assert err.value.field == "role"
    with pytest.raises(InputError) as err:
        world.reg.create_user("ok", role="editor")
    assert err.value.field == "site"
    with pytest.raises(InputError) as err:
        world.reg.create_site("Bad Code", "x")
    assert err.value.field == "code"


def test_deactivated_user_loses_access_at_once(world: World, seed_case: Case) -> None:
    editor = world.as_("editor_alpha")  # a registry object obtained before deactivation
    editor.create_case(seed_case)
    world.reg.update_user("editor_alpha", active=False)
    with pytest.raises(ForbiddenError):
        editor.get_case("seed-case")
    world.reg.update_user("editor_alpha", role="viewer", active=True)
    with pytest.raises(ForbiddenError):  # now a viewer: reads, but does not write
        editor.delete_case("seed-case")
    assert editor.get_case("seed-case").version == 1


def test_default_password_hash_is_argon2id_with_rfc9106_parameters() -> None:
    # RFC 9106 section 4, second recommended option: 64 MiB, 3 passes, 4 lanes
    assert security.hash_password("a long passphrase").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_passwords_are_argon2_hashes(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # cheap parameters keep the test fast; the default ones are checked above
    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
    world = populate(db)
    world.reg.create_user("carol", role="editor", site="alpha", password="a long passphrase")
    assert db.authenticate_password("carol", "a long passphrase").username == "carol"
    with pytest.raises(ForbiddenError):
        db.authenticate_password("carol", "a long passphrasE")
    with pytest.raises(ForbiddenError):
        db.authenticate_password("nobody", "a long passphrase")
    with pytest.raises(ForbiddenError):  # no password set: token-only user
        db.authenticate_password("editor_alpha", "")
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE username = 'carol'"))
        assert stored.scalar_one().startswith("$argon2id$")
    with pytest.raises(InputError) as err:
        world.reg.set_password("carol", "short")
    assert err.value.field == "password"
    db.registry("carol").set_password("carol", "another long one")
    assert db.authenticate_password("carol", "another long one").username == "carol"


def test_api_tokens_are_stored_as_hashes_and_revocable(world: World) -> None:
    editor = world.as_("editor_alpha")
    new = editor.create_token("laptop")
    owner = world.db.authenticate_token(new.token)
    assert (owner.username, owner.role.value, owner.site, owner.active) == (
        "editor_alpha",
        "editor",
        "alpha",
        True,
    )
    with world.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert rows == [hashlib.sha256(new.token.encode()).hexdigest()]
    assert [t.label for t in editor.list_tokens()] == ["laptop"]
    with pytest.raises(ForbiddenError):  # another site's editor cannot revoke it
        world.as_("editor_beta").revoke_token(new.id)
    editor.revoke_token(new.id)
    with pytest.raises(ForbiddenError) as err:
        world.db.authenticate_token(new.token)
    assert err.value.field == "token"
    with pytest.raises(ForbiddenError):
        world.db.authenticate_token("lmt_guessed")
    # a site admin revokes a token of a user of their site
    second = editor.create_token("phone")
    world.as_("site_admin_alpha").revoke_token(second.id)
    assert editor.list_tokens()[1].revoked_at is not None
    admin_token = world.reg.create_token("server").token
    assert world.db.authenticate_token(admin_token).site is None  # a user without a site


def test_deactivated_users_tokens_stop_working(world: World) -> None:
    token = world.as_("viewer_beta").create_token().token
    world.as_("site_admin_beta").update_user("viewer_beta", active=False)
    with pytest.raises(ForbiddenError):
        world.db.authenticate_token(token)
