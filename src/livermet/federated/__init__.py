"""Federated cohort analysis: exact survival statistics across sites without patient records.

Every analysis of `livermet.analysis` decomposes into sums over sites (design:
``spec/federated.md``). Each analysis here is a pair of pure functions: a site part (the site's
cohort table and a request → an aggregate, a versioned, JSON-serialisable pydantic model whose
every field is documented) and a central part (the aggregates → the very result objects the
pooled analysis returns, computed by the same estimator code, so the R parity tests of
`livermet.analysis` cover both):

- Kaplan-Meier overall and by group, RMST, log-rank (`.survival`): tables of events and
  censorings per distinct time; the log-rank test stratified by site from (O, E, V) per group;
- Aalen-Johansen cumulative incidence with competing risks (`.cuminc`);
- Cox regression with Efron ties, common baseline or stratified by site (`.cox`), an iterative
  protocol: ``request = central.start()``, ``aggregates = [respond(data, request) ...]``,
  ``request_or_fit = central.step(aggregates)``, one round trip per likelihood evaluation;
- two-stage random-effects meta-analysis of per-site Cox estimates (`.meta`, with `rma`).

`respond` (`.site`) answers any request at a site. The offline exchange of files
(``livermet federated request | partial | combine``, docs/federated.md#file-exchange) is built
on these: the file formats (`.exchange`), the site and coordinator steps (`.offline`) and the
disclosure rules (`.disclosure`).
"""

from livermet.federated._messages import FORMAT_VERSION, Aggregate, Request, request_id
from livermet.federated.cox import CoxAggregate, CoxCentral, CoxRequest, cox_site
from livermet.federated.cuminc import (
    CumincAggregate,
    CumincRequest,
    cuminc_site,
    cumulative_incidence_central,
)
from livermet.federated.meta import MetaAggregate, MetaRequest, meta_central, meta_site
from livermet.federated.site import respond
from livermet.federated.survival import (
    LogRankStrataAggregate,
    LogRankStrataRequest,
    SurvivalAggregate,
    SurvivalRequest,
    kaplan_meier_by_group_central,
    kaplan_meier_central,
    logrank_central,
    logrank_strata_central,
    logrank_strata_site,
    restricted_mean_central,
    survival_site,
)

__all__ = [
    "FORMAT_VERSION",
    "Aggregate",
    "CoxAggregate",
    "CoxCentral",
    "CoxRequest",
    "CumincAggregate",
    "CumincRequest",
    "LogRankStrataAggregate",
    "LogRankStrataRequest",
    "MetaAggregate",
    "MetaRequest",
    "Request",
    "SurvivalAggregate",
    "SurvivalRequest",
    "cox_site",
    "cuminc_site",
    "cumulative_incidence_central",
    "kaplan_meier_by_group_central",
    "kaplan_meier_central",
    "logrank_central",
    "logrank_strata_central",
    "logrank_strata_site",
    "meta_central",
    "meta_site",
    "request_id",
    "respond",
    "restricted_mean_central",
    "survival_site",
]
