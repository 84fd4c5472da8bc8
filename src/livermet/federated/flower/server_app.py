"""The coordinator on Flower: a ServerApp that runs Kaplan-Meier, log-rank and Cox over the sites.

Run configuration: ``spec``, the path of a `FlowerAnalysis` JSON file (columns, number of sites
to wait for), and ``out``, the path of the result file it writes (`wire.results`; on failure a
JSON object with ``error``). The steps, one Flower round trip each:

1. ``query.table_shape``: each site's group labels and distinct follow-up times, in clear;
2. SecAgg+ (Flower's ``SecAggPlusWorkflow``; the sites' ``secaggplus_mod``): each site's counts
   of events and censorings per group and time of the common shape, and its number of patients;
   the coordinator learns only their total, from which Kaplan-Meier overall and by group and the
   log-rank test are computed by `livermet.federated`'s central functions;
3. ``query.livermet``: the Cox protocol (`livermet.federated.CoxCentral`), in clear, one round
   trip per evaluation of the likelihood. Its sums are floating-point numbers, which SecAgg+
   would quantise (not add exactly), so they travel in clear.

The minimum cell rule (the spec's ``min_cell``, docs/federated.md#disclosure-control) is
applied to the totals as soon as they are known: the patients and events overall and of each
group from the summed table (before the Cox fit starts), then the patients and events of the
Cox fit after its describe round and the patients of each factor level at its first
evaluation (`livermet.federated.cells`). A refusal stops the run and is written as the error
result, naming the cell.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.common import FitIns, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.server import ServerConfig
from flwr.server.compat.legacy_context import LegacyContext
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.serverapp import Grid, ServerApp

from livermet.analysis import CoxPH
from livermet.errors import InputError
from livermet.federated import (
    Aggregate,
    CoxAggregate,
    CoxCentral,
    SurvivalRequest,
    kaplan_meier_by_group_central,
    kaplan_meier_central,
    logrank_central,
)
from livermet.federated._messages import FloatArray, merge_levels, union_times
from livermet.federated._messages import Message as Request
from livermet.federated.cells import cox_step, km_cells
from livermet.federated.disclosure import check_cells
from livermet.federated.flower.wire import (
    ANSWER,
    SECAGG_CLIP,
    SECAGG_MODULUS,
    SECAGG_RANGE,
    SHAPE,
    FlowerAnalysis,
    decode_aggregate,
    exact_total,
    results,
    summed_aggregate,
)

__all__ = ["app", "main", "run"]

LOWER_MIN_CELL = "the min_cell of the Flower analysis spec"
"""How a consortium sets the minimum cell count on Flower (named by a refusal)."""


class _Grid:
    """Flower's grid, with replies collected every 0.1 s instead of every 3 s.

    ``Grid.send_and_receive`` sleeps 3 s between pulls (flwr 1.42); this one pushes and pulls
    through the same public ``push_messages`` / ``pull_messages``, and passes everything else
    on, so Flower's own workflows (SecAgg+) use it unchanged.
    """

    def __init__(self, grid: Grid) -> None:
        self._grid = grid

    def __getattr__(self, name: str) -> Any:
        return getattr(self._grid, name)

    def send_and_receive(self, messages: Any, *, timeout: float | None = None) -> list[Any]:
        """Push ``messages``; return the replies that arrive before ``timeout`` seconds."""
        pending = set(self._grid.push_messages(messages))
        deadline = time.monotonic() + (timeout if timeout is not None else 86400.0)
        replies: list[Any] = []
        while pending and time.monotonic() < deadline:
            pulled = list(self._grid.pull_messages(pending))
            replies.extend(pulled)
            pending -= {m.metadata.reply_to_message_id for m in pulled}
            if pending:
                time.sleep(0.1)
        return replies


def _wait_for_nodes(grid: Grid, spec: FlowerAnalysis) -> list[int]:
    """Return the SuperNodes' ids once ``spec.sites`` are connected (fail on more, or late)."""
    deadline = time.monotonic() + spec.timeout
    while True:
        nodes = sorted(int(n) for n in grid.get_node_ids())
        if len(nodes) > spec.sites:  # SecAgg+ would sample some of them: refuse instead
            raise InputError(
                f"{len(nodes)} sites connected, the analysis expects {spec.sites}", "sites"
            )
        if len(nodes) == spec.sites:
            return nodes
        if time.monotonic() > deadline:
            raise InputError(f"{len(nodes)} of {spec.sites} sites connected", "sites")
        time.sleep(0.2)


def _ask(
    grid: Grid, nodes: Sequence[int], kind: str, request: Request, spec: FlowerAnalysis
) -> list[dict[str, Any]]:
    """Send ``request`` to every site and return their records, in node order."""
    content = {"json": request.model_dump_json()}
    messages = [
        Message(RecordDict({"livermet": ConfigRecord(content)}), dst_node_id=n, message_type=kind)
        for n in nodes
    ]
    replies = {
        int(r.metadata.src_node_id): r
        for r in grid.send_and_receive(messages, timeout=spec.timeout)
    }
    records = []
    for node in nodes:
        reply = replies.get(node)
        if reply is None or reply.has_error():
            reason = "no answer" if reply is None else str(reply.error.reason)
            raise InputError(f"site {node} did not answer {kind}: {reason}", "sites")
        record = dict(reply.content.config_records["livermet"])
        if "error" in record:
            raise InputError(f"site {node}: {record['error']}", str(record.get("field") or "site"))
        records.append(record)
    return records


def _answers(
    grid: Grid, nodes: Sequence[int], request: Request, spec: FlowerAnalysis
) -> list[Aggregate]:
    return [decode_aggregate(str(r["json"])) for r in _ask(grid, nodes, ANSWER, request, spec)]


class _SecureSum:
    """A Flower strategy (duck-typed) whose one fit round is the SecAgg+ sum of the tables."""

    def __init__(self, config: dict[str, str], sites: int) -> None:
        self.config = config
        self.sites = sites
        self.total: FloatArray | None = None

    def initialize_parameters(self, client_manager: Any) -> Any:
        return ndarrays_to_parameters([np.zeros(1)])

    def configure_fit(self, server_round: int, parameters: Any, client_manager: Any) -> Any:
        clients = client_manager.sample(num_clients=self.sites, min_num_clients=self.sites)
        return [(client, FitIns(parameters, dict(self.config))) for client in clients]

    def aggregate_fit(self, server_round: int, results: Any, failures: Any) -> Any:
        if failures or len(results) != self.sites:
            raise InputError(
                f"secure aggregation: {len(results)} of {self.sites} sites answered "
                f"({len(failures)} failures: {[str(f) for f in failures][:3]})",
                "sites",
            )
        mean = parameters_to_ndarrays(results[0][1].parameters)[0]
        self.total = exact_total(np.asarray(mean, dtype=float), len(results))
        return None, {}

    def configure_evaluate(self, server_round: int, parameters: Any, client_manager: Any) -> Any:
        return []

    def aggregate_evaluate(self, server_round: int, results: Any, failures: Any) -> Any:
        return None, {}

    def evaluate(self, server_round: int, parameters: Any) -> Any:
        return None


def _no_evaluation(grid: Grid, context: Context) -> None:
    """Skip the federated evaluation round of Flower's default workflow (nothing to evaluate)."""


def secure_sum(
    grid: Grid,
    context: Context,
    request: SurvivalRequest,
    shape: tuple[list[str], list[float]],
    spec: FlowerAnalysis,
) -> FloatArray:
    """Return the total of the sites' tables on ``shape`` through Flower's SecAgg+."""
    groups, times = shape
    config = {
        "request": request.model_dump_json(),
        "groups": json.dumps(groups),
        "times": json.dumps(times),
    }
    strategy = _SecureSum(config, spec.sites)
    workflow = DefaultWorkflow(
        fit_workflow=SecAggPlusWorkflow(
            num_shares=1.0,  # every site holds a share of every other site's keys
            reconstruction_threshold=1.0,  # and all of them are needed to unmask
            max_weight=1.0,
            clipping_range=float(SECAGG_CLIP),
            quantization_range=SECAGG_RANGE,
            modulus_range=SECAGG_MODULUS,
            timeout=spec.timeout,
        ),
        evaluate_workflow=_no_evaluation,
    )
    workflow(grid, LegacyContext(context, config=ServerConfig(num_rounds=1), strategy=strategy))
    if strategy.total is None:
        raise InputError("secure aggregation halted (a site dropped out)", "sites")
    return strategy.total


def _cox(grid: Grid, nodes: Sequence[int], spec: FlowerAnalysis) -> CoxPH:
    central = CoxCentral(
        spec.time,
        spec.event,
        spec.covariates,
        levels=spec.cox_levels,
        concordance=spec.concordance,
    )
    request: Any = central.start()
    while not isinstance(request, CoxPH):
        answers = [a for a in _answers(grid, nodes, request, spec) if isinstance(a, CoxAggregate)]
        if len(answers) != len(nodes):
            raise InputError("a site answered the Cox request with another aggregate", "analysis")
        request = cox_step(central, request, answers, spec.min_cell, LOWER_MIN_CELL)
    return request


def run(grid: Grid, context: Context, spec: FlowerAnalysis) -> dict[str, Any]:
    """Run the analyses of ``spec`` over the connected sites; return the results."""
    started = time.perf_counter()
    nodes = _wait_for_nodes(grid, spec)
    table = SurvivalRequest(time=spec.time, event=spec.event, by=spec.by)
    shapes = _ask(grid, nodes, SHAPE, table, spec)
    groups = merge_levels((cast(list[str], s["groups"]) for s in shapes), spec.levels, spec.by)
    times = union_times(cast(list[float], s["times"]) for s in shapes).tolist()
    total = secure_sum(grid, context, table, (groups, times), spec)
    summed = [summed_aggregate(table, total, groups, times)]
    km = kaplan_meier_central(table, summed)
    by_group = kaplan_meier_by_group_central(table, summed, levels=spec.levels)
    check_cells(km_cells(km, by_group, spec.by), spec.min_cell, LOWER_MIN_CELL)
    tables_done = time.perf_counter()
    cox = _cox(grid, nodes, spec)
    details = {
        "sites": len(nodes),
        "secure_aggregation": "SecAgg+ (flwr): n and the events and censorings per group and "
        "time; in clear: each site's groups and distinct times, and the Cox rounds",
        "min_cell": spec.min_cell,
        "seconds": {
            "tables": tables_done - started,
            "cox": time.perf_counter() - tables_done,
        },
    }
    return results(
        km,
        by_group,
        logrank_central(table, summed, levels=spec.levels),
        cox,
        details,
    )


def main(grid: Grid, context: Context) -> None:
    """Run the analyses the run configuration's ``spec`` names; write them to ``out``.

    On failure (a refusal of the minimum cell rule included) ``out`` holds ``error``, the
    exception and its message, and ``field``, the field an `InputError` names.
    """
    out = Path(str(context.run_config["out"]))
    try:
        spec = FlowerAnalysis.model_validate_json(Path(str(context.run_config["spec"])).read_text())
        report = run(cast(Grid, _Grid(grid)), context, spec)
    except Exception as exc:
        field = exc.field if isinstance(exc, InputError) else None
        out.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}", "field": field}))
        raise
    out.write_text(json.dumps(report, indent=1))


app = ServerApp()
"""The coordinator's ServerApp (``serverapp`` of the Flower app)."""
app.main()(main)
