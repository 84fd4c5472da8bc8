"""Opening a registry database, authenticating its users, and the registry as a user sees it.

:class:`Database` creates or upgrades the schema when opened, authenticates users (argon2
passwords, API tokens) and hands out :class:`~livermet.registry.facade.Registry` objects bound
to one user. It is the root the rest is composed from: it imports the registry facade, and
nothing in the registry imports it back.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import AbstractContextManager
from types import TracebackType

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from livermet.errors import ConflictError, ForbiddenError
from livermet.registry import security
from livermet.registry.access import Role, User
from livermet.registry.accounts import (
    dummy_hash,
    end_sessions_statement,
    insert_user,
    load_user,
    site_code,
    user_of,
)
from livermet.registry.audit import AuditWriter
from livermet.registry.audit_verification import AuditAnchor, AuditVerification, verify_audit
from livermet.registry.context import audited_transaction
from livermet.registry.engine import create_registry_engine, resolve_url, transaction, upgrade
from livermet.registry.facade import Registry
from livermet.registry.models import SiteRow, TokenRow, UserRow

BOOTSTRAP_ACTOR = "(bootstrap)"
"""The actor recorded for the first user, created before anyone can sign in."""


_TOKEN_OWNER = (
    select(
        UserRow.id,
        UserRow.username,
        UserRow.role,
        UserRow.active,
        SiteRow.code.label("site"),
        TokenRow.revoked_at,
    )
    .join(TokenRow, TokenRow.user_id == UserRow.id)
    .outerjoin(SiteRow, SiteRow.id == UserRow.site_id)
    .where(TokenRow.token_hash == bindparam("digest"))
)

_SESSION_OWNER = (
    select(
        UserRow.id,
        UserRow.username,
        UserRow.role,
        UserRow.active,
        UserRow.session_version,
        SiteRow.code.label("site"),
    )
    .outerjoin(SiteRow, SiteRow.id == UserRow.site_id)
    .where(UserRow.username == bindparam("username"))
)


class Database:
    """A registry database: connection, schema and authentication.

    Parameters
    ----------
    url
        SQLAlchemy URL or SQLite file path; default ``LIVERMET_DATABASE_URL`` or the embedded
        file (``livermet.registry.engine.resolve_url``).
    migrate
        Create the schema or upgrade it to the newest revision when needed (default).
    """

    def __init__(self, url: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> None:
        self.url = resolve_url(url)
        self.engine = create_registry_engine(self.url)
        if migrate:
            upgrade(self.engine)

    def close(self) -> None:
        """Close the database's connections (the engine is disposed of)."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        """Return the database, closed when the ``with`` block ends."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the database."""
        self.close()

    def read(self, *, snapshot: bool = False) -> AbstractContextManager[Session]:
        """Open a read transaction (a context manager yielding a ``Session``).

        ``snapshot``: one consistent state for every statement
        (``livermet.registry.engine.transaction``).
        """
        return transaction(self.engine, write=False, snapshot=snapshot)

    def write(self, actor: str) -> AbstractContextManager[tuple[Session, AuditWriter]]:
        """Open a write transaction and its audit writer (which locks the audit chain first).

        ``actor`` is the user name recorded in the audit (``context.audited_transaction``).
        """
        return audited_transaction(self.engine, actor)

    # --- users -----------------------------------------------------------------------------

    def bootstrap(self, username: str, password: str | None = None) -> User:
        """Create the first user, an admin; refused once the registry has any user.

        Raises
        ------
        ConflictError
            when users exist already (field ``username``).
        """
        with self.write(BOOTSTRAP_ACTOR) as (session, audit):
            if session.scalar(select(func.count()).select_from(UserRow)):
                raise ConflictError("the registry has users already", "username")
            user = insert_user(session, audit, username, Role.ADMIN, None, password)
        return user

    def user(self, username: str) -> User:
        """Return the user called ``username`` (for faces that trust the local operator).

        Raises
        ------
        NotFoundError
            for an unknown user name.
        """
        with self.read() as session:
            return load_user(session, username)

    def authenticate_password(self, username: str, password: str) -> User:
        """Return the active user with this name and password.

        Raises
        ------
        ForbiddenError
            for an unknown user, a wrong password or a deactivated user (one message for all).
        """
        return self.sign_in(username, password)[0]

    def sign_in(self, username: str, password: str) -> tuple[User, int]:
        """Return the active user with this name and password, and a session version.

        The session version is stored in the new browser session; :meth:`session_user` checks
        it on every request.

        Raises
        ------
        ForbiddenError
            for an unknown user, a wrong password or a deactivated user (one message for all).
        """
        with self.read() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            stored = row.password_hash if row is not None else None
            # An unknown user costs one argon2 verification too, so that timing does not tell.
            ok = security.verify_password(stored or dummy_hash(), password) and bool(stored)
            if row is None or not ok or not row.active:
                raise ForbiddenError("unknown user, wrong password or deactivated user", "password")
            return user_of(row, site_code(session, row.site_id)), row.session_version

    def session_user(self, username: str, session_version: int) -> User:
        """Return the active user of a browser session signed in at ``session_version``.

        Raises
        ------
        ForbiddenError
            for an unknown or deactivated user, or a session ended since (sign-out,
            deactivation, password, role or site change raised the user's version).
        """
        # One statement on a plain connection: every page request pays for this check.
        with self.engine.connect() as conn:
            found = conn.execute(_SESSION_OWNER, {"username": username}).first()
        if found is None or not found.active or found.session_version != session_version:
            raise ForbiddenError("the session has ended; sign in again", "session")
        return User(found.id, found.username, Role(found.role), found.site, found.active)

    def end_sessions(self, username: str) -> None:
        """End every browser session of ``username`` (sign-out signs out everywhere).

        Session state, not a permission: not audited (the audit snapshot leaves it out).
        """
        with transaction(self.engine, write=True) as session:
            session.execute(end_sessions_statement(UserRow.username == username))

    def authenticate_token(self, token: str) -> User:
        """Return the active user an unrevoked API token belongs to.

        Raises
        ------
        ForbiddenError
            for an unknown or revoked token, or a deactivated user.
        """
        # One statement on a plain connection: every API request pays for this check.
        with self.engine.connect() as conn:
            found = conn.execute(_TOKEN_OWNER, {"digest": security.token_digest(token)}).first()
        if found is None or found.revoked_at is not None or not found.active:
            raise ForbiddenError("unknown or revoked token", "token")
        return User(found.id, found.username, Role(found.role), found.site, found.active)

    def registry(self, user: User | str) -> Registry:
        """Return the registry as ``user`` (a ``User`` or a user name) sees it."""
        return Registry(self, user if isinstance(user, User) else self.user(user))

    def verify_audit(self, anchors: Iterable[AuditAnchor] = ()) -> AuditVerification:
        """Check the whole audit chain, its anchors and the tables against it.

        The chain must hold every one of ``anchors`` (heads kept outside the database), and the
        tables the state it describes. For an operator who has the database itself.
        """
        with self.read(snapshot=True) as session:
            return verify_audit(session, anchors)
