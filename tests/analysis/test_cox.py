"""Cox model: the likelihood by hand, its derivatives, coding of factors, refused input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from livermet.analysis import CoxPH, cox_partial_likelihood
from livermet.analysis.summary import cox_analysis
from livermet.errors import InputError
from tests.analysis.conftest import APPROACH_LEVELS

TIME = np.array([1.0, 2.0, 2.0, 3.0])
EVENT = np.array([1.0, 1.0, 1.0, 0.0])
X = np.array([[0.0], [1.0], [0.0], [1.0]])


@pytest.mark.parametrize("beta", [-0.4, 0.0, 0.7])
def test_partial_likelihood_by_hand(beta: float) -> None:
    e = math.exp(beta)
    # t=1: one death (x=0) among all four; t=2: two deaths (x=1, x=0) among the last three
    first = -math.log(2 + 2 * e)
    efron = beta - math.log(1 + 2 * e) - math.log(1 + 2 * e - (1 + e) / 2)
    breslow = beta - 2 * math.log(1 + 2 * e)
    ll_efron, _, _ = cox_partial_likelihood(np.array([beta]), X, TIME, EVENT, "efron")
    ll_breslow, _, _ = cox_partial_likelihood(np.array([beta]), X, TIME, EVENT, "breslow")
    assert ll_efron == pytest.approx(first + efron, rel=1e-14)
    assert ll_breslow == pytest.approx(first + breslow, rel=1e-14)


def test_gradient_and_information_are_the_derivatives(cohort: pd.DataFrame) -> None:
    x = np.column_stack(
        [(cohort["approach"] == "laparoscopic"), cohort["age"], cohort["grade"]]
    ).astype(float)
    x -= x.mean(axis=0)
    t = cohort["os_months"].to_numpy(float)
    e = cohort["death"].to_numpy(float)
    beta = np.array([-0.2, 0.03, 0.1])
    _, grad, info = cox_partial_likelihood(beta, x, t, e)
    h = 1e-5
    fd_grad = np.zeros(3)
    fd_hess = np.zeros((3, 3))
    for i in range(3):
        step = np.eye(3)[i] * h
        up = cox_partial_likelihood(beta + step, x, t, e)
        down = cox_partial_likelihood(beta - step, x, t, e)
        fd_grad[i] = (up[0] - down[0]) / (2 * h)
        fd_hess[i] = (up[1] - down[1]) / (2 * h)
    assert grad == pytest.approx(fd_grad, rel=1e-6, abs=1e-6)
    assert info == pytest.approx(-fd_hess, rel=1e-6, abs=1e-6)


def test_efron_equals_breslow_without_tied_events(cohort: pd.DataFrame) -> None:
    untied = cohort.drop_duplicates(subset="os_months")
    efron = CoxPH("efron").fit(untied, "os_months", "death", ["age", "grade"])
    breslow = CoxPH("breslow").fit(untied, "os_months", "death", ["age", "grade"])
    assert efron.coef_ == pytest.approx(breslow.coef_, rel=1e-12)
    assert efron.se_ == pytest.approx(breslow.se_, rel=1e-12)


def test_agrees_with_lifelines_on_a_model_r_was_not_asked(cohort: pd.DataFrame) -> None:
    from lifelines import CoxPHFitter  # independent Efron implementation (Newton, own stop)

    fit = CoxPH().fit(cohort, "os_months", "death", ["grade", "age"], categorical=["grade"])
    assert fit.terms_ == ["grade2", "grade3", "age"]
    frame = pd.DataFrame(
        {
            "t": cohort["os_months"],
            "e": cohort["death"],
            "grade2": (cohort["grade"] == 2).astype(float),
            "grade3": (cohort["grade"] == 3).astype(float),
            "age": cohort["age"].astype(float),
        }
    )
    lf = CoxPHFitter().fit(frame, "t", "e", fit_options={"precision": 1e-12})
    assert fit.coef_ == pytest.approx(lf.params_[fit.terms_].to_numpy(), rel=1e-5)
    assert fit.se_ == pytest.approx(lf.standard_errors_[fit.terms_].to_numpy(), rel=1e-5)
    assert fit.loglik_[1] == pytest.approx(lf.log_likelihood_, rel=1e-10)
    assert fit.concordance_.concordance == pytest.approx(lf.concordance_index_, rel=1e-12)


def test_default_reference_is_the_first_sorted_level(cohort: pd.DataFrame) -> None:
    alphabetical = CoxPH().fit(cohort, "os_months", "death", ["approach", "age"])
    assert alphabetical.terms_ == ["approachopen", "age"]
    given = CoxPH().fit(
        cohort, "os_months", "death", ["approach", "age"], levels={"approach": APPROACH_LEVELS}
    )
    assert given.terms_ == ["approachlaparoscopic", "age"]
    # swapping the reference negates the log hazard ratio and keeps its standard error
    assert alphabetical.coef_[0] == pytest.approx(-given.coef_[0], rel=1e-9)
    assert alphabetical.se_[0] == pytest.approx(given.se_[0], rel=1e-9)


def test_reference_option_and_numeric_factor(cohort: pd.DataFrame) -> None:
    result = cox_analysis(
        cohort,
        "os_months",
        "death",
        ["approach", "grade"],
        reference={"approach": "open", "grade": 1},
    )
    assert result.model.terms_ == ["approachlaparoscopic", "grade2", "grade3"]
    assert result.report["reference_levels"] == {"approach": "open", "grade": "1"}


def test_boolean_covariate_is_named_like_r(cohort: pd.DataFrame) -> None:
    data = cohort.assign(lap=cohort["approach"] == "laparoscopic")
    fit = CoxPH().fit(data, "os_months", "death", ["lap"])
    assert fit.terms_ == ["lapTRUE"]


@pytest.mark.parametrize(
    ("covariates", "field", "fragment"),
    [
        (["approach", "ghost"], "ghost", "column not found"),
        (["age", "age"], "age", "listed twice"),
        (["constant"], "constant", "single value"),
        (["age", "age_months"], "covariates", "collinear"),
        (["text_age"], "text_age", "row 3"),
    ],
)
def test_bad_covariates_are_refused(
    cohort: pd.DataFrame, covariates: list[str], field: str, fragment: str
) -> None:
    data = cohort.assign(
        constant="x",
        age_months=cohort["age"] * 12,
        text_age=cohort["age"].astype(object),
    )
    data.loc[2, "text_age"] = "sixty"
    if "text_age" in covariates:
        data["text_age"] = data["text_age"].astype(str)
    with pytest.raises(InputError) as info:
        CoxPH().fit(data, "os_months", "death", covariates, categorical=[])
    assert info.value.field == field
    assert fragment in info.value.message


def test_no_events_is_refused(cohort: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="no events"):
        CoxPH().fit(cohort.assign(death=0), "os_months", "death", ["age"])
