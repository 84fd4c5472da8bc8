"""Run by test_import.py in a subprocess: import synthetic cases, printing progress per chunk.

Usage: python _import_worker.py DATABASE_URL N SEED CHUNK [workers]. Prints ``ready`` once the
cases are made, then ``progress DONE TOTAL`` after each chunk (the chunk's rows are then inserted
into the open transaction), then ``committed``. The test kills the process in between. With
``workers``, the rows are prepared by 2 worker processes (``livermet.registry.bulk``), as for a
large import, and the first progress line is preceded by ``workers PID PID``.
"""

from __future__ import annotations

import multiprocessing
import sys

from livermet.registry import Database, bulk, synthetic_cases


def main() -> None:
    url, n, seed, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    workers = sys.argv[5:] == ["workers"]
    if workers:
        bulk._worker_count = lambda rows: 2
    cases = synthetic_cases(n, seed)
    db = Database(url, migrate=False)
    registry = db.registry("editor_alpha")
    print("ready", flush=True)

    def progress(done: int, total: int) -> None:
        if workers and done <= chunk:
            pids = " ".join(str(p.pid) for p in multiprocessing.active_children())
            print(f"workers {pids}", flush=True)
        print(f"progress {done} {total}", flush=True)

    registry.import_cases(cases, source="killed-import.csv", on_progress=progress, chunk_size=chunk)
    print("committed", flush=True)


if __name__ == "__main__":
    main()
