"""Pool one survival outcome of the surgical series with the binomial-normal GLMM.

The series report survival as a percentage S and a number of patients n. A binomial model needs
whole patients, so the survivors are ``round(S n)`` (round half to even, as R's ``round``; the
same counts as ``pool_outcome(..., round_events=True)`` when no ``S n`` ends in .5). Every series
whose ``S n`` was not already whole is listed with its unrounded value, so the rounding is
visible. The model is :func:`.glmm.rma_glmm` (metafor ``rma.glmm(measure="PLO")``); the series
flagged by :func:`.survival.check_consistency` stay in, as in :func:`.pooling.pool_outcome`.
See docs/evidence.md#binomial-normal-glmm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from livermet.errors import InputError
from livermet.evidence.glmm import NAGQ_DEFAULT, OPTIMIZER_DEFAULT, GLMMResult, rma_glmm
from livermet.evidence.pooling import OUTCOMES, check_outcome, select_outcome
from livermet.evidence.survival import check_consistency

ROUNDING_NOTE = (
    "survivors = S·n rounded to whole patients, round(S·n): the binomial model counts "
    "patients; the normal-normal random-effects model (the default) uses S·n unrounded"
)
"""How the survivors were made whole patients. "Survivors", never "events": in survival analysis
an event is a death."""


@dataclass
class PooledGLMM:
    """A pooled survival proportion from the binomial-normal model, with the survivors it used."""

    outcome: str
    months: int
    fit: GLMMResult
    ids: list[str]
    n: list[int]
    survivors: list[int]
    survivors_unrounded: list[float]
    rounded: list[dict[str, Any]]
    flagged: list[dict[str, str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    @property
    def estimate(self) -> float:
        """Pooled proportion (back-transformed pooled logit)."""
        return float(self.fit.predict(transf="ilogit").pred[0])

    def to_dict(self) -> dict[str, Any]:
        """Return the pooled result as JSON-ready values."""
        fit = self.fit.to_dict()
        prop = fit["pooled_proportion"]
        return {
            "outcome": self.outcome,
            "months": self.months,
            "model": "glmm",
            "measure": "PLO",
            "method": "ML",
            "nagq": self.fit.nagq,
            "optimizer": self.fit.optimizer,
            "warnings": list(self.fit.warnings),
            "test": self.fit.test,
            "k": self.fit.k,
            "estimate": prop["estimate"],
            "ci_lb": prop["ci_lb"],
            "ci_ub": prop["ci_ub"],
            "pi_lb": prop["pi_lb"],
            "pi_ub": prop["pi_ub"],
            "tau2": self.fit.tau2,
            "i2": self.fit.i2,
            "h2": self.fit.h2,
            "qe_wld": self.fit.qe_wld,
            "qe_wld_p": self.fit.qe_wld_p,
            "qe_lrt": self.fit.qe_lrt,
            "qe_lrt_p": self.fit.qe_lrt_p,
            "qe_df": self.fit.qe_df,
            "fit": fit,
            "survivors_note": ROUNDING_NOTE,
            "rounded": self.rounded,
            "series": [
                {"id": i, "n": n, "survivors": x, "survivors_unrounded": raw}
                for i, n, x, raw in zip(
                    self.ids, self.n, self.survivors, self.survivors_unrounded, strict=True
                )
            ],
            "flagged": self.flagged,
            "excluded": self.excluded,
        }


def _whole_n(rows: pd.DataFrame, n: np.ndarray, n_column: str) -> None:
    bad = np.flatnonzero(~np.isfinite(n) | (n != np.round(n)) | (n < 1))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"series {rows['id'].iloc[i]}: n = {n[i]:g} is not a whole number of patients >= 1",
            n_column,
        )


def pool_outcome_glmm(
    df: pd.DataFrame,
    outcome: str = "os5",
    *,
    nagq: int = NAGQ_DEFAULT,
    test: str = "z",
    exclude: Sequence[str] = (),
    n_column: str = "n_table",
    optimizer: str = OPTIMIZER_DEFAULT,
) -> PooledGLMM:
    """Binomial-normal pooling of one survival column (``os1``, ``os3`` or ``os5``, any case).

    ``optimizer``: ``metafor`` (glmer's defaults, metafor's numbers) or ``converged``.

    Raises
    ------
    InputError
        for an unknown outcome, an excluded id that is not in the data, fewer than two series
        reporting the outcome, or an n that is not a whole number of patients.
    """
    name = check_outcome(outcome)
    kept, rows, n = select_outcome(df, name, exclude, n_column)
    _whole_n(rows, n, n_column)
    raw = rows[name].to_numpy(dtype=float) / 100.0 * n
    survivors = np.round(raw)  # half to even, as R's round()
    ids = [str(i) for i in rows["id"]]
    fit = rma_glmm(survivors, n, nagq=nagq, test=test, optimizer=optimizer)
    flags = check_consistency(kept)
    return PooledGLMM(
        outcome=name,
        months=OUTCOMES[name],
        fit=fit,
        ids=ids,
        n=[int(v) for v in n],
        survivors=[int(v) for v in survivors],
        survivors_unrounded=[float(v) for v in raw],
        rounded=[
            {"id": i, "survivors_unrounded": float(r), "survivors": int(e)}
            for i, r, e in zip(ids, raw, survivors, strict=True)
            if abs(r - e) > 1e-9
        ],
        flagged=[
            {"id": str(r["id"]), "reason": str(r["reason"])}
            for _, r in flags[flags["flagged"]].iterrows()
        ],
        excluded=list(exclude),
    )
