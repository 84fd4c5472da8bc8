"""The site side of every federated analysis: one entry point, `respond`.

A site runs `respond` on its own cohort table (one row per patient, as `livermet.analysis`
takes it) and the coordinator's request; the answer is an aggregate that contains no patient
record, only the sums listed in its model's documentation.
"""

from __future__ import annotations

import pandas as pd

from livermet.errors import InputError
from livermet.federated._messages import Aggregate, Message
from livermet.federated.cox import CoxRequest, cox_site
from livermet.federated.cuminc import CumincRequest, cuminc_site
from livermet.federated.meta import MetaRequest, meta_site
from livermet.federated.survival import (
    LogRankStrataRequest,
    SurvivalRequest,
    logrank_strata_site,
    survival_site,
)

__all__ = ["respond"]


def respond(data: pd.DataFrame, request: Message) -> Aggregate:
    """Return the site's aggregate answering ``request`` (any federated request).

    Raises
    ------
    InputError
        An unknown kind of request, a column the site lacks, a bad value (naming the column and
        row, as the pooled analysis does) or a site with no patient to analyse.
    """
    if isinstance(request, SurvivalRequest):
        return survival_site(data, request)
    if isinstance(request, LogRankStrataRequest):
        return logrank_strata_site(data, request)
    if isinstance(request, CumincRequest):
        return cuminc_site(data, request)
    if isinstance(request, CoxRequest):
        return cox_site(data, request)
    if isinstance(request, MetaRequest):
        return meta_site(data, request)
    raise InputError(f"unknown kind of request {type(request).__name__}", "analysis")
