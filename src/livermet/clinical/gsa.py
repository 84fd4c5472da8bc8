"""99mTc-GSA scintigraphy indices HH15 and LHL15: liver-reserve assessment.

Specified in docs/clinical.md#gsa-scintigraphy.

Definitions ([two sources]: Ha-Kawa 1993, Kudo 1992 abstracts and the case report):
HH15 = heart counts at 15 min / heart counts at 3 min (lower is better);
LHL15 = liver counts at 15 min / (liver + heart counts at 15 min) (higher is better).

Reference values: LHL15 in controls 0.936 ± 0.015 (Kudo M, Todo A, Ikekubo K, Hino M. Am J
Gastroenterol 1992; [one source]); HH15 0.537 ± 0.037 and LHL15 0.942 ± 0.017 from the Japanese
phase-III 99mTc-GSA study (Torizuka K, et al. Kaku Igaku 1992; [not verified]).

Cut-offs: LHL15 ≥ 0.90 and HH15 ≤ 0.60 = normal/good reserve are "commonly used in Japanese
surgical practice" — **[not verified]: no public source confirmed them**
(docs/clinical.md#gsa-scintigraphy).
They are therefore named constants and keyword arguments, and every result states the cut-offs
it used.

Categories: both indices within their normal limit → "normal"; both outside → "impaired"; exactly
one outside → "indeterminate" (docs/clinical.md#gsa-scintigraphy). When one index is unknown the
category cannot be decided either → "indeterminate", with a reason naming the missing index
(documented default of livermet; no source covers this case). Both unknown → None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from livermet.clinical._vector import as_float_array, is_scalar, scalar_or_array
from livermet.clinical.contracts import GSA as CONTRACT

HH15_UPPER_NORMAL = 0.60
"""HH15 ≤ 0.60 = normal (Japanese surgical practice; [not verified], configurable)."""
LHL15_LOWER_NORMAL = 0.90
"""LHL15 ≥ 0.90 = normal (Japanese surgical practice; [not verified], configurable)."""
HH15_REFERENCE_MEAN_SD = (0.537, 0.037)
"""HH15 in normal subjects (Torizuka 1992 phase-III study; [not verified])."""
LHL15_REFERENCE_MEAN_SD = (0.942, 0.017)
"""LHL15 in normal subjects (Torizuka 1992 phase-III study; [not verified]); Kudo 1992 controls
0.936 ± 0.015 [one source]."""

NORMAL = "normal"
IMPAIRED = "impaired"
INDETERMINATE = "indeterminate"

_SNAP_DECIMALS = 9


@dataclass(frozen=True)
class GsaResult:
    """99mTc-GSA liver-reserve assessment.

    Attributes
    ----------
    hh15, lhl15 : float | None (array: float, NaN = unknown)
        The indices as given.
    assessment : str | None (array: object)
        "normal", "impaired", "indeterminate", or None when both indices are unknown.
    reasons : tuple[str, ...] (array: object array of tuples)
        One sentence per index saying how it compares with its cut-off.
    reference : str
        The cut-offs applied and their verification status.
    """

    hh15: Any
    lhl15: Any
    assessment: Any
    reasons: Any
    reference: str


def gsa_assessment(
    *,
    hh15: Any,
    lhl15: Any,
    hh15_upper_normal: float = HH15_UPPER_NORMAL,
    lhl15_lower_normal: float = LHL15_LOWER_NORMAL,
) -> GsaResult:
    """Classify liver reserve from HH15 and LHL15 (docs/clinical.md#gsa-scintigraphy).

    Parameters
    ----------
    hh15 : float | array | None
        Blood clearance index, ratio in (0, 1).
    lhl15 : float | array | None
        Receptor index, ratio in (0, 1).
    hh15_upper_normal : float
        HH15 at or below this is normal (default 0.60, [not verified]).
    lhl15_lower_normal : float
        LHL15 at or above this is normal (default 0.90, [not verified]).

    Returns
    -------
    GsaResult

    Raises
    ------
    InputError
        When an index is not strictly between 0 and 1.
    """
    scalar = is_scalar(hh15, lhl15)
    hh = as_float_array(hh15, "hh15")
    lhl = as_float_array(lhl15, "lhl15")
    CONTRACT.input("hh15").check(hh)
    CONTRACT.input("lhl15").check(lhl)
    hh, lhl = np.broadcast_arrays(hh, lhl)

    # Status code per index: 0 normal, 1 abnormal, 2 unknown. Snapping to 9 decimals keeps a
    # ratio computed from counts (0.6000000000000001) on the cut-off it equals.
    hh_s, lhl_s = np.round(hh, _SNAP_DECIMALS), np.round(lhl, _SNAP_DECIMALS)
    hh_code = np.where(np.isnan(hh), 2, hh_s > hh15_upper_normal)
    lhl_code = np.where(np.isnan(lhl), 2, lhl_s < lhl15_lower_normal)
    pair = (3 * hh_code + lhl_code).ravel()  # one code per (HH15, LHL15) status pair

    hh_texts = (
        f"HH15 ≤ {hh15_upper_normal:.2f} (normal)",
        f"HH15 > {hh15_upper_normal:.2f} (abnormal)",
        "HH15 unknown",
    )
    lhl_texts = (
        f"LHL15 ≥ {lhl15_lower_normal:.2f} (normal)",
        f"LHL15 < {lhl15_lower_normal:.2f} (abnormal)",
        "LHL15 unknown",
    )
    # Look-up tables over the 9 pairs: both normal -> normal, both abnormal -> impaired, both
    # unknown -> None, any other mix -> indeterminate; reasons are (HH15, LHL15) text tuples.
    assessments = np.full(9, INDETERMINATE, dtype=object)
    assessments[[0, 4, 8]] = [NORMAL, IMPAIRED, None]
    texts = np.empty(9, dtype=object)
    texts[:] = [(h, g) for h in hh_texts for g in lhl_texts]
    assessment = assessments[pair].reshape(hh.shape)
    reasons = texts[pair].reshape(hh.shape)
    reference = (
        f"normal if HH15 ≤ {hh15_upper_normal:.2f} and LHL15 ≥ {lhl15_lower_normal:.2f} "
        "(cut-offs used in Japanese surgical practice, not verified against a publication); "
        "reference values HH15 0.537 ± 0.037, LHL15 0.942 ± 0.017 (Torizuka 1992); "
        "LHL15 controls 0.936 ± 0.015 (Kudo 1992)"
    )
    return GsaResult(
        hh15=scalar_or_array(hh, scalar),
        lhl15=scalar_or_array(lhl, scalar),
        assessment=scalar_or_array(assessment, scalar),
        reasons=scalar_or_array(reasons, scalar),
        reference=reference,
    )
