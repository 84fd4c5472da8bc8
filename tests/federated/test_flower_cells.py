"""The Flower coordinator applies the minimum cell rule; tested in-process with ``.venv-flower``.

The ServerApp's ``main`` runs in one ``.venv-flower`` Python process, without a SuperLink or
SuperNodes: a stand-in grid hands every message to the ClientApp's own handlers
(``query.livermet``, ``query.table_shape``), each reading its hospital's SQLite registry, and
the SecAgg+ sum is replaced by the plain sum of the sites' table vectors (the real SecAgg+ path
is covered by ``test_flower.py``'s end-to-end run). What is tested is the coordinator: which
cells it checks, when, and that a refusal is written as the error result naming the cell. The
expected cells are counted with pandas on the registries' patients, not with the code under
test.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from livermet.federated.disclosure import MIN_CELL_DEFAULT
from livermet.federated.flower.wire import FlowerAnalysis
from tests.federated.helpers import APPROACH_LEVELS, COVARIATES
from tests.federated.test_flower import _flower_python, _registries

GRADES = ["1", "2", "3"]

HARNESS = """
import json
import sys
from types import SimpleNamespace

import numpy as np
from flwr.app import Context, RecordDict
from flwr.supercore.task_identity import TaskIdentity

TaskIdentity.run_id = 1  # what a SuperExec sets for the app process
TaskIdentity.task_id = 1
TaskIdentity.node_id = 0

from livermet.federated import respond
from livermet.federated.flower import client_app, server_app
from livermet.federated.flower.wire import table_vector

registries, jobs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
nodes = {i + 1: path for i, path in enumerate(registries)}
handlers = {"query.livermet": client_app.answer, "query.table_shape": client_app.table_shape}


def context(node):
    config = {"registry": nodes[node], "user": "admin", "only-synthetic": True}
    return Context(run_id=1, node_id=node, node_config=config, state=RecordDict(), run_config={})


class Grid:
    def get_node_ids(self):
        return list(nodes)

    def send_and_receive(self, messages, *, timeout=None):
        return [
            handlers[m.metadata.message_type](m, context(m.metadata.dst_node_id))
            for m in messages
        ]


def plain_sum(grid, ctx, request, shape, spec):
    groups, times = shape
    frames = [client_app.site_frame(context(node).node_config) for node in nodes]
    return np.sum([table_vector(respond(f, request), groups, times) for f in frames], axis=0)


server_app.secure_sum = plain_sum
server_app._Grid = lambda grid: grid
outcomes = []
for spec, out in jobs:
    try:
        server_app.main(Grid(), SimpleNamespace(run_config={"spec": spec, "out": out}))
        outcomes.append("finished")
    except Exception as exc:
        outcomes.append(type(exc).__name__)
print(json.dumps(outcomes))
"""


@pytest.fixture(scope="module")
def hospitals(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], pd.DataFrame]:
    """Return the three hospitals' registries (as in test_flower.py) and all their patients."""
    return _registries(tmp_path_factory.mktemp("hospitals"))


def run_coordinator(
    registries: list[Path], specs: list[FlowerAnalysis], folder: Path
) -> list[tuple[str, dict[str, Any]]]:
    """Run the ServerApp's ``main`` in-process for each spec; return its outcome and result."""
    jobs = []
    for i, spec in enumerate(specs):
        path = folder / f"spec-{i}.json"
        path.write_text(spec.model_dump_json())
        jobs.append((str(path), str(folder / f"result-{i}.json")))
    done = subprocess.run(
        [
            str(_flower_python()),
            "-c",
            HARNESS,
            json.dumps([str(r) for r in registries]),
            json.dumps(jobs),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    return [
        (outcome, json.loads(Path(out).read_text()))
        for outcome, (_, out) in zip(outcomes, jobs, strict=True)
    ]


def _km_cells(pooled: pd.DataFrame) -> list[int]:
    """Return the patients and deaths overall and of each approach, counted with pandas."""
    groups = pooled.groupby("approach")["death"].agg(["size", "sum"])
    counts = [len(pooled), int(pooled["death"].sum())]
    return counts + [int(v) for v in groups.to_numpy().ravel()]


def _level_cells(pooled: pd.DataFrame) -> dict[str, int]:
    """Return the patients with each level of the Cox factors (grade taken as a factor)."""
    return {
        f"{column} = {level}": int(count)
        for column in ("approach", "timing", "grade")
        for level, count in pooled[column].astype(str).value_counts().items()
    }


def test_flower_coordinator_applies_the_minimum_cell_rule(
    hospitals: tuple[list[Path], pd.DataFrame], tmp_path: Path
) -> None:
    """Refused on the summed table, refused on a Cox factor level, released at the default."""
    registries, pooled = hospitals
    km_smallest = min(c for c in _km_cells(pooled) if c > 0)
    levels = _level_cells(pooled)
    level, level_smallest = min(levels.items(), key=lambda item: item[1])
    assert level_smallest < km_smallest  # so that only the Cox fit meets a small cell
    base = FlowerAnalysis(
        sites=len(registries),
        levels=APPROACH_LEVELS,
        covariates=COVARIATES,
        cox_levels={"approach": APPROACH_LEVELS, "grade": GRADES},
    )
    assert base.min_cell == MIN_CELL_DEFAULT
    specs = [
        base.model_copy(update={"min_cell": km_smallest + 1}),
        base.model_copy(update={"min_cell": level_smallest + 1}),
        base,
    ]
    (table, table_result), (cox, cox_result), (ok, result) = run_coordinator(
        registries, specs, tmp_path
    )

    assert table == "Refusal" and table_result["field"] == "min_cell"
    assert f"refused: {km_smallest} " in table_result["error"]
    assert "the min_cell of the Flower analysis spec" in table_result["error"]

    assert cox == "Refusal" and cox_result["field"] == "min_cell"
    assert f"refused: {level_smallest} patients with {level} in total" in cox_result["error"]

    assert ok == "finished" and "error" not in result
    assert result["min_cell"] == MIN_CELL_DEFAULT
    assert result["km"]["n"] == len(pooled)
    assert (result["cox"]["n"], result["cox"]["events"]) == (len(pooled), pooled["death"].sum())
    assert [t["term"] for t in result["cox"]["terms"]][-2:] == ["grade2", "grade3"]
