"""Load test of the web application on loopback: the assessment API and a case page.

Starts ``livermet serve``'s app with uvicorn in a child process on a temporary SQLite registry
holding the seed case, then drives it with concurrent clients (httpx, asyncio) for a bounded
time per target and prints throughput and p50/p95/p99 latency. Goal: p95 under 100 ms for the
assessment API at 50 concurrent clients.

    .venv/bin/python benchmarks/web_load.py --clients 50 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
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

SERVER = """
import sys, uvicorn
from livermet.web import create_app
uvicorn.run(create_app(sys.argv[1], secret_key="bench"), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", access_log=False, workers=None)
"""


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


async def _drive(
    client: httpx.AsyncClient, method: str, path: str, body: object, clients: int, seconds: float
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = await client.request(method, path, json=body)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, errors


async def _run(base: str, token: str, clients: int, seconds: float) -> list[tuple[str, ...]]:
    seed = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    rows = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as page_client:
        signin = await page_client.get("/signin")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', signin.text)
        assert csrf is not None
        await page_client.post(
            "/signin", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf[1]}
        )
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=base, limits=limits, timeout=30, headers=headers
        ) as api_client:
            targets = [
                ("POST /api/v1/assessments", api_client, "POST", "/api/v1/assessments", seed),
                ("GET /cases/seed-case (page)", page_client, "GET", "/cases/seed-case", None),
            ]
            for label, client, method, path, body in targets:
                await _drive(client, method, path, body, clients, 1.0)  # warm-up
                lat, errors = await _drive(client, method, path, body, clients, seconds)
                ms = np.asarray(lat) * 1000
                p50, p95, p99 = np.percentile(ms, [50, 95, 99])
                rows.append(
                    (
                        label,
                        str(clients),
                        f"{len(lat) / seconds:.0f}",
                        f"{p50:.1f}",
                        f"{p95:.1f}",
                        f"{p99:.1f}",
                        str(errors),
                    )
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'registry.db'}"
        token = _prepare(url)
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        server = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    httpx.get(base + "/signin", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            rows = asyncio.run(_run(base, token, args.clients, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=10)
    header = ("target", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    api_p95 = float(rows[0][4])
    print(f"goal p95 < 100 ms for the assessment API: {'met' if api_p95 < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
