"""Load test of the web application on loopback: the assessment API and a case page.

Starts ``livermet serve`` on a temporary SQLite registry holding the seed case, once with a
single worker process and once with one worker per CPU core, and drives each with concurrent
keep-alive clients for a bounded time per target. Prints throughput and p50/p95/p99 latency.
Goal: p95 under 100 ms for the assessment API at 50 concurrent clients.

Clients join over a 2 s ramp-up whose requests are not measured, as in common load-testing
practice; then all of them run together for ``--seconds``. Arriving all in the same instant
would let one worker process accept most connections in one go and keep them (keep-alive),
which measures that artefact rather than the server.

The clients speak HTTP/1.1 over raw asyncio streams with prepared request bytes, so that the
load generator, which shares the machine's cores with the server, costs little CPU (an httpx
client spends more time per request than the server's assessment does).

    .venv/bin/python benchmarks/web_load.py --clients 50 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed-case.yaml"
PASSWORD = "benchmark passphrase"
GOAL_P95_MS = 100.0
RAMP_UP_S = 2.0  # clients arrive over this time, as people do, not all in one microsecond


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str) -> str:
    from livermet.case.load import load_case
    from livermet.registry import Database

    with Database(url) as db:
        admin = db.bootstrap("admin", PASSWORD)
        reg = db.registry(admin)
        reg.create_site("demo", "Demo")
        reg.create_case(load_case(SEED), site="demo")
        return reg.create_token("benchmark").token


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request on a kept-alive connection and read the whole response; its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if length is None:
        raise RuntimeError("the benchmark client expects a Content-Length in every response")
    await reader.readexactly(int(length[1]))
    return status


async def _drive(
    port: int, request: bytes, clients: int, seconds: float, ramp_up: float
) -> tuple[list[float], int]:
    """Drive the server with ``clients`` concurrent clients; return latencies and error count.

    Clients join one by one over ``ramp_up`` seconds (their requests then are warm-up, not
    measured), then all of them run for ``seconds`` on their kept-alive connections.
    """
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measured_from = start + ramp_up
    stop = measured_from + seconds

    async def client(index: int) -> None:
        nonlocal errors
        await asyncio.sleep(index * ramp_up / clients)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (t0 := time.perf_counter()) < stop:
                status = await _exchange(reader, writer, request)
                if t0 >= measured_from:
                    latencies.append(time.perf_counter() - t0)
                    errors += status != 200
        finally:
            writer.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    return latencies, errors


def _session_cookie(base: str) -> str:
    """Sign in through the form like a browser and return the session cookie."""
    with httpx.Client(base_url=base) as browser:
        page = browser.get("/signin")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None, "no CSRF token on the sign-in page"
        browser.post(
            "/signin", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf[1]}
        )
        return f"livermet_session={browser.cookies['livermet_session']}"


def _start(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "LIVERMET_SECRET_KEY": "benchmark key",
    }
    command = [sys.executable, "-m", "livermet.cli.main", "serve", "--db", url]
    command += ["--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/signin", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("the server did not start")


def _measure(
    url: str, token: str, workers: int, clients: int, seconds: float
) -> list[tuple[str, ...]]:
    port = _free_port()
    server = _start(url, port, workers)
    try:
        seed = json.dumps(yaml.safe_load(SEED.read_text(encoding="utf-8")), default=str).encode()
        api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        page = {"Cookie": _session_cookie(f"http://127.0.0.1:{port}")}
        targets = [
            ("POST /api/v1/assessments", _request("POST", "/api/v1/assessments", api, seed)),
            ("GET /cases/seed-case (page)", _request("GET", "/cases/seed-case", page)),
        ]
        rows: list[tuple[str, ...]] = []
        for label, request in targets:
            lat, errors = asyncio.run(_drive(port, request, clients, seconds, RAMP_UP_S))
            p50, p95, p99 = np.percentile(np.asarray(lat) * 1000, [50, 95, 99])
            throughput = f"{len(lat) / seconds:.0f}"
            quantiles = (f"{p50:.1f}", f"{p95:.1f}", f"{p99:.1f}")
            rows.append((label, str(workers), str(clients), throughput, *quantiles, str(errors)))
        return rows
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    """Measure one worker and ``--workers`` workers; print the table and the p95 goal's result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)"
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'registry.db'}"
        token = _prepare(url)
        for workers in sorted({1, args.workers}):
            print(f"measuring {workers} worker(s), {args.clients} clients ...", file=sys.stderr)
            rows += _measure(url, token, workers, args.clients, args.seconds)
    header = ("target", "workers", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    api = next(r for r in rows if r[0].startswith("POST") and r[1] == str(args.workers))
    met = float(api[5]) < GOAL_P95_MS
    print(
        f"goal p95 < {GOAL_P95_MS:g} ms for the assessment API at {args.clients} clients with "
        f"{args.workers} worker(s): {'met' if met else 'NOT met'} (p95 {api[5]} ms)"
    )


if __name__ == "__main__":
    main()
