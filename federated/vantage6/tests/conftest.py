"""Organisations for vantage6's mock client, built from the reference cohort of livermet.

Every organisation's table is written to a CSV file that the mock client reads as a node reads
its database (vantage6's own ``load_data``); every task's result goes through JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from vantage6.algorithm.tools.mock_client import MockAlgorithmClient

REPO = Path(__file__).resolve().parents[3]
COHORT_CSV = REPO / "tests" / "analysis" / "data" / "cohort.csv"
"""The reference cohort of livermet's R parity tests (300 patients)."""
SITES_CSV = REPO / "tests" / "federated" / "data" / "cohort-sites.csv"
"""Six hospitals of the cohort's patients (H1 one patient, H2 no death, H3 no laparoscopic)."""
FEDERATED_REF_JSON = REPO / "tests" / "federated" / "data" / "federated-refs.json"
"""R survival 3.5-3 stratified by those hospitals (``federated-refs.R`` beside it)."""

Run = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def cohort() -> pd.DataFrame:
    """Return the reference cohort."""
    return pd.read_csv(COHORT_CSV)


@pytest.fixture(scope="session")
def three_sites(cohort: pd.DataFrame) -> list[pd.DataFrame]:
    """Return three organisations' tables: 150, 100 and 50 patients taken at random."""
    labels = np.random.default_rng(13).permutation(np.repeat([0, 1, 2], [150, 100, 50]))
    return [cohort[labels == k].reset_index(drop=True) for k in range(3)]


@pytest.fixture(scope="session")
def six_hospitals(cohort: pd.DataFrame) -> list[pd.DataFrame]:
    """Return the six hospitals of ``cohort-sites.csv``, each with its ``site`` column."""
    data = cohort.merge(pd.read_csv(SITES_CSV), on="id", validate="one_to_one")
    return [data[data["site"] == s].reset_index(drop=True) for s in sorted(data["site"].unique())]


@pytest.fixture(scope="session")
def federated_ref() -> dict[str, Any]:
    """Return R's numbers for the six hospitals."""
    return dict(json.loads(FEDERATED_REF_JSON.read_text()))


def mock_client(
    folder: Path, tables: Sequence[pd.DataFrame], cls: type[MockAlgorithmClient] | None = None
) -> MockAlgorithmClient:
    """Return vantage6's mock client with one organisation per table, each read from a CSV."""
    datasets = []
    for k, table in enumerate(tables):
        path = folder / f"organisation-{k}.csv"
        table.to_csv(path, index=False)
        datasets.append([{"database": str(path), "db_type": "csv"}])
    return (cls or MockAlgorithmClient)(datasets=datasets, module="v6_livermet")


def run_task(client: MockAlgorithmClient, method: str, **kwargs: Any) -> dict[str, Any]:
    """Create the researcher's task (``method`` at the first organisation); return its result."""
    task = client.task.create(
        input_={"method": method, "kwargs": kwargs}, organizations=[client.organization_id]
    )
    results = client.wait_for_results(task_id=task["id"])
    assert len(results) == 1
    return dict(results[0])


@pytest.fixture
def run_three(tmp_path: Path, three_sites: list[pd.DataFrame]) -> Run:
    """Return a runner of a central function on the three organisations."""
    client = mock_client(tmp_path, three_sites)
    return lambda method, **kwargs: run_task(client, method, **kwargs)


@pytest.fixture
def run_six(tmp_path: Path, six_hospitals: list[pd.DataFrame]) -> Run:
    """Return a runner of a central function on the six hospitals."""
    client = mock_client(tmp_path, six_hospitals)
    return lambda method, **kwargs: run_task(client, method, **kwargs)


def assert_same(actual: Any, expected: Any, rel: float, where: str = "result") -> None:
    """Assert equal JSON: same keys, lengths, texts and integers; floats to ``rel``."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert list(actual) == list(expected), where
        for key, value in expected.items():
            assert_same(actual[key], value, rel, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, rel, f"{where}[{i}]")
    elif isinstance(expected, float) and not isinstance(actual, bool | str | type(None)):
        assert math.isclose(actual, expected, rel_tol=rel, abs_tol=0), (where, actual, expected)
    else:
        assert actual == expected, (where, actual, expected)
