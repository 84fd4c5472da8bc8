"""Alembic environment and revisions of the registry schema (package data, run in code)."""
