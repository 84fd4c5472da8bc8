"""Makuuchi criteria: the maximum safe extent of hepatectomy from ascites, bilirubin and ICG-R15.

Sources: Makuuchi M, Kosuge T, Takayama T, et al. Surgery for small liver cancers. Semin Surg
Oncol 1993;9:298-304. Imamura H, Seyama Y, Kokudo N, et al. One thousand fifty-six hepatectomies
without mortality in 8 years. Arch Surg 2003;138:1198-1206. Specified in
docs/clinical.md#makuuchi-criteria: the full tree is [one source] (two open-source calculators by
one author), the branch "right hepatectomy only if bilirubin < 1.0 mg/dL and ICG-R15 < 10 %" is [one
source] (Springer chapter), the rest matches the published figure from memory [not verified against
the 1993 paper itself].

Tree (docs/clinical.md#makuuchi-criteria):
1. uncontrollable ascites → no hepatectomy;
2. ascites absent or controlled with diuretics → bilirubin, rounded to 0.1 mg/dL first
   (round half up, so 1.05 → 1.1 and 1.95 → 2.0):
   ≥ 2.0 → no hepatectomy; 1.6–1.9 → enucleation; 1.1–1.5 → limited resection;
   ≤ 1.0 → ICG-R15 (half-open bands): [0, 10) → right hemihepatectomy / trisectionectomy;
   [10, 20) → left hemihepatectomy or sectionectomy; [20, 30) → segmentectomy;
   [30, 40) → limited resection; [40, 100] → enucleation.

The tree was built for HCC in chronic liver disease; in a normal liver most Western centres rely
on the future-liver-remnant volume (docs/clinical.md#volumetry) instead.

Unknown inputs: the result carries the range ``[lower_bound, upper_bound]`` that the maximum
extent can take over every value of the unknown inputs; ``max_extent`` is given only when the two
coincide (e.g. bilirubin ≥ 2.0 decides "no hepatectomy" even with unknown ascites; a bilirubin
above 1.0 makes ICG-R15 unnecessary). Otherwise ``max_extent`` is None and ``branch`` names every
missing input the tree would consult (all at once, with the bounds when more than one is
missing). With normal bilirubin and unknown ICG-R15 the bounds are enucleation and right
hemihepatectomy; the lower bound is *not* reported as the maximum because a planned resection
compared against it would be wrongly refused (documented default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    band_codes,
    is_scalar,
    label_codes,
    lookup,
    scalar_or_array,
    select,
)
from livermet.clinical.contracts import MAKUUCHI as CONTRACT
from livermet.clinical.extent import ResectionExtent

E = ResectionExtent

_BILIRUBIN = CONTRACT.input("bilirubin_mg_dl")
_ICG_R15 = CONTRACT.input("icg_r15_percent")

ASCITES_STATES = CONTRACT.input("ascites").vocabulary
"""Ascites: absent, controllable with diuretics, uncontrollable (Makuuchi 1993;
``contracts.ASCITES_CONTROL``)."""

BILIRUBIN_NORMAL_MAX_TENTHS = 10
"""Rounded bilirubin ≤ 1.0 mg/dL: normal → decide on ICG-R15 (Makuuchi 1993; [one source])."""
BILIRUBIN_LIMITED_MAX_TENTHS = 15
"""Rounded bilirubin 1.1–1.5 mg/dL → limited resection (Makuuchi 1993; [one source])."""
BILIRUBIN_ENUCLEATION_MAX_TENTHS = 19
"""Rounded bilirubin 1.6–1.9 mg/dL → enucleation; ≥ 2.0 → no hepatectomy (Makuuchi 1993; [one
source])."""

ICG_R15_BANDS = (
    (10.0, E.RIGHT_HEMIHEPATECTOMY),
    (20.0, E.SECTIONECTOMY),
    (30.0, E.SEGMENTECTOMY),
    (40.0, E.LIMITED),
)
"""ICG-R15 upper limits (exclusive, %) and the extent they allow; ≥ 40 % → enucleation
(Makuuchi 1993; < 10 % → right hepatectomy [one source], other bands [one source]/[not
verified])."""
ICG_R15_RANGE_PERCENT = _ICG_R15.range
"""ICG-R15 accepted in [0, 100] %, the span of the tree's bands (``contracts.MAKUUCHI``;
docs/clinical.md#makuuchi-criteria)."""
BILIRUBIN_RANGE_MG_DL = _BILIRUBIN.range
"""Plausibility 0.1-50 mg/dL (engineering choice, ``contracts.MAKUUCHI``;
docs/clinical.md#units-and-plausibility-ranges)."""

_SNAP_DECIMALS = 9

_OK = "ascites absent or controlled; "
_PATH_TEXT = (
    "uncontrollable ascites → no hepatectomy",
    "bilirubin ≥ 2.0 mg/dL → no hepatectomy (whatever the ascites)",
    "ascites status unknown → not assessable (uncontrollable ascites would exclude hepatectomy)",
    _OK + "bilirubin unknown → not assessable",
    _OK + "bilirubin 1.6–1.9 mg/dL → enucleation only",
    _OK + "bilirubin 1.1–1.5 mg/dL → limited resection",
    _OK + "bilirubin ≤ 1.0 mg/dL; ICG-R15 unknown → not assessable "
    "(maximum between enucleation and right hemihepatectomy/trisectionectomy)",
    _OK + "bilirubin ≤ 1.0 mg/dL; ICG-R15 < 10 % → up to right hemihepatectomy or trisectionectomy",
    _OK + "bilirubin ≤ 1.0 mg/dL; ICG-R15 10–19 % → up to left hemihepatectomy or sectionectomy",
    _OK + "bilirubin ≤ 1.0 mg/dL; ICG-R15 20–29 % → up to segmentectomy",
    _OK + "bilirubin ≤ 1.0 mg/dL; ICG-R15 30–39 % → limited resection",
    _OK + "bilirubin ≤ 1.0 mg/dL; ICG-R15 ≥ 40 % → enucleation only",
)


@dataclass(frozen=True)
class MakuuchiResult:
    """Maximum permitted extent of hepatectomy.

    Attributes
    ----------
    max_extent : ResectionExtent | None (array: float of ResectionExtent values, NaN = unknown)
        The maximum extent, or unknown when missing inputs leave it open.
    label : str | None (array: object)
        Human-readable extent (``ResectionExtent.label``).
    branch : str (array: object)
        The path taken through the tree, or which input is missing.
    lower_bound, upper_bound : ResectionExtent (array: float)
        Range of the maximum extent over the values the unknown inputs could take; both equal
        ``max_extent`` when it is decided.
    bilirubin_rounded_mg_dl : float | None (array: float)
        Bilirubin rounded (half up) to 0.1 mg/dL, as used by the tree.
    """

    max_extent: Any
    label: Any
    branch: Any
    lower_bound: Any
    upper_bound: Any
    bilirubin_rounded_mg_dl: Any


def makuuchi_max_extent(
    *, ascites: Any, bilirubin_mg_dl: Any, icg_r15_percent: Any
) -> MakuuchiResult:
    """Apply the Makuuchi decision tree (docs/clinical.md#makuuchi-criteria).

    Parameters
    ----------
    ascites : str | array | None
        "none", "controlled" (with diuretics) or "uncontrollable".
    bilirubin_mg_dl : float | array | None
        Total bilirubin, mg/dL (plausible 0.1–50).
    icg_r15_percent : float | array | None
        ICG retention at 15 min, % (0–100).

    Returns
    -------
    MakuuchiResult

    Raises
    ------
    InputError
        When a value is out of range or the ascites label is not recognised.
    """
    scalar = is_scalar(ascites, bilirubin_mg_dl, icg_r15_percent)
    asc = label_codes(ascites, "ascites", ASCITES_STATES)  # index in ASCITES_STATES, -1 unknown
    bili = as_float_array(bilirubin_mg_dl, "bilirubin_mg_dl")
    icg = as_float_array(icg_r15_percent, "icg_r15_percent")
    _BILIRUBIN.check(bili)
    _ICG_R15.check(icg)
    asc, bili, icg = np.broadcast_arrays(asc, bili, icg)
    tenths = np.floor(np.round(bili * 10.0, _SNAP_DECIMALS) + 0.5)
    code = _tree_code(asc, tenths, np.round(icg, _SNAP_DECIMALS))
    max_extent = lookup(_TABLE.max_extent, code)
    return MakuuchiResult(
        max_extent=_extent_or_array(max_extent, scalar),
        label=scalar_or_array(lookup(_TABLE.label, code), scalar),
        branch=scalar_or_array(lookup(_TABLE.branch, code), scalar),
        lower_bound=_extent_or_array(lookup(_TABLE.lower, code), scalar),
        upper_bound=_extent_or_array(lookup(_TABLE.upper, code), scalar),
        bilirubin_rounded_mg_dl=scalar_or_array(tenths / 10.0, scalar),
    )


def _tree(asc: Any, tenths: FloatArray, r15: FloatArray) -> tuple[FloatArray, FloatArray, Any]:
    """Return the bounds of the maximum extent and the branch taken (index in ``_PATH_TEXT``).

    The tree itself, on ascites codes (index in ``ASCITES_STATES``, -1 unknown), bilirubin in
    rounded tenths of mg/dL and snapped ICG-R15 %. :func:`makuuchi_max_extent` reads its results
    from :data:`_TABLE`, which this function fills once for one value of every band.
    """
    asc_stop = asc == ASCITES_STATES.index("uncontrollable")
    asc_ok = (asc == ASCITES_STATES.index("none")) | (asc == ASCITES_STATES.index("controlled"))
    asc_unknown = asc == -1
    bili_unknown = np.isnan(tenths)
    bili_normal = tenths <= BILIRUBIN_NORMAL_MAX_TENTHS
    bili_limited = (tenths > BILIRUBIN_NORMAL_MAX_TENTHS) & (tenths <= BILIRUBIN_LIMITED_MAX_TENTHS)
    bili_enucleation = (tenths > BILIRUBIN_LIMITED_MAX_TENTHS) & (
        tenths <= BILIRUBIN_ENUCLEATION_MAX_TENTHS
    )
    bili_stop = tenths > BILIRUBIN_ENUCLEATION_MAX_TENTHS
    icg_unknown = np.isnan(r15)

    # ICG branch, then bilirubin branch, then ascites: bounds of the maximum extent.
    icg_ext = _icg_extent(r15)
    icg_lo = np.where(icg_unknown, float(E.ENUCLEATION), icg_ext)
    icg_hi = np.where(icg_unknown, float(E.RIGHT_HEMIHEPATECTOMY), icg_ext)
    bili_fixed = select(
        [bili_limited, bili_enucleation, bili_stop],
        [float(E.LIMITED), float(E.ENUCLEATION), float(E.NONE)],
        np.nan,
    )
    bili_lo = select([bili_normal, bili_unknown], [icg_lo, float(E.NONE)], bili_fixed)
    bili_hi = select(
        [bili_normal, bili_unknown], [icg_hi, np.maximum(float(E.LIMITED), icg_hi)], bili_fixed
    )
    lower = select([asc_stop, asc_ok], [float(E.NONE), bili_lo], float(E.NONE))
    upper = select([asc_stop, asc_ok], [float(E.NONE), bili_hi], bili_hi)

    path = select(
        [
            asc_stop,
            bili_stop,
            asc_unknown,
            bili_unknown,
            bili_enucleation,
            bili_limited,
            icg_unknown,
            r15 < 10.0,
            r15 < 20.0,
            r15 < 30.0,
            r15 < 40.0,
        ],
        list(range(11)),
        11,
    )
    return lower, upper, path


_TENTHS_LIMITS = (
    BILIRUBIN_NORMAL_MAX_TENTHS,
    BILIRUBIN_LIMITED_MAX_TENTHS,
    BILIRUBIN_ENUCLEATION_MAX_TENTHS,
)
"""Upper limits (inclusive) of the tree's bilirubin bands, in rounded tenths of mg/dL."""
_R15_LIMITS = tuple(limit for limit, _ in ICG_R15_BANDS)
"""Upper limits (exclusive) of the tree's ICG-R15 bands, %; the last band is open."""
_BANDS = (len(ASCITES_STATES) + 1, len(_TENTHS_LIMITS) + 2, len(_R15_LIMITS) + 2)
"""Codes per input, unknown included: ascites, bilirubin band, ICG-R15 band."""


def _tree_code(asc: Any, tenths: FloatArray, r15: FloatArray) -> Any:
    """Return the row of :data:`_TABLE` of each patient: its ascites code and bands, unknown = 0.

    The tree compares its inputs only with these band limits, so the band decides the branch.
    """
    code = np.asarray(asc + 1, dtype=np.int16)
    code = code * _BANDS[1] + (band_codes(tenths, _TENTHS_LIMITS, right=True) + 1)
    return code * _BANDS[2] + (band_codes(r15, _R15_LIMITS) + 1)


@dataclass(frozen=True)
class _Table:
    """Results of the tree by :func:`_tree_code`: bounds, maximum extent, label and branch."""

    lower: FloatArray
    upper: FloatArray
    max_extent: FloatArray
    label: Any
    branch: Any


def _tree_table() -> _Table:
    """Return the tree's results for one value of every band of every input (and unknowns)."""
    nan = np.nan
    asc = np.arange(-1, len(ASCITES_STATES))  # -1 unknown, then each state
    tenths = np.array([nan, *_TENTHS_LIMITS, _TENTHS_LIMITS[-1] + 1])  # inclusive upper limits
    r15 = np.array([nan, _R15_LIMITS[0] - 1.0, *_R15_LIMITS])  # exclusive upper limits
    grid = [g.ravel() for g in np.meshgrid(asc, tenths, r15, indexing="ij")]
    if not np.array_equal(_tree_code(*grid), np.arange(grid[0].size)):  # pragma: no cover
        raise RuntimeError("Makuuchi table rows out of order")
    lower, upper, path = _tree(*grid)
    max_extent = np.where(lower == upper, lower, np.nan)
    labels = lookup(_EXTENT_LABELS, np.where(np.isnan(max_extent), -1, max_extent).astype(np.intp))
    branch = lookup(np.asarray(_PATH_TEXT, dtype=object), path)
    for row in range(branch.size):
        missing = _missing_inputs(grid[0][row], grid[1][row], grid[2][row])
        if np.isnan(max_extent[row]) and len(missing) > 1:
            branch[row] = _missing_text(missing, grid[0][row], lower[row], upper[row])
    return _Table(lower, upper, max_extent, labels, branch)


def _missing_inputs(asc: int, tenths: float, r15: float) -> list[str]:
    """Return the unknown inputs the tree would still consult (ascites, bilirubin, ICG-R15).

    ICG-R15 is consulted only with a bilirubin ≤ 1.0 mg/dL (or an unknown one).
    """
    bili_unknown = bool(np.isnan(tenths))
    missing = ["ascites status"] if asc == -1 else []
    if bili_unknown:
        missing.append("bilirubin")
    if np.isnan(r15) and (bili_unknown or tenths <= BILIRUBIN_NORMAL_MAX_TENTHS):
        missing.append("ICG-R15")
    return missing


def _missing_text(missing: list[str], asc: int, lower: float, upper: float) -> str:
    """Return the branch of an undecided tree that lacks several inputs: all of them, named.

    E.g. "bilirubin ≤ 1.0 mg/dL; ascites status and ICG-R15 unknown → not assessable (...)".
    """
    names = ", ".join(missing[:-1]) + f" and {missing[-1]}"
    known = "" if "bilirubin" in missing else "bilirubin ≤ 1.0 mg/dL; "
    if asc != -1:
        known = _OK + known
    why = "uncontrollable ascites would exclude hepatectomy; " if asc == -1 else ""
    bounds = f"maximum between {E(int(lower)).label} and {E(int(upper)).label}"
    return f"{known}{names} unknown → not assessable ({why}{bounds})"


_EXTENT_LABELS = np.array([*(E(value).label for value in range(max(E) + 1)), None], dtype=object)
"""Label of each extent by its ordinal; the last entry (index -1) is None, extent unknown."""


def within_extent(planned: ResectionExtent, maximum: ResectionExtent) -> bool:
    """Return whether the planned resection does not exceed the maximum permitted extent."""
    return ResectionExtent(planned) <= ResectionExtent(maximum)


def _icg_extent(r15: FloatArray) -> FloatArray:
    """Extent allowed by ICG-R15 (half-open bands); NaN where unknown."""
    conditions = [r15 < limit for limit, _ in ICG_R15_BANDS] + [r15 >= ICG_R15_BANDS[-1][0]]
    choices = [float(extent) for _, extent in ICG_R15_BANDS] + [float(E.ENUCLEATION)]
    out: FloatArray = select(conditions, choices, np.nan)
    return out


def _extent_or_array(values: FloatArray, scalar: bool) -> Any:
    """ResectionExtent (None if unknown) in scalar mode, float array (NaN) otherwise."""
    if not scalar:
        return values
    item = float(values.item())
    return None if np.isnan(item) else ResectionExtent(int(item))


_TABLE = _tree_table()
"""The tree's results by table row (:func:`_tree_code`), computed once at import."""
