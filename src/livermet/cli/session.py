"""Who is acting, on which registry: shared by the registry, user, site and cohort commands.

The database is ``--db`` or ``LIVERMET_DATABASE_URL`` (default: the embedded SQLite file). The
acting user signs in with ``--token`` / ``LIVERMET_TOKEN``, or ``--user`` / ``LIVERMET_USER`` with
``LIVERMET_PASSWORD`` (asked for when missing and a terminal is attached). Access rules are the
registry's own; the CLI only says who is asking.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from livermet.errors import InputError

if TYPE_CHECKING:  # the database layer (SQLAlchemy) is imported when a registry is opened
    from livermet.registry import Database, Registry

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite path (default: LIVERMET_DATABASE_URL)."),
]
UserOption = Annotated[
    str | None, typer.Option("--user", envvar="LIVERMET_USER", help="Acting user name.")
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="LIVERMET_TOKEN", help="API token of the acting user."),
]


def open_database(db: str | None, *, create: bool = False) -> Database:
    """Return the registry at ``db`` (``--db``, else ``LIVERMET_DATABASE_URL``, else default).

    Only ``create=True`` (``registry init``) may create one: elsewhere a path or URL that holds
    no registry is an error naming ``--db``, so that a typo is not a new, empty registry.
    """
    from livermet.registry import Database
    from livermet.registry.engine import require_registry

    return Database(db if create else require_registry(db))


def password_for(username: str) -> str:
    """Return the password: ``LIVERMET_PASSWORD``, else a prompt on a terminal, else an error."""
    password = os.environ.get("LIVERMET_PASSWORD")
    if password is not None:
        return password
    if sys.stdin.isatty():
        return str(typer.prompt(f"password for {username}", hide_input=True))
    raise InputError("no password: set LIVERMET_PASSWORD or use --token", "password")


def acting_registry(db: str | None, user: str | None, token: str | None) -> Registry:
    """Open the database and authenticate the acting user."""
    database = open_database(db)
    if token:
        return database.registry(database.authenticate_token(token))
    if not user:
        raise InputError("who is acting? give --user (with LIVERMET_PASSWORD) or --token", "user")
    return database.registry(database.authenticate_password(user, password_for(user)))
