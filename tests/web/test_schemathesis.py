"""Run the API property-based from its OpenAPI document, authenticated, on both backends.

On SQLite and on PostgreSQL: no input may cause a server error, every status answered is
documented, and every body answered matches its documented schema.

PostgreSQL: ``LIVERMET_TEST_POSTGRES_URL`` (a throwaway database is made on that server, as in
``tests/registry/conftest.py``); without it the PostgreSQL half runs on the local default server
and is skipped when that cannot be reached, except with ``CI=true``, where a missing URL fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from livermet.case.load import load_case
from livermet.registry import Database
from livermet.web import create_app
from tests.registry.conftest import _reset_postgres, postgres_url
from tests.web.conftest import SEED_CASE

__all__ = ["postgres_url"]  # the fixture, shared with the registry tests

POSTGRES_ENV = "LIVERMET_TEST_POSTGRES_URL"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, str]]:
    if request.param == "postgresql":
        if os.environ.get("CI", "").lower() == "true" and not os.environ.get(POSTGRES_ENV):
            pytest.fail(f"{POSTGRES_ENV} is required in CI: the API must be run on PostgreSQL")
        url = request.getfixturevalue("postgres_url")
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'registry.db'}"
    with Database(url) as db:
        admin = db.bootstrap("admin", "a long passphrase")
        reg = db.registry(admin)
        reg.create_site("alpha", "Hospital A")
        reg.create_case(load_case(SEED_CASE), site="alpha")
        token = reg.create_token("schemathesis").token
    app = create_app(url, secret_key="schemathesis")
    yield app, token
    app.state.db.close()


def test_no_server_error_and_every_status_documented(api_app: tuple[FastAPI, str]) -> None:
    app, token = api_app
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,  # the same examples every run: a failure is reproducible
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case[Any]) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
            case.validate_response(response, checks=checks)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n".join(failures)
