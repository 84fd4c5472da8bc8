import pytest
from tests.web.test_schemathesis import test_no_server_error, api_app  # noqa
from fastapi import FastAPI

def test_catches(api_app):
    app, token = api_app
    @app.get("/api/v1/boom")
    def boom(x: int = 0) -> dict:
        raise RuntimeError("boom")
    app.openapi_schema = None
    with pytest.raises(AssertionError, match="boom"):
        test_no_server_error((app, token))
