"""Pool one survival outcome of the surgical series: the tumour board's "one honest number".

``pool_outcome`` picks the series that report the outcome, turns their survival percentages into
proportions (events = S·n, not rounded), fits a random-effects model with ``rma`` and
back-transforms the pooled estimate, its confidence interval and its prediction interval. Series
whose median contradicts their own survival proportions are flagged with the reason
(``survival.check_consistency``); they stay in the pooling of S(t) because it is their median, not
their proportion, that is in doubt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from livermet.errors import InputError
from livermet.evidence.dataset import resolve_n
from livermet.evidence.escalc import escalc
from livermet.evidence.rma import RMAResult, rma
from livermet.evidence.survival import check_consistency

OUTCOMES = {"os1": 12, "os3": 36, "os5": 60}
"""Survival columns of the dataset and their time in months."""

MEASURES = ("PLO", "PR", "PLN", "PAS", "PFT")
METHODS = ("EE", "FE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM")
TESTS = ("z", "knha", "t")


@dataclass
class PooledOutcome:
    """A pooled survival proportion with its fit and the series it rests on."""

    outcome: str
    months: int
    fit: RMAResult
    ids: list[str]
    n: list[float]
    proportions: list[float]
    estimate: float
    ci: tuple[float, float]
    pi: tuple[float, float]
    tau2_ci: tuple[float, float] | None
    flagged: list[dict[str, str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the pooled result as JSON-ready values."""
        fit = self.fit
        return {
            "outcome": self.outcome,
            "months": self.months,
            "measure": fit.measure,
            "method": fit.method,
            "test": fit.test,
            "k": fit.k,
            "estimate": self.estimate,
            "ci_lb": self.ci[0],
            "ci_ub": self.ci[1],
            "pi_lb": self.pi[0],
            "pi_ub": self.pi[1],
            "tau2": fit.tau2,
            "tau2_ci": None if self.tau2_ci is None else list(self.tau2_ci),
            "i2": fit.i2,
            "h2": fit.h2,
            "qe": fit.qe,
            "qe_p": fit.qe_p,
            "series": [
                {"id": i, "n": n, "proportion": p, "weight_percent": float(w)}
                for i, n, p, w in zip(self.ids, self.n, self.proportions, fit.weights, strict=True)
            ],
            "flagged": self.flagged,
            "excluded": self.excluded,
        }


def _choice(value: str, allowed: Sequence[str], name: str) -> str:
    match = {a.upper(): a for a in allowed}.get(value.upper())
    if match is None:
        raise InputError(f"{value!r} is not one of {', '.join(allowed)}", name)
    return match


def check_outcome(outcome: str) -> str:
    """Return the survival outcome in lower case (``OS5`` is ``os5``), as the models name it.

    Raises
    ------
    InputError
        field ``outcome``: not one of ``os1``, ``os3``, ``os5`` (any case).
    """
    name = str(outcome).strip().lower()
    if name not in OUTCOMES:
        raise InputError(f"{outcome!r} is not one of {', '.join(OUTCOMES)}", "outcome")
    return name


def select_outcome(
    df: pd.DataFrame, outcome: str, exclude: Sequence[str], n_column: str
) -> tuple[pd.DataFrame, pd.DataFrame, npt.NDArray[np.float64]]:
    """Return the series kept after ``exclude``, those reporting ``outcome``, and their n.

    Raises
    ------
    InputError
        for an excluded id that is not in the data (field ``exclude``) or fewer than two series
        reporting the outcome (field ``outcome``).
    """
    unknown = sorted(set(exclude) - set(df["id"].astype(str)))
    if unknown:
        raise InputError(f"no series with id {', '.join(unknown)}", "exclude")
    kept = df[~df["id"].astype(str).isin(set(exclude))]
    rows = kept[kept[outcome].notna()]
    if len(rows) < 2:
        raise InputError(f"only {len(rows)} series report {outcome}; pooling needs two", outcome)
    return kept, rows, np.asarray(resolve_n(rows, n_column)[0], dtype=float)


def pool_outcome(
    df: pd.DataFrame,
    outcome: str = "os5",
    *,
    measure: str = "PLO",
    method: str = "REML",
    test: str = "z",
    exclude: Sequence[str] = (),
    n_column: str = "n_table",
    round_events: bool = False,
) -> PooledOutcome:
    """Random-effects pooling of one survival column (``os1``, ``os3`` or ``os5``).

    Raises
    ------
    InputError
        for an unknown outcome, measure, method or test, an excluded id that is not in the data,
        or fewer than two series reporting the outcome.
    """
    outcome = check_outcome(outcome)
    measure = _choice(measure, MEASURES, "measure")
    method = _choice(method, METHODS, "method")
    test = _choice(test, TESTS, "test")
    kept, rows, n = select_outcome(df, outcome, exclude, n_column)
    p = rows[outcome].to_numpy(dtype=float) / 100.0
    xi = np.round(p * n) if round_events else p * n
    es = escalc(measure, xi=xi, ni=n)
    fit = rma(es.yi, es.vi, method=method, test=test, ni=n, measure=measure)
    pred = fit.predict(transf="auto")
    tau2_ci: tuple[float, float] | None = None
    if method not in {"EE", "FE"}:
        low, high = fit.confint_tau2()
        tau2_ci = (float(low), float(high))
    flags = check_consistency(kept)
    flagged = [
        {"id": str(r["id"]), "reason": str(r["reason"])}
        for _, r in flags[flags["flagged"]].iterrows()
    ]
    return PooledOutcome(
        outcome=outcome,
        months=OUTCOMES[outcome],
        fit=fit,
        ids=[str(i) for i in rows["id"]],
        n=[float(x) for x in n],
        proportions=[float(x) for x in p],
        estimate=float(pred.pred),
        ci=(float(pred.ci_lb), float(pred.ci_ub)),
        pi=(_finite(pred.pi_lb), _finite(pred.pi_ub)),
        tau2_ci=tau2_ci,
        flagged=flagged,
        excluded=list(exclude),
    )


def _finite(x: Any) -> float:
    value = float(x)
    return value if math.isfinite(value) else math.nan
