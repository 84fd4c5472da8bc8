"""Cohort survival analysis with numerical parity with R's survival package (3.5-3).

Every function takes a pandas DataFrame (one row per patient) plus column names, so a CSV file
and the registry feed it alike; estimators follow lifelines' shape (configure in the
constructor, ``fit()`` returns the fitted object, results in trailing-underscore attributes).

- `KaplanMeier`, `kaplan_meier`, `kaplan_meier_by_group`: survival with Greenwood variance and
  ``"log-log"`` / ``"log"`` / ``"plain"`` intervals, numbers at risk, median with R's interval
  rule (`livermet.analysis.km`);
- `restricted_mean` / `KaplanMeier.rmst`: RMST with R's standard error (`.rmst`);
- `logrank_test`, `survdiff`: log-rank test of k groups (`.logrank`);
- `CoxPH`: Cox regression, Efron ties, R's model-matrix coding and term names, Harrell's C
  (`.cox`, `.design`, `.concordance`);
- `CumulativeIncidence`, `cumulative_incidence`: Aalen-Johansen cumulative incidence of
  competing first events, exact ties, infinitesimal-jackknife standard errors (`.cuminc`);
- `km_analysis`, `cox_analysis`, `cuminc_analysis`: a whole analysis of a table as a
  JSON-ready report plus the fitted objects (`.summary`; what ``livermet cohort`` prints).

Each estimator runs on tables of counts or sums, which add up over any partition of the
patients: ``KaplanMeier.fit_table`` and ``CumulativeIncidence.fit_table`` (events and
censorings per distinct time), `logrank_parts` (per time and group; summed parts of strata give
``logrank_test(strata=...)``), and the Cox fit's `CoxNewton` driven by
``beta -> (loglik, score, information)`` from `risk_set_sums` (``CoxPH.fit(strata=...)`` sums
them over strata). `livermet.federated` runs the same code on the sums of sites' tables.

Every number is checked against R survival 3.5-3 on the registry's reference cohort
(``tests/analysis``; stratified fits in ``tests/federated``).
"""

from livermet.analysis.concordance import Concordance, concordance
from livermet.analysis.cox import CoxPH, LikelihoodRatioTest, cox_partial_likelihood
from livermet.analysis.cuminc import EVENT_FREE, CumulativeIncidence, cumulative_incidence
from livermet.analysis.design import Design, design_matrix
from livermet.analysis.km import KaplanMeier, MedianSurvival, kaplan_meier, kaplan_meier_by_group
from livermet.analysis.logrank import LogRankResult, logrank_test, survdiff
from livermet.analysis.rmst import RMST, restricted_mean
from livermet.analysis.summary import (
    CoxAnalysis,
    CumincAnalysis,
    KMAnalysis,
    cox_analysis,
    cuminc_analysis,
    km_analysis,
)

__all__ = [
    "EVENT_FREE",
    "RMST",
    "Concordance",
    "CoxAnalysis",
    "CoxPH",
    "CumincAnalysis",
    "CumulativeIncidence",
    "Design",
    "KMAnalysis",
    "KaplanMeier",
    "LikelihoodRatioTest",
    "LogRankResult",
    "MedianSurvival",
    "concordance",
    "cox_analysis",
    "cox_partial_likelihood",
    "cuminc_analysis",
    "cumulative_incidence",
    "design_matrix",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "km_analysis",
    "logrank_test",
    "restricted_mean",
    "survdiff",
]
