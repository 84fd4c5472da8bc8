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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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
        """Return the number of studies."""
        return int(self.yi.size)


def _same_length(**arrays: FloatArray | None) -> int:
    sizes = {name: a.size for name, a in arrays.items() if a is not None}
    if len(set(sizes.values())) > 1:
        raise InputError(f"arguments differ in length: {sizes}", next(iter(sizes)))
    return next(iter(sizes.values()))


def _finish(yi: FloatArray, vi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Apply metafor's clean-up: infinite/NaN values and negative variances become NaN."""
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


@dataclass(frozen=True)
class _ProportionCells:
    """Single-proportion cells after the zero-cell adjustment, as the formulas read them."""

    x: FloatArray  # events
    m: FloatArray  # non-events
    n: FloatArray  # x + m
    p: FloatArray  # x / n
    pbar: float  # n-weighted average proportion (vtype="AV")


@dataclass(frozen=True)
class _TableCells:
    """2x2-table cells after the zero-cell adjustment, as the formulas read them."""

    a: FloatArray
    b: FloatArray
    c: FloatArray
    d: FloatArray
    n1: FloatArray  # a + b
    n2: FloatArray  # c + d
    p1: FloatArray  # a / n1
    p2: FloatArray  # c / n2


_Cells = TypeVar("_Cells", _ProportionCells, _TableCells)


@dataclass(frozen=True)
class _Measure(Generic[_Cells]):
    """One outcome measure: the estimate and, per variance type, the sampling variance."""

    yi: Callable[[_Cells], FloatArray]
    vi: Mapping[str, Callable[[_Cells], FloatArray]]


def _pft(c: _ProportionCells) -> FloatArray:
    """Return the Freeman-Tukey double arcsine of ``x`` events of ``n``."""
    out: FloatArray = 0.5 * (
        np.arcsin(np.sqrt(c.x / (c.n + 1))) + np.arcsin(np.sqrt((c.x + 1) / (c.n + 1)))
    )
    return out


# metafor ?escalc; the table in the module docstring and docs/evidence.md#effect-sizes.
# Variance types: "LS" large-sample, "UB" unbiased, "AV" from the n-weighted average proportion.
_PROPORTION_MEASURES: dict[str, _Measure[_ProportionCells]] = {
    "PR": _Measure(
        yi=lambda c: c.p,
        vi={
            "LS": lambda c: c.p * (1 - c.p) / c.n,
            "UB": lambda c: c.p * (1 - c.p) / (c.n - 1),
            "AV": lambda c: c.pbar * (1 - c.pbar) / c.n,
        },
    ),
    "PLN": _Measure(
        yi=lambda c: np.log(c.p),
        vi={
            "LS": lambda c: 1 / c.x - 1 / c.n,
            "AV": lambda c: 1 / (c.pbar * c.n) - 1 / c.n,
        },
    ),
    "PLO": _Measure(
        yi=lambda c: np.log(c.p / (1 - c.p)),
        vi={
            "LS": lambda c: 1 / c.x + 1 / c.m,
            "AV": lambda c: 1 / (c.pbar * c.n) + 1 / ((1 - c.pbar) * c.n),
        },
    ),
    "PAS": _Measure(yi=lambda c: np.arcsin(np.sqrt(c.p)), vi={"LS": lambda c: 1 / (4 * c.n)}),
    "PFT": _Measure(yi=_pft, vi={"LS": lambda c: 1 / (4 * c.n + 2)}),
}


def _rd_average_variance(c: _TableCells) -> FloatArray:
    """Return the RD variance from each group's n-weighted average risk (``vtype="AV"``)."""
    ok = ~np.isnan(c.p1)
    m1 = np.sum(c.p1[ok] * c.n1[ok]) / np.sum(c.n1[ok])
    m2 = np.sum(c.p2[ok] * c.n2[ok]) / np.sum(c.n2[ok])
    out: FloatArray = m1 * (1 - m1) / c.n1 + m2 * (1 - m2) / c.n2
    return out


# RR, OR and RD of 2x2 tables (module docstring; docs/evidence.md#effect-sizes).
_TABLE_MEASURES: dict[str, _Measure[_TableCells]] = {
    "RR": _Measure(
        yi=lambda c: np.log(c.p1) - np.log(c.p2),
        vi={"LS": lambda c: 1 / c.a - 1 / c.n1 + 1 / c.c - 1 / c.n2},
    ),
    "OR": _Measure(
        yi=lambda c: np.log(c.p1 / (1 - c.p1)) - np.log(c.p2 / (1 - c.p2)),
        vi={"LS": lambda c: 1 / c.a + 1 / c.b + 1 / c.c + 1 / c.d},
    ),
    "RD": _Measure(
        yi=lambda c: c.p1 - c.p2,
        vi={
            "LS": lambda c: c.p1 * (1 - c.p1) / c.n1 + c.p2 * (1 - c.p2) / c.n2,
            "UB": lambda c: c.p1 * (1 - c.p1) / (c.n1 - 1) + c.p2 * (1 - c.p2) / (c.n2 - 1),
            "AV": _rd_average_variance,
        },
    ),
}


def _variance_formula(
    measure: str, table: Mapping[str, _Measure[_Cells]], vtype: str
) -> Callable[[_Cells], FloatArray]:
    """Return the variance formula of ``measure`` for ``vtype``; InputError if it has none."""
    formula = table[measure].vi.get(vtype.upper())
    if formula is None:
        raise InputError(f"vtype {vtype!r} not available for {measure}", "vtype")
    return formula


def _evaluate(
    measure: _Measure[_Cells], variance: Callable[[_Cells], FloatArray], cells: _Cells
) -> tuple[FloatArray, FloatArray]:
    """Return ``(yi, vi)`` of the cells; infinite or undefined values are left to `_finish`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        y, v = measure.yi(cells), variance(cells)
    return np.asarray(y, float), np.asarray(v, float)


def _add_to_zero_cells(
    cells: tuple[FloatArray, ...], add: float, to: str
) -> tuple[FloatArray, ...]:
    """Return the cells with ``add`` added as metafor's ``to`` says (studies with a zero cell)."""
    zero = np.logical_or.reduce([z == 0 for z in cells])
    if to == "all" or (to == "if0all" and np.any(zero)):
        return tuple(z + add for z in cells)
    if to == "only0":
        return tuple(np.where(zero, z + add, z) for z in cells)
    return cells


def _events(xi: Any, pi: Any, n: FloatArray | None) -> FloatArray:
    """Return the event counts: ``xi``, or ``pi * ni`` from proportions."""
    if pi is None:
        if xi is None:
            raise InputError("give xi (events) or pi (proportions)", "xi")
        return as_vector(xi, "xi")
    if xi is not None:
        raise InputError("give either xi or pi, not both", "pi")
    if n is None:
        raise InputError("pi needs ni", "ni")
    p = as_vector(pi, "pi")
    _same_length(pi=p, ni=n)
    if np.any((p < 0) | (p > 1)):
        raise InputError("proportions must lie in [0, 1]", "pi")
    out: FloatArray = p * n
    return out


def _totals(x: FloatArray, n: FloatArray | None, mi: Any) -> FloatArray:
    """Return the group sizes: ``ni``, or ``xi + mi``; both given, they must agree."""
    m = None if mi is None else as_vector(mi, "mi")
    if n is None:
        if m is None:
            raise InputError("give ni (or mi)", "ni")
        _same_length(xi=x, mi=m)
        n = x + m
    _same_length(xi=x, ni=n)
    if m is not None and np.any(np.abs(x + m - n) > 1e-9 * np.maximum(1.0, n)):
        raise InputError("ni must equal xi + mi", "mi")
    return n


def _checked_events(x: FloatArray, n: FloatArray) -> FloatArray:
    """Return ``x`` capped at ``n`` after checking ``n > 0`` and ``0 <= x <= n``."""
    if np.any(n <= 0):
        raise InputError("group sizes must be > 0", "ni")
    if np.any(x < 0):
        raise InputError("event counts must be >= 0", "xi")
    if np.any(x > n * (1 + 1e-12)):
        raise InputError("event counts larger than the group sizes", "xi")
    return np.minimum(x, n)


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
    """Return the effect sizes of single proportions (see :func:`escalc`)."""
    n_given = None if ni is None else as_vector(ni, "ni")
    x = _events(xi, pi, n_given)
    n = _totals(x, n_given, mi)
    if round_events:
        x = np.floor(x + 0.5)
    x = _checked_events(x, n)
    if add is None:
        add = 0.0 if measure in ("PAS", "PFT") else 0.5
    xa, ma = _add_to_zero_cells((x, n - x), add, to)
    na = xa + ma
    pr = xa / na
    variance = _variance_formula(measure, _PROPORTION_MEASURES, vtype)
    cells = _ProportionCells(x=xa, m=ma, n=na, p=pr, pbar=float(np.sum(pr * na) / np.sum(na)))
    y, v = _finish(*_evaluate(_PROPORTION_MEASURES[measure], variance, cells))
    return EscalcResult(y, v, measure, ni=n.copy(), xi=x)


def _complement(
    events: FloatArray, cell: Any, total: Any, names: tuple[str, str, str]
) -> FloatArray:
    """Return a group's non-events: ``cell`` given, or ``total - events``; both must agree.

    ``names`` are the argument names of events, non-events and total (for the messages).
    """
    ev, ne, tot = names
    if cell is None:
        if total is None:
            raise InputError(f"give {ne} or {tot}", ne)
        out: FloatArray = as_vector(total, tot) - events
        return out
    other = as_vector(cell, ne)
    if total is not None and np.any(np.abs(as_vector(total, tot) - events - other) > 1e-9):
        raise InputError(f"{tot} must equal {ev} + {ne}", tot)
    return other


def _table_counts(
    measure: str, ai: Any, bi: Any, ci: Any, di: Any, n1i: Any, n2i: Any
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Return the cells ``a, b, c, d`` of the 2x2 tables, checked to be counts of equal length."""
    if ai is None or ci is None:
        raise InputError(f"{measure} needs ai and ci (with bi, di or n1i, n2i)", "ai")
    a, c = as_vector(ai, "ai"), as_vector(ci, "ci")
    b = _complement(a, bi, n1i, ("ai", "bi", "n1i"))
    d = _complement(c, di, n2i, ("ci", "di", "n2i"))
    _same_length(ai=a, bi=b, ci=c, di=d)
    for name, arr in (("ai", a), ("bi", b), ("ci", c), ("di", d)):
        if np.any(arr < 0):
            raise InputError("counts must be >= 0 (event counts larger than group sizes?)", name)
    return a, b, c, d


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
    """Return the effect sizes of two-group comparisons from 2x2 tables (see :func:`escalc`)."""
    a, b, c, d = _table_counts(measure, ai, bi, ci, di, n1i, n2i)
    n_u = a + b + c + d
    if drop00:
        both = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
        a, b, c, d = (np.where(both, np.nan, z) for z in (a, b, c, d))
    a, b, c, d = _add_to_zero_cells((a, b, c, d), 0.5 if add is None else add, to)
    n1, n2 = a + b, c + d
    cells = _TableCells(a=a, b=b, c=c, d=d, n1=n1, n2=n2, p1=a / n1, p2=c / n2)
    variance = _variance_formula(measure, _TABLE_MEASURES, vtype)
    y, v = _finish(*_evaluate(_TABLE_MEASURES[measure], variance, cells))
    return EscalcResult(y, v, measure, ni=n_u)
