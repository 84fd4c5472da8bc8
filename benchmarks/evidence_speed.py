"""Speed of the evidence engine's many-fits paths, against R metafor on the same data.

Rows: GOSH with DL at k = 16 and k = 20 (all 2^k - 1 subsets), GOSH with REML at k = 12 and
k = 16, 10,000 REML fits of k = 10 (a simulation/bootstrap workload), and the binomial-normal
GLMM (``rma_glmm`` against ``rma.glmm(measure="PLO")``, lme4 underneath) on 50 seeded data sets
of k = 10 and of k = 20 with nAGQ = 7 (metafor's default) and on k = 10 with Laplace (nAGQ = 1),
one fit after another on one core in both engines. livermet times are
the best of ``--repeat`` runs (after one warm-up); metafor times are measured inside R (package
loading excluded) with ``parallel="multicore", ncpus=2`` for GOSH and ``mclapply`` on 2 cores
for the 10,000 fits, so both engines use 2 cores. When ``Rscript`` with metafor is missing the
metafor columns are skipped with a note. The last column checks that both engines agree: the
largest absolute difference of the subset estimates (GOSH) or of tau² (10,000 fits) over the
fits metafor completed (GLMM: of the pooled logit beta). metafor runs with its default early
stopping while livermet converges, so differences of ~1e-5 are expected for REML and the GLMM
(glmer's default Nelder-Mead stage stops a few 1e-6 to 1e-5 from the maximum); fits where
metafor's Fisher scoring does not converge (livermet finishes them by bisection) are counted
as "metafor failures".

Usage: python benchmarks/evidence_speed.py [--repeat 3] [--no-r] [--skip-slow-r]
       [--only TEXT]      (only the rows whose name contains TEXT, e.g. --only GLMM)
       [--r-cache FILE]   (reuse or save the metafor results: metafor takes ~10 minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from livermet.evidence import rma
from livermet.evidence.batch import rma_batch
from livermet.evidence.glmm import rma_glmm
from livermet.evidence.gosh import gosh

R_SCRIPT = r"""
suppressMessages({library(metafor); library(jsonlite); library(parallel)})
args <- commandArgs(TRUE)
d <- fromJSON(args[1], simplifyDataFrame=FALSE)
out <- list()
yi <- d$yi; vi <- d$vi
run_gosh <- function(k, method) {
  res <- rma(yi[1:k], vi[1:k], method=method)
  t <- system.time(g <- gosh(res, subsets=2^k, progbar=FALSE,
                             parallel="multicore", ncpus=2))[["elapsed"]]
  list(seconds=t, estimate=g$res$estimate, n=nrow(g$res))
}
fit1 <- function(i) tryCatch(rma(d$Y[i, ], d$V[i, ], method="REML")$tau2,
                             error=function(e) NA_real_)
run_glmm <- function(job) {
  xs <- d$glmm[[job$data]]  # matrices: one data set per row
  m <- nrow(xs$x); beta <- numeric(m); tau2 <- numeric(m)
  t <- system.time(for (i in seq_len(m)) {
    r <- tryCatch(suppressWarnings(rma.glmm(measure="PLO", xi=xs$x[i, ], ni=xs$n[i, ],
                                            nAGQ=job$nagq)), error=function(e) NULL)
    beta[i] <- if (is.null(r)) NA_real_ else r$beta[1]
    tau2[i] <- if (is.null(r)) NA_real_ else r$tau2
  })[["elapsed"]]
  list(seconds=t, beta=beta, tau2=tau2, n=m)
}
for (job in d$jobs) {
  if (job$kind == "gosh") out[[job$name]] <- run_gosh(job$k, job$method)
  if (job$kind == "glmm") out[[job$name]] <- run_glmm(job)
  if (job$kind == "many") {
    t <- system.time(tau2 <- unlist(mclapply(seq_len(nrow(d$Y)), fit1, mc.cores=2)))[["elapsed"]]
    out[[job$name]] <- list(seconds=t, tau2=tau2, n=nrow(d$Y))
  }
}
write_json(out, args[2], digits=NA, auto_unbox=TRUE, na="null")
"""


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    fn()  # warm-up
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


@dataclass(frozen=True)
class _GlmmFits:
    """Pooled logits and tau² of a series of GLMM fits (compared with metafor's)."""

    beta: np.ndarray
    tau2: np.ndarray


def _glmm_data(rng: np.random.Generator, k: int, m: int = 50) -> dict[str, list[list[int]]]:
    """``m`` seeded data sets of ``k`` series: n in 10..150, logits N(-0.5, 0.6²)."""
    n = rng.integers(10, 151, size=(m, k))
    x = rng.binomial(n, 1.0 / (1.0 + np.exp(-rng.normal(-0.5, 0.6, size=(m, k)))))
    return {"x": x.tolist(), "n": n.tolist()}


def _glmm_fits(data: dict[str, list[list[int]]], nagq: int) -> _GlmmFits:
    fits = [rma_glmm(x, n, nagq=nagq) for x, n in zip(data["x"], data["n"], strict=True)]
    return _GlmmFits(np.array([f.beta[0] for f in fits]), np.array([f.tau2 for f in fits]))


def _have_metafor() -> bool:
    if shutil.which("Rscript") is None:
        return False
    r = subprocess.run(
        ["Rscript", "-e", "cat(requireNamespace('metafor', quietly=TRUE))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return r.stdout.strip() == "TRUE"


def _metafor_version() -> str:
    r = subprocess.run(
        ["Rscript", "-e", "cat(as.character(packageVersion('metafor')), R.version$version.string)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return r.stdout.strip()


def main() -> None:
    """Time livermet's workloads (and metafor's unless skipped or cached) and print the table."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true", help="skip the metafor runs")
    ap.add_argument(
        "--skip-slow-r", action="store_true", help="skip metafor GOSH REML k=16 (minutes)"
    )
    ap.add_argument("--only", help="run only the rows whose name contains this text")
    ap.add_argument("--r-cache", type=Path, help="JSON file to reuse (or save) metafor results")
    args = ap.parse_args()

    rng = np.random.default_rng(20260826)
    yi = rng.normal(-0.4, 0.5, 20)
    vi = rng.uniform(0.03, 0.5, 20)
    Y = rng.normal(-0.4, 0.45, (10_000, 10))
    V = rng.uniform(0.03, 0.5, (10_000, 10))

    jobs: list[dict[str, Any]] = [
        {"name": "GOSH DL k=16 (65,535 fits)", "kind": "gosh", "k": 16, "method": "DL"},
        {"name": "GOSH DL k=20 (1,048,575 fits)", "kind": "gosh", "k": 20, "method": "DL"},
        {"name": "GOSH REML k=12 (4,095 fits)", "kind": "gosh", "k": 12, "method": "REML"},
        {"name": "GOSH REML k=16 (65,535 fits)", "kind": "gosh", "k": 16, "method": "REML"},
        {"name": "10,000 REML fits of k=10", "kind": "many"},
        {"name": "GLMM nAGQ=7, 50 fits of k=10", "kind": "glmm", "data": "k10", "nagq": 7},
        {"name": "GLMM nAGQ=7, 50 fits of k=20", "kind": "glmm", "data": "k20", "nagq": 7},
        {"name": "GLMM Laplace, 50 fits of k=10", "kind": "glmm", "data": "k10", "nagq": 1},
    ]
    glmm_data = {"k10": _glmm_data(rng, 10), "k20": _glmm_data(rng, 20)}
    if args.only:
        jobs = [j for j in jobs if args.only in j["name"]]
    ours: dict[str, tuple[float, object]] = {}
    for job in jobs:
        if job["kind"] == "gosh":
            k, method = int(job["k"]), str(job["method"])
            fit = rma(yi[:k], vi[:k], method=method)
            ours[job["name"]] = _best(partial(gosh, fit, subsets=2**k), args.repeat)
        elif job["kind"] == "glmm":
            work = partial(_glmm_fits, glmm_data[str(job["data"])], int(job["nagq"]))
            ours[job["name"]] = _best(work, args.repeat)
        else:
            ours[job["name"]] = _best(lambda: rma_batch(Y, V, method="REML"), args.repeat)

    r_out: dict[str, dict[str, Any]] = {}
    note = ""
    if args.no_r:
        note = "metafor runs skipped (--no-r)."
    elif args.r_cache is not None and args.r_cache.exists():
        r_out = json.loads(args.r_cache.read_text())
        note = f"metafor results read from {args.r_cache}."
    elif not _have_metafor():
        note = "Rscript with metafor not found: metafor columns skipped."
    else:
        r_out = _run_metafor(jobs, yi, vi, Y, V, glmm_data, args.skip_slow_r)
        if args.r_cache is not None:
            args.r_cache.write_text(json.dumps(r_out))
        note = (
            f"metafor {_metafor_version()}: GOSH with parallel='multicore', ncpus=2; "
            "the 10,000 fits with mclapply on 2 cores; GLMM fits one after another on 1 core "
            "(rma.glmm defaults)."
        )
        if args.skip_slow_r:
            note += " GOSH REML k=16 skipped in R (--skip-slow-r)."
    _report(jobs, ours, r_out, note)


def _run_metafor(
    jobs: list[dict[str, Any]],
    yi: np.ndarray,
    vi: np.ndarray,
    Y: np.ndarray,
    V: np.ndarray,
    glmm_data: dict[str, dict[str, list[list[int]]]],
    skip_slow: bool,
) -> dict[str, dict[str, Any]]:
    r_jobs = [j for j in jobs if not (skip_slow and j["name"].startswith("GOSH REML k=16"))]
    payload = {
        "yi": yi.tolist(),
        "vi": vi.tolist(),
        "Y": Y.tolist(),
        "V": V.tolist(),
        "glmm": glmm_data,
    }
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp, script = Path(tmp, "in.json"), Path(tmp, "out.json"), Path(tmp, "bench.R")
        inp.write_text(json.dumps({**payload, "jobs": r_jobs}))
        script.write_text(R_SCRIPT)
        subprocess.run(["Rscript", str(script), str(inp), str(outp)], check=True)
        out: dict[str, dict[str, Any]] = json.loads(outp.read_text())
    return out


def _ratio(x: float) -> str:
    """Speed-up as printed: whole numbers from 10x, one decimal below."""
    return f"{x:.0f}x" if x >= 10 else f"{x:.1f}x"


def _report(
    jobs: list[dict[str, Any]],
    ours: dict[str, tuple[float, object]],
    r_out: dict[str, dict[str, Any]],
    note: str,
) -> None:
    header = f"{'workload':32s} {'livermet s':>11s} {'metafor s':>10s} {'speed-up':>9s}  agreement"
    print(header)
    print("-" * len(header))
    for job in jobs:
        name = job["name"]
        t_ours, res = ours[name]
        r = r_out.get(name)
        t_r = f"{r['seconds']:.2f}" if r else "-"
        ratio = _ratio(r["seconds"] / t_ours) if r else "-"
        agree = ""
        if r:
            what = {"gosh": "estimate", "many": "tau2", "glmm": "beta"}[str(job["kind"])]
            theirs = np.array([np.nan if x is None else x for x in r[what]], dtype=float)
            mine = np.asarray(getattr(res, what), dtype=float)
            ok = np.isfinite(theirs)
            diff = float(np.max(np.abs(mine[ok] - theirs[ok])))
            agree = f"max |{what} diff| {diff:.1e}; metafor failures {int((~ok).sum())}"
        print(f"{name:32s} {t_ours:11.3f} {t_r:>10s} {ratio:>9s}  {agree}")
    print()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    if note:
        print(note)


if __name__ == "__main__":
    main()
