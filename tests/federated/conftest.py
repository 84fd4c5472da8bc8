"""The reference cohort split into sites, and what R survival 3.5-3 computed stratified by site."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pytest

from tests.analysis.conftest import COHORT_CSV

# A throwaway PostgreSQL database for the session (skipped locally when the server is down,
# required in CI): the registry tests' fixture, shared rather than copied.
from tests.registry.conftest import postgres_url  # noqa: F401

DATA = Path(__file__).parent / "data"
SITES_CSV = DATA / "cohort-sites.csv"
"""The site of each patient of ``cohort.csv`` (H1 one patient, H2 no death, H3 no laparoscopic)."""
FEDERATED_REF_JSON = DATA / "federated-refs.json"
"""``federated-refs.R`` run on ``cohort.csv`` and ``cohort-sites.csv`` (R 4.2.2, survival 3.5-3)."""


def load_cohort_with_sites() -> pd.DataFrame:
    """Return the reference cohort with its ``site`` column."""
    return pd.read_csv(COHORT_CSV).merge(pd.read_csv(SITES_CSV), on="id", validate="one_to_one")


@pytest.fixture(scope="session")
def cohort_sites() -> pd.DataFrame:
    return load_cohort_with_sites()


@pytest.fixture(scope="session")
def federated_ref() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(FEDERATED_REF_JSON.read_text()))
