"""User and site rows as the registry reads and writes them.

Shared by ``database`` (bootstrap, sign-in) and ``people_service`` (managing users).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from sqlalchemy import ColumnElement, Update, select, update
from sqlalchemy.orm import Session

from livermet.errors import ConflictError, InputError, NotFoundError
from livermet.registry import security
from livermet.registry.access import SITE_BOUND_ROLES, Role, User
from livermet.registry.audit import AuditWriter
from livermet.registry.audit_state import secret_digest
from livermet.registry.models import SiteRow, UserRow

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


@functools.cache
def dummy_hash() -> str:
    """Return a hash to check the passwords of unknown users against.

    Sign-in then takes as long either way, so its timing does not tell which user names exist.
    """
    return security.hash_password("livermet-timing-equaliser")


def role_of(value: Role | str) -> Role:
    """Return the role named ``value``.

    Raises
    ------
    InputError
        for an unknown role (field ``role``), listing the roles.
    """
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InputError(f"unknown role {value!r}; expected one of: {names}", "role") from None


def user_of(row: UserRow, site: str | None) -> User:
    """Return the user a ``users`` row holds (``site``: the code of its site)."""
    return User(row.id, row.username, Role(row.role), site, row.active)


def end_sessions_statement(where: ColumnElement[bool]) -> Update:
    """Raise the session version of the users ``where`` selects: their browser sessions end."""
    return update(UserRow).where(where).values(session_version=UserRow.session_version + 1)


def user_snapshot(user: User) -> dict[str, Any]:
    """Return what the audit records of a user (no secrets, no session state)."""
    return {
        "username": user.username,
        "role": user.role.value,
        "site": user.site,
        "active": user.active,
    }


def site_code(session: Session, site_id: int | None) -> str | None:
    """Return the code of the site ``site_id`` (None for no site)."""
    return (
        None
        if site_id is None
        else session.scalar(select(SiteRow.code).where(SiteRow.id == site_id))
    )


def load_user(session: Session, username: str) -> User:
    """Return the user called ``username``.

    Raises
    ------
    NotFoundError
        for an unknown user name (field ``username``).
    """
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFoundError(f"no user {username!r}", "username")
    return user_of(row, site_code(session, row.site_id))


def load_site(session: Session, code: str) -> SiteRow:
    """Return the row of the site ``code``.

    Raises
    ------
    NotFoundError
        for an unknown site code (field ``site``).
    """
    row = session.scalar(select(SiteRow).where(SiteRow.code == code))
    if row is None:
        raise NotFoundError(f"no site {code!r}", "site")
    return row


def insert_user(
    session: Session,
    audit: AuditWriter,
    username: str,
    role: Role,
    site: str | None,
    password: str | None,
) -> User:
    """Insert a user and append its audit record (``user.create``); return the user.

    Raises
    ------
    InputError
        for a user name that is not 1-100 letters, digits, '.', '_', '@' or '-' (field
        ``username``), a site-bound role without a site (field ``site``) or a password that is
        too short (field ``password``).
    NotFoundError
        for an unknown site.
    ConflictError
        when the user name is taken (field ``username``).
    """
    if not USERNAME_PATTERN.match(username):
        raise InputError("a user name is 1-100 letters, digits, '.', '_', '@' or '-'", "username")
    if role in SITE_BOUND_ROLES and site is None:
        raise InputError(f"a {role.value} belongs to a site; give the site", "site")
    site_id = None if site is None else load_site(session, site).id
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise ConflictError(f"user {username!r} exists already", "username")
    row = UserRow(
        username=username,
        password_hash=None if password is None else security.hash_password(password),
        role=role.value,
        site_id=site_id,
        active=True,
    )
    session.add(row)
    session.flush()
    user = user_of(row, site)
    after = {**user_snapshot(user), "password_digest": secret_digest(row.password_hash)}
    audit.append("user.create", "user", username, site=site, after=after)
    return user
