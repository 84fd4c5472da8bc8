"""Federated against pooled: time, round trips and bytes leaving each site.

Ten sites of 10,000 synthetic patients each (tables drawn here with numpy; no registry) are
analysed pooled (`livermet.analysis`) and federated (`livermet.federated`, every message
written to JSON and read back, as in the file exchange), for Kaplan-Meier by group, the log-rank
test (pooled and stratified by site) and Cox regression (common baseline and stratified by
site). Printed per analysis:

- the pooled time and the federated time (all sites' parts one after the other, plus the
  coordinator's; the sites would run in parallel, so the slowest site's part is shown too);
- the number of round trips (one for the event tables; for Cox, one per Newton evaluation plus
  the describe and finish rounds);
- the bytes that leave each site (its aggregate files' JSON, all rounds, the largest site);
- the largest relative difference between the federated and the pooled estimates (survival
  curves, chi-square, Cox coefficients; the stratified log-rank test is another test than the
  pooled one and is not compared).

Times are in whole months by default (the exchange's default, ``--exact`` for exact times,
which makes the tables as long as the distinct times: about 10,000 per site here).

    .venv/bin/python benchmarks/federated.py                  # 10 sites x 10,000 patients
    .venv/bin/python benchmarks/federated.py --sites 3 --n 2000 --exact
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from livermet.analysis import CoxPH, kaplan_meier, kaplan_meier_by_group, logrank_test
from livermet.federated import (
    CoxCentral,
    LogRankStrataRequest,
    SurvivalRequest,
    kaplan_meier_by_group_central,
    kaplan_meier_central,
    logrank_central,
    logrank_strata_central,
    respond,
)
from livermet.federated._messages import Message
from livermet.federated.disclosure import coarsen_months

COVARIATES = ["approach", "age", "grade"]


def site_table(n: int, seed: int, exact: bool) -> pd.DataFrame:
    """Return one site's synthetic cohort: survival rising with grade, age and open surgery."""
    rng = np.random.default_rng(seed)
    approach = rng.choice(["open", "laparoscopic"], n, p=[0.72, 0.28])
    age = rng.normal(58, 12, n).round(0)
    grade = rng.choice([1, 2, 3], n, p=[0.16, 0.38, 0.46])
    hazard = 0.02 * np.exp(0.4 * (grade - 2) + 0.02 * (age - 58) - 0.15 * (approach != "open"))
    event_time = rng.exponential(1 / hazard)
    censor = rng.uniform(6, 160, n)
    frame = pd.DataFrame(
        {
            "os_months": np.minimum(event_time, censor).round(3),
            "death": (event_time <= censor).astype(int),
            "approach": approach,
            "age": age,
            "grade": grade,
            "site": f"s{seed}",
        }
    )
    return frame if exact else coarsen_months(frame, "os_months")


@dataclass
class Run:
    """One federated analysis: its result, times, round trips and bytes per site."""

    result: Any
    site_seconds: list[float]
    central_seconds: float
    round_trips: int
    bytes_per_site: list[int]


def _ask(request: Message, sites: Sequence[pd.DataFrame], run: Run) -> list[Any]:
    """Send a request to every site through JSON; time each site, count its bytes."""
    sent = type(request).model_validate_json(request.model_dump_json())
    answers = []
    for i, site in enumerate(sites):
        start = time.perf_counter()
        answer = respond(site, sent)
        text = answer.model_dump_json()
        run.site_seconds[i] += time.perf_counter() - start
        run.bytes_per_site[i] += len(text.encode())
        answers.append(type(answer).model_validate_json(text))
    run.round_trips += 1
    return answers


def one_round(
    request: Message, sites: Sequence[pd.DataFrame], central: Callable[[list[Any]], Any]
) -> Run:
    """Run a one-round analysis: ask every site, then the central part."""
    run = Run(None, [0.0] * len(sites), 0.0, 0, [0] * len(sites))
    answers = _ask(request, sites, run)
    start = time.perf_counter()
    run.result = central(answers)
    run.central_seconds = time.perf_counter() - start
    return run


def cox_rounds(central: CoxCentral, sites: Sequence[pd.DataFrame]) -> Run:
    """Run the Cox protocol to convergence (the coordinator's time excludes the sites')."""
    run = Run(None, [0.0] * len(sites), 0.0, 0, [0] * len(sites))
    request: Any = central.start()
    while not isinstance(request, CoxPH):
        answers = _ask(request, sites, run)
        start = time.perf_counter()
        request = central.step(answers)
        run.central_seconds += time.perf_counter() - start
    run.result = request
    return run


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    """Return ``func()`` and its wall time in seconds."""
    start = time.perf_counter()
    out = func()
    return out, time.perf_counter() - start


def _km_pooled(pooled: pd.DataFrame) -> Any:
    overall = kaplan_meier(pooled, "os_months", "death")
    groups = kaplan_meier_by_group(pooled, "os_months", "death", "approach")
    return overall, groups


def _km_federated(sites: list[pd.DataFrame]) -> Run:
    request = SurvivalRequest(time="os_months", event="death", by="approach")
    return one_round(
        request,
        sites,
        lambda a: (
            kaplan_meier_central(request, a),
            kaplan_meier_by_group_central(request, a),
        ),
    )


def _km_difference(pooled: Any, federated: Any) -> float:
    curves = [(pooled[0], federated[0])] + [(pooled[1][k], federated[1][k]) for k in pooled[1]]
    return max(float(np.max(np.abs(p.survival_ - f.survival_))) for p, f in curves)


def analyses(
    pooled: pd.DataFrame, sites: list[pd.DataFrame]
) -> list[tuple[str, Callable[[], Any], Callable[[], Run], Callable[[Any, Any], float | None]]]:
    """Return (name, pooled run, federated run, largest difference) for each analysis."""
    lr = SurvivalRequest(time="os_months", event="death", by="approach")
    strata = LogRankStrataRequest(time="os_months", event="death", by="approach")

    def cox_difference(p: CoxPH, f: CoxPH) -> float:
        return float(np.max(np.abs(p.coef_ - f.coef_) / np.abs(p.coef_)))

    return [
        ("Kaplan-Meier by approach", lambda: _km_pooled(pooled), lambda: _km_federated(sites),
         _km_difference),
        ("log-rank", lambda: logrank_test(pooled, "os_months", "death", "approach"),
         lambda: one_round(lr, sites, lambda a: logrank_central(lr, a)),
         lambda p, f: abs(p.chisq - f.chisq) / p.chisq),
        ("log-rank stratified by site",
         lambda: logrank_test(pooled, "os_months", "death", "approach"),
         lambda: one_round(strata, sites, lambda a: logrank_strata_central(strata, a)),
         lambda p, f: None),
        ("Cox (Efron), common baseline",
         lambda: CoxPH().fit(pooled, "os_months", "death", COVARIATES),
         lambda: cox_rounds(CoxCentral("os_months", "death", COVARIATES), sites),
         cox_difference),
        ("Cox (Efron), stratified by site",
         lambda: CoxPH().fit(pooled, "os_months", "death", COVARIATES, strata="site"),
         lambda: cox_rounds(
             CoxCentral("os_months", "death", COVARIATES, stratified=True), sites
         ),
         cox_difference),
    ]  # fmt: skip


def main() -> None:
    """Parse the options, run every analysis pooled and federated, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--n", type=int, default=10_000, help="patients per site")
    parser.add_argument("--exact", action="store_true", help="exact times (not whole months)")
    args = parser.parse_args()
    sites = [site_table(args.n, seed, args.exact) for seed in range(1, args.sites + 1)]
    pooled = pd.concat(sites, ignore_index=True)
    console = Console(width=140)
    unit = "exact times" if args.exact else "whole months"
    table = Table(
        title=f"{args.sites} sites x {args.n:,} patients ({len(pooled):,}; {unit})",
        show_edge=False,
    )
    for col in ("analysis", "pooled s", "federated s", "slowest site s", "coordinator s",
                "round trips", "bytes out / site", "max rel. diff"):  # fmt: skip
        table.add_column(col, justify="right")
    for name, run_pooled, run_federated, difference in analyses(pooled, sites):
        result, pooled_seconds = timed(run_pooled)
        run, total = timed(run_federated)
        diff = difference(result, run.result)
        table.add_row(
            name,
            f"{pooled_seconds:.3f}",
            f"{total:.3f}",
            f"{max(run.site_seconds):.3f}",
            f"{run.central_seconds:.3f}",
            str(run.round_trips),
            f"{max(run.bytes_per_site):,}",
            "— (another test)" if diff is None else f"{diff:.1e}",
        )
    console.print(table)
    console.print(
        "federated s: every site's part one after the other, the coordinator's and the JSON "
        "of every message; sites run in parallel in practice (slowest site s)."
    )


if __name__ == "__main__":
    main()
