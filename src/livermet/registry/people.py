"""The part of the registry service about people and records of activity: sites, users, API
tokens and the audit log (the cases are in ``service``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from livermet.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from livermet.registry import security
from livermet.registry.access import (
    ROLES_A_SITE_ADMIN_MAY_GRANT,
    SITE_BOUND_ROLES,
    Action,
    Role,
    User,
    permitted_sites,
    reads_deidentified,
    require,
)
from livermet.registry.audit import AuditAnchor, AuditVerification, verify_audit
from livermet.registry.audit_state import secret_digest
from livermet.registry.entities import AuditEntry, NewToken, Site, TokenInfo
from livermet.registry.models import AuditRow, CaseRow, SiteRow, TokenRow, UserRow
from livermet.registry.privacy import deidentified_id, new_site_secret
from livermet.registry.users import (
    insert_user,
    load_site,
    load_user,
    role_of,
    site_code,
    user_of,
    user_snapshot,
)

if TYPE_CHECKING:
    from livermet.registry.database import Database

SITE_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class RegistryBase:
    """The acting user, and what the registry does with sites, users, tokens and the audit log.

    :class:`~livermet.registry.service.Registry` adds the cases.
    """

    def __init__(self, db: Database, user: User) -> None:
        self._db = db
        self._user = user

    @property
    def user(self) -> User:
        return self._user

    # --- helpers ---------------------------------------------------------------------------

    def _actor(self, session: Session) -> User:
        """The acting user as the database says now (role, site and active flag)."""
        try:
            user = load_user(session, self._user.username)
        except NotFoundError:
            raise ForbiddenError(f"user {self._user.username!r} no longer exists", "user") from None
        if not user.active:
            raise ForbiddenError(f"user {user.username!r} is deactivated", "user")
        return user

    # --- sites, users, tokens --------------------------------------------------------------

    def create_site(self, code: str, name: str) -> Site:
        """Create a site with a fresh pseudonym secret (admins only).

        Raises
        ------
        InputError
            for a code that is not 1-64 lower-case letters, digits, '_' or '-'.
        ConflictError
            when the code is taken.
        """
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            require(actor, Action.MANAGE_SITES, None)
            if not SITE_CODE_PATTERN.match(code):
                raise InputError(
                    "a site code is 1-64 lower-case letters, digits, '_' or '-'", "code"
                )
            if not name.strip():
                raise InputError("give the site's name", "name")
            if session.scalar(select(SiteRow.id).where(SiteRow.code == code)) is not None:
                raise ConflictError(f"site {code!r} exists already", "code")
            secret = new_site_secret()
            session.add(SiteRow(code=code, name=name.strip(), pseudonym_secret=secret))
            session.flush()
            audit.append(
                "site.create",
                "site",
                code,
                site=code,
                after={"code": code, "name": name.strip(), "secret_digest": secret_digest(secret)},
            )
            return Site(code, name.strip())

    def list_sites(self) -> list[Site]:
        """Every site (codes and names are not confidential)."""
        with self._db.read() as session:
            self._actor(session)
            return [
                Site(r.code, r.name)
                for r in session.scalars(select(SiteRow).order_by(SiteRow.code))
            ]

    def _require_manage(self, actor: User, site: str | None, role: Role) -> None:
        if actor.role == Role.ADMIN:
            return
        require(actor, Action.MANAGE_USERS, site)
        if site is None or role not in ROLES_A_SITE_ADMIN_MAY_GRANT:
            raise ForbiddenError(
                f"role {actor.role.value} may not manage a {role.value} user", "role"
            )

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
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            if site is None and actor.role == Role.SITE_ADMIN:
                site = actor.site
            self._require_manage(actor, site, role)
            return insert_user(session, audit, username, role, site, password)

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
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            target = load_user(session, username)
            self._require_manage(actor, target.site, target.role)
            new_role = target.role if role is None else role_of(role)
            new_site = target.site if site is None else site
            self._require_manage(actor, new_site, new_role)
            if new_role in SITE_BOUND_ROLES and new_site is None:
                raise InputError(f"a {new_role.value} belongs to a site; give the site", "site")
            values: dict[str, Any] = {"role": new_role.value}
            values["site_id"] = None if new_site is None else load_site(session, new_site).id
            if active is not None:
                values["active"] = active
            if (new_role, new_site, values.get("active", target.active)) != (
                target.role,
                target.site,
                target.active,
            ):  # what the sessions were signed in as has changed: they end (and stay ended)
                values["session_version"] = UserRow.session_version + 1
            session.execute(update(UserRow).where(UserRow.id == target.id).values(**values))
            updated = User(
                target.id, username, new_role, new_site, target.active if active is None else active
            )
            audit.append(
                "user.update",
                "user",
                username,
                site=new_site,
                before=user_snapshot(target),
                after=user_snapshot(updated),
            )
            return updated

    def set_password(self, username: str, password: str) -> None:
        """Set a password: one's own, or that of a user one manages; ends the user's browser
        sessions (a session opened with the old password must not outlive it)."""
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            target = load_user(session, username)
            if target.username != actor.username:
                self._require_manage(actor, target.site, target.role)
            password_hash = security.hash_password(password)
            session.execute(
                update(UserRow)
                .where(UserRow.id == target.id)
                .values(
                    password_hash=password_hash,
                    session_version=UserRow.session_version + 1,
                )
            )
            audit.append(  # a digest, never the hash (``audit_state.secret_digest``)
                "user.password",
                "user",
                username,
                site=target.site,
                after={"password_digest": secret_digest(password_hash)},
            )

    def list_users(self) -> list[User]:
        """Users the actor manages (admin: all; site admin: their site's)."""
        with self._db.read() as session:
            actor = self._actor(session)
            require(actor, Action.MANAGE_USERS, None)
            query = select(UserRow, SiteRow.code).outerjoin(SiteRow, SiteRow.id == UserRow.site_id)
            if permitted_sites(actor, Action.MANAGE_USERS) is not None:
                query = query.where(SiteRow.code == actor.site)
            return [
                user_of(u, code) for u, code in session.execute(query.order_by(UserRow.username))
            ]

    def create_token(self, label: str = "", *, username: str | None = None) -> NewToken:
        """A new API token for oneself (or for a managed user); the secret is returned once."""
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            target = actor if username is None else load_user(session, username)
            if target.username != actor.username:
                self._require_manage(actor, target.site, target.role)
            token = security.new_token()
            digest = security.token_digest(token)
            row = TokenRow(user_id=target.id, token_hash=digest, label=label)
            session.add(row)
            session.flush()
            audit.append(
                "token.create",
                "token",
                str(row.id),
                site=target.site,
                after={"user": target.username, "label": label, "digest": secret_digest(digest)},
            )
            return NewToken(row.id, token, label)

    def revoke_token(self, token_id: int) -> None:
        """Revoke a token (one's own, or one of a managed user); it stops working at once."""
        with self._db.write(self._user.username) as (session, audit):
            actor = self._actor(session)
            row = session.get(TokenRow, token_id)
            if row is None:
                raise NotFoundError(f"no token {token_id}", "token_id")
            owner = session.get(UserRow, row.user_id)
            assert owner is not None  # foreign key
            if owner.username != actor.username:
                target = user_of(owner, site_code(session, owner.site_id))
                self._require_manage(actor, target.site, target.role)
            if row.revoked_at is None:
                row.revoked_at = dt.datetime.now(dt.UTC)
                audit.append(
                    "token.revoke",
                    "token",
                    str(token_id),
                    site=site_code(session, owner.site_id),
                    after={"user": owner.username, "label": row.label},
                )

    def list_tokens(self, *, username: str | None = None) -> list[TokenInfo]:
        """Tokens of oneself (or of a managed user), without their secrets."""
        with self._db.read() as session:
            actor = self._actor(session)
            target = actor if username is None else load_user(session, username)
            if target.username != actor.username:
                self._require_manage(actor, target.site, target.role)
            rows = session.scalars(
                select(TokenRow).where(TokenRow.user_id == target.id).order_by(TokenRow.id)
            )
            return [
                TokenInfo(r.id, target.username, r.label, r.created_at, r.revoked_at) for r in rows
            ]

    # --- audit -----------------------------------------------------------------------------

    def verify_audit(self, anchors: Iterable[AuditAnchor] = ()) -> AuditVerification:
        """Check the audit chain and the tables against it (admins, coordinators and site
        admins; a site admin sees the differences at their own site, the others counted)."""
        with self._db.read(snapshot=True) as session:  # the chain and the rows of one moment
            actor = self._actor(session)
            require(actor, Action.AUDIT, None)
            result = verify_audit(session, anchors)
            if reads_deidentified(actor):
                return result.counted_only()
            if permitted_sites(actor, Action.AUDIT) is not None:
                return result.visible_to(actor.site)
            return result

    def audit_entries(
        self, *, entity_id: str | None = None, limit: int = 100, entity: str | None = None
    ) -> list[AuditEntry]:
        """The latest audit records (a site admin sees only their site's), newest first;
        ``entity`` keeps those of one kind (``case``: the changes of cases, not their reads)."""
        with self._db.read() as session:
            actor = self._actor(session)
            require(actor, Action.AUDIT, None)
            query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
            if permitted_sites(actor, Action.AUDIT) is not None:
                query = query.where(AuditRow.site == actor.site)
            deidentified = reads_deidentified(actor)
            if entity_id is not None and not deidentified:
                query = query.where(AuditRow.entity_id == entity_id)
            if entity is not None:
                query = query.where(AuditRow.entity == entity)
            entries = [
                AuditEntry(
                    r.seq,
                    r.at,
                    r.actor,
                    r.action,
                    r.entity,
                    r.entity_id,
                    r.site,
                    r.before,
                    r.after,
                    r.hash,
                )
                for r in session.scalars(query)
            ]
            if deidentified:  # filtered by the ids this reader knows, never by identified ones
                entries = _deidentified_entries(session, entries)
                entries = [e for e in entries if entity_id in {None, e.entity_id}]
            return entries


def _deidentified_entries(session: Session, entries: list[AuditEntry]) -> list[AuditEntry]:
    """Audit records as a de-identified reader may see them: no before/after images (they hold
    identified case documents), and cases named by their de-identified id (``[case]`` once the
    case is deleted) — reading the log gives no more than reading the cases."""
    ids = {e.entity_id for e in entries if e.entity in {"case", "read"}}
    rows = session.execute(
        select(CaseRow.case_id, CaseRow.pseudonym, SiteRow.pseudonym_secret)
        .join(SiteRow, CaseRow.site_id == SiteRow.id)
        .where(CaseRow.case_id.in_(ids))
    )
    public = {case_id: deidentified_id(pseudonym, secret) for case_id, pseudonym, secret in rows}
    return [
        dataclasses.replace(
            e,
            entity_id=public.get(e.entity_id, "[case]")
            if e.entity in {"case", "read"}
            else e.entity_id,
            before=None,
            after=None,
        )
        for e in entries
    ]
