"""Pointwise confidence intervals of a survival probability, as R's ``survfit_confint``.

R survival 3.5-3 (``R/survfit.R``) transforms the probability p with its standard error of
log p (Greenwood for Kaplan-Meier) and back:

- ``"plain"``:   p ± z·se·p, clipped to [0, 1] (Klein & Moeschberger eq. 4.3.1);
- ``"log"``:     exp(log p ± z·se), upper clipped at 1 (R's default ``conf.type``);
- ``"log-log"``: exp(-exp(log(-log p) ∓ z·se/log p)) (Kalbfleisch & Prentice; lifelines').
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
from scipy import stats

from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
ConfType = Literal["log-log", "log", "plain"]
CONF_TYPES: tuple[str, ...] = get_args(ConfType)


def check_conf(conf_type: str, conf_level: float) -> None:
    """Refuse an unknown transform or a level outside (0, 1)."""
    if conf_type not in CONF_TYPES:
        raise InputError(f"unknown {conf_type!r}; use one of {', '.join(CONF_TYPES)}", "conf_type")
    if not 0.0 < float(conf_level) < 1.0:
        raise InputError(f"{conf_level!r} must be between 0 and 1 (e.g. 0.95)", "conf_level")


def z_value(conf_level: float) -> float:
    """Return the two-sided normal quantile: 1.959964 for 0.95."""
    return float(stats.norm.ppf(1.0 - (1.0 - conf_level) / 2.0))


def confint(
    p: FloatArray, se_log: FloatArray, conf_type: str, conf_level: float
) -> tuple[FloatArray, FloatArray]:
    """Return the lower and upper bounds of ``p`` given the standard error of log p.

    Where p = 1 (before any event) both bounds are 1; where p = 0 or the standard error is not
    finite they are NaN. R gives NA for ``"log-log"`` at p = 1 after time 0; 1 is the limit.
    """
    z = z_value(conf_level)
    p = np.asarray(p, dtype=float)
    se = np.asarray(se_log, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = z * se * p
            lower = np.maximum(p - half, 0.0)
            upper = np.minimum(p + half, 1.0)
        elif conf_type == "log":
            lower = np.exp(np.log(p) - z * se)
            upper = np.minimum(np.exp(np.log(p) + z * se), 1.0)
        elif conf_type == "log-log":
            shift = z * se / np.log(p)
            loglog = np.log(-np.log(p))
            lower = np.exp(-np.exp(loglog - shift))
            upper = np.exp(-np.exp(loglog + shift))
        else:  # pragma: no cover - check_conf runs first
            raise InputError(f"unknown {conf_type!r}", "conf_type")
    bad = (p <= 0.0) | ~np.isfinite(se)
    lower = np.where(bad, np.nan, lower)
    upper = np.where(bad, np.nan, upper)
    one = p >= 1.0
    return np.where(one, 1.0, lower), np.where(one, 1.0, upper)
