"""Run by test_import.py in a subprocess: import synthetic cases, printing progress per chunk.

Usage: python _import_worker.py DATABASE_URL N SEED CHUNK. Prints ``ready`` once the cases are made,
then ``progress DONE TOTAL`` after each chunk (the chunk's rows are then inserted into the open
transaction), then ``committed``. The test kills the process in between.
"""

from __future__ import annotations

import sys

from livermet.registry import Database, synthetic_cases


def main() -> None:
    url, n, seed, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    cases = synthetic_cases(n, seed)
    db = Database(url, migrate=False)
    registry = db.registry("editor_alpha")
    print("ready", flush=True)
    registry.import_cases(
        cases,
        source="killed-import.csv",
        on_progress=lambda done, total: print(f"progress {done} {total}", flush=True),
        chunk_size=chunk,
    )
    print("committed", flush=True)


if __name__ == "__main__":
    main()
