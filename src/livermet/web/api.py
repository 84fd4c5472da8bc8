"""The JSON API under ``/api/v1``: cases, assessment, evidence pooling and cohort analyses.

Scripts authenticate with ``Authorization: Bearer <token>`` (tokens are made on the
administration page or by the registry); a signed-in browser session works too, with the
``X-CSRF-Token`` header on writes. The registry applies the same access rules as everywhere.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from livermet.analysis.cohort_report import COHORT_GROUPS, cohort_report
from livermet.analysis.summary import json_safe
from livermet.case.assess import assess
from livermet.case.assessment_model import AssessmentModel
from livermet.case.load import case_from_data
from livermet.errors import ForbiddenError, InputError
from livermet.evidence.dataset import load_literature, with_own_series
from livermet.registry import Registry, StoredCase, User
from livermet.registry.service import MAX_ROWS
from livermet.web.deps import database, session_user
from livermet.web.security import CSRF_KEY

bearer = HTTPBearer(auto_error=False, description="An API token of a registry user")
router = APIRouter(prefix="/api/v1", tags=["livermet"])


class Unauthenticated(Exception):
    """No valid token and no signed-in session."""


async def api_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The user a request acts as: its bearer token's, or its browser session's.

    Runs on the event loop: the token check is one indexed query (~0.1 ms), cheaper than a
    hop to the threadpool and back.
    """
    if credentials is not None:
        try:
            return database(request).authenticate_token(credentials.credentials)
        except ForbiddenError:
            raise Unauthenticated from None
    user = session_user(request)
    if user is None:
        raise Unauthenticated
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        expected = request.session.get(CSRF_KEY)
        sent = request.headers.get("x-csrf-token", "")
        if not (isinstance(expected, str) and secrets.compare_digest(expected, sent)):
            raise ForbiddenError("a write from a browser session needs X-CSRF-Token", "csrf")
    return user


UserDep = Annotated[User, Depends(api_user)]


class ErrorDetail(BaseModel):
    kind: str = Field(description="input, conflict, notfound, forbidden or unauthenticated")
    message: str
    field: str | None = Field(default=None, description="the field or parameter concerned")


class ErrorBody(BaseModel):
    """The body of every error the API answers itself."""

    error: ErrorDetail


class RequestIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class RequestInvalid(BaseModel):
    """FastAPI's answer to a request that does not match the route's parameters or body."""

    detail: list[RequestIssue]


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
        "model": ErrorBody | RequestInvalid,
        "description": "Invalid input: the field and the expected value are named",
    },
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of the errors a route can answer (its status codes)."""
    return {code: _ERRORS[code] for code in codes}


def _registry(request: Request, user: User) -> Registry:
    return database(request).registry(user)


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
    """Pooling of one survival outcome of the series (the literature plus your own CSV rows)."""

    outcome: str = Field(default="os5", description="os1, os3 or os5")
    measure: str = Field(default="PLO", description="PLO, PR, PLN, PAS or PFT")
    method: str = Field(default="REML", description="tau² estimator")
    test: str = Field(default="z", description="z, knha or t")
    exclude: list[str] = Field(default_factory=list, max_length=100)
    series_csv: str | None = Field(
        default=None, max_length=100_000, description="Extra series, CSV in the dataset's columns"
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


@router.get("/me", summary="The authenticated user", responses=errors(401))
def me(user: UserDep) -> dict[str, Any]:
    return {"username": user.username, "role": user.role.value, "site": user.site}


@router.get(
    "/cases",
    summary="Cases the user may read (de-identified for a coordinator)",
    responses=errors(401, 403, 404, 422),
)
def list_cases(
    request: Request,
    user: UserDep,
    site: Annotated[str | None, Query(max_length=64)] = None,
    include_synthetic: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ROWS)] = 0,
) -> dict[str, Any]:
    reg = _registry(request, user)
    sites = [site] if site else None
    rows = reg.list_cases(
        sites=sites, include_synthetic=include_synthetic, limit=limit, offset=offset
    )
    return {"cases": [json_safe(vars(r)) for r in rows], "limit": limit, "offset": offset}


@router.post(
    "/cases",
    status_code=201,
    summary="Store a new case",
    responses=errors(401, 403, 404, 409, 422),
)
def create_case(request: Request, user: UserDep, body: CaseWrite) -> dict[str, Any]:
    case = case_from_data(body.case)
    stored = _registry(request, user).create_case(
        case, hospital_number=body.hospital_number, site=body.site
    )
    return _stored(stored)


@router.get(
    "/cases/{case_id}",
    summary="One stored case with its version (a coordinator gives and gets the DEID- id)",
    responses=errors(401, 403, 404, 422),
)
def get_case(request: Request, user: UserDep, case_id: str) -> dict[str, Any]:
    return _stored(_registry(request, user).get_case(case_id))


@router.put(
    "/cases/{case_id}",
    summary="Replace a case (409 when someone saved first)",
    responses=errors(401, 403, 404, 409, 422),
)
def update_case(request: Request, user: UserDep, case_id: str, body: CaseUpdate) -> dict[str, Any]:
    case = case_from_data(body.case)
    return _stored(_registry(request, user).update_case(case_id, case, body.version))


@router.get(
    "/cases/{case_id}/assessment",
    summary="Assessment of a stored case",
    response_model=AssessmentModel,
    responses=errors(401, 403, 404, 422),
)
def case_assessment(request: Request, user: UserDep, case_id: str) -> Response:
    # response_model documents the schema; the JSON is written directly (see assess_case).
    assessment = assess(_registry(request, user).get_case(case_id).case)
    return Response(assessment.to_json(), media_type="application/json")


@router.post(
    "/assessments",
    summary="Assess a posted case (nothing is stored)",
    response_model=AssessmentModel,
    responses=errors(401, 403, 422),
)
async def assess_case(user: UserDep, case: dict[str, Any]) -> Response:
    # On the event loop, not the threadpool: ~1 ms of pure CPU, and a worker thread holding the
    # GIL made the loop wait for the switch interval at every socket read and write. The JSON is
    # written directly by the assessment's model, which validates it (response_model documents
    # the schema; FastAPI does not validate or encode a Response again).
    return Response(assess(case_from_data(case)).to_json(), media_type="application/json")


@router.get(
    "/evidence/series", summary="The literature's surgical series", responses=errors(401, 422)
)
def evidence_series(user: UserDep) -> dict[str, Any]:
    df = load_literature()
    return {"series": json_safe(df.astype(object).where(df.notna(), None).to_dict("records"))}


@router.post(
    "/evidence/pool",
    summary="Random-effects pooling of one survival outcome",
    responses=errors(401, 403, 422),
)
def evidence_pool(user: UserDep, body: PoolRequest) -> dict[str, Any]:
    from livermet.evidence.pooling import pool_outcome

    df = with_own_series(body.series_csv)
    pooled = pool_outcome(
        df,
        body.outcome,
        measure=body.measure,
        method=body.method,
        test=body.test,
        exclude=body.exclude,
    )
    result: dict[str, Any] = json_safe(pooled.to_dict())
    return result


@router.get(
    "/cohort",
    summary="Cohort analyses of the registry: KM, Cox, cumulative incidence",
    responses=errors(401, 403, 404, 422),
)
def cohort(
    request: Request,
    user: UserDep,
    by: Annotated[str, Query(description=f"one of {', '.join(COHORT_GROUPS)}")] = "approach",
    endpoint: Annotated[str, Query(description="os or efs")] = "os",
    covariates: Annotated[str, Query(max_length=200)] = "approach,age",
    include_synthetic: bool = False,
) -> dict[str, Any]:
    chosen = [c.strip() for c in covariates.split(",") if c.strip()]
    if not chosen:
        raise InputError("name at least one covariate", "covariates")
    reg = _registry(request, user)
    report = cohort_report(reg, by, endpoint, include_synthetic, chosen)
    result: dict[str, Any] = json_safe(report)
    return result
