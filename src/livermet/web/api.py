"""The JSON API under ``/api/v1``: cases, assessment, evidence pooling and cohort analyses.

Scripts authenticate with ``Authorization: Bearer <token>`` (tokens are made on the
administration page or by the registry); a signed-in browser session works too, with the
``X-CSRF-Token`` header on writes (:data:`livermet.web.deps.CurrentUser`). The registry applies
the same access rules as everywhere. Every route declares its response model
(:mod:`livermet.web.api_models`; the assessment's is
:class:`~livermet.case.assessment_model.AssessmentModel`) and the errors it can answer.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from livermet.analysis.cohort_report import COHORT_GROUPS, cohort_report
from livermet.analysis.summary import json_safe
from livermet.case.assess import assess
from livermet.case.assessment_model import AssessmentModel
from livermet.case.load import case_from_data
from livermet.errors import InputError
from livermet.evidence.dataset import load_literature
from livermet.evidence.glmm_pool import pool_outcome_glmm
from livermet.evidence.glmm_report import (
    NAGQ_MAX,
    check_model,
    choose_nagq,
    choose_optimizer,
    glmm_report,
)
from livermet.evidence.pooling import check_outcome, pool_outcome
from livermet.evidence.selection import series_with_own
from livermet.registry import StoredCase
from livermet.registry.case_service import MAX_ROWS
from livermet.web.api_models import (
    CaseList,
    CaseUpdate,
    CaseWrite,
    CohortAnswer,
    ErrorBody,
    GlmmPoolAnswer,
    Me,
    PoolAnswer,
    PoolRequest,
    SeriesList,
    StoredCaseAnswer,
    pool_answer_schema,
)
from livermet.web.deps import CurrentUser, RegistryDep

# JSONResponse: the answer is validated against the route's model, then written by json.dumps
# as before the models (FastAPI's own fast path writes some numbers differently: 1e-05 as
# 0.00001).

_ERRORS: dict[int, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No valid API token and no signed-in session"},
    403: {
        "model": ErrorBody,
        "description": "The role may not do this (or a browser write lacks X-CSRF-Token)",
    },
    404: {
        "model": ErrorBody,
        "description": "No such case, or one the user may not read (the same answer)",
    },
    409: {"model": ErrorBody, "description": "Someone saved first, or the case exists already"},
    422: {
        "model": ErrorBody,
        "description": "Invalid input: the field and the expected value are named",
    },
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI ``responses`` of the errors a route can answer (its status codes)."""
    return {code: _ERRORS[code] for code in codes}


SERIES_CSV = "series_csv"
"""The pool request's field of the posted series: the field of every error in its rows."""

_EXPECTED = {"nagq": f"a whole number from 1 (Laplace) to {NAGQ_MAX}"}
"""What a parameter takes, where pydantic's message does not say it."""


def _issue(issue: dict[str, Any]) -> tuple[str, str]:
    """Return the field (or parameter) of one validation issue and its message."""
    loc = [str(part) for part in issue.get("loc", ())]
    field = ".".join(loc[1:]) if len(loc) > 1 and loc[0] in {"body", "query"} else ".".join(loc)
    if issue.get("type") == "json_invalid":
        return "body", f"invalid JSON: {issue.get('msg', '')}"
    if issue.get("type") == "extra_forbidden":
        return field, f"unknown field {loc[-1]!r}"
    message = str(issue.get("msg", "invalid"))
    if field in _EXPECTED:
        message = f"{message}; expected {_EXPECTED[field]}"
    if "input" in issue and issue.get("type") != "missing":
        message = f"{message}, got {issue['input']!r}"[:300]
    return field or "body", message


def input_error_body(exc: RequestValidationError) -> dict[str, Any]:
    """Return FastAPI's validation failure in the API's error shape (`ErrorBody`).

    The first issue names the field; several issues are all listed in the message.
    """
    issues = [_issue(dict(e)) for e in exc.errors()] or [("body", "invalid request")]
    field, message = issues[0]
    if len(issues) > 1:
        message = "; ".join(f"{f}: {m}" for f, m in issues)
    return {"error": {"kind": "input", "message": message, "field": field}}


class InputErrorRoute(APIRoute):
    """A route whose request validation errors answer `ErrorBody` (422), not FastAPI's detail.

    The API's errors are ``{"error": {"kind", "message", "field"}}`` (README, "The API");
    FastAPI answers a parameter or body that fails validation with ``{"detail": [...]}``
    before the route runs. This route class catches that failure and answers the same thing
    in the API's shape.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Return the route's handler, answering a validation failure as an `ErrorBody`."""
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return JSONResponse(input_error_body(exc), status_code=422)

        return handle


router = APIRouter(
    prefix="/api/v1",
    tags=["livermet"],
    default_response_class=JSONResponse,
    route_class=InputErrorRoute,  # every route answers bad input in the API's error shape
)


def _stored(stored: StoredCase) -> dict[str, Any]:
    return {
        "case_id": stored.case_id,
        "site": stored.site,
        "version": stored.version,
        "synthetic": stored.synthetic,
        "created_at": stored.created_at.isoformat(),
        "updated_at": stored.updated_at.isoformat(),
        "created_by": stored.created_by,
        "updated_by": stored.updated_by,
        "case": stored.case.model_dump(mode="json", exclude_none=True),
    }


@router.get("/me", summary="The authenticated user", response_model=Me, responses=errors(401))
def me(user: CurrentUser) -> dict[str, Any]:
    """Return who the request acts as: user name, role and site."""
    return {"username": user.username, "role": user.role.value, "site": user.site}


@router.get(
    "/cases",
    summary="Cases the user may read (de-identified for a coordinator)",
    response_model=CaseList,
    responses=errors(401, 403, 404, 422),
)
def list_cases(
    reg: RegistryDep,
    site: Annotated[str | None, Query(max_length=64)] = None,
    include_synthetic: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ROWS)] = 0,
) -> dict[str, Any]:
    """Return one page of the cases the user may read, optionally of one site."""
    sites = [site] if site else None
    rows = reg.list_cases(
        sites=sites, include_synthetic=include_synthetic, limit=limit, offset=offset
    )
    return {"cases": [json_safe(vars(r)) for r in rows], "limit": limit, "offset": offset}


@router.post(
    "/cases",
    status_code=201,
    summary="Store a new case",
    response_model=StoredCaseAnswer,
    responses=errors(401, 403, 404, 409, 422),
)
def create_case(reg: RegistryDep, body: CaseWrite) -> dict[str, Any]:
    """Validate and store a new case; answer it as stored, with version 1."""
    case = case_from_data(body.case)
    return _stored(reg.create_case(case, hospital_number=body.hospital_number, site=body.site))


@router.get(
    "/cases/{case_id}",
    summary="One stored case with its version (a coordinator gives and gets the DEID- id)",
    response_model=StoredCaseAnswer,
    responses=errors(401, 403, 404, 422),
)
def get_case(reg: RegistryDep, case_id: str) -> dict[str, Any]:
    """Return one stored case with its version."""
    return _stored(reg.get_case(case_id))


@router.put(
    "/cases/{case_id}",
    summary="Replace a case (409 when someone saved first)",
    response_model=StoredCaseAnswer,
    responses=errors(401, 403, 404, 409, 422),
)
def update_case(reg: RegistryDep, case_id: str, body: CaseUpdate) -> dict[str, Any]:
    """Replace a stored case, based on the version it was read at."""
    case = case_from_data(body.case)
    return _stored(reg.update_case(case_id, case, body.version))


@router.get(
    "/cases/{case_id}/assessment",
    summary="Assessment of a stored case",
    response_model=AssessmentModel,
    responses=errors(401, 403, 404, 422),
)
def case_assessment(reg: RegistryDep, case_id: str) -> Response:
    """Assess a stored case (the JSON of ``livermet assess --format json``)."""
    # response_model documents the schema; the JSON is written directly (see assess_case).
    assessment = assess(reg.get_case(case_id).case)
    return Response(assessment.to_json(), media_type="application/json")


@router.post(
    "/assessments",
    summary="Assess a posted case (nothing is stored)",
    response_model=AssessmentModel,
    responses=errors(401, 403, 422),
)
async def assess_case(user: CurrentUser, case: dict[str, Any]) -> Response:
    """Assess a posted case document; nothing is stored."""
    # On the event loop, not the threadpool: ~1 ms of pure CPU, and a worker thread holding the
    # GIL made the loop wait for the switch interval at every socket read and write. The JSON is
    # written directly by the assessment's model, which validates it (response_model documents
    # the schema; FastAPI does not validate or encode a Response again).
    return Response(assess(case_from_data(case)).to_json(), media_type="application/json")


@router.get(
    "/evidence/series",
    summary="The literature's surgical series",
    response_model=SeriesList,
    responses=errors(401, 422),
)
def evidence_series(
    user: CurrentUser,
    include_added: Annotated[
        bool, Query(description="Also the published series added to Table 1")
    ] = False,
) -> dict[str, Any]:
    """Return the shipped literature table, one object per series (null where not reported)."""
    df = load_literature(include_added=include_added)
    return {"series": json_safe(df.astype(object).where(df.notna(), None).to_dict("records"))}


@router.post(
    "/evidence/pool",
    summary="Pooling of one survival outcome: random-effects (rma) or binomial-normal (glmm)",
    response_model=PoolAnswer | GlmmPoolAnswer,
    responses={
        200: {"content": {"application/json": {"schema": pool_answer_schema()}}},
        **errors(401, 403, 422),
    },
)
def evidence_pool(user: CurrentUser, body: PoolRequest) -> dict[str, Any]:
    """Pool one survival outcome of the literature's series and the posted ones.

    ``model`` = ``glmm`` answers the binomial-normal model (`GlmmPoolAnswer`); a ``measure``
    other than PLO or a ``method`` other than ML, when given, is refused with it. ``nagq``
    belongs to the GLMM: given with ``rma``, it is refused (as by the CLI; the web page, whose
    form keeps the field across submissions, ignores it with ``rma``);
    null or absent means not given (7 for the GLMM, as a blank field on the web page).
    A problem in ``series_csv`` (a `SeriesInputError`, kind ``seriesinput``, or an id of the
    literature) names the field ``series_csv``; its message names the row, CSV line and column.
    """
    given = body.model_fields_set
    model = check_model(
        body.model,
        body.measure if "measure" in given else None,
        body.method if "method" in given else None,
    )
    outcome = check_outcome(body.outcome)
    nagq = choose_nagq(model, body.nagq)  # null: not given (7 for the GLMM)
    optimizer = choose_optimizer(model, body.optimizer)
    try:  # the posted rows' problems name their row and column in the message
        df = series_with_own(body.series_csv, include_added=body.include_added, source=SERIES_CSV)
    except InputError as exc:
        exc.field = SERIES_CSV  # the request's field, not a column of the posted CSV
        raise
    result: dict[str, Any]
    if model == "glmm":
        glmm = pool_outcome_glmm(
            df, outcome, nagq=nagq, test=body.test, exclude=body.exclude, optimizer=optimizer
        )
        result = json_safe(glmm_report(glmm, df))
        return result
    pooled = pool_outcome(
        df,
        outcome,
        measure=body.measure,
        method=body.method,
        test=body.test,
        exclude=body.exclude,
    )
    result = json_safe(pooled.to_dict())
    return result


@router.get(
    "/cohort",
    summary="Cohort analyses of the registry: KM, Cox, cumulative incidence",
    response_model=CohortAnswer,
    response_model_exclude_unset=True,  # an analysis that could not run is absent, not null
    responses=errors(401, 403, 404, 422),
)
def cohort(
    reg: RegistryDep,
    by: Annotated[str, Query(description=f"one of {', '.join(COHORT_GROUPS)}")] = "approach",
    endpoint: Annotated[str, Query(description="os or efs")] = "os",
    covariates: Annotated[str, Query(max_length=200)] = "approach,age",
    include_synthetic: bool = False,
) -> dict[str, Any]:
    """Run the cohort analyses on the registry cases the user may read."""
    chosen = [c.strip() for c in covariates.split(",") if c.strip()]
    if not chosen:
        raise InputError("name at least one covariate", "covariates")
    result: dict[str, Any] = json_safe(cohort_report(reg, by, endpoint, include_synthetic, chosen))
    return result
