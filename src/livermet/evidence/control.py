"""Settings of the iterative tau² estimators (metafor's ``control=`` list).

Two presets:

``"tight"`` (the default)
    Iterate to the true optimum: Fisher scoring until tau² changes by less than 1e-12, Brent's
    method with tolerance 1e-13. Matches metafor run with
    ``control=list(threshold=1e-12, tol=1e-13, maxiter=10000)`` to about 1e-10.
``"metafor"``
    metafor 3.8-1's defaults (``threshold=1e-5``, ``tol=.Machine$double.eps^0.25``,
    ``maxiter=100``): reproduces what metafor prints, including its early stopping.

A mapping overrides single settings of the tight preset (metafor's dotted names such as
``"tau2.init"`` are accepted too).

References
----------
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. *Journal of
Statistical Software*, 36(3). ``?rma.uni``, section "Note" and argument ``control``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from livermet.errors import InputError

from .zeroin import R_UNIROOT_TOL


@dataclass(frozen=True)
class Control:
    """Settings of the tau² estimators.

    Attributes
    ----------
    threshold : float
        Fisher scoring (ML, REML, EB) stops when tau² changes by at most this much.
    tol : float
        Tolerance of Brent's root finder (PM) and of the log-likelihood check at tau² = 0.
    maxiter : int
        Maximum number of iterations (Fisher scoring and the root finder).
    stepadj : float
        Multiplier of each Fisher scoring step.
    tau2_init : float or None
        Starting value of Fisher scoring (default: the Hedges estimate, floored at 0).
    tau2_min : float
        Lower bound of tau².
    tau2_max : float or None
        Upper end of the PM search bracket (default ``max(100, 10 * mad(yi)^2)``).
    ll0check : bool
        After ML/REML convergence, set tau² = 0 when the likelihood is larger there.
    fallback_after : int or None
        When Fisher scoring has not converged after this many iterations (it can oscillate when
        tau² is small relative to the spread of the v_i), switch to bisection of the score
        equation on the bracket the iterates have established. ``None`` (the "metafor" preset)
        keeps metafor's behaviour: an error after ``maxiter`` iterations.
    preset : str
        Name of the preset the settings started from.
    """

    threshold: float = 1e-12
    tol: float = 1e-13
    maxiter: int = 10000
    stepadj: float = 1.0
    tau2_init: float | None = None
    tau2_min: float = 0.0
    tau2_max: float | None = None
    ll0check: bool = True
    fallback_after: int | None = 100
    preset: str = "tight"


TIGHT = Control()
METAFOR = Control(
    threshold=1e-5, tol=R_UNIROOT_TOL, maxiter=100, fallback_after=None, preset="metafor"
)
_PRESETS = {"tight": TIGHT, "metafor": METAFOR, "default": METAFOR}
_NAMES = {f.name for f in fields(Control)} - {"preset"}


def resolve_control(control: Control | str | Mapping[str, Any] | None) -> Control:
    """Turn ``None``, a preset name, a mapping or a :class:`Control` into a :class:`Control`.

    A mapping may carry ``"preset"`` (``"tight"`` or ``"metafor"``) to choose the base.
    """
    if control is None:
        return TIGHT
    if isinstance(control, Control):
        return control
    if isinstance(control, str):
        try:
            return _PRESETS[control.lower()]
        except KeyError:
            raise InputError(
                f"unknown control preset {control!r} (use 'tight' or 'metafor')", "control"
            ) from None
    if not isinstance(control, Mapping):
        raise InputError("control must be None, 'tight', 'metafor' or a mapping", "control")
    items = {str(k).replace(".", "_"): v for k, v in control.items()}
    base = resolve_control(items.pop("preset", None))
    unknown = set(items) - _NAMES
    if unknown:
        raise InputError(f"unknown control setting(s): {sorted(unknown)}", "control")
    return replace(base, **items)
