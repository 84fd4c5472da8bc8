"""The choice of pooling model and the binomial-normal GLMM's result as a report.

Shared by ``livermet evidence pool --model glmm``, the web evidence page and the JSON API, so
that the three refuse the same choices with the same messages and show the same numbers:

* `check_model`: ``rma`` (the normal-normal model of `livermet.evidence.pooling`) or ``glmm``
  (the binomial-normal model of `livermet.evidence.glmm_pool`, metafor's
  ``rma.glmm(measure="PLO")``), which pools logits (``PLO`` only) by maximum likelihood (``ML``
  only);
* `parse_nagq`: the number of quadrature points given as text (a form field);
* `choose_nagq`: the number of quadrature points for a model: validated whenever given, refused
  with ``rma`` (the normal-normal likelihood needs no quadrature), 7 for ``glmm`` when
  not given;
* `approximation_text`: how the likelihood is integrated, in words;
* `glmm_report`: a `PooledGLMM` as plain data with the series' names, the two heterogeneity
  tests and the series whose survivors were rounded to whole patients.

See docs/evidence.md#binomial-normal-glmm.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from livermet.errors import InputError
from livermet.evidence.dataset import series_label
from livermet.evidence.glmm import NAGQ_DEFAULT, OPTIMIZER_DEFAULT, check_optimizer
from livermet.evidence.glmm_pool import PooledGLMM

MODELS = ("rma", "glmm")
"""The pooling models: ``rma`` (normal-normal, the default) and ``glmm`` (binomial-normal)."""

GLMM_MEASURE = "PLO"
"""The GLMM's effect size: the logit of the proportion (metafor ``rma.glmm(measure="PLO")``)."""

GLMM_METHOD = "ML"
"""The GLMM's estimator: maximum likelihood (the only one of metafor's ``rma.glmm``)."""

NAGQ_MAX = 100
"""The most quadrature points `livermet.evidence.glmm.rma_glmm` accepts."""


def check_model(model: str, measure: str | None = None, method: str | None = None) -> str:
    """Return the pooling model's name (lower case); refuse a measure or method it cannot use.

    Parameters
    ----------
    model : str
        ``rma`` or ``glmm`` (any case).
    measure, method : str, optional
        The effect size and tau² estimator asked for; None when not asked for (the model's own).

    Raises
    ------
    InputError
        field ``model`` for another model; ``measure`` when the GLMM is asked for with an effect
        size other than PLO; ``method`` when it is asked for with an estimator other than ML.
    """
    name = str(model).strip().lower()
    if name not in MODELS:
        raise InputError(f"{model!r} is not one of {', '.join(MODELS)}", "model")
    if name == "glmm" and measure is not None and measure.upper() != GLMM_MEASURE:
        raise InputError(
            f"the binomial-normal GLMM pools logits: measure must be {GLMM_MEASURE}, "
            f"not {measure!r}",
            "measure",
        )
    if name == "glmm" and method is not None and method.upper() != GLMM_METHOD:
        raise InputError(
            f"the binomial-normal GLMM is fitted by ML: method must be {GLMM_METHOD}, "
            f"not {method!r}",
            "method",
        )
    return name


def choose_nagq(model: str, value: str | int | None) -> int:
    """Return the quadrature points of a pooling: validated whenever given, GLMM only.

    Parameters
    ----------
    model : str
        ``rma`` or ``glmm`` (as `check_model` returns it).
    value : str, int or None
        The points asked for; None or blank text when not asked for.

    Returns
    -------
    int
        ``value`` for the GLMM, or 7 (metafor's default) when not given; with ``rma`` (not
        given), 7, which the normal-normal model does not use.

    Raises
    ------
    InputError
        field ``nagq``: not a whole number from 1 to `NAGQ_MAX`, or given with ``rma``.
    """
    nagq = parse_nagq(value)
    given = value is not None and not (isinstance(value, str) and not value.strip())
    if given and model != "glmm":
        raise InputError(
            f"nagq applies to the GLMM only (model glmm), not to model {model!r}", "nagq"
        )
    return nagq


def choose_optimizer(model: str, value: str | None) -> str:
    """Return the GLMM's optimiser: ``metafor`` when not given; given with ``rma``, refused.

    Raises
    ------
    InputError
        field ``optimizer``: not ``metafor`` or ``converged``, or given with ``rma``.
    """
    if value is None or not str(value).strip():
        return OPTIMIZER_DEFAULT
    if model != "glmm":
        raise InputError(
            f"optimizer applies to the GLMM only (model glmm), not to model {model!r}",
            "optimizer",
        )
    return check_optimizer(value)


def parse_nagq(value: str | int | None) -> int:
    """Return the number of quadrature points given as text; blank or None: 7 (metafor's).

    Raises
    ------
    InputError
        field ``nagq``: not a whole number from 1 (Laplace) to `NAGQ_MAX`.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return NAGQ_DEFAULT
    text = str(value).strip()
    if (
        isinstance(value, bool)
        or not text.isascii()
        or not text.isdigit()
        or not 1 <= int(text) <= NAGQ_MAX
    ):
        raise InputError(
            f"nagq must be a whole number from 1 (Laplace) to {NAGQ_MAX}, got {text!r}", "nagq"
        )
    return int(text)


def approximation_text(nagq: int) -> str:
    """Return how the GLMM's likelihood is integrated: Laplace (1 point) or adaptive quadrature."""
    return "Laplace" if nagq == 1 else f"adaptive Gauss-Hermite, {nagq} points"


def glmm_report(pooled: PooledGLMM, table: pd.DataFrame | None = None) -> dict[str, Any]:
    """Return a GLMM pooling as a report: `PooledGLMM.to_dict` plus names and the two tests.

    Parameters
    ----------
    pooled : PooledGLMM
        A result of `livermet.evidence.glmm_pool.pool_outcome_glmm`.
    table : DataFrame, optional
        The series pooled (``id`` and the columns of `livermet.evidence.dataset.series_label`),
        for the readers' names (author and year); without it, or for an id not in it, the id.

    Returns
    -------
    dict
        The keys of `PooledGLMM.to_dict` (numbers as computed) with ``label`` added to every
        entry of ``series``, ``rounded`` and ``flagged``, and ``approximation`` (words),
        ``wald`` and ``lrt`` ({statistic, df, p}: the heterogeneity tests of metafor's
        ``QE.Wld`` and ``QE.LRT``) and ``converged``.
    """
    records = [] if table is None else table.to_dict("records")
    names = {str(r["id"]): series_label(r, short=True) for r in records}

    def named(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "label": names.get(str(r["id"]), str(r["id"]))} for r in rows]

    data = pooled.to_dict()
    return {
        **data,
        "approximation": approximation_text(int(data["nagq"])),
        "wald": {"statistic": data["qe_wld"], "df": data["qe_df"], "p": data["qe_wld_p"]},
        "lrt": {"statistic": data["qe_lrt"], "df": data["qe_df"], "p": data["qe_lrt_p"]},
        "converged": bool(data["fit"]["converged"]),
        "series": named(data["series"]),
        "rounded": named(data["rounded"]),
        "flagged": named(data["flagged"]),
    }
