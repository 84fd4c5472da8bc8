"""``livermet serve``: one process or several workers sharing one registry and one session key."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from livermet.cli.main import app as cli
from livermet.cli.serve import serve
from livermet.errors import InputError
from tests.web.conftest import SEED_CASE, WebRegistry, free_port, sign_in


@pytest.fixture
def two_workers(web_registry: WebRegistry, tmp_path: Path) -> Iterator[str]:
    """``livermet serve --workers 2`` in a child process, without LIVERMET_SECRET_KEY set."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "LIVERMET_SECRET_KEY"}
    log = (tmp_path / "serve.log").open("w")
    command = [sys.executable, "-m", "livermet.cli.main", "serve", "--db", web_registry.url]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2"], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/signin", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(
                "livermet serve --workers 2 did not start: " + (tmp_path / "serve.log").read_text()
            )
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_workers_share_the_session_key_and_the_registry(
    two_workers: str, web_registry: WebRegistry
) -> None:
    with httpx.Client(base_url=two_workers, timeout=10, follow_redirects=True) as browser:
        sign_in(browser, "admin")
        # New connections land on either worker: a session signed by one is valid in both.
        for _ in range(12):
            with httpx.Client(base_url=two_workers, cookies=browser.cookies, timeout=10) as other:
                page = other.get("/cases/seed-case", follow_redirects=False)
                assert page.status_code == 200
                assert "seed-case" in page.text
    token = web_registry.tokens["viewer_a"]
    seed = json.loads(json.dumps(yaml.safe_load(SEED_CASE.read_text("utf-8")), default=str))
    with httpx.Client(base_url=two_workers, timeout=10) as script:
        for _ in range(6):  # tokens work on every worker
            result = script.post(
                "/api/v1/assessments", json=seed, headers={"Authorization": f"Bearer {token}"}
            )
            assert result.status_code == 200
            assert result.json()["grading"]["fnclcc"]["grade"] == 3


def test_serve_refuses_zero_workers() -> None:
    with pytest.raises(InputError) as err:
        serve(workers=0)
    assert err.value.field == "workers"
    result = CliRunner().invoke(cli, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers" in result.output


def test_start_up_objects_are_frozen_out_of_the_garbage_collector(app: FastAPI) -> None:
    gc.unfreeze()
    try:
        with TestClient(app):  # runs the lifespan
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
