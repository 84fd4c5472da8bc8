"""Federated = pooled on cohorts read from livermet registries, SQLite and PostgreSQL.

Each hospital's table is what its registry's ``cohort_frame`` returns (synthetic cases, with a
hospital of one patient). On SQLite each hospital has a registry file of its own, as hospitals
would; on PostgreSQL the hospitals are sites of one registry, each read with ``sites=[code]``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from livermet.registry import Database, synthetic_cases
from tests.federated.test_exactness import assert_federated_equals_pooled

HOSPITALS = {"h1": (120, 11), "h2": (1, 12), "h3": (80, 13)}
"""Site code -> (number of synthetic cases, seed)."""


def _fill(database: Database, codes: list[str]) -> None:
    registry = database.registry(database.bootstrap("admin"))
    for code in codes:
        registry.create_site(code, f"Hospital {code}")
        n, seed = HOSPITALS[code]
        registry.import_cases(synthetic_cases(n, seed=seed), source="synthetic", site=code)


def _frames_sqlite(tmp_path: Path) -> list[pd.DataFrame]:
    frames = []
    for code in HOSPITALS:
        database = Database(tmp_path / f"{code}.sqlite")
        try:
            _fill(database, [code])
            frames.append(database.registry("admin").cohort_frame(only_synthetic=True))
        finally:
            database.close()
    return frames


def _frames_postgres(url: str) -> list[pd.DataFrame]:
    database = Database(url)
    try:
        _fill(database, list(HOSPITALS))
        registry = database.registry("admin")
        return [registry.cohort_frame(sites=[code], only_synthetic=True) for code in HOSPITALS]
    finally:
        database.close()


def test_registries_on_sqlite(tmp_path: Path) -> None:
    frames = _frames_sqlite(tmp_path)
    assert [len(f) for f in frames] == [n for n, _ in HOSPITALS.values()]
    assert_federated_equals_pooled(frames)


def test_registry_on_postgresql(postgres_url: str) -> None:
    frames = _frames_postgres(postgres_url)
    assert [len(f) for f in frames] == [n for n, _ in HOSPITALS.values()]
    assert [set(f["site"]) for f in frames] == [{code} for code in HOSPITALS]
    assert_federated_equals_pooled(frames)
