"""One user's units of work: a transaction, the acting user re-read, the permission, the audit.

Every method of the registry's services (``case_service``, ``people_service``,
``audit_service``, ``exchange_service``) runs in one unit of work opened by
:meth:`Context.reading` or :meth:`Context.writing`: the transaction is begun, the acting user is
read again from the database (a deactivated user or a changed role takes effect at once), the
access matrix is checked when an action is given (``livermet.registry.access``), and a write
gets the audit writer that locks the chain's head first (``livermet.registry.audit``), so that a
change and its audit record are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from livermet.errors import ForbiddenError, NotFoundError
from livermet.registry.access import Action, User, require
from livermet.registry.accounts import load_user
from livermet.registry.audit import AuditWriter
from livermet.registry.engine import transaction

READ_ENTITY = "read"
"""Entity of the audit records of reads (``case.read``, ``case.list``, ...): never ``case`` or
``user``, so a read is never taken for a state of a case or a user."""


@contextmanager
def audited_transaction(engine: Engine, actor: str) -> Iterator[tuple[Session, AuditWriter]]:
    """Open a write transaction and its audit writer (which locks the audit chain first).

    Parameters
    ----------
    engine
        The registry's engine.
    actor
        User name recorded as the actor of every audit record appended.

    Yields
    ------
    tuple of Session and AuditWriter
        The session of the transaction and the writer; the writer's records are flushed before
        the transaction commits.
    """
    with transaction(engine, write=True) as session:
        audit = AuditWriter(session, actor)
        yield session, audit
        audit.flush()


@dataclass(frozen=True)
class Reading:
    """A read unit of work: the session and the acting user as the database says now."""

    session: Session
    actor: User


@dataclass(frozen=True)
class Writing:
    """A write unit of work: the session, the acting user and the transaction's audit writer."""

    session: Session
    actor: User
    audit: AuditWriter


class Context:
    """What every service of one registry shares: the engine and the user it acts for.

    Parameters
    ----------
    engine
        The registry's engine (``livermet.registry.engine.create_registry_engine``).
    user
        The user the services act for, as authenticated; re-read in every unit of work.
    """

    def __init__(self, engine: Engine, user: User) -> None:
        self.engine = engine
        self.user = user

    def actor(self, session: Session) -> User:
        """Return the acting user as the database says now (role, site and active flag).

        Raises
        ------
        ForbiddenError
            when the user no longer exists or is deactivated (field ``user``).
        """
        try:
            user = load_user(session, self.user.username)
        except NotFoundError:
            raise ForbiddenError(f"user {self.user.username!r} no longer exists", "user") from None
        if not user.active:
            raise ForbiddenError(f"user {user.username!r} is deactivated", "user")
        return user

    def _checked(self, session: Session, action: Action | None, site: str | None) -> User:
        """Return the acting user, after checking ``action`` on ``site`` when one is given."""
        actor = self.actor(session)
        if action is not None:
            require(actor, action, site)
        return actor

    @contextmanager
    def reading(
        self, action: Action | None = None, site: str | None = None, *, snapshot: bool = False
    ) -> Iterator[Reading]:
        """Open a read unit of work.

        Parameters
        ----------
        action, site
            When ``action`` is given, the acting user must be allowed it on ``site`` (None:
            anywhere), else ``ForbiddenError``.
        snapshot
            Every statement sees the same state (``livermet.registry.engine.transaction``).

        Yields
        ------
        Reading
            The session and the acting user.
        """
        with transaction(self.engine, write=False, snapshot=snapshot) as session:
            yield Reading(session, self._checked(session, action, site))

    @contextmanager
    def writing(self, action: Action | None = None, site: str | None = None) -> Iterator[Writing]:
        """Open a write unit of work: the audit chain is locked before the user is re-read.

        Parameters
        ----------
        action, site
            When ``action`` is given, the acting user must be allowed it on ``site`` (None:
            anywhere), else ``ForbiddenError``.

        Yields
        ------
        Writing
            The session, the acting user and the audit writer.
        """
        with audited_transaction(self.engine, self.user.username) as (session, audit):
            yield Writing(session, self._checked(session, action, site), audit)

    def record_read(
        self, action: str, entity_id: str, details: dict[str, Any], site: str | None = None
    ) -> None:
        """Append the audit record of a read (one per request, whatever the number of rows).

        Written after the read and before its data are returned, with entity
        :data:`READ_ENTITY` and the ids, counts and filters in ``after`` (never case content).
        """
        with audited_transaction(self.engine, self.user.username) as (_session, audit):
            audit.append(action, READ_ENTITY, entity_id, site=site, after=details)


class Service:
    """A part of the registry acting for one user: it holds the shared context.

    Parameters
    ----------
    context
        The engine and the acting user, shared with the registry's other services.
    """

    def __init__(self, context: Context) -> None:
        self._ctx = context
