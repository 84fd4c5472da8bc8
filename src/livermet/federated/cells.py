"""The cells of a federated result, and the minimum cell rule applied to them.

A *cell* is a count the coordinator learns, totalled over all sites: the patients and the
events of the cohort, of a group, of an event type or of a factor level. The minimum cell rule
(`livermet.federated.disclosure.check_cells`, docs/federated.md#disclosure-control) refuses a
result one of whose cells totals fewer than the minimum. The functions here say which cells each
analysis has, from the central result (or, for Cox, from the coordinator's state), so that the
three ways to run an analysis (file exchange, Flower, vantage6) apply the same rule:

- `km_cells`: Kaplan-Meier, overall and by group (patients and events of each);
- `logrank_cells`: a log-rank test, pooled or stratified by site (patients and events per
  group);
- `cuminc_cells`: cumulative incidence (patients; first events of each type);
- `meta_cells`: the two-stage meta-analysis (patients and events of all sites);
- `cox_describe_cells`, `cox_level_cells`: Cox regression (patients and events once the sites
  have described themselves; patients with each factor level at the first evaluation, from
  the sums of the terms);
- `cox_step`: one round of a Cox fit with the rule applied when its cells become known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from livermet.analysis.cox import CoxPH
from livermet.analysis.cuminc import CumulativeIncidence
from livermet.analysis.design import factor_terms
from livermet.analysis.km import KaplanMeier
from livermet.analysis.logrank import LogRankResult
from livermet.errors import InputError
from livermet.federated.cox import CoxAggregate, CoxCentral, CoxRequest
from livermet.federated.disclosure import LOWER_MIN_CELL, check_cells
from livermet.federated.meta import MetaAggregate

__all__ = [
    "Cells",
    "cox_describe_cells",
    "cox_level_cells",
    "cox_step",
    "cuminc_cells",
    "km_cells",
    "logrank_cells",
    "meta_cells",
]

Cells = dict[str, float]
"""Description of each cell (``"patients with approach = open"``) -> its total over all sites."""


def km_cells(
    overall: KaplanMeier, groups: Mapping[str, KaplanMeier] | None = None, by: str | None = None
) -> Cells:
    """Return the cells of a Kaplan-Meier result: patients and events, overall and per group.

    Parameters
    ----------
    overall : KaplanMeier
        The curve of all patients.
    groups : mapping, optional
        Group label -> its curve (with ``by``, the grouping column, for the descriptions).
    by : str, optional
        The grouping column.
    """
    cells: Cells = {"patients": float(overall.n_), "events": float(overall.events_)}
    for name, curve in (groups or {}).items():
        cells[f"patients with {by} = {name}"] = float(curve.n_)
        cells[f"events with {by} = {name}"] = float(curve.events_)
    return cells


def logrank_cells(test: LogRankResult, by: str | None) -> Cells:
    """Return the cells of a log-rank test: the patients and the observed events of each group.

    The same for the pooled test and the test stratified by site (the strata add nothing the
    coordinator learns per cell).
    """
    cells: Cells = {}
    for name, n, observed in zip(test.groups, test.n, test.observed, strict=True):
        cells[f"patients with {by} = {name}"] = float(n)
        cells[f"events with {by} = {name}"] = float(observed)
    return cells


def cuminc_cells(fit: CumulativeIncidence) -> Cells:
    """Return the cells of a cumulative incidence fit: patients, and first events of each type."""
    cells: Cells = {"patients": float(fit.n_)}
    for i, state in enumerate(fit.states_[1:]):
        cells[f"first events {state}"] = float(fit.n_event_[:, i].sum())
    return cells


def meta_cells(aggregates: Sequence[MetaAggregate]) -> Cells:
    """Return the cells of a two-stage meta-analysis: the patients and events of all sites."""
    return {
        "patients": float(sum(a.n for a in aggregates)),
        "events": float(sum(a.events for a in aggregates)),
    }


def cox_describe_cells(central: CoxCentral) -> Cells:
    """Return the patients and events of a Cox fit, known once the describe round is taken."""
    return {"patients": float(central.n), "events": float(central.events)}


def cox_level_cells(
    central: CoxCentral, request: CoxRequest, aggregates: Sequence[CoxAggregate]
) -> Cells:
    """Return the patients with each level of each factor, from the first evaluation's answers.

    The sum of a factor's indicator term over all sites is the number of its patients with
    that level; the reference level has the others' complement.

    Parameters
    ----------
    central : CoxCentral
        The coordinator, after the describe round (its terms and number of patients known).
    request : CoxRequest
        The first evaluate request (its ``levels``: every factor's levels, reference first).
    aggregates : sequence of CoxAggregate
        Every site's answer to it (with the ``moments`` of the terms).

    Raises
    ------
    InputError
        An answer without the moments of the terms.
    """
    moments = [a.moments for a in aggregates if a.moments is not None]
    if len(moments) != len(aggregates):
        raise InputError("an aggregate lacks the moments of the terms", "moments")
    sums = np.sum([m.sum_x for m in moments], axis=0)
    cells: Cells = {}
    for name, levels in request.levels.items():
        index = [central.terms.index(t) for t in factor_terms(name, levels)]
        counts = [float(sums[i]) for i in index]
        cells[f"patients with {name} = {levels[0]}"] = central.n - sum(counts)
        for level, count in zip(levels[1:], counts, strict=True):
            cells[f"patients with {name} = {level}"] = count
    return cells


def cox_step(
    central: CoxCentral,
    request: CoxRequest,
    aggregates: Sequence[CoxAggregate],
    minimum: int,
    lower_with: str = LOWER_MIN_CELL,
) -> CoxRequest | CoxPH:
    """Take one round's answers of a Cox fit, refusing it when a cell becomes known too small.

    At the first evaluation (β = 0) the patients of each factor level are checked before the
    fit goes on; after the describe round, the patients and events.

    Parameters
    ----------
    central : CoxCentral
        The coordinator of the fit.
    request : CoxRequest
        The request the sites answered (``central``'s current one).
    aggregates : sequence of CoxAggregate
        Every site's answer.
    minimum : int
        The minimum cell count (0 or 1: no rule).
    lower_with : str
        How the consortium lowers the minimum (for the refusal's message).

    Raises
    ------
    Refusal
        A cell below the minimum (field ``min_cell``).
    """
    if request.phase == "evaluate" and request.centre is None:
        check_cells(cox_level_cells(central, request, aggregates), minimum, lower_with)
    out = central.step(aggregates)
    if request.phase == "describe":
        check_cells(cox_describe_cells(central), minimum, lower_with)
    return out
