"""Write the SYNTHETIC IPD fixture folders of tests/evidence/data/ipd (seeded simulation).

Nothing here was digitised from a paper: the patients are simulated (exponential survival with
a chosen median, uniform accrual censoring), under real dataset series ids so that the loader's
id check and the median verdict (reported ``mst_months`` of literature.csv) can be exercised.
Run from the repository root: ``.venv/bin/python tests/evidence/data/ipd/make_synthetic.py``.

- ``synthetic/``: four single-arm series (foster1978, dematteo2001, groeschl2012,
  grimme2019), no ``arm`` column.
- ``synthetic-arms/``: two series (lang2000, rehders2009) with ``arm`` R0/R1.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261201
PROVENANCE = [
    "series",
    "file",
    "figure",
    "digitised_by",
    "digitised_on",
    "tool",
    "risk_table",
    "total_events",
    "note",
]


def simulate(
    rng: np.random.Generator, n: int, median: float, accrual: float, extra: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return (time, event): exponential times with ``median``, censored by accrual + extra."""
    t = rng.exponential(median / np.log(2.0), n)
    c = extra + rng.uniform(0.0, accrual, n)
    time = np.round(np.minimum(t, c), 2)
    return np.maximum(time, 0.01), (t <= c).astype(int)


def write_folder(
    name: str, series: dict[str, list[tuple[str | None, int, float]]], rng: np.random.Generator
) -> None:
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    rows = []
    for ident, arms in series.items():
        with (folder / f"{ident}.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            with_arm = arms[0][0] is not None
            w.writerow(["time", "event", "arm"] if with_arm else ["time", "event"])
            events = 0
            for arm, n, median in arms:
                time, event = simulate(rng, n, median, accrual=96.0, extra=24.0)
                events += int(event.sum())
                for t, e in zip(time, event, strict=True):
                    w.writerow([f"{t:.2f}", int(e), arm] if with_arm else [f"{t:.2f}", int(e)])
        rows.append(
            [
                ident,
                f"{ident}.csv",
                "none (synthetic)",
                "SYNTHETIC: make_synthetic.py",
                "2026-12-01",
                f"numpy seeded simulation, seed {SEED}",
                "no",
                str(events),
                "SYNTHETIC test fixture, not digitised from the paper",
            ]
        )
    with (folder / "provenance.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(PROVENANCE)
        w.writerows(rows)


def main() -> None:
    """Write both folders."""
    rng = np.random.default_rng(SEED)
    write_folder(
        "synthetic",
        {
            "foster1978": [(None, 12, 16.0)],
            "dematteo2001": [(None, 56, 39.0)],
            "groeschl2012": [(None, 98, 45.0)],
            "grimme2019": [(None, 21, 50.0)],
        },
        rng,
    )
    write_folder(
        "synthetic-arms",
        {
            "lang2000": [("R0", 40, 36.0), ("R1", 30, 18.0)],
            "rehders2009": [("R0", 50, 48.0), ("R1", 25, 20.0)],
        },
        rng,
    )


if __name__ == "__main__":
    main()
