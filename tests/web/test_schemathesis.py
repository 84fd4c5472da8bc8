"""Property-based run of the API from its OpenAPI document: no input may cause a server error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from livermet.registry import Database
from livermet.web import create_app
from tests.web.conftest import SEED_CASE


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    from livermet.case.load import load_case

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


def test_no_server_error(api_app: tuple[FastAPI, str]) -> None:
    app, token = api_app
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,  # the same examples every run: a failure is reproducible
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            case.validate_response(response, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n".join(failures)
