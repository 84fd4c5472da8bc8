from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED_CASE = ROOT / "examples" / "seed-case.yaml"


@pytest.fixture
def seed_path() -> Path:
    return SEED_CASE
