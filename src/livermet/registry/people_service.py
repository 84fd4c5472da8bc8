"""Sites, users and API tokens, managed by one user: :class:`PeopleService`.

Admins create sites and manage every user; a site admin manages the viewers, editors and site
admins of their own site (``livermet.registry.access``). Every change is audited; secrets enter
the audit only as digests (``audit_state.secret_digest``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select, update

from livermet.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from livermet.registry import security
from livermet.registry.access import (
    ROLES_A_SITE_ADMIN_MAY_GRANT,
    SITE_BOUND_ROLES,
    Action,
    Role,
    User,
    permitted_sites,
    require,
)
from livermet.registry.accounts import (
    insert_user,
    load_site,
    load_user,
    role_of,
    site_code,
    user_of,
    user_snapshot,
)
from livermet.registry.audit_state import secret_digest
from livermet.registry.context import Reading, Service, Writing
from livermet.registry.entities import NewToken, Site, TokenInfo
from livermet.registry.models import SiteRow, TokenRow, UserRow
from livermet.registry.privacy import new_site_secret

SITE_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
"""A site code: 1-64 lower-case letters, digits, '_' or '-' (it appears in URLs and files)."""


def require_manage(actor: User, site: str | None, role: Role) -> None:
    """Raise ``ForbiddenError`` unless ``actor`` may manage a ``role`` user of ``site``.

    An admin manages everyone; a site admin the roles of
    :data:`~livermet.registry.access.ROLES_A_SITE_ADMIN_MAY_GRANT` at their own site.
    """
    if actor.role == Role.ADMIN:
        return
    require(actor, Action.MANAGE_USERS, site)
    if site is None or role not in ROLES_A_SITE_ADMIN_MAY_GRANT:
        raise ForbiddenError(f"role {actor.role.value} may not manage a {role.value} user", "role")


def _managed(unit: Reading | Writing, username: str | None) -> User:
    """Return the user ``username`` (default: the actor), if the actor may manage them."""
    actor = unit.actor
    target: User = actor if username is None else load_user(unit.session, username)
    if target.username != actor.username:
        require_manage(actor, target.site, target.role)
    return target


def _user_changes(
    target: User, new_role: Role, new_site: str | None, active: bool | None, site_id: int | None
) -> dict[str, Any]:
    """Return the column values of a user update (the session version raised on a change)."""
    values: dict[str, Any] = {"role": new_role.value, "site_id": site_id}
    if active is not None:
        values["active"] = active
    if (new_role, new_site, values.get("active", target.active)) != (
        target.role,
        target.site,
        target.active,
    ):  # what the sessions were signed in as has changed: they end (and stay ended)
        values["session_version"] = UserRow.session_version + 1
    return values


class PeopleService(Service):
    """Sites, users and API tokens, for one acting user."""

    def create_site(self, code: str, name: str) -> Site:
        """Create a site with a fresh pseudonym secret (admins only).

        Raises
        ------
        InputError
            for a code that is not 1-64 lower-case letters, digits, '_' or '-'.
        ConflictError
            when the code is taken.
        """
        with self._ctx.writing(Action.MANAGE_SITES) as unit:
            if not SITE_CODE_PATTERN.match(code):
                raise InputError(
                    "a site code is 1-64 lower-case letters, digits, '_' or '-'", "code"
                )
            if not name.strip():
                raise InputError("give the site's name", "name")
            session = unit.session
            if session.scalar(select(SiteRow.id).where(SiteRow.code == code)) is not None:
                raise ConflictError(f"site {code!r} exists already", "code")
            secret = new_site_secret()
            session.add(SiteRow(code=code, name=name.strip(), pseudonym_secret=secret))
            session.flush()
            unit.audit.append(
                "site.create",
                "site",
                code,
                site=code,
                after={"code": code, "name": name.strip(), "secret_digest": secret_digest(secret)},
            )
            return Site(code, name.strip())

    def list_sites(self) -> list[Site]:
        """Return every site (codes and names are not confidential)."""
        with self._ctx.reading() as unit:
            rows = unit.session.scalars(select(SiteRow).order_by(SiteRow.code))
            return [Site(r.code, r.name) for r in rows]

    def case_sites(self) -> list[str]:
        """Return the codes of the sites the user may add a case to, sorted.

        From the write right of the access matrix (``livermet.registry.access``): a site-bound
        role adds cases to its own site only; a role that writes everywhere (admin) to every
        site of the registry (none yet: an empty list), or to its own site when it has one
        (the site it works for is the one offered).

        Raises
        ------
        ForbiddenError
            when the role may not add cases at all (``access.require``'s message).
        """
        with self._ctx.reading() as unit:
            actor = unit.actor
            if permitted_sites(actor, Action.WRITE) == set():
                require(actor, Action.WRITE, actor.site)  # raises: the role does not write
            if actor.site is not None:
                return [actor.site]
            return list(unit.session.scalars(select(SiteRow.code).order_by(SiteRow.code)))

    def case_site(self, site: str | None) -> str:
        """Return the site a new case goes to: ``site``, or the only one the user may add to.

        Raises
        ------
        InputError
            (field ``site``) when no site is given and the user may add cases to several sites
            (or the registry has no site yet).
        ForbiddenError
            when the role may not add cases at all.
        """
        sites = self.case_sites()
        if site:
            return site
        if len(sites) == 1:  # one choice: it is the site
            return sites[0]
        if sites:
            raise InputError("choose the site the case belongs to", "site")
        raise InputError("the registry has no site yet; an administrator adds one first", "site")

    def create_user(
        self,
        username: str,
        *,
        role: Role | str,
        site: str | None = None,
        password: str | None = None,
    ) -> User:
        """Create a user; a site admin creates viewers, editors and site admins of their site.

        ``password`` may be omitted for a user who will only use API tokens.
        """
        role = role_of(role)
        with self._ctx.writing() as unit:
            if site is None and unit.actor.role == Role.SITE_ADMIN:
                site = unit.actor.site
            require_manage(unit.actor, site, role)
            return insert_user(unit.session, unit.audit, username, role, site, password)

    def update_user(
        self,
        username: str,
        *,
        role: Role | str | None = None,
        site: str | None = None,
        active: bool | None = None,
    ) -> User:
        """Change a user's role, site or active flag (deactivation revokes access at once).

        A change ends the user's browser sessions; reactivation does not revive them.
        """
        with self._ctx.writing() as unit:
            target = load_user(unit.session, username)
            require_manage(unit.actor, target.site, target.role)
            new_role = target.role if role is None else role_of(role)
            new_site = target.site if site is None else site
            require_manage(unit.actor, new_site, new_role)
            if new_role in SITE_BOUND_ROLES and new_site is None:
                raise InputError(f"a {new_role.value} belongs to a site; give the site", "site")
            site_id = None if new_site is None else load_site(unit.session, new_site).id
            values = _user_changes(target, new_role, new_site, active, site_id)
            unit.session.execute(update(UserRow).where(UserRow.id == target.id).values(**values))
            now_active = target.active if active is None else active
            updated = User(target.id, username, new_role, new_site, now_active)
            unit.audit.append(
                "user.update",
                "user",
                username,
                site=new_site,
                before=user_snapshot(target),
                after=user_snapshot(updated),
            )
            return updated

    def set_password(self, username: str, password: str) -> None:
        """Set a password: one's own, or that of a user one manages.

        The user's browser sessions end: a session opened with the old password must not outlive
        it.
        """
        with self._ctx.writing() as unit:
            target = _managed(unit, username)
            password_hash = security.hash_password(password)
            unit.session.execute(
                update(UserRow)
                .where(UserRow.id == target.id)
                .values(
                    password_hash=password_hash,
                    session_version=UserRow.session_version + 1,
                )
            )
            unit.audit.append(  # a digest, never the hash (``audit_state.secret_digest``)
                "user.password",
                "user",
                username,
                site=target.site,
                after={"password_digest": secret_digest(password_hash)},
            )

    def list_users(self) -> list[User]:
        """Return the users the actor manages (admin: all; site admin: their site's)."""
        with self._ctx.reading(Action.MANAGE_USERS) as unit:
            query = select(UserRow, SiteRow.code).outerjoin(SiteRow, SiteRow.id == UserRow.site_id)
            if permitted_sites(unit.actor, Action.MANAGE_USERS) is not None:
                query = query.where(SiteRow.code == unit.actor.site)
            rows = unit.session.execute(query.order_by(UserRow.username))
            return [user_of(u, code) for u, code in rows]

    def create_token(self, label: str = "", *, username: str | None = None) -> NewToken:
        """Create an API token for oneself (or for a managed user); the secret is returned once."""
        with self._ctx.writing() as unit:
            target = _managed(unit, username)
            token = security.new_token()
            digest = security.token_digest(token)
            row = TokenRow(user_id=target.id, token_hash=digest, label=label)
            unit.session.add(row)
            unit.session.flush()
            unit.audit.append(
                "token.create",
                "token",
                str(row.id),
                site=target.site,
                after={"user": target.username, "label": label, "digest": secret_digest(digest)},
            )
            return NewToken(row.id, token, label)

    def revoke_token(self, token_id: int) -> None:
        """Revoke a token (one's own, or one of a managed user); it stops working at once.

        Raises
        ------
        NotFoundError
            for an unknown token id (field ``token_id``).
        """
        with self._ctx.writing() as unit:
            session = unit.session
            row = session.get(TokenRow, token_id)
            if row is None:
                raise NotFoundError(f"no token {token_id}", "token_id")
            owner = session.get(UserRow, row.user_id)
            assert owner is not None  # foreign key
            if owner.username != unit.actor.username:
                target = user_of(owner, site_code(session, owner.site_id))
                require_manage(unit.actor, target.site, target.role)
            if row.revoked_at is None:
                row.revoked_at = dt.datetime.now(dt.UTC)
                unit.audit.append(
                    "token.revoke",
                    "token",
                    str(token_id),
                    site=site_code(session, owner.site_id),
                    after={"user": owner.username, "label": row.label},
                )

    def list_tokens(self, *, username: str | None = None) -> list[TokenInfo]:
        """Return the tokens of oneself (or of a managed user), without their secrets."""
        with self._ctx.reading() as unit:
            target = _managed(unit, username)
            rows = unit.session.scalars(
                select(TokenRow).where(TokenRow.user_id == target.id).order_by(TokenRow.id)
            )
            return [
                TokenInfo(r.id, target.username, r.label, r.created_at, r.revoked_at) for r in rows
            ]
