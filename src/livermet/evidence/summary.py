"""The evidence section of a tumour-board assessment: what the published series say.

Pooled 1-, 3- and 5-year survival after hepatectomy (per-time-point random-effects pooling), the
pooled median (Weibull synthesis), the range across series, and the recurrence and re-resection
figures the case report quotes — each with its sources.
"""

from __future__ import annotations

import functools
import math
import pickle
from typing import Any

import pandas as pd

from livermet.evidence.dataset import load_literature, series_label
from livermet.evidence.survival import pool_time_points, weibull_synthesis

REPORT = "seed case report (Tsuzaka et al., Surg Case Rep 2022), Discussion"

QUOTED_FIGURES = (
    {
        "topic": "recurrence after liver resection",
        "text": "Recurrence after resection of liver metastases of leiomyosarcoma: 43.7-88 %.",
        "source": f"{REPORT} (refs 4-6, 28)",
    },
    {
        "topic": "re-resection",
        "text": (
            "Rehders et al.: re-resection of hepatic recurrence in 2 of 4 patients; median "
            "survival 76 months with re-resection vs 26 months without."
        ),
        "source": f"{REPORT} (ref 5: Rehders, World J Surg 2009)",
    },
    {
        "topic": "chemotherapy response",
        "text": "Low response rate of liver metastases to chemotherapy; responses last weeks to "
        "months.",
        "source": f"{REPORT} (refs 22, 23)",
    },
)
"""Figures the case report quotes from its references, which livermet cannot recompute."""


def _num(x: Any) -> float | None:
    value = float(x)
    return None if math.isnan(value) else value


def _range(series: pd.Series) -> dict[str, Any]:
    known = series.dropna()
    return {"min": _num(known.min()), "max": _num(known.max()), "k": int(known.size)}


def evidence_summary(df: pd.DataFrame | None = None) -> dict[str, Any]:
    """Pooled survival after hepatectomy and the figures around it, ready for a report.

    The summary of the shipped dataset is computed once per process (it does not change) and a
    fresh copy is returned each time, so that a caller may change its copy.
    """
    if df is None:
        fresh: dict[str, Any] = pickle.loads(_shipped_summary())  # 6x faster than deepcopy
        return fresh
    return _summary(df)


@functools.cache
def _shipped_summary() -> bytes:
    return pickle.dumps(_summary(load_literature()))


def _summary(series: pd.DataFrame) -> dict[str, Any]:
    points = pool_time_points(series)
    model = weibull_synthesis(series)
    pooled = [
        {
            "months": int(row["time_months"]),
            "estimate": _num(row["estimate"]),
            "ci_lb": _num(row["ci_lb"]),
            "ci_ub": _num(row["ci_ub"]),
            "pi_lb": _num(row["pi_lb"]),
            "pi_ub": _num(row["pi_ub"]),
            "k": int(row["k"]),
            "i2": _num(row["i2"]),
        }
        for row in points.to_dict("records")
    ]
    # readers see the series' names (series_label: "Foster 1978"), never the dataset's keys
    records = series.to_dict("records")
    labels = {str(r["id"]): series_label(r) for r in records}
    names = ", ".join(series_label(r, short=True) for r in records)
    return {
        "pooled_survival": pooled,
        "pooled_survival_method": "random-effects (REML) pooling of logit S(t), events = S*n",
        "pooled_median_months": {
            "estimate": _num(model.median),
            "ci_lb": _num(model.median_ci[0]),
            "ci_ub": _num(model.median_ci[1]),
            "method": "Weibull synthesis on the cloglog scale, random intercept, common shape",
            "excluded_medians": [
                {"id": i, "label": labels.get(i, i), "reason": r} for i, r in model.excluded
            ],
        },
        "range_across_series": {
            "os5_percent": _range(series["os5"]),
            "median_months": _range(series["mst_months"]),
            "patients": int(series["n_table"].sum()),
        },
        "quoted": [dict(q) for q in QUOTED_FIGURES],
        "sources": f"surgical series of the case report's Table 1: {names}; Tsuzaka et al., "
        "Surg Case Rep 2022",
    }
