"""The central functions check their arguments as the file exchange and Flower do.

``min_cell`` is a whole number >= 0 (a negative one would turn the minimum cell rule off;
docs/federated.md#disclosure-control); ``reference`` is a mapping of covariate to reference
level. Anything else is refused before any organisation is asked, with livermet's InputError
naming the argument. A Cox factor level without events is refused as the pooled fit refuses it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from conftest import Run
from livermet.analysis.summary import cox_analysis
from livermet.errors import InputError

COVARIATES = ["approach", "timing", "age", "grade"]
SURVIVAL = {"time": "os_months", "event": "death"}
CALLS: dict[str, dict[str, Any]] = {
    "central_km": SURVIVAL,
    "central_logrank": SURVIVAL | {"by": "approach"},
    "central_cox": SURVIVAL | {"covariates": COVARIATES},
    "central_cuminc": {"time": "efs_months", "event": "first_event"},
}


@pytest.mark.parametrize("method", sorted(CALLS))
@pytest.mark.parametrize("min_cell", [-1, "5", 2.5, True, None])
def test_a_bad_min_cell_is_refused_naming_it(run_three: Run, method: str, min_cell: Any) -> None:
    """A negative, fractional, text, boolean or missing minimum is refused before any round."""
    with pytest.raises(InputError) as refused:
        run_three(method, min_cell=min_cell, **CALLS[method])
    assert refused.value.field == "min_cell"
    assert repr(min_cell) in refused.value.message
    assert "whole number >= 0" in refused.value.message


@pytest.mark.parametrize("min_cell", [0, 1, 5])
def test_a_whole_min_cell_is_taken(run_three: Run, cohort: pd.DataFrame, min_cell: int) -> None:
    """A whole number >= 0 is taken (0 and 1: no rule)."""
    ours = run_three("central_km", min_cell=min_cell, **SURVIVAL)
    assert ours["overall"]["n"] == len(cohort)


@pytest.mark.parametrize(
    "reference", ["approach=open", ["approach", "open"], {"approach": 1}, {2: "open"}]
)
def test_a_bad_reference_is_refused_naming_it(run_three: Run, reference: Any) -> None:
    """Only a mapping of covariate to level (text) is a reference; ``"approach=open"`` is not."""
    with pytest.raises(InputError) as refused:
        run_three("central_cox", reference=reference, **CALLS["central_cox"])
    assert refused.value.field == "reference"
    assert repr(reference) in refused.value.message


def test_a_factor_level_without_events_is_refused_as_pooled(
    run_three: Run, cohort: pd.DataFrame
) -> None:
    """Age as a factor: several ages have no death; refused at once, as ``livermet cohort cox``."""
    per_age = cohort.groupby("age")["death"].sum()
    silent = sorted(str(a) for a in per_age.index[per_age == 0])
    assert silent, "the test needs an age without deaths"
    call = SURVIVAL | {"covariates": ["age"], "categorical": ["age"]}
    with pytest.raises(InputError) as pooled:
        cox_analysis(cohort, "os_months", "death", ["age"], categorical=["age"])
    with pytest.raises(InputError) as refused:
        run_three("central_cox", min_cell=0, **call)
    assert refused.value.field == "age"
    assert refused.value.message == pooled.value.message
    assert "have no event" in refused.value.message
    assert all(level in refused.value.message for level in silent)
