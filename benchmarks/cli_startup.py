"""Start-up time of the ``livermet`` command, against a bare Python start-up in the same run.

Each command is run ``--runs`` times as a fresh process (the way a user runs it), alternating
with the others so that a busy machine slows all of them alike; the table shows the median and
the fastest wall-clock time, and the median minus the median of ``python -c pass`` (what
livermet adds). Goals: ``--version`` and ``validate`` within 0.3 s of bare Python, ``assess`` of
the seed case under 1 s. The exit status is 1 when a goal is missed. The ``evidence`` and
``cohort`` rows are measured, not asserted: their help loads no numerical library, a run loads
pandas and SciPy (the pooling and the survival analysis need them), and matplotlib only when a
plot is written.

Usage: python benchmarks/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "examples" / "seed-case.yaml")
COHORT = str(ROOT / "tests" / "analysis" / "data" / "cohort.csv")  # reference cohort, 300 patients
PY = sys.executable
LIVERMET = [PY, "-m", "livermet.cli.main"]

COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass", [PY, "-c", "pass"]),
    ("livermet --version", [*LIVERMET, "--version"]),
    ("livermet --help", [*LIVERMET, "--help"]),
    ("livermet validate seed-case.yaml", [*LIVERMET, "validate", SEED]),
    ("livermet assess seed-case.yaml", [*LIVERMET, "assess", SEED]),
    ("livermet assess seed-case.yaml -f json", [*LIVERMET, "assess", SEED, "-f", "json"]),
    ("livermet evidence --help", [*LIVERMET, "evidence", "--help"]),
    ("livermet evidence pool", [*LIVERMET, "evidence", "pool"]),
    ("livermet cohort --help", [*LIVERMET, "cohort", "--help"]),
    ("livermet cohort km --data cohort.csv", [*LIVERMET, "cohort", "km", "--data", COHORT]),
]

GOALS = {
    "livermet --version": ("above bare Python", 0.3),
    "livermet validate seed-case.yaml": ("above bare Python", 0.3),
    "livermet assess seed-case.yaml": ("total", 1.0),
}


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    """Time every command ``--runs`` times, print the table; return 1 if a goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    args = parser.parse_args()

    times: dict[str, list[float]] = {name: [] for name, _ in COMMANDS}
    for _, argv in COMMANDS:  # warm-up: the file system cache and the bytecode
        _time(argv)
    for _ in range(args.runs):
        for name, argv in COMMANDS:
            times[name].append(_time(argv))

    base = statistics.median(times["python -c pass"])
    print(f"python {platform.python_version()} on {platform.machine()}, {args.runs} runs each")
    print(f"{'command':<42}{'median s':>10}{'fastest s':>11}{'minus python s':>16}  goal")
    missed = False
    for name, _ in COMMANDS:
        median = statistics.median(times[name])
        goal = ""
        if name in GOALS:
            kind, limit = GOALS[name]
            value = median - base if kind == "above bare Python" else median
            ok = value <= limit
            missed |= not ok
            goal = f"{'met' if ok else 'MISSED'}: {kind} <= {limit} s"
        print(f"{name:<42}{median:>10.3f}{min(times[name]):>11.3f}{median - base:>16.3f}  {goal}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
