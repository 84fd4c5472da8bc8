"""Synchronous or metachronous liver metastasis, and the disease-free interval, from intervals.

There is no consensus on the time point that separates synchronous from metachronous
metastases: the literature anchors on the primary's diagnosis or on its resection and uses
windows from 0 to 12 months (Engstrand J, et al. World J Surg Oncol 2019;17:228). The two
consensus statements both call a metastasis synchronous when it is present at presentation:

- E-AHPBA/ESSO/ESCP/ESGAR/CIRSE consensus (Siriwardena AK, et al. Br J Surg 2023;110:1161-1170):
  synchronous = detected at presentation of the primary (at or before its diagnosis); early
  metachronous = absent at presentation and detected within 12 months of the diagnosis; late
  metachronous = detected more than 12 months after it.
- Adam R, et al. (multidisciplinary international consensus, 2015; journal details not
  verified): synchronous = detected at or before diagnosis of the primary; early / late
  metachronous split at 12 months after surgery of the primary.

The only series of leiomyosarcoma liver metastases that states a window (Jain AJ, et al., MD
Anderson, SSAT 2023 abstract, 54 patients) calls a metastasis synchronous when it is found less
than 6 months after the diagnosis of the leiomyosarcoma.

Default (an engineering choice among published definitions, configurable through
:data:`DEFAULT_SCHEME`): the E-AHPBA 2023 scheme, with the Jain 2023 label always reported beside
it. The window is compared on the interval from the anchor (the primary's diagnosis, or its
resection when the diagnosis date is not known) to the first detection of the liver metastasis;
months are mean Gregorian months (30.4375 days).

Disease-free interval (DFI): sources anchor it differently (DeMatteo RP, et al. Ann Surg
2001;234:540-547, "from the primary tumor to the development of liver metastasis"; Jain 2023,
from resection of the primary; Marudanayagam R, et al. Eur J Surg Oncol 2011, between the primary
and metastatic resections). Default (engineering choice, see :data:`DFI_DEFINITION`): from the
resection of the primary to the first detection of the liver metastasis; a metastasis detected
at or before that resection, or a primary resection that left gross tumour (R2), means the
patient was never disease-free (DFI 0); no resection of the primary → not assessable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from livermet.errors import InputError

DAYS_PER_MONTH: Final = 365.25 / 12
"""Mean Gregorian month (30.4375 days)."""

Timing = Literal["synchronous", "metachronous"]
Category = Literal["synchronous", "early metachronous", "late metachronous", "metachronous"]


@dataclass(frozen=True)
class TimingScheme:
    """A published definition of synchronous / metachronous liver metastases.

    Attributes
    ----------
    key
        Stable name printed in the output, e.g. ``"e-ahpba-2023"``.
    short
        Short citation for sentences, e.g. ``"Siriwardena, Br J Surg 2023"``.
    definition
        The definition in words, as printed to the user.
    source
        The publication (author, journal, year).
    synchronous_window_months
        Detection at most (``inclusive``) or less than this many months after the anchor is
        synchronous; 0 with ``inclusive`` means "at or before the anchor".
    inclusive
        Whether an interval equal to the window is still synchronous.
    early_late_split_months
        Metachronous metastases detected up to this many months after the anchor are "early",
        later ones "late"; None: the scheme does not split.
    """

    key: str
    short: str
    definition: str
    source: str
    synchronous_window_months: float
    inclusive: bool
    early_late_split_months: float | None


E_AHPBA_2023: Final = TimingScheme(
    key="e-ahpba-2023",
    short="Siriwardena, Br J Surg 2023",
    definition="synchronous when detected at or before the diagnosis of the primary; early "
    "metachronous when detected within 12 months of it; late metachronous after 12 months",
    source="Siriwardena AK, et al. Br J Surg 2023;110:1161-1170 (E-AHPBA/ESSO/ESCP/ESGAR/CIRSE "
    "consensus)",
    synchronous_window_months=0.0,
    inclusive=True,
    early_late_split_months=12.0,
)

JAIN_2023: Final = TimingScheme(
    key="jain-2023",
    short="Jain, SSAT 2023",
    definition="synchronous when detected less than 6 months after the diagnosis of the "
    "leiomyosarcoma; metachronous from 6 months",
    source="Jain AJ, et al. (MD Anderson), SSAT 2023 abstract, liver metastases of leiomyosarcoma",
    synchronous_window_months=6.0,
    inclusive=False,
    early_late_split_months=None,
)

SCHEMES: Final = {s.key: s for s in (E_AHPBA_2023, JAIN_2023)}

DEFAULT_SCHEME: Final = E_AHPBA_2023
"""The scheme that decides ``metastasis_timing`` (engineering choice: the published consensus
definition; there is no sarcoma-specific consensus)."""

ALSO_REPORTED: Final = (JAIN_2023,)
"""Schemes reported beside the default (the only leiomyosarcoma-specific window)."""

SCHEME_CHOICE_NOTE: Final = (
    "There is no consensus on the window (0-12 months in the literature; Engstrand J, et al. "
    "World J Surg Oncol 2019); the consensus definition is used by default and the "
    "leiomyosarcoma series' 6-month window is shown beside it (engineering choice)."
)

DFI_DEFINITION: Final = (
    "Disease-free interval: from the resection of the primary tumour to the first detection of "
    "the liver metastasis, in months of 30.4375 days. A metastasis found at or before that "
    "resection, or gross residual tumour (R2), means the patient was never disease-free (DFI 0); "
    "without a resection of the primary the interval is not assessable. Sources anchor the DFI "
    "differently (DeMatteo RP, et al. Ann Surg 2001; Jain AJ, et al. SSAT 2023); this anchor is "
    "an engineering choice."
)

DfiStatus = Literal["disease-free interval", "never disease-free", "not assessable"]


@dataclass(frozen=True)
class TimingResult:
    """The label one scheme gives to one interval.

    Attributes
    ----------
    timing
        "synchronous" or "metachronous".
    category
        "synchronous", "early metachronous", "late metachronous", or "metachronous" when the
        scheme does not split.
    scheme
        The scheme applied.
    """

    timing: Timing
    category: Category
    scheme: TimingScheme


def _check_interval(value: float, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"expected a finite number of days, got {value!r}", field)
    return float(value)


def classify_timing(interval_days: float, scheme: TimingScheme = DEFAULT_SCHEME) -> TimingResult:
    """Classify a liver metastasis detected ``interval_days`` after the anchor.

    Parameters
    ----------
    interval_days
        Days from the anchor (the primary's diagnosis, or its resection) to the first detection of
        the liver metastasis; negative when the metastasis was found first.
    scheme
        The definition to apply (default: :data:`DEFAULT_SCHEME`).

    Returns
    -------
    TimingResult
        Synchronous when the interval is within the scheme's window; otherwise metachronous,
        early or late when the scheme splits. Monotonic: a later detection never turns a
        metachronous metastasis into a synchronous one.

    Raises
    ------
    InputError
        ``interval_days`` not a finite number ("interval_days").
    """
    days = _check_interval(interval_days, "interval_days")
    window = scheme.synchronous_window_months * DAYS_PER_MONTH
    synchronous = days <= window if scheme.inclusive else days < window
    if synchronous:
        return TimingResult("synchronous", "synchronous", scheme)
    split = scheme.early_late_split_months
    if split is None:
        return TimingResult("metachronous", "metachronous", scheme)
    early = days <= split * DAYS_PER_MONTH
    return TimingResult(
        "metachronous", "early metachronous" if early else "late metachronous", scheme
    )


@dataclass(frozen=True)
class DiseaseFreeInterval:
    """The disease-free interval and how it was reached.

    Attributes
    ----------
    months
        Months (30.4375 days) from the primary's resection to the first liver detection; 0 when
        never disease-free; None when not assessable.
    status
        "disease-free interval", "never disease-free" or "not assessable".
    reason
        One sentence naming the inputs used or missing.
    """

    months: float | None
    status: DfiStatus
    reason: str


def disease_free_interval(
    *,
    primary_resected: bool,
    resection_to_detection_days: float | None,
    margin: Literal["R0", "R1", "R2"] | None = None,
    synchronous: bool | None = None,
) -> DiseaseFreeInterval:
    """Disease-free interval by :data:`DFI_DEFINITION`.

    Parameters
    ----------
    primary_resected
        The primary tumour has been resected (a performed operation).
    resection_to_detection_days
        Days from the primary's resection to the first detection of the liver metastasis, or None
        when either date is unknown.
    margin
        Margin of the primary's resection; R2 (gross residual tumour) means never disease-free.
    synchronous
        The metastasis is known to be synchronous (used only when the dates are unknown).

    Raises
    ------
    InputError
        ``resection_to_detection_days`` not a finite number.
    """
    if synchronous and resection_to_detection_days is None:
        return DiseaseFreeInterval(
            0.0, "never disease-free", "the liver metastasis is synchronous (found at presentation)"
        )
    if not primary_resected:
        return DiseaseFreeInterval(
            None, "not assessable", "the primary tumour has not been resected"
        )
    if margin == "R2":
        return DiseaseFreeInterval(
            0.0, "never disease-free", "the primary's resection left gross tumour (R2)"
        )
    if resection_to_detection_days is None:
        return DiseaseFreeInterval(
            None,
            "not assessable",
            "the date of the primary's resection or of the liver metastasis's detection is not "
            "known",
        )
    days = _check_interval(resection_to_detection_days, "resection_to_detection_days")
    if days <= 0:
        return DiseaseFreeInterval(
            0.0,
            "never disease-free",
            "the liver metastasis was found at or before the resection of the primary",
        )
    return DiseaseFreeInterval(
        days / DAYS_PER_MONTH,
        "disease-free interval",
        "from the resection of the primary to the first detection of the liver metastasis",
    )
