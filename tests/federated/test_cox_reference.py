"""The reference level of a Cox factor across sites (``CoxCentral(reference=...)``).

The federated fit with a reference level must be the pooled ``cox_analysis`` with the same
``reference`` (``livermet cohort cox --reference``), for any split into sites, including
sites without the reference level.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livermet.analysis.summary import cox_analysis
from livermet.errors import InputError
from livermet.federated import CoxCentral
from tests.analysis.conftest import COHORT_CSV
from tests.federated.helpers import ask, run_cox, split

COHORT = pd.read_csv(COHORT_CSV)
COVARIATES = ["approach", "timing", "age", "grade"]
COX = 1e-8


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(2, 6),
    st.randoms(use_true_random=False),
    st.sampled_from([{"approach": "laparoscopic"}, {"grade": "3", "timing": "synchronous"}]),
)
def test_reference_level_equals_pooled_cox_analysis(
    k: int, rnd: Any, reference: dict[str, str]
) -> None:
    labels = np.array([rnd.randrange(k) for _ in range(len(COHORT))])
    labels[:k] = np.arange(k)
    sites = split(COHORT, labels)
    ours = run_cox(CoxCentral("os_months", "death", COVARIATES, reference=reference), sites)
    theirs = cox_analysis(COHORT, "os_months", "death", COVARIATES, reference=reference).model
    assert ours.terms_ == theirs.terms_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=COX, atol=0)
    np.testing.assert_allclose(ours.vcov_, theirs.vcov_, rtol=COX, atol=0)
    assert ours.factors_ == theirs.factors_


def test_a_site_without_the_reference_level_takes_part() -> None:
    open_only = COHORT[COHORT["approach"] == "open"].head(40)
    rest = COHORT.drop(open_only.index)
    sites = [open_only.reset_index(drop=True), rest.reset_index(drop=True)]
    reference = {"approach": "laparoscopic"}
    ours = run_cox(CoxCentral("os_months", "death", COVARIATES, reference=reference), sites)
    theirs = cox_analysis(COHORT, "os_months", "death", COVARIATES, reference=reference).model
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=COX, atol=0)


def test_a_bad_reference_is_refused_naming_it() -> None:
    with pytest.raises(InputError, match="'timing', which is not a covariate") as refused:
        CoxCentral("os_months", "death", ["age"], reference={"timing": "synchronous"})
    assert refused.value.field == "reference"
    central = CoxCentral("os_months", "death", ["approach"], reference={"approach": "robotic"})
    sites = split(COHORT, np.arange(len(COHORT)) % 2)
    with pytest.raises(InputError, match="'robotic' of approach does not occur") as absent:
        central.step(ask(central.start(), sites))
    assert absent.value.field == "reference"
