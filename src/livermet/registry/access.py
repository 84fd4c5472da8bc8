"""Who may do what: roles, actions and the access matrix, enforced by the registry service.

The matrix is data (:data:`ACCESS_MATRIX`): for each role and action, the scope the role is
granted — ``"own"`` (the user's own site only), ``"all"`` (every site) or nothing. Sites are
REDCap's data access groups (docs/registry.md#sites-roles-and-access): a site-bound user sees only
their site's cases; the coordinating centre and the administrators stand outside the sites.

===========  ====  =====  ====================  ===========  ============  ============  =====
role         read  write  export de-identified  export full  manage users  manage sites  audit
===========  ====  =====  ====================  ===========  ============  ============  =====
viewer       own   -      -                     -            -             -             -
editor       own   own    -                     -            -             -             -
site_admin   own   own    own                   own          own           -             own
coordinator  all   -      all                   -            -             -             all
admin        all   all    all                   all          all           all           all
===========  ====  =====  ====================  ===========  ============  ============  =====

Decisions (following REDCap's export-right levels, docs/registry.md#sites-roles-and-access):

- *Export* writes cases out of the registry (files, other systems) and is audited; *read* is
  looking at cases through a face. Viewers and editors enter and consult data but do not take it
  away; the site's administrator exports the site's data.
- *Full* export keeps what the registry holds (pseudonym, real dates, exact ages; no direct
  identifier is ever stored). It is for the site that owns the data (site admin) and for the
  registry administrator. *De-identified* export (identifiers dropped, dates shifted, ages over
  89 grouped: ``livermet.registry.privacy``) is the analysts' level: the coordinating centre gets
  it for every site.
- The coordinator does not write: each site owns its cases and corrects them itself; the
  coordinator reads everything to run the pooled analyses and to query the sites.
- Managing users: an admin manages everyone; a site admin creates and changes users of their
  own site with the roles viewer, editor or site_admin. Sites are created by admins only.
- Audit: admins and the coordinator read the whole log and verify the chain; a site admin
  reads the records of their own site.
- Reading gives no more than exporting: a role whose only export right is the de-identified
  one (the coordinator, :func:`reads_deidentified`) reads the cases de-identified everywhere
  (lists, cases, assessments, cohorts), under their ``DEID-`` ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from livermet.errors import ForbiddenError


class Role(StrEnum):
    """A user's role: what they may do is the role's row of :data:`ACCESS_MATRIX`."""

    VIEWER = "viewer"
    EDITOR = "editor"
    SITE_ADMIN = "site_admin"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class Action(StrEnum):
    """Something a user does with the registry, checked against :data:`ACCESS_MATRIX`."""

    READ = "read"
    WRITE = "write"
    EXPORT_DEIDENTIFIED = "export_deidentified"
    EXPORT_FULL = "export_full"
    MANAGE_USERS = "manage_users"
    MANAGE_SITES = "manage_sites"
    AUDIT = "audit"


Scope = Literal["own", "all"]

ACCESS_MATRIX: dict[Role, dict[Action, Scope]] = {
    Role.VIEWER: {Action.READ: "own"},
    Role.EDITOR: {Action.READ: "own", Action.WRITE: "own"},
    Role.SITE_ADMIN: {
        Action.READ: "own",
        Action.WRITE: "own",
        Action.EXPORT_DEIDENTIFIED: "own",
        Action.EXPORT_FULL: "own",
        Action.MANAGE_USERS: "own",
        Action.AUDIT: "own",
    },
    Role.COORDINATOR: {
        Action.READ: "all",
        Action.EXPORT_DEIDENTIFIED: "all",
        Action.AUDIT: "all",
    },
    Role.ADMIN: dict.fromkeys(Action, "all"),
}
"""Scope granted to each role for each action; an absent action is not allowed at all."""

SITE_BOUND_ROLES = frozenset({Role.VIEWER, Role.EDITOR, Role.SITE_ADMIN})
"""Roles that act on one site and therefore must belong to one."""

ROLES_A_SITE_ADMIN_MAY_GRANT = frozenset({Role.VIEWER, Role.EDITOR, Role.SITE_ADMIN})


@dataclass(frozen=True)
class User:
    """An authenticated user, as the registry service acts for them."""

    id: int
    username: str
    role: Role
    site: str | None
    active: bool = True


_PHRASES = {
    Action.READ: "read the cases",
    Action.WRITE: "create, change or delete the cases",
    Action.EXPORT_DEIDENTIFIED: "export the cases (de-identified)",
    Action.EXPORT_FULL: "export the full (not de-identified) cases",
    Action.MANAGE_USERS: "manage the users",
    Action.MANAGE_SITES: "create or change sites",
    Action.AUDIT: "read the audit log",
}


def scope_of(role: Role, action: Action) -> Scope | None:
    """Return the scope ``role`` has for ``action`` (None: not allowed)."""
    return ACCESS_MATRIX[role].get(action)


def allowed(user: User, action: Action, site: str | None) -> bool:
    """Whether ``user`` may do ``action`` on the cases of ``site``.

    ``site=None`` asks whether the action is allowed anywhere (for example listing across all
    permitted sites).
    """
    scope = scope_of(user.role, action)
    if scope is None or not user.active:
        return False
    if scope == "all" or site is None:
        return True
    return user.site is not None and site == user.site


def require(user: User, action: Action, site: str | None) -> None:
    """Raise :class:`ForbiddenError` unless ``user`` may do ``action`` on ``site``."""
    if allowed(user, action, site):
        return
    if not user.active:
        raise ForbiddenError(f"user {user.username!r} is deactivated", "user")
    where = "" if site is None else f" of site {site!r}"
    raise ForbiddenError(f"role {user.role.value} may not {_PHRASES[action]}{where}", "site")


def permitted_sites(user: User, action: Action) -> set[str] | None:
    """Sites ``user`` may do ``action`` on: None means every site, an empty set none."""
    scope = scope_of(user.role, action)
    if scope is None or not user.active:
        return set()
    if scope == "all":
        return None
    return {user.site} if user.site is not None else set()


def reads_deidentified(user: User) -> bool:
    """Return whether ``user`` reads the cases only de-identified.

    The export rights bound the read right, so a role allowed de-identified exports but no full
    one (the coordinator) never sees identified data.
    """
    return (
        scope_of(user.role, Action.EXPORT_FULL) is None
        and scope_of(user.role, Action.EXPORT_DEIDENTIFIED) is not None
    )
