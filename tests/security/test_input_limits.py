"""Test finding 6 (limits and errors) against a real ``livermet serve`` and the real CLI.

Oversized, deeply nested and unstorable input: every answer is a quick 4xx (exit status 2) naming
the field or file, never a 500 or a traceback, and nothing is stored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from livermet.cli.main import app as cli
from tests.security.conftest import LiveServer
from tests.web.conftest import csrf_of

MB = 1_000_000


@pytest.fixture(scope="module")
def seed(live: LiveServer) -> dict[str, Any]:
    with live.api("editor_a") as api:
        document: dict[str, Any] = api.get("/api/v1/cases/seed-case").json()["case"]
    return document


def _send(live: LiveServer, target: str, content: bytes | Iterator[bytes]) -> httpx.Response:
    """POST a new case, PUT the seed case, or POST an assessment, with a raw JSON body."""
    method, path, wrap = {
        "create": ("POST", "/api/v1/cases", (b'{"case": ', b"}")),
        "update": ("PUT", "/api/v1/cases/seed-case", (b'{"version": 1, "case": ', b"}")),
        "assess": ("POST", "/api/v1/assessments", (b"", b"")),
    }[target]
    if isinstance(content, bytes):
        content = wrap[0] + content + wrap[1]
    with live.api("editor_a") as api:
        return api.request(
            method, path, content=content, headers={"content-type": "application/json"}
        )


def _error(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    error: dict[str, Any] = response.json()["error"]
    return error


def _doc(seed: dict[str, Any], **changes: Any) -> bytes:
    return json.dumps({**seed, **changes}, allow_nan=True).encode()


TARGETS = ["create", "update", "assess"]


@pytest.mark.parametrize("target", TARGETS)
def test_a_50_mb_field_is_refused_at_once_naming_the_limit(
    live: LiveServer, seed: dict[str, Any], target: str
) -> None:
    started = time.monotonic()
    response = _send(live, target, _doc(seed, notes="x" * (50 * MB)))
    error = _error(response)
    assert response.status_code == 413 and error["field"] == "body"
    assert "4,000,000 bytes" in error["message"]
    assert time.monotonic() - started < 10


def test_a_chunked_body_is_counted_as_it_arrives(live: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count
        yield b'{"case": {"notes": "'
        for _ in range(60):
            yield b"x" * 100_000
        yield b'"}}'

    response = _send(live, "create", chunks())
    assert response.status_code == 413 and "4,000,000" in response.json()["error"]["message"]


@pytest.mark.parametrize("target", TARGETS)
def test_a_field_over_1_mb_is_refused_naming_the_field(
    live: LiveServer, seed: dict[str, Any], target: str
) -> None:
    response = _send(live, target, _doc(seed, notes="x" * (MB + 10)))
    error = _error(response)
    assert response.status_code == 422 and error["field"] == "notes"
    assert "1,000,000 bytes" in error["message"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 422, "nested too deeply"),
        (b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 422, "nested too deeply"),
        (b'{"id": ' + b"1" * 5000 + b"}", 422, "more than 4300 digits"),
    ],
    ids=["nested-list", "nested-field", "5000-digits"],
)
def test_unusable_json_is_a_422_naming_the_body(
    live: LiveServer, target: str, body: bytes, status: int, message: str
) -> None:
    error = _error(response := _send(live, target, body))
    assert response.status_code == status and error["field"] == "body"
    assert message in error["message"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (b"NaN", "statements.observation_period_after_primary_months", "finite"),
        (b"1e400", "statements.observation_period_after_primary_months", "finite"),
        (b"-Infinity", "statements.observation_period_after_primary_months", "finite"),
        (b"1" + b"0" * 4000, "statements.observation_period_after_primary_months", "range"),
        (b'"a\\u0000b"', "notes", "NUL"),
        (b'"\\ud800"', "notes", "surrogate"),
    ],
    ids=["nan", "1e400", "-inf", "4001-digits", "nul", "surrogate"],
)
def test_values_no_store_can_keep_are_a_422_naming_the_field(
    live: LiveServer, seed: dict[str, Any], target: str, raw: bytes, field: str, message: str
) -> None:
    marker = b'"__value__"'
    if field == "notes":
        document = _doc(seed, notes="__value__")
    else:
        document = _doc(seed, statements={"observation_period_after_primary_months": "__value__"})
    error = _error(response := _send(live, target, document.replace(marker, raw)))
    assert response.status_code == 422 and error["field"] == field and message in error["message"]


def test_nothing_was_stored_and_the_server_logged_no_traceback(live: LiveServer) -> None:
    with live.api("editor_a") as api:
        assert api.get("/api/v1/cases/seed-case").json()["version"] == 1
        assert {c["case_id"] for c in api.get("/api/v1/cases").json()["cases"]} == {"seed-case"}
    assert "Traceback" not in live.log.read_text()


def test_a_nul_in_the_url_is_a_422(live: LiveServer) -> None:
    with live.api("editor_a") as api:
        for url in ("/api/v1/cases?site=al%00pha", "/api/v1/cases/seed%00case"):
            response = api.get(url)
            assert response.status_code == 422 and response.json()["error"]["field"] == "url"


def test_web_paste_and_form_refuse_the_same_input(live: LiveServer, seed: dict[str, Any]) -> None:
    with live.browser("editor_a") as browser:
        token = csrf_of(browser.get("/cases/new").text)
        pastes = {
            "nested": "[" * 100_000 + "]" * 100_000,
            "digits": '{"id": ' + "1" * 5000 + "}",
            "nul": json.dumps({**seed, "id": "pasted", "notes": "a\x00b"}),
            "python-tag": "id: x\nnotes: !!python/object/apply:os.system ['echo pwned']\n",
        }
        for name, text in pastes.items():
            assessed = browser.post("/assess", data={"csrf_token": token, "case_text": text})
            stored = browser.post(
                "/cases/new", data={"csrf_token": token, "mode": "file", "case_text": text}
            )
            for response in (assessed, stored):
                assert response.status_code == 422, (name, response.status_code)
        fields = {"histology": "leiomyosarcoma", "primary_site": "thigh", "site_group": "trunk"}
        form = browser.post(
            "/cases/new",
            data={"csrf_token": token, "mode": "form", "case_id": "form\x00case", **fields},
        )
        assert form.status_code == 422 and "NUL character" in form.text
    with live.api("editor_a") as api:
        assert {c["case_id"] for c in api.get("/api/v1/cases").json()["cases"]} == {"seed-case"}


# --- the CLI ----------------------------------------------------------------------------------


def _files(tmp: Path) -> dict[str, Path]:
    seed = (Path(__file__).parents[2] / "examples" / "seed-case.yaml").read_text(encoding="utf-8")
    raw = {
        "latin1.yaml": "id: x\nnotes: café\n".encode("latin-1"),
        "utf16.yaml": seed.encode("utf-16"),
        "pwn.yaml": b"id: x\nnotes: !!python/object/apply:os.system ['touch PWNED']\n",
        "nested.yaml": b"id: " + b"[" * 100_000 + b"]" * 100_000,
        "nested.json": b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    }
    paths = {}
    for name, content in raw.items():
        paths[name] = tmp / name
        paths[name].write_bytes(content)
    return paths


MESSAGES = {
    "latin1.yaml": "not UTF-8",
    "utf16.yaml": "UTF-16",
    "pwn.yaml": "python/object/apply",
    "nested.yaml": "nested too deeply",
    "nested.json": "nested too deeply",
}


@pytest.mark.parametrize("command", ["validate", "assess"])
def test_cli_case_files_exit_2_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, path in _files(tmp_path).items():
        result = CliRunner().invoke(cli, [command, str(path)])
        assert result.exit_code == 2, (name, result.output)
        assert isinstance(result.exception, SystemExit), (name, result.exception)
        assert name in result.output and MESSAGES[name] in result.output.replace("\n", " ")
    assert not (tmp_path / "PWNED").exists()


def test_cli_registry_add_and_import_exit_2_without_traceback(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    files = _files(tmp_path)
    wide = tmp_path / "wide.csv"
    wide.write_text(
        ",".join(f"c{i}" for i in range(100_000)) + "\n" + "x," * 99_999 + "x\n", encoding="utf-8"
    )
    runs = [
        (["registry", "add", str(files["utf16.yaml"])], "UTF-16"),
        (["registry", "add", str(files["pwn.yaml"])], "python/object/apply"),
        (["registry", "import", str(files["latin1.yaml"]), "--format", "case"], "not UTF-8"),
        (["registry", "import", str(files["nested.yaml"]), "--format", "case"], "nested too"),
        (["registry", "import", str(files["pwn.yaml"]), "--format", "case"], "python/object"),
        (["registry", "import", str(files["utf16.yaml"]), "--format", "fhir"], "UTF-16"),
        (["registry", "import", str(files["nested.json"]), "--format", "fhir"], "nested too"),
        (["registry", "import", str(wide), "--format", "csv"], "100,000 columns"),
        (["registry", "import", str(wide), "--format", "redcap"], "100,000 columns"),
    ]
    token = {"LIVERMET_TOKEN": live.tokens["editor_a"], "COLUMNS": "300"}
    for args, message in runs:
        started = time.monotonic()
        result = CliRunner().invoke(cli, [*args, "--db", live.db_url], env=token)
        assert result.exit_code == 2, (args, result.output)
        assert isinstance(result.exception, SystemExit), (args, result.exception)
        assert message in result.output, result.output
        assert time.monotonic() - started < 5
    assert not (tmp_path / "PWNED").exists()


def test_cli_wide_csv_in_a_real_process(live: LiveServer, tmp_path: Path) -> None:
    """The 100,000-column CSV that took 70 s: now a quick exit 2, no traceback."""
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVERMET_")}
    env["LIVERMET_TOKEN"] = live.tokens["editor_a"]
    command = [sys.executable, "-m", "livermet.cli.main", "registry", "import", str(wide)]
    started = time.monotonic()
    result = subprocess.run(
        [*command, "--format", "csv", "--db", live.db_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "limit is 1,000" in result.stderr
    assert time.monotonic() - started < 20  # mostly the interpreter's start-up
