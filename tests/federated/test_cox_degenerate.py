"""A federated Cox fit that cannot be estimated is refused as the pooled fit refuses it.

A factor level without events (monotone likelihood) is refused after the first evaluation,
when the sites' sums of the terms give the patients and events of each level, with the pooled
fit's message; a singular information matrix or a fit that does not converge in
`livermet.analysis.cox.MAX_ITER` Newton steps is refused with an InputError, never a traceback
and never an endless exchange of rounds.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from livermet.analysis import CoxPH
from livermet.analysis.cox import MAX_ITER
from livermet.cli.main import app
from livermet.errors import InputError
from livermet.federated import CoxCentral
from tests.analysis.conftest import COHORT_CSV
from tests.federated.helpers import run_cox, split

COHORT = pd.read_csv(COHORT_CSV)
runner = CliRunner()


def with_clinic(silent_level: str = "C", size: int = 20) -> pd.DataFrame:
    """Return the cohort with a ``clinic`` factor whose level ``silent_level`` has no death."""
    data = COHORT.copy()
    clinic = np.where(np.arange(len(data)) % 2 == 0, "A", "B").astype(object)
    censored = np.flatnonzero(data["death"].to_numpy() == 0)[:size]
    clinic[censored] = silent_level
    data["clinic"] = clinic
    return data


def three_sites(data: pd.DataFrame) -> list[pd.DataFrame]:
    return split(data, np.arange(len(data)) % 3)


def pooled_refusal(data: pd.DataFrame, covariates: list[str]) -> InputError:
    with pytest.raises(InputError) as refused:
        CoxPH().fit(data, "os_months", "death", covariates)
    return refused.value


def test_a_level_without_events_is_refused_after_the_first_evaluation() -> None:
    data = with_clinic()
    covariates = ["approach", "clinic"]
    central = CoxCentral("os_months", "death", covariates)
    with pytest.raises(InputError) as refused:
        run_cox(central, three_sites(data))
    expected = pooled_refusal(data, covariates)
    assert (refused.value.field, refused.value.message) == (expected.field, expected.message)
    assert "level(s) C have no event" in refused.value.message
    assert central.round_trips == 2  # describe, then the first evaluation: no Newton step


def test_age_as_a_factor_is_refused_as_pooled() -> None:
    """The user's case: ``--covariates age --categorical age`` across sites."""
    central = CoxCentral("os_months", "death", ["age"], categorical=["age"])
    with pytest.raises(InputError) as refused:
        run_cox(central, three_sites(COHORT))
    with pytest.raises(InputError) as pooled:
        CoxPH().fit(COHORT, "os_months", "death", ["age"], categorical=["age"])
    assert refused.value.message == pooled.value.message
    assert refused.value.field == "age"
    assert central.round_trips == 2


def test_stratified_a_level_without_events_is_an_input_error() -> None:
    """Stratified, the sites send no events per level: the Newton iteration refuses it."""
    central = CoxCentral("os_months", "death", ["approach", "clinic"], stratified=True)
    with pytest.raises(InputError) as refused:
        run_cox(central, three_sites(with_clinic()))
    assert refused.value.field == "covariates"
    assert "clinicC" in refused.value.message
    assert central.newton is not None and central.newton.iterations <= MAX_ITER


def test_newton_rounds_are_capped_as_pooled() -> None:
    covariates = ["approach", "timing", "age", "grade"]
    central = CoxCentral("os_months", "death", covariates, max_iter=2)
    with pytest.raises(InputError, match="did not converge in 2 steps") as refused:
        run_cox(central, three_sites(COHORT))
    with pytest.raises(InputError) as pooled:
        CoxPH().fit(COHORT, "os_months", "death", covariates, max_iter=2)
    assert refused.value.message == pooled.value.message
    assert central.newton is not None and central.newton.iterations == 2


def test_the_default_cap_is_the_pooled_one() -> None:
    default = inspect.signature(CoxCentral).parameters["max_iter"].default
    assert default == MAX_ITER == inspect.signature(CoxPH.fit).parameters["max_iter"].default


@pytest.mark.parametrize("max_iter", [0, -1, 1.5])
def test_a_bad_max_iter_is_refused_at_once(max_iter: object) -> None:
    with pytest.raises(InputError) as refused:
        CoxCentral("os_months", "death", ["age"], max_iter=max_iter)  # type: ignore[arg-type]
    assert refused.value.field == "max_iter"


@pytest.mark.parametrize(
    ("references", "expected"),
    [
        (["approach=open=x"], "'approach=open=x': write COLUMN=LEVEL"),
        (["approach=open", "approach=laparoscopic"], "approach is given twice"),
        (["approach="], "write COLUMN=LEVEL"),
    ],
)
def test_request_refuses_a_bad_reference(
    references: list[str], expected: str, tmp_path: Path
) -> None:
    out = str(tmp_path / "r.json")
    options = [o for r in references for o in ("--reference", r)]
    result = runner.invoke(
        app,
        [
            "federated",
            "request",
            "--analysis",
            "cox",
            "--covariates",
            "approach",
            *options,
            "-o",
            out,
        ],
    )
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.stderr.split())
    assert not Path(out).exists()
