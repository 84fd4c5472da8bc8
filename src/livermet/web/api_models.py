"""The JSON API's request and response bodies, as pydantic models (its OpenAPI schemas).

Each response model names every key its route answers, in the order the route writes them, so
that ``/api/v1/openapi.json`` documents the answers and FastAPI checks each answer against its
model. Objects accept keys a model does not name (``extra="allow"``: a key added by a newer
analysis is passed on, not dropped); ``tests/web/test_openapi.py`` requires every key to be
named. The assessment itself is :class:`livermet.case.assessment_model.AssessmentModel`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from livermet.analysis.cohort_report import COHORT_GROUPS
from livermet.evidence.glmm import NAGQ_DEFAULT
from livermet.evidence.glmm_report import NAGQ_MAX
from livermet.evidence.pooling import MEASURES, METHODS, OUTCOMES, TESTS
from livermet.registry import Role

Number = int | float
"""A number as the analysis wrote it (an integer stays an integer)."""


class _Answer(BaseModel):
    """Base of the response models: unnamed keys are passed on unchanged."""

    model_config = ConfigDict(extra="allow")


# --- errors ------------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    """What went wrong, and the field or parameter concerned."""

    kind: str = Field(description="input, conflict, notfound, forbidden or unauthenticated")
    message: str
    field: str | None = Field(default=None, description="the field or parameter concerned")


class ErrorBody(BaseModel):
    """The body of every error the API answers itself."""

    error: ErrorDetail


# --- requests ----------------------------------------------------------------------------------


class CaseWrite(BaseModel):
    """A new case: the case document, and optionally the hospital number and site."""

    case: dict[str, Any] = Field(description="A case document (the case file's fields)")
    hospital_number: str | None = Field(
        default=None,
        max_length=100,
        description="Pseudonymised with the site's secret, never stored",
    )
    site: str | None = Field(default=None, max_length=64)


class CaseUpdate(BaseModel):
    """An edit of a stored case, based on the version it was read at (optimistic lock)."""

    case: dict[str, Any]
    version: int = Field(ge=1)


class PoolRequest(BaseModel):
    """Pooling of one survival outcome of the series (the literature plus your own CSV rows).

    A key it does not name is refused (422 naming the key), not ignored: a misspelt option
    (``with_added_series`` for ``include_added``) must not pool silently without it.
    """

    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(default="os5", description=f"{', '.join(OUTCOMES)} (any case)")
    measure: str = Field(default="PLO", description=", ".join(MEASURES))
    method: str = Field(default="REML", description=f"tau² estimator: {', '.join(METHODS)}")
    test: str = Field(default="z", description=", ".join(TESTS))
    exclude: list[str] = Field(default_factory=list, max_length=100)
    series_csv: str | None = Field(
        default=None, max_length=100_000, description="Extra series, CSV in the dataset's columns"
    )
    model: str = Field(
        default="rma",
        description="rma: the normal-normal model on S·n (default); glmm: the binomial-normal "
        "model (metafor rma.glmm, PLO, ML) on survivors rounded to whole patients",
    )
    nagq: int | None = Field(
        default=None,
        strict=True,  # a whole number: true is not 1, 7.0 and "7" are not 7
        ge=1,
        le=NAGQ_MAX,
        description=f"glmm only (refused with rma): quadrature points, 1 to {NAGQ_MAX}; "
        f"null or absent: {NAGQ_DEFAULT}, metafor's default; 1 = Laplace",
    )
    include_added: bool = Field(
        default=False, description="Also pool the published series added to Table 1"
    )
    optimizer: str | None = Field(
        default=None,
        description="glmm only (refused with rma): metafor (null or absent: glmer's default "
        "optimisers, metafor's numbers) or converged (the maximum of the likelihood; differs by "
        "a few 1e-6)",
    )


# --- responses ---------------------------------------------------------------------------------


class Me(_Answer):
    """The user a request acts as."""

    username: str
    role: Role
    site: str | None = Field(description="the user's site; None for a registry-wide role")


class CaseRow(_Answer):
    """One line of a case listing: the derived columns of a stored case, no document."""

    case_id: str = Field(description="a coordinator sees the de-identified DEID- id")
    site: str
    version: int
    synthetic: bool
    age_years: int | None
    sex: str | None
    histology: str
    approach: str | None
    timing: str | None
    grade: int | None = Field(description="FNCLCC grade")
    stage: str | None = Field(description="AJCC 8 / FIGO stage at diagnosis")
    os_months: Number | None = Field(description="overall survival time (months)")
    death: bool
    first_event: str | None


class CaseList(_Answer):
    """A page of the cases the user may read."""

    cases: list[CaseRow]
    limit: int
    offset: int


class StoredCaseAnswer(_Answer):
    """A stored case with its version (the optimistic lock of an edit) and who wrote it."""

    case_id: str
    site: str
    version: int = Field(description="send it back with an edit (PUT)")
    synthetic: bool
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})
    created_by: str
    updated_by: str
    case: dict[str, Any] = Field(description="the case document, without empty fields")


class SeriesRow(_Answer):
    """One published surgical series (the shipped literature table; null where not reported)."""

    id: str
    seed_table_ref: int | None
    first_author: str | None
    year: int | None
    journal: str | None
    doi: str | None
    pmid: int | None
    period: str | None
    population: str | None
    n_table: int | None = Field(description="patients, as in the table")
    n_source: int | None = Field(description="patients, as in the source")
    mst_months: Number | None = Field(description="median survival time (months)")
    os1: Number | None = Field(description="1-year overall survival (%)")
    os3: Number | None = Field(description="3-year overall survival (%)")
    os5: Number | None = Field(description="5-year overall survival (%)")
    approach: str | None
    identification: str | None
    note: str | None
    source_set: str | None = Field(
        default=None, description="table1 (the case report's Table 1) or added"
    )


class SeriesList(_Answer):
    """The literature's surgical series."""

    series: list[SeriesRow]


class PooledSeries(_Answer):
    """One series in a pooling: its size, proportion and weight."""

    id: str
    n: Number
    proportion: Number
    weight_percent: Number


class _PooledOutcome(_Answer):
    """What every pooling of one survival outcome answers, whichever the model."""

    outcome: str
    months: int
    measure: str
    method: str
    test: str
    k: int = Field(description="series pooled")
    estimate: Number | None = Field(description="pooled proportion")
    ci_lb: Number | None
    ci_ub: Number | None
    pi_lb: Number | None = Field(description="prediction interval")
    pi_ub: Number | None
    tau2: Number | None
    i2: Number | None = Field(description="I² (%)")
    h2: Number | None


class PoolAnswer(_PooledOutcome):
    """A random-effects (or equal-effects) pooling of one survival outcome."""

    tau2_ci: list[Number | None] | None
    qe: Number | None = Field(description="Cochran's Q")
    qe_p: Number | None
    series: list[PooledSeries]
    flagged: list[dict[str, str]] = Field(description="series flagged by the consistency check")
    excluded: list[str]


class SeriesCounts(_Answer):
    """One series in a binomial-normal pooling: patients and survivors at the time point."""

    id: str
    n: int = Field(description="patients")
    survivors: int = Field(description="survivors at the time point, round(S·n)")
    survivors_unrounded: Number = Field(description="S·n before rounding")
    label: str = Field(description="author and year")


class RoundedSeries(_Answer):
    """A series whose survivors S·n were rounded to whole patients."""

    id: str
    survivors_unrounded: Number = Field(description="S·n before rounding")
    survivors: int = Field(description="round(S·n)")
    label: str


class FlaggedSeries(_Answer):
    """A series flagged by the consistency check of its summary figures."""

    id: str
    reason: str
    label: str


class HeterogeneityTest(_Answer):
    """A test of tau² = 0 (metafor's QE.Wld or QE.LRT)."""

    statistic: Number | None
    df: int
    p: Number | None


class GlmmCoefficient(_Answer):
    """One coefficient of the GLMM (logit scale)."""

    name: str
    estimate: Number | None
    se: Number | None
    zval: Number | None
    pval: Number | None
    ci_lb: Number | None
    ci_ub: Number | None


class PooledInterval(_Answer):
    """A pooled value with its confidence and prediction intervals."""

    estimate: Number | None
    ci_lb: Number | None
    ci_ub: Number | None
    pi_lb: Number | None
    pi_ub: Number | None


WARNINGS_TEXT = (
    "what the fit warned about, empty if nothing: e.g. metafor cannot fit these data with its "
    "defaults (optimizer is then converged), or lme4's Hessian is not positive definite"
)
"""The ``warnings`` of a GLMM answer (`livermet.evidence.glmm.GLMMResult.warnings`)."""


class GlmmFit(_Answer):
    """The binomial-normal model's fit, as ``livermet.evidence.glmm.GLMMResult.to_dict``."""

    model: str
    measure: str
    nagq: int
    approximation: str
    test: str
    level: Number
    k: int
    coefficients: list[GlmmCoefficient]
    tau2: Number | None
    i2: Number | None
    h2: Number | None
    qe_wld: Number | None
    qe_wld_p: Number | None
    qe_lrt: Number | None
    qe_lrt_p: Number | None
    qe_df: int
    qm: Number | None
    qm_p: Number | None
    loglik: Number | None
    loglik_metafor: Number | None
    converged: bool
    optimizer: str = Field(description="metafor (glmer's default path) or converged")
    warnings: list[str] = Field(description=WARNINGS_TEXT)
    pooled_logit: PooledInterval
    pooled_proportion: PooledInterval


class GlmmPoolAnswer(_PooledOutcome):
    """A binomial-normal (GLMM) pooling of one survival outcome (``model`` = ``glmm``).

    Survivors are S·n rounded to whole patients (``survivors_note``); ``rounded`` lists the series
    whose S·n was not whole.
    """

    model: str = Field(description="glmm")
    measure: str = Field(description="PLO")
    method: str = Field(description="ML")
    nagq: int = Field(description="quadrature points (1 = Laplace)")
    optimizer: str = Field(description="metafor (glmer's default path) or converged")
    warnings: list[str] = Field(description=WARNINGS_TEXT)
    qe_wld: Number | None = Field(description="Wald test of heterogeneity")
    qe_wld_p: Number | None
    qe_lrt: Number | None = Field(description="likelihood-ratio test of heterogeneity")
    qe_lrt_p: Number | None
    qe_df: int
    fit: GlmmFit
    survivors_note: str = Field(description="how the survivors were made whole patients")
    rounded: list[RoundedSeries]
    series: list[SeriesCounts]
    flagged: list[FlaggedSeries]
    excluded: list[str]
    approximation: str = Field(description="Laplace or adaptive Gauss-Hermite")
    wald: HeterogeneityTest
    lrt: HeterogeneityTest
    converged: bool


POOL_COMMON = ("outcome", "months", "measure", "method", "test", "k", "estimate")
"""The keys every pooling answer has, whichever the model (`pool_answer_schema`)."""


def pool_answer_schema() -> dict[str, Any]:
    """Return what every pooling answer is, whichever the model: an object with `POOL_COMMON`.

    Added to the OpenAPI schema of ``POST /evidence/pool`` beside the union of `PoolAnswer`
    and `GlmmPoolAnswer`, so that the answer is documented as an object with named keys.
    """
    properties = PoolAnswer.model_json_schema()["properties"]
    return {
        "type": "object",
        "properties": {key: properties[key] for key in POOL_COMMON},
        "required": list(POOL_COMMON),
    }


class CohortAnswer(_Answer):
    """The cohort analyses of the registry cases the user may read.

    Kaplan-Meier by a group with the log-rank test, a Cox model and the cumulative incidence of
    first events; an analysis that could not run is absent and its message is under ``errors``.
    """

    n: int = Field(description="cases in the cohort table")
    errors: dict[str, str] = Field(description="analysis (km, cox, cuminc) -> message")
    synthetic: str | None = Field(description="how many of the cases are synthetic, or None")
    km: dict[str, Any] | None = Field(
        default=None, description=f"Kaplan-Meier by one of {', '.join(COHORT_GROUPS)}"
    )
    cox: dict[str, Any] | None = Field(default=None, description="Cox proportional hazards")
    cuminc: dict[str, Any] | None = Field(
        default=None, description="cumulative incidence of first events (Aalen-Johansen)"
    )
