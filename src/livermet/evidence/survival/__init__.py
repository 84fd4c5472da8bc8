"""Survival synthesis from published summary points (n, median, S at 1/3/5 years).

Four tools (docs/evidence.md#survival-synthesis-from-summary-points), one module each:

- `check_consistency` (:mod:`.consistency`) — does a series' reported median contradict its own
  survival percentages? Under one non-increasing survival curve S(t) >= 0.5 before the median
  and S(t) <= 0.5 after it.
- `pool_time_points` (:mod:`.time_points`) — random-effects pooling of S(t) separately at each
  reported time (logit scale by default, metafor ``escalc``/``rma`` via `livermet.evidence`).
- `weibull_synthesis` (:mod:`.weibull`) — one-stage Weibull model on the complementary log-log
  scale with a random intercept per series and a common shape (Arends, Hunink & Stijnen 2008,
  Stat Med 27:4381-4396; Dear 1994, Biometrics 50:989-1002), giving a pooled survival curve
  with a confidence band and a pooled median. Its parts: :mod:`.weibull_points` (the fitted
  points and their covariance), :mod:`.mixed_model` (the random-intercept fit) and
  :mod:`.weibull_result` (`WeibullSynthesis`: curve, band, median, Fieller interval).
- `median_of_medians` (:mod:`.medians`, weighted quantiles in :mod:`.quantiles`) —
  (n-weighted) median of the series' medians with a sign-test interval (McGrath, Zhao, Qin,
  Steele & Benedetti 2019, Stat Med 38:969-984; R package metamedian).
- `one_stage_pooling` (:mod:`.one_stage`) — series reconstructed as individual patients
  (`livermet.evidence.ipd`) analysed as one cohort: Kaplan-Meier per series and pooled, Cox
  stratified by series when the files carry arms, RMST pooled with ``rma``, and each reported
  median checked against its own curve (docs/literature-ipd.md).

Series tables are those of `livermet.evidence.dataset` (``id``, ``n_table``, ``mst_months``,
``os1``, ``os3``, ``os5`` in percent; read by :mod:`.series`). The n used is the column ``n``
when present (added by `livermet.evidence.dataset.subset`), otherwise ``n_table``;
``n_column=`` overrides. Sampling variances assume binomial sampling without censoring before
t (the summary points carry no numbers at risk), so they are lower bounds.
"""

from .consistency import check_consistency
from .medians import MedianOfMedians, median_of_medians
from .one_stage import OneStageResult, median_verdict, one_stage_pooling, reconstructed_section
from .series import TIME_COLUMNS
from .time_points import pool_time_points
from .weibull import WeibullNotEstimable, weibull_synthesis
from .weibull_result import LOG_LOG_2, PooledCurve, WeibullSynthesis, weibull_curve

__all__ = [
    "LOG_LOG_2",
    "TIME_COLUMNS",
    "MedianOfMedians",
    "OneStageResult",
    "PooledCurve",
    "WeibullNotEstimable",
    "WeibullSynthesis",
    "check_consistency",
    "median_of_medians",
    "median_verdict",
    "one_stage_pooling",
    "pool_time_points",
    "reconstructed_section",
    "weibull_curve",
    "weibull_synthesis",
]
