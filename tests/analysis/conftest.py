"""The reference cohort and what R survival 3.5-3 computed on it (copied from shared/refs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"
COHORT_CSV = DATA / "cohort.csv"
REF_JSON = DATA / "survival-3.5-3-cohort.json"

# The R script fixes these factor orders (survival-refs.R); R's default would be alphabetical.
APPROACH_LEVELS = ["open", "laparoscopic"]
FIRST_EVENT_TYPES = ["recurrence", "death"]


@pytest.fixture(scope="session")
def cohort() -> pd.DataFrame:
    return pd.read_csv(COHORT_CSV)


@pytest.fixture(scope="session")
def ref() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(REF_JSON.read_text()))
