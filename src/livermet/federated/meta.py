"""Two-stage random-effects meta-analysis of per-site Cox estimates.

Each site fits its own Cox model (`livermet.analysis.CoxPH`) and sends, per term, the log
hazard ratio and its variance; the coordinator pools one term across sites with
`livermet.evidence.rma` (REML by default, as metafor's ``rma``). This is the DataSHIELD
``ds.coxph.SLMA`` design: an approximation of the pooled fit (the exact one is
`livermet.federated.cox`), kept for comparison and for sites that can only share estimates. A
site whose model cannot be fitted (no event, a factor with one level there) says why and is
left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd
from pydantic import Field

from livermet.analysis.cox import CoxPH
from livermet.errors import InputError
from livermet.evidence import RMAResult, rma
from livermet.federated._messages import Aggregate, Request, check_answers, request_id, used_rows

__all__ = ["MetaAggregate", "MetaRequest", "meta_central", "meta_site"]


class MetaRequest(Request):
    """Ask each site for its own Cox fit's coefficients and variances."""

    analysis: Literal["meta_cox"] = Field(default="meta_cox", description="Kind of request.")
    covariates: list[str] = Field(min_length=1, description="Covariate columns.")
    levels: dict[str, list[str]] = Field(default={}, description="Factor levels, reference first.")
    categorical: list[str] = Field(default=[], description="Numeric columns to treat as factors.")
    ties: Literal["efron", "breslow"] = Field(default="efron", description="Handling of ties.")


class MetaAggregate(Aggregate):
    """A site's Cox estimates: per term, the log hazard ratio and its variance (or why not).

    Reveals the site's number of patients and events and its fitted coefficients and their
    variances.
    """

    analysis: Literal["meta_cox"] = Field(default="meta_cox", description="Kind of aggregate.")
    events: int = Field(ge=0, description="Events among the site's patients used.")
    terms: list[str] = Field(default=[], description="Terms of the site's fit.")
    coef: list[float] = Field(default=[], description="Log hazard ratio per term.")
    variance: list[float] = Field(default=[], description="Variance of each log hazard ratio.")
    reason: str | None = Field(default=None, description="Why the site could not fit, or none.")


def meta_site(data: pd.DataFrame, request: MetaRequest) -> MetaAggregate:
    """Fit the site's own Cox model and return its coefficients and variances."""
    rows = used_rows(data, [request.time, request.event, *request.covariates], request.dropna)
    events = int(pd.to_numeric(data[request.event][rows], errors="coerce").fillna(0).sum())
    base = {"request_id": request_id(request), "n": int(rows.sum()), "events": events}
    try:
        fit = CoxPH(ties=request.ties).fit(
            data[rows],
            request.time,
            request.event,
            request.covariates,
            levels=request.levels or None,
            categorical=request.categorical,
        )
    except InputError as error:
        return MetaAggregate(reason=str(error), **base)
    return MetaAggregate(
        terms=fit.terms_,
        coef=fit.coef_.tolist(),
        variance=(fit.se_**2).tolist(),
        **base,
    )


def meta_central(
    request: MetaRequest,
    aggregates: Sequence[MetaAggregate],
    term: str,
    *,
    method: str = "REML",
    test: str = "z",
) -> RMAResult:
    """Pool one term's log hazard ratio across the sites that estimated it (``rma``)."""
    check_answers(request, aggregates)
    pairs = [
        (a.coef[a.terms.index(term)], a.variance[a.terms.index(term)])
        for a in aggregates
        if term in a.terms
    ]
    if len(pairs) < 2:
        raise InputError(f"fewer than two sites estimated {term!r}; nothing to pool", "term")
    return rma([y for y, _ in pairs], [v for _, v in pairs], method=method, test=test)
