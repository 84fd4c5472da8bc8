"""Run a whole Flower federation on this machine: a SuperLink, a SuperNode per registry, the run.

For tests and for trying the adapter before a consortium deploys it: every process listens on
127.0.0.1 only, on free ports; Flower's telemetry and update check are switched off and its
runtime installation of app dependencies too, so nothing leaves the machine. The Flower app is
a directory with a ``pyproject.toml`` (`write_app`) whose components are livermet's ClientApp
and ServerApp, installed in the same environment (``pip install 'livermet[federated]'``).

Usage (with the environment's Python, e.g. ``.venv-flower/bin/python``)::

    python -m livermet.federated.flower.local spec.json out.json h1.sqlite h2.sqlite h3.sqlite

Every process is stopped at the end (its whole process tree), also on a timeout.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from livermet.errors import InputError
from livermet.federated.flower.wire import FlowerAnalysis

__all__ = ["APP_PYPROJECT", "free_port", "main", "run_local", "write_app"]

APP_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "livermet-flower"
version = "1.0.0"
description = "livermet's federated survival analyses (Kaplan-Meier, log-rank, Cox) on Flower"
license = "MIT"
dependencies = []  # livermet[federated] is installed on every node beforehand

[tool.flwr.app]
publisher = "livermet"

[tool.flwr.app.components]
serverapp = "livermet.federated.flower.server_app:app"
clientapp = "livermet.federated.flower.client_app:app"

[tool.flwr.app.config]
spec = ""
out = ""
"""
"""The Flower app: its components are modules of the installed livermet."""

ENVIRONMENT = {
    "FLWR_TELEMETRY_ENABLED": "0",
    "FLWR_DISABLE_UPDATE_CHECK": "1",
    "FLWR_SUPEREXEC_TASK_POLL_INTERVAL": "0.1",
}
"""Flower off the network (no telemetry, no update check); apps started within 0.1 s of a task."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_app(directory: Path) -> Path:
    """Write the Flower app (its ``pyproject.toml``) into ``directory``; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(APP_PYPROJECT)
    return directory


def _wait_for_port(port: int, deadline: float, process: subprocess.Popen[bytes]) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the SuperLink exited with code {process.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def _children() -> dict[int, list[int]]:
    """Return the process tree of the machine: parent pid -> child pids (from /proc)."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pids: Sequence[int]) -> list[int]:
    tree = _children() if Path("/proc").is_dir() else {}
    found: list[int] = []
    stack = list(pids)
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(tree.get(pid, []))
    return found


def _alive(pid: int) -> bool:
    """Return whether ``pid`` runs (a zombie, which only waits to be reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """Stop the processes started here and every process they started (SuperExec, apps)."""
    pids = _descendants([p.pid for p in processes if p.poll() is None])
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            for p in processes:
                p.poll()  # reap the direct children
            time.sleep(0.1)
        if not any(_alive(pid) for pid in pids):
            break
    for p in processes:
        with suppress(subprocess.TimeoutExpired):
            p.wait(timeout=1)


@contextmanager
def _processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        _stop(started)


def _start(
    command: list[str], log: Path, env: dict[str, str], started: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    started.append(process)
    return process


def _node_config(registry: str, user: str, only_synthetic: bool) -> str:
    flag = "true" if only_synthetic else "false"
    return f'registry="{registry}" user="{user}" only-synthetic={flag}'


def _wait_for_result(out: Path, deadline: float, superlink: subprocess.Popen[bytes]) -> Any:
    while time.monotonic() < deadline:
        if out.exists():
            try:
                return json.loads(out.read_text())
            except json.JSONDecodeError:
                pass  # being written
        if superlink.poll() is not None:
            raise RuntimeError(f"the SuperLink exited with code {superlink.returncode}")
        time.sleep(0.2)
    raise TimeoutError(f"no result in {out} before the timeout")


def run_local(
    spec: FlowerAnalysis,
    registries: Sequence[str],
    workdir: Path,
    *,
    user: str = "admin",
    only_synthetic: bool = False,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """Run ``spec`` on a local federation of one SuperNode per registry; return the results.

    Logs of every process are written to ``workdir`` (``superlink.log``, ``supernode-<i>.log``,
    ``flwr-run.log``), as are the app, the spec and ``result.json``.

    Raises
    ------
    InputError
        Fewer registries than the spec's sites, or a result that reports an error.
    TimeoutError
        No result within ``timeout`` seconds.
    """
    if len(registries) != spec.sites:
        raise InputError(f"{len(registries)} registries for {spec.sites} sites", "sites")
    deadline = time.monotonic() + timeout
    workdir.mkdir(parents=True, exist_ok=True)
    bindir = Path(sys.executable).parent
    home = workdir / "flwr-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, **ENVIRONMENT, "FLWR_HOME": str(home)}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    port = free_port()
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "local"\n\n[superlink.local]\n'
        f'address = "127.0.0.1:{port}"\ninsecure = true\n'
    )
    spec_file, out = workdir / "spec.json", workdir / "result.json"
    spec_file.write_text(spec.model_dump_json())
    out.unlink(missing_ok=True)
    overrides = workdir / "run-config.toml"
    overrides.write_text(f"spec = {json.dumps(str(spec_file))}\nout = {json.dumps(str(out))}\n")
    app = write_app(workdir / "app")
    with _processes() as started:
        superlink = _start(
            [
                str(bindir / "flower-superlink"),
                "--insecure",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--disable-runtime-dependency-installation",
            ],
            workdir / "superlink.log",
            env,
            started,
        )
        _wait_for_port(port, deadline, superlink)
        for i, registry in enumerate(registries):
            _start(
                [
                    str(bindir / "flower-supernode"),
                    "--insecure",
                    "--superlink",
                    f"127.0.0.1:{port}",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(free_port()),
                    "--node-config",
                    _node_config(registry, user, only_synthetic),
                ],
                workdir / f"supernode-{i + 1}.log",
                env,
                started,
            )
        with (workdir / "flwr-run.log").open("wb") as log:
            subprocess.run(
                [str(bindir / "flwr"), "run", str(app), "local", "--run-config", str(overrides)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                check=True,
                timeout=max(1.0, deadline - time.monotonic()),
            )
        result: dict[str, Any] = _wait_for_result(out, deadline, superlink)
    if "error" in result:
        raise InputError(f"the Flower run failed: {result['error']}", "flower")
    return result


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``SPEC.json OUT.json REGISTRY...`` (synthetic cases with ``--only-synthetic``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    only_synthetic = "--only-synthetic" in args
    args = [a for a in args if a != "--only-synthetic"]
    if len(args) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminated)  # stop the federation's processes on a kill too
    spec = FlowerAnalysis.model_validate_json(Path(args[0]).read_text())
    out = Path(args[1])
    started = time.perf_counter()
    result = run_local(
        spec, args[2:], out.parent / (out.stem + "-flower"), only_synthetic=only_synthetic
    )
    result["seconds"]["total"] = time.perf_counter() - started
    out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
