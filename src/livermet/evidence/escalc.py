"""Effect sizes and sampling variances (metafor's ``escalc``) for proportions and 2x2 tables.

Single proportions (``xi`` events of ``ni``; or proportions ``pi`` with ``ni``):

=======  ==========================================  ==========================================
measure  yi                                          vi (``vtype="LS"``)
=======  ==========================================  ==========================================
PR       p                                           p (1 - p) / n
PLN      log p                                       1/x - 1/n
PLO      log(p / (1 - p))                            1/x + 1/(n - x)
PAS      asin(sqrt p)                                1 / (4 n)
PFT      (asin sqrt(x/(n+1)) + asin sqrt((x+1)/(n+1)))/2   1 / (4 n + 2)
=======  ==========================================  ==========================================

Two groups (2x2 table ``ai bi / ci di``, or ``ai, n1i, ci, n2i``): RR (log risk ratio,
``1/a - 1/n1 + 1/c - 1/n2``), OR (log odds ratio, ``1/a + 1/b + 1/c + 1/d``), RD (risk difference,
``p1 (1-p1)/n1 + p2 (1-p2)/n2``).

Zero cells as metafor: ``add=1/2`` is added to every cell of the studies with a zero cell
(``to="only0"``; also ``"all"``, ``"if0all"``, ``"none"``); PAS and PFT use ``add=0`` unless
``add`` is given. Values that come out infinite or undefined become ``NaN`` (metafor: ``NA``).

References
----------
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. *JSS* 36(3);
metafor ``?escalc``. Freeman, M. F. & Tukey, J. W. (1950). Transformations related to the angular
and the square root. *Ann. Math. Stat.* 21, 607-611. Miller, J. J. (1978). The inverse of the
Freeman-Tukey double arcsine transformation. *Am. Stat.* 32(4), 138.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError
from livermet.evidence.design import as_vector

FloatArray = npt.NDArray[np.float64]

PROPORTION_MEASURES = ("PR", "PLN", "PLO", "PAS", "PFT")
TABLE_MEASURES = ("RR", "OR", "RD")
_TO = ("only0", "all", "if0all", "none")


@dataclass(frozen=True)
class EscalcResult:
    """Effect sizes ``yi`` with sampling variances ``vi`` (and ``ni``, the study sizes).

    Attributes
    ----------
    yi, vi : ndarray
        Estimates and sampling variances (``NaN`` where undefined).
    measure : str
        The outcome measure (``"GEN"`` for user-supplied ``yi``/``vi``).
    ni : ndarray or None
        Total sample sizes before any zero-cell adjustment (used by the PFT back-transform and
        sample-size predictors).
    xi : ndarray or None
        Event counts used (single proportions), after ``round_events`` but before ``add``.
    """

    yi: FloatArray
    vi: FloatArray
    measure: str
    ni: FloatArray | None = None
    xi: FloatArray | None = None

    @property
    def sei(self) -> FloatArray:
        """Standard errors ``sqrt(vi)``."""
        out: FloatArray = np.sqrt(self.vi)
        return out

    @property
    def k(self) -> int:
        """Number of studies."""
        return int(self.yi.size)

    def __len__(self) -> int:
        return int(self.yi.size)


def _same_length(**arrays: FloatArray | None) -> int:
    sizes = {name: a.size for name, a in arrays.items() if a is not None}
    if len(set(sizes.values())) > 1:
        raise InputError(f"arguments differ in length: {sizes}", next(iter(sizes)))
    return next(iter(sizes.values()))


def _finish(yi: FloatArray, vi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """metafor's clean-up: infinite/NaN values and negative variances become NaN."""
    bad = ~np.isfinite(yi) | ~np.isfinite(vi)
    if np.any(bad):
        warnings.warn(
            "some yi and/or vi values are infinite or undefined; recoded to NaN",
            RuntimeWarning,
            stacklevel=3,
        )
    yi = np.where(bad, np.nan, yi)
    vi = np.where(bad | (vi < 0), np.nan, vi)
    return yi, vi


def escalc(
    measure: str,
    *,
    xi: Any = None,
    ni: Any = None,
    mi: Any = None,
    pi: Any = None,
    ai: Any = None,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    n1i: Any = None,
    n2i: Any = None,
    yi: Any = None,
    vi: Any = None,
    sei: Any = None,
    add: float | None = None,
    to: str = "only0",
    vtype: str = "LS",
    round_events: bool = False,
    drop00: bool = False,
) -> EscalcResult:
    """Compute effect sizes and sampling variances as metafor's ``escalc``.

    Parameters
    ----------
    measure : str
        ``"PR"``, ``"PLN"``, ``"PLO"``, ``"PAS"``, ``"PFT"`` (single proportions), ``"RR"``,
        ``"OR"``, ``"RD"`` (2x2 tables) or ``"GEN"`` (``yi`` with ``vi`` or ``sei`` given).
    xi, ni, mi : array_like, optional
        Events, totals and non-events of single proportions (two of the three).
    pi : array_like, optional
        Proportions in [0, 1] instead of ``xi``; events are ``pi * ni`` (not rounded unless
        ``round_events=True``).
    ai, bi, ci, di, n1i, n2i : array_like, optional
        2x2 table: events/non-events in group 1 (``ai``, ``bi``) and group 2 (``ci``, ``di``);
        ``n1i``/``n2i`` may replace ``bi``/``di``.
    yi, vi, sei : array_like, optional
        Precomputed estimates with variances (or standard errors).
    add : float, optional
        Value added to the cells (default 1/2; 0 for PAS and PFT).
    to : {"only0", "all", "if0all", "none"}
        Which studies receive ``add``.
    vtype : {"LS", "UB", "AV"}
        Variance type: large-sample (default), unbiased (PR, RD), or from the n-weighted average
        proportion (PR, PLN, PLO, RD).
    round_events : bool
        Round ``pi * ni`` to whole events (half up), the common practice in published pooled
        analyses; default False.
    drop00 : bool
        For 2x2 tables, drop studies with no events (or only events) in both groups.

    Returns
    -------
    EscalcResult

    Raises
    ------
    InputError
        Unknown measure, missing or inconsistent arguments, counts out of range, proportions
        outside [0, 1], negative variances.
    """
    meas = str(measure).upper()
    if to not in _TO:
        raise InputError(f"to must be one of {_TO}", "to")
    if meas == "GEN" or yi is not None:
        return _generic(yi, vi, sei, meas)
    if meas in PROPORTION_MEASURES:
        return _proportions(meas, xi, ni, mi, pi, add, to, vtype, round_events)
    if meas in TABLE_MEASURES:
        return _tables(meas, ai, bi, ci, di, n1i, n2i, add, to, vtype, drop00)
    raise InputError(
        f"unknown measure {measure!r}; use one of "
        f"{', '.join(PROPORTION_MEASURES + TABLE_MEASURES)} or GEN",
        "measure",
    )


def _generic(yi: Any, vi: Any, sei: Any, measure: str) -> EscalcResult:
    if yi is None:
        raise InputError("yi is required", "yi")
    y = as_vector(yi, "yi")
    if vi is None:
        if sei is None:
            raise InputError("give vi or sei with yi", "vi")
        s = as_vector(sei, "sei")
        if np.any(s < 0):
            raise InputError("standard errors must be >= 0", "sei")
        v = s**2
    else:
        v = as_vector(vi, "vi")
    _same_length(yi=y, vi=v)
    if np.any(v < 0):
        raise InputError("sampling variances must be >= 0", "vi")
    return EscalcResult(y, v, measure or "GEN")


def _proportions(
    measure: str,
    xi: Any,
    ni: Any,
    mi: Any,
    pi: Any,
    add: float | None,
    to: str,
    vtype: str,
    round_events: bool,
) -> EscalcResult:
    n = None if ni is None else as_vector(ni, "ni")
    if pi is not None:
        if xi is not None:
            raise InputError("give either xi or pi, not both", "pi")
        if n is None:
            raise InputError("pi needs ni", "ni")
        p = as_vector(pi, "pi")
        _same_length(pi=p, ni=n)
        if np.any((p < 0) | (p > 1)):
            raise InputError("proportions must lie in [0, 1]", "pi")
        x = p * n
    elif xi is not None:
        x = as_vector(xi, "xi")
    else:
        raise InputError("give xi (events) or pi (proportions)", "xi")
    m = None if mi is None else as_vector(mi, "mi")
    if n is None:
        if m is None:
            raise InputError("give ni (or mi)", "ni")
        _same_length(xi=x, mi=m)
        n = x + m
    _same_length(xi=x, ni=n)
    if m is not None and np.any(np.abs(x + m - n) > 1e-9 * np.maximum(1.0, n)):
        raise InputError("ni must equal xi + mi", "mi")
    if round_events:
        x = np.floor(x + 0.5)
    if np.any(n <= 0):
        raise InputError("group sizes must be > 0", "ni")
    if np.any(x < 0):
        raise InputError("event counts must be >= 0", "xi")
    if np.any(x > n * (1 + 1e-12)):
        raise InputError("event counts larger than the group sizes", "xi")
    x = np.minimum(x, n)
    n_u = n.copy()
    mm = n - x
    if add is None:
        add = 0.0 if measure in ("PAS", "PFT") else 0.5
    xa, ma = x.copy(), mm.copy()
    zero = (x == 0) | (mm == 0)
    if to == "all" or (to == "if0all" and np.any(zero)):
        xa, ma = xa + add, ma + add
    elif to == "only0":
        xa = np.where(zero, xa + add, xa)
        ma = np.where(zero, ma + add, ma)
    na = xa + ma
    pr = xa / na
    vt = vtype.upper()
    allowed = {"PR": ("LS", "UB", "AV"), "PLN": ("LS", "AV"), "PLO": ("LS", "AV")}
    if vt != "LS" and vt not in allowed.get(measure, ("LS",)):
        raise InputError(f"vtype {vtype!r} not available for {measure}", "vtype")
    pbar = float(np.sum(pr * na) / np.sum(na))
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PR":
            y = pr
            if vt == "UB":
                v = pr * (1 - pr) / (na - 1)
            elif vt == "AV":
                v = pbar * (1 - pbar) / na
            else:
                v = pr * (1 - pr) / na
        elif measure == "PLN":
            y = np.log(pr)
            v = 1 / (pbar * na) - 1 / na if vt == "AV" else 1 / xa - 1 / na
        elif measure == "PLO":
            y = np.log(pr / (1 - pr))
            v = 1 / (pbar * na) + 1 / ((1 - pbar) * na) if vt == "AV" else 1 / xa + 1 / ma
        elif measure == "PAS":
            y = np.arcsin(np.sqrt(pr))
            v = 1 / (4 * na)
        else:  # PFT
            y = 0.5 * (np.arcsin(np.sqrt(xa / (na + 1))) + np.arcsin(np.sqrt((xa + 1) / (na + 1))))
            v = 1 / (4 * na + 2)
    y, v = _finish(np.asarray(y, float), np.asarray(v, float))
    return EscalcResult(y, v, measure, ni=n_u, xi=x)


def _tables(
    measure: str,
    ai: Any,
    bi: Any,
    ci: Any,
    di: Any,
    n1i: Any,
    n2i: Any,
    add: float | None,
    to: str,
    vtype: str,
    drop00: bool,
) -> EscalcResult:
    if ai is None or ci is None:
        raise InputError(f"{measure} needs ai and ci (with bi, di or n1i, n2i)", "ai")
    a, c = as_vector(ai, "ai"), as_vector(ci, "ci")
    if bi is None:
        if n1i is None:
            raise InputError("give bi or n1i", "bi")
        b = as_vector(n1i, "n1i") - a
    else:
        b = as_vector(bi, "bi")
        if n1i is not None and np.any(np.abs(as_vector(n1i, "n1i") - a - b) > 1e-9):
            raise InputError("n1i must equal ai + bi", "n1i")
    if di is None:
        if n2i is None:
            raise InputError("give di or n2i", "di")
        d = as_vector(n2i, "n2i") - c
    else:
        d = as_vector(di, "di")
        if n2i is not None and np.any(np.abs(as_vector(n2i, "n2i") - c - d) > 1e-9):
            raise InputError("n2i must equal ci + di", "n2i")
    _same_length(ai=a, bi=b, ci=c, di=d)
    for name, arr in (("ai", a), ("bi", b), ("ci", c), ("di", d)):
        if np.any(arr < 0):
            raise InputError("counts must be >= 0 (event counts larger than group sizes?)", name)
    n_u = a + b + c + d
    if drop00:
        both = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
        a, b, c, d = (np.where(both, np.nan, z) for z in (a, b, c, d))
    if add is None:
        add = 0.5
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if to == "all" or (to == "if0all" and np.any(zero)):
        a, b, c, d = a + add, b + add, c + add, d + add
    elif to == "only0":
        a, b, c, d = (np.where(zero, z + add, z) for z in (a, b, c, d))
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    vt = vtype.upper()
    if vt != "LS" and not (measure == "RD" and vt in ("UB", "AV")):
        raise InputError(f"vtype {vtype!r} not available for {measure}", "vtype")
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            y = np.log(p1) - np.log(p2)
            v = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "OR":
            y = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            v = 1 / a + 1 / b + 1 / c + 1 / d
        else:
            y = p1 - p2
            if vt == "UB":
                v = p1 * (1 - p1) / (n1 - 1) + p2 * (1 - p2) / (n2 - 1)
            elif vt == "AV":
                ok = ~np.isnan(p1)
                m1 = np.sum(p1[ok] * n1[ok]) / np.sum(n1[ok])
                m2 = np.sum(p2[ok] * n2[ok]) / np.sum(n2[ok])
                v = m1 * (1 - m1) / n1 + m2 * (1 - m2) / n2
            else:
                v = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    y, v = _finish(np.asarray(y, float), np.asarray(v, float))
    return EscalcResult(y, v, measure, ni=n_u)
