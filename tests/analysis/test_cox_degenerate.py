"""Cox fits that cannot be estimated are refused with an InputError, never a traceback.

A factor level without events makes the partial likelihood monotone (R's ``coxph`` warns
"Loglik converged before variable ...; coefficient may be infinite"); a level without patients,
a constant or collinear term leaves a coefficient undetermined (R gives NA). livermet refuses
them before fitting, naming the covariate and the levels, and refuses a singular information
matrix met during the Newton iteration naming the terms. The counts expected are taken here
with pandas, not with the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from livermet.analysis import CoxPH
from livermet.analysis.cox import MAX_ITER, CoxNewton, check_levels, level_counts
from livermet.analysis.summary import cox_analysis
from livermet.cli.cohort import app
from livermet.errors import InputError
from tests.analysis.conftest import COHORT_CSV

COHORT = pd.read_csv(COHORT_CSV)
SURVIVAL = {"time": "os_months", "event": "death"}
runner = CliRunner()


def with_clinic(silent_level: str, size: int = 20) -> pd.DataFrame:
    """Return the cohort with a ``clinic`` factor whose level ``silent_level`` has no death."""
    data = COHORT.copy()
    clinic = np.where(np.arange(len(data)) % 2 == 0, "A", "B").astype(object)
    censored = np.flatnonzero(data["death"].to_numpy() == 0)[:size]
    clinic[censored] = silent_level
    data["clinic"] = clinic
    return data


def test_a_level_without_events_is_refused_naming_it() -> None:
    data = with_clinic("C")
    assert data.loc[data["clinic"] == "C", "death"].sum() == 0
    with pytest.raises(InputError) as refused:
        CoxPH().fit(data, "os_months", "death", ["approach", "clinic"])
    assert refused.value.field == "clinic"
    assert "level(s) C have no event" in refused.value.message
    assert "(levels: A, B, C)" in refused.value.message
    assert "merge the level with another, or drop the covariate" in refused.value.message


def test_a_reference_level_without_events_is_refused() -> None:
    data = with_clinic("0-none")  # sorts first: the reference level
    with pytest.raises(InputError, match=r"level\(s\) 0-none have no event") as refused:
        CoxPH().fit(data, "os_months", "death", ["clinic"])
    assert refused.value.field == "clinic"


def test_a_level_no_patient_has_is_refused() -> None:
    """A level with no patient (a federated fit keeps every site's levels) is refused."""
    levels = {"approach": ["open", "laparoscopic", "robotic"]}
    with pytest.raises(InputError) as refused:
        check_levels(levels, {"approach": [10.0, 5.0, 0.0]}, {"approach": [4.0, 2.0, 0.0]})
    assert refused.value.field == "approach"
    assert "no patient analysed has the level(s) robotic" in refused.value.message


def test_numeric_age_as_a_factor_is_refused_not_a_traceback() -> None:
    """The user's case: ``--categorical age`` gives ages without deaths."""
    per_age = COHORT.groupby("age")["death"].sum()
    silent = [str(a) for a in per_age.index[per_age == 0]]
    assert silent
    with pytest.raises(InputError) as refused:
        cox_analysis(COHORT, "os_months", "death", ["age"], categorical=["age"])
    assert refused.value.field == "age"
    shown = refused.value.message.split(" have no event")[0]
    assert all(f" {level}" in shown for level in silent[:12])


def test_collinear_terms_are_refused() -> None:
    data = COHORT.assign(age2=2.0 * COHORT["age"] + 1.0)
    with pytest.raises(InputError, match="collinear") as refused:
        CoxPH().fit(data, "os_months", "death", ["age", "age2"])
    assert refused.value.field == "covariates"


def test_a_singular_information_during_newton_names_its_terms() -> None:
    newton = CoxNewton(3, terms=["age", "x", "y"])
    information = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    with pytest.raises(InputError) as refused:
        newton.tell(-10.0, np.array([0.1, 0.2, 0.3]), information)
    assert refused.value.field == "covariates"
    assert "singular" in refused.value.message
    assert "coefficient(s) of x, y are not determined" in refused.value.message


def test_a_separating_covariate_is_refused_with_an_input_error() -> None:
    """Each death has the largest x of its risk set: the likelihood grows as β → ∞."""
    n = 20
    data = pd.DataFrame(
        {
            "t": np.r_[np.arange(1.0, 11.0), np.arange(11.0, 21.0)],
            "e": np.r_[np.ones(10), np.zeros(10)],
            "x": np.r_[np.linspace(6, 5, 10), np.linspace(0, 1, n - 10)],
        }
    )
    with pytest.raises(InputError) as refused:
        CoxPH().fit(data, "t", "e", ["x"])
    assert refused.value.field == "covariates"


@pytest.mark.parametrize("max_iter", [0, -3, 2.5, True])
def test_max_iter_must_be_a_count(max_iter: object) -> None:
    with pytest.raises(InputError) as refused:
        CoxPH().fit(COHORT, "os_months", "death", ["age"], max_iter=max_iter)  # type: ignore[arg-type]
    assert refused.value.field == "max_iter"


def test_the_pooled_default_is_max_iter() -> None:
    assert CoxPH.fit.__kwdefaults__["max_iter"] == MAX_ITER  # type: ignore[index]
    assert CoxNewton(1).max_iter == MAX_ITER


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 3), min_size=8, max_size=40), st.randoms(use_true_random=False))
def test_level_counts_add_up_and_silent_levels_are_named(codes: list[int], rnd: object) -> None:
    """Counts per level from the 0/1 terms equal pandas' counts; a level with 0 is refused."""
    levels = sorted({f"L{c}" for c in codes})
    if len(levels) < 2:
        return
    labels = np.array([f"L{c}" for c in codes])
    events = np.array([rnd.random() < 0.5 for _ in codes])  # type: ignore[attr-defined]
    terms = [f"f{lv}" for lv in levels[1:]]
    x = np.column_stack([(labels == lv).astype(float) for lv in levels[1:]])
    patients = level_counts({"f": levels}, terms, x.sum(axis=0), len(codes))["f"]
    deaths = level_counts({"f": levels}, terms, x[events].sum(axis=0), events.sum())["f"]
    expected = pd.Series(events).groupby(labels).agg(["size", "sum"]).loc[levels]
    assert patients == expected["size"].astype(float).tolist()
    assert deaths == expected["sum"].astype(float).tolist()
    silent = [lv for lv, d in zip(levels, deaths, strict=True) if d == 0]
    if silent:
        with pytest.raises(InputError, match=", ".join(silent[:12])):
            check_levels({"f": levels}, {"f": patients}, {"f": deaths})
    else:
        check_levels({"f": levels}, {"f": patients}, {"f": deaths})


TWICE = ["--covariates", "approach", "--reference", "approach=open"]
TWICE += ["--reference", "approach=laparoscopic"]
COX_CLI = ["cox", "--data", str(COHORT_CSV), "--time", "os_months", "--event", "death"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--covariates", "age", "--categorical", "age"], "age: the patients with level(s)"),
        (["--covariates", "age", "--reference", "age=50"], "age: the patients with level(s)"),
        (
            ["--covariates", "approach", "--reference", "approach=open=x"],
            "'approach=open=x': write COLUMN=LEVEL",
        ),
        (
            TWICE,
            "approach is given twice (approach=open and approach=laparoscopic)",
        ),
    ],
)
def test_cli_refuses_with_exit_2(options: list[str], expected: str) -> None:
    result = runner.invoke(app, [*COX_CLI, *options])
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
