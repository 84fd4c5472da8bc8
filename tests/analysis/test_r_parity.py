"""Every number of ``survival-3.5-3-cohort.json`` reproduced from ``cohort.csv``.

The reference was written by ``data/survival-refs.R`` (R 4.2.2, survival 3.5-3) with
``jsonlite::write_json(digits=NA)``, i.e. 15 significant digits: no value is rounded more
coarsely than that, so the tolerance is set by the computation, per quantity:

- counts, times, term names, the median and its limits (observed times of the data): exact;
- closed-form estimates (Kaplan-Meier, Greenwood bounds, RMST and its SE, log-rank,
  Aalen-Johansen, the null log-likelihood, concordance = a ratio of pair counts): 1e-12
  relative (agreement seen: ~4e-15);
- Cox coefficients and what derives from them (SE, HR, bounds, p): 1e-6 relative. R stops
  Newton-Raphson when the log-likelihood changes by less than 1e-9 (relative), leaving its
  coefficients ~1e-9 from the optimum that ``CoxPH`` iterates to (agreement seen: 5e-9).

``cuminc.states`` is ``{}`` in the file: R left the columns of ``pstate`` unnamed. Their order is
that of the factor in the script, ``(s0)`` (event-free), ``recurrence``, ``death``, which is the
order of ``CumulativeIncidence.states_`` here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from livermet.analysis import (
    CoxPH,
    CumulativeIncidence,
    KaplanMeier,
    LogRankResult,
    cumulative_incidence,
    kaplan_meier,
    kaplan_meier_by_group,
    logrank_test,
)
from tests.analysis.conftest import APPROACH_LEVELS, FIRST_EVENT_TYPES, REF_JSON

TIMES = [12, 36, 60]
COVARIATES = ["approach", "timing", "age", "grade"]


def _ours(cohort: pd.DataFrame) -> dict[str, Any]:
    """Return our numbers in the layout of the R script's output list."""
    return r_layout(
        kaplan_meier(cohort, "os_months", "death"),
        kaplan_meier_by_group(cohort, "os_months", "death", "approach", levels=APPROACH_LEVELS),
        logrank_test(cohort, "os_months", "death", "approach", levels=APPROACH_LEVELS),
        CoxPH(ties="efron").fit(
            cohort, "os_months", "death", COVARIATES, levels={"approach": APPROACH_LEVELS}
        ),
        cumulative_incidence(
            cohort,
            "efs_months",
            "first_event",
            censored=["censored"],
            event_types=FIRST_EVENT_TYPES,
        ),
    )


def r_layout(
    km: KaplanMeier,
    groups: Mapping[str, KaplanMeier],
    lr: LogRankResult,
    cox: CoxPH,
    ci: CumulativeIncidence,
) -> dict[str, Any]:
    """Return fitted results in the layout of the R script's output list (pooled or federated)."""
    at = km.at(TIMES)
    median = km.median_
    rmst = km.rmst(60)
    by = pd.concat([g.at(TIMES).assign(strata=f"approach={n}") for n, g in groups.items()])
    pstate = ci.at(TIMES).pivot(index="time", columns="state", values="probability")
    return {
        "km_all": {
            "times": at["time"].tolist(),
            "surv": at["survival"].tolist(),
            "lower": at["lower"].tolist(),
            "upper": at["upper"].tolist(),
            "n_risk": at["n_risk"].tolist(),
            "median": median.estimate,
            "median_lower": median.lower,
            "median_upper": median.upper,
            "rmst60": rmst.estimate,
            "rmst60_se": rmst.std_err,
        },
        "km_by_approach": {
            "strata": by["strata"].tolist(),
            "times": by["time"].tolist(),
            "surv": by["survival"].tolist(),
            "lower": by["lower"].tolist(),
            "upper": by["upper"].tolist(),
        },
        "logrank_approach": {"chisq": lr.chisq, "df": lr.df, "p": lr.p},
        "cox": {
            "terms": cox.terms_,
            "coef": cox.coef_.tolist(),
            "se": cox.se_.tolist(),
            "hr": cox.hr_.tolist(),
            "hr_lower": cox.hr_lower_.tolist(),
            "hr_upper": cox.hr_upper_.tolist(),
            "p": cox.p_.tolist(),
            "loglik": list(cox.loglik_),
            "concordance": cox.concordance_.concordance,
        },
        "cuminc": {
            "times": pstate.index.tolist(),
            "states": {},  # R wrote no names (see the module docstring)
            "pstate": pstate[ci.states_].to_numpy().tolist(),
        },
    }


EXACT = {
    "km_all.times",
    "km_all.n_risk",
    "km_all.median",
    "km_all.median_lower",
    "km_all.median_upper",
    "km_by_approach.strata",
    "km_by_approach.times",
    "logrank_approach.df",
    "cox.terms",
    "cuminc.times",
    "cuminc.states",
}
COX_ITERATIVE = {"cox.coef", "cox.se", "cox.hr", "cox.hr_lower", "cox.hr_upper", "cox.p"}


def _tolerance(quantity: str) -> float | None:
    """None = exact; else the relative tolerance of this quantity (see the docstring)."""
    if quantity in EXACT:
        return None
    if quantity in COX_ITERATIVE:
        return 1e-6
    return 1e-12


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(quantity, full path, value) of every number or string in the reference."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from ((path.split("[")[0], p, v) for _, p, v in _leaves(value, f"{path}[{i}]"))
    else:
        yield path.split("[")[0], path, node


def _get(tree: Any, path: str) -> Any:
    for part in path.replace("]", "").replace("[", ".").split("."):
        tree = tree[int(part)] if isinstance(tree, list) else tree[part]
    return tree


REFERENCE = json.loads(REF_JSON.read_text())
LEAVES = list(_leaves(REFERENCE))


@pytest.fixture(scope="module")
def ours(cohort: pd.DataFrame) -> dict[str, Any]:
    return _ours(cohort)


def test_every_reference_number_is_checked() -> None:
    # km_all 5 x 3 + 5, km_by_approach 5 x 6, logrank 3, cox 7 x 4 + 2 + 1,
    # cuminc 3 + 1 (the empty states) + 3 x 3
    assert len(LEAVES) == 20 + 30 + 3 + 31 + 13
    assert {q for q, _, _ in LEAVES} >= EXACT | COX_ITERATIVE


@pytest.mark.parametrize(("quantity", "path", "expected"), LEAVES, ids=[p for _, p, _ in LEAVES])
def test_matches_r(ours: dict[str, Any], quantity: str, path: str, expected: Any) -> None:
    actual = _get(ours, path)
    rel = _tolerance(quantity)
    if rel is None or isinstance(expected, str):
        assert actual == expected
    else:
        assert actual == pytest.approx(expected, rel=rel, abs=0)


def test_same_structure_as_r(ours: dict[str, Any]) -> None:
    assert [p for _, p, _ in _leaves(ours)] == [p for _, p, _ in LEAVES]


def test_cuminc_rows_sum_to_one_in_r_and_here(ours: dict[str, Any]) -> None:
    # checks that the unnamed columns are whole states: (s0), recurrence, death
    assert np.sum(REFERENCE["cuminc"]["pstate"], axis=1) == pytest.approx([1, 1, 1], rel=1e-14)
    assert np.sum(ours["cuminc"]["pstate"], axis=1) == pytest.approx([1, 1, 1], rel=1e-14)
