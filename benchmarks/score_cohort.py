"""Benchmark: score a synthetic cohort with ``score_cohort`` (vectorised) vs the per-patient loop.

Usage::

    .venv/bin/python benchmarks/score_cohort.py              # 1,000,000 patients, loop on 10,000
    .venv/bin/python benchmarks/score_cohort.py --n 100000 --loop-n 2000 --seed 7 --repeat 5

The cohort is seeded and synthetic (no real patients): plausible distributions of every input of
``livermet.clinical.batch.BATCH_COLUMNS``, with about 5 % of each column unknown; flags and labels
are object columns with None, as a CSV with blanks gives them. The batch is timed ``--repeat``
times and the fastest run is reported (a busy machine only ever slows a run down), in wall-clock
seconds and in CPU seconds of this process (user + system: what the scoring itself costs, which
other processes on a shared machine inflate less); the load average is printed with them. The
loop is timed on the first ``--loop-n`` patients and extrapolated; the two results must agree on
them. Goal: 1,000,000 patients per second for the batch (wall clock). The exit status is 1 when
the goal is missed or batch and loop disagree.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from livermet.clinical.batch import (
    BATCH_OUTPUTS,
    mismatched_columns,
    score_cohort,
    score_cohort_loop,
)

MISSING_FRACTION = 0.05
GOAL_PATIENTS_PER_S = 1_000_000

PROCEDURES = (
    "wedge resection",
    "left lateral sectionectomy",
    "right posterior sectionectomy",
    "right hepatectomy",
    "left hepatectomy",
    "segmentectomy 7",
    "segmentectomy 3",
    "central hepatectomy",
)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, sigma, n))


def _pick(
    rng: np.random.Generator, labels: Sequence[object], p: Sequence[float], n: int
) -> np.ndarray:
    return np.asarray(labels, dtype=object)[rng.choice(len(labels), size=n, p=p)]


def synthetic_cohort(n: int, seed: int = 20240501) -> pd.DataFrame:
    """Return a seeded synthetic cohort of ``n`` patients in the batch input format."""
    rng = np.random.default_rng(seed)
    total = np.clip(rng.normal(1500.0, 250.0, n), 800.0, 3000.0).round()
    tumour = np.minimum(_lognormal(rng, 30.0, 1.0, n), 0.5 * total).round(1)
    flr = ((total - tumour) * rng.uniform(0.2, 0.9, n)).round()
    cols: dict[str, np.ndarray] = {
        "mitoses_per_10hpf": np.minimum(rng.negative_binomial(1, 0.06, n), 300).astype(float),
        "necrosis_percent": np.where(rng.random(n) < 0.3, 0.0, rng.uniform(1, 95, n).round()),
        "differentiation_score": rng.choice([1.0, 2.0, 3.0], size=n, p=[0.2, 0.5, 0.3]),
        "size_cm": np.clip(_lognormal(rng, 8.0, 0.6, n), 0.5, 40.0).round(1),
        "n": _pick(rng, ["N0", "N1", "NX"], [0.9, 0.04, 0.06], n),
        "m": _pick(rng, ["M0", "M1"], [0.75, 0.25], n),
        "grade": np.where(rng.random(n) < 0.7, np.nan, rng.choice([1.0, 2.0, 3.0], size=n)),
        "bilirubin_mg_dl": np.clip(_lognormal(rng, 0.7, 0.5, n), 0.2, 20.0).round(1),
        "albumin_g_dl": np.clip(rng.normal(4.0, 0.5, n), 1.5, 5.5).round(1),
        "inr": np.clip(_lognormal(rng, 1.05, 0.12, n), 0.85, 5.0).round(2),
        "ascites": _pick(rng, ["none", "mild", "moderate-severe"], [0.9, 0.08, 0.02], n),
        "encephalopathy": _pick(rng, ["none", "grade 1-2", "grade 3-4"], [0.95, 0.04, 0.01], n),
        "creatinine_mg_dl": np.clip(_lognormal(rng, 0.9, 0.35, n), 0.3, 10.0).round(2),
        "sodium_mmol_l": np.clip(rng.normal(139.0, 3.0, n), 118.0, 160.0).round(),
        "dialysis": rng.random(n) < 0.01,
        "female": rng.random(n) < 0.45,
        "icg_r15_percent": np.clip(_lognormal(rng, 8.0, 0.6, n), 0.5, 80.0).round(1),
        "hh15": np.clip(rng.normal(0.55, 0.05, n), 0.3, 0.95).round(3),
        "lhl15": np.clip(rng.normal(0.93, 0.03, n), 0.6, 0.99).round(3),
        "ascites_control": _pick(
            rng, ["none", "controlled", "uncontrollable"], [0.9, 0.08, 0.02], n
        ),
        "height_cm": np.clip(rng.normal(170.0, 10.0, n), 140.0, 205.0).round(),
        "weight_kg": np.clip(rng.normal(75.0, 14.0, n), 40.0, 160.0).round(),
        "flr_ml": flr,
        "total_liver_ml": total,
        "tumour_ml": tumour,
        "liver_condition": _pick(
            rng, ["normal", "chemotherapy", "steatosis", "cirrhosis"], [0.65, 0.25, 0.06, 0.04], n
        ),
        "procedure": _pick(rng, PROCEDURES, [1 / len(PROCEDURES)] * len(PROCEDURES), n),
        "cd_grade_i": rng.poisson(0.3, n).astype(float),
        "cd_grade_ii": rng.poisson(0.2, n).astype(float),
        "cd_grade_iiia": rng.poisson(0.05, n).astype(float),
        "cd_grade_iiib": rng.poisson(0.02, n).astype(float),
        "cd_grade_iva": rng.poisson(0.01, n).astype(float),
        "cd_grade_ivb": rng.poisson(0.005, n).astype(float),
        "cd_grade_v": (rng.random(n) < 0.01).astype(float),
        "intraoperative_incident_grade2_or_more": rng.random(n) < 0.05,
        "bile_leak_grade_b_or_c": rng.random(n) < 0.05,
        "liver_failure_grade_b_or_c": rng.random(n) < 0.03,
        "major_complication": rng.random(n) < 0.12,
        "readmission_90d": rng.random(n) < 0.06,
        "mortality_90d": rng.random(n) < 0.02,
        "r0_resection": rng.random(n) < 0.85,
        "pt_percent_pod5": np.clip(rng.normal(75.0, 15.0, n), 10.0, 120.0).round(),
        "bilirubin_umol_l_pod5": np.clip(_lognormal(rng, 20.0, 0.6, n), 3.0, 400.0).round(),
        "peak_bilirubin_mg_dl": np.clip(_lognormal(rng, 1.2, 0.6, n), 0.2, 30.0).round(1),
    }
    frame: dict[str, np.ndarray] = {}
    for name, values in cols.items():
        missing = rng.random(n) < MISSING_FRACTION
        if values.dtype.kind == "f":
            frame[name] = np.where(missing, np.nan, values)
        else:  # labels and flags: object column, None = unknown
            obj = values.astype(object)
            obj[missing] = None
            frame[name] = obj
    return pd.DataFrame(frame)


def _rate(n: int, seconds: float) -> str:
    """Return patients per second, formatted."""
    return f"{n / seconds:,.0f}"


def _table(rows: list[tuple[str, str, str, str]]) -> None:
    """Print the result table (rich when available)."""
    headers = ("path", "patients", "seconds", "patients / s")
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text when rich is unavailable
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(4)]
        for r in [headers, *rows]:
            print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
        return
    table = Table(title="score_cohort benchmark")
    for h in headers:
        table.add_column(h, justify="right" if h != "path" else "left")
    for r in rows:
        table.add_row(*r)
    Console().print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0 when the goal is met and batch and loop agree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="cohort size (batch)")
    parser.add_argument("--loop-n", type=int, default=10_000, help="subsample for the loop")
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--repeat", type=int, default=3, help="batch runs; the fastest counts")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    cohort = synthetic_cohort(args.n, args.seed)
    t_build = time.perf_counter() - t0

    batch_times, cpu_times = [], []
    load_before = os.getloadavg()[0]
    for _ in range(max(args.repeat, 1)):
        t0, c0 = time.perf_counter(), time.process_time()
        scored = score_cohort(cohort)
        batch_times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    t_batch, t_cpu = min(batch_times), min(cpu_times)
    load_after = os.getloadavg()[0]

    loop_n = min(args.loop_n, args.n)
    sample = cohort.iloc[:loop_n]
    t0 = time.perf_counter()
    looped = score_cohort_loop(sample)
    t_loop = time.perf_counter() - t0

    mismatched = mismatched_columns(scored.iloc[:loop_n], looped)
    loop_full = t_loop / loop_n * args.n
    result_columns = [c for c in scored.columns if c in BATCH_OUTPUTS]

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; "
        f"cohort of {args.n:,} built in {t_build:.1f} s; {len(result_columns)} result columns "
        f"from {len(scored.attrs['scores_computed'])} scores"
    )
    goal_seconds = args.n / GOAL_PATIENTS_PER_S
    batch_label = f"batch (score_cohort), best of {len(batch_times)}"
    _table(
        [
            (batch_label, f"{args.n:,}", f"{t_batch:.2f}", _rate(args.n, t_batch)),
            (
                "batch, CPU seconds (user + sys)",
                f"{args.n:,}",
                f"{t_cpu:.2f}",
                _rate(args.n, t_cpu),
            ),
            ("loop (score_cohort_loop)", f"{loop_n:,}", f"{t_loop:.2f}", _rate(loop_n, t_loop)),
            ("loop, extrapolated", f"{args.n:,}", f"{loop_full:.0f}", _rate(loop_n, t_loop)),
            ("goal (batch)", f"{args.n:,}", f"{goal_seconds:.2f}", f"{GOAL_PATIENTS_PER_S:,}"),
        ]
    )
    print(
        f"batch runs: {', '.join(f'{t:.2f}' for t in batch_times)} s wall, "
        f"{', '.join(f'{t:.2f}' for t in cpu_times)} s CPU; load average "
        f"{load_before:.2f} before, {load_after:.2f} after ({os.cpu_count()} CPUs)"
    )
    print(f"speed-up batch / loop: {loop_full / t_batch:,.0f}x")
    met = args.n / t_batch >= GOAL_PATIENTS_PER_S
    print(
        f"goal {GOAL_PATIENTS_PER_S:,} patients/s: {'met' if met else 'MISSED'} "
        f"({args.n / t_batch / GOAL_PATIENTS_PER_S:.0%} of the goal)"
    )
    if mismatched:
        print(f"DISAGREEMENT on {loop_n:,} patients: {', '.join(mismatched)}")
        return 1
    print(
        f"batch and loop agree on all {len(result_columns)} result columns of {loop_n:,} patients"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
