"""Registry at scale: import synthetic cases into SQLite and PostgreSQL, then analyse them.

Prints, for each backend, the time to import N synthetic cases (one transaction, with a progress
bar), to build the cohort frame, and to run Kaplan-Meier, the log-rank test and a Cox model with
livermet, beside lifelines' time for the same Kaplan-Meier and Cox fits on the same frame.

    .venv/bin/python benchmarks/registry_scale.py                 # 100,000 cases
    .venv/bin/python benchmarks/registry_scale.py --n 20000 --postgres-url postgresql://...

PostgreSQL is used when --postgres-url (or LIVERMET_TEST_POSTGRES_URL) is given or a server
answers on 127.0.0.1:5432; a throwaway database is created and dropped.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

console = Console()


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def postgres_url(explicit: str | None) -> str | None:
    url = explicit or os.environ.get("LIVERMET_TEST_POSTGRES_URL")
    if url:
        return url
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        if s.connect_ex(("127.0.0.1", 5432)) == 0:
            return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    return None


def throwaway_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    import sqlalchemy as sa

    name = f"livermet_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def run_backend(label: str, url: str, cases: list[Any]) -> dict[str, float]:
    from livermet.analysis import CoxPH, kaplan_meier, logrank_test
    from livermet.registry import Database

    db = Database(url)
    admin = db.bootstrap("bench", "bench-password-123")
    registry = db.registry(admin)
    registry.create_site("bench", "Benchmark hospital")
    times: dict[str, float] = {}
    with Progress(
        f"[bold]{label}[/] import",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("import", total=len(cases))
        _, times["import"] = timed(
            lambda: registry.import_cases(
                cases,
                source="benchmark",
                site="bench",
                on_progress=lambda done, total: progress.update(task, completed=done),
            )
        )
    frame, times["cohort frame"] = timed(lambda: registry.cohort_frame(include_synthetic=True))
    frame = frame.dropna(subset=["os_months", "death", "approach", "timing", "age", "grade"])
    _, times["Kaplan-Meier"] = timed(lambda: kaplan_meier(frame, "os_months", "death"))
    _, times["log-rank"] = timed(lambda: logrank_test(frame, "os_months", "death", "approach"))
    _, times["Cox (Efron)"] = timed(
        lambda: CoxPH().fit(frame, "os_months", "death", ["approach", "timing", "age", "grade"])
    )
    times.update(lifelines_times(frame))
    times["rows"] = float(len(frame))
    db.close()
    return times


def lifelines_times(frame: Any) -> dict[str, float]:
    import pandas as pd
    from lifelines import CoxPHFitter, KaplanMeierFitter

    _, km = timed(lambda: KaplanMeierFitter().fit(frame["os_months"], frame["death"]))
    design = pd.get_dummies(
        frame[["os_months", "death", "approach", "timing", "age", "grade"]],
        columns=["approach", "timing"],
        drop_first=True,
        dtype=float,
    )
    _, cox = timed(lambda: CoxPHFitter().fit(design, "os_months", "death"))
    return {"lifelines Kaplan-Meier": km, "lifelines Cox (Efron)": cox}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url")
    args = parser.parse_args()

    from livermet.registry import synthetic_cases

    with console.status(f"generating {args.n:,} synthetic cases"):
        cases, gen = timed(lambda: synthetic_cases(args.n, seed=args.seed))
    console.print(f"generated {args.n:,} synthetic cases in {gen:.1f} s")

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = run_backend("SQLite", str(Path(tmp) / "bench.sqlite"), cases)
    pg = postgres_url(args.postgres_url)
    if pg:
        url, drop = throwaway_database(pg)
        try:
            results["PostgreSQL"] = run_backend("PostgreSQL", url, cases)
        finally:
            drop()
    else:
        console.print("[yellow]PostgreSQL not reachable: its column is left out[/]")

    table = Table(title=f"registry at scale: {args.n:,} synthetic cases (seconds)")
    table.add_column("step")
    for name in results:
        table.add_column(name, justify="right")
    steps = [k for k in next(iter(results.values())) if k != "rows"]
    for step in steps:
        table.add_row(step, *(f"{r[step]:.2f}" for r in results.values()))
    table.add_row("rows analysed", *(f"{int(r['rows']):,}" for r in results.values()))
    console.print(table)


if __name__ == "__main__":
    main()
