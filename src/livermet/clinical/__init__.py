"""Clinical engine: pure score functions for liver metastases of soft-tissue sarcoma.

Every score accepts Python scalars or numpy arrays (a whole cohort in one call), canonical units,
None/NaN for unknown, and returns a frozen result dataclass (see ``_vector.py``). Definitions,
thresholds and sources: ``clinical-scores.md``.

Modules
-------
fnclcc
    FNCLCC histologic grade of soft-tissue sarcoma (§1).
ajcc
    AJCC 8th-edition T category and stage group, trunk and extremities (§2).
child_pugh
    Child-Pugh score and class (§3).
albi
    ALBI score and grade, modified ALBI 2a/2b (§4).
meld
    MELD (UNOS), MELD-Na and MELD 3.0 (§5).
makuuchi
    Makuuchi criteria: maximum safe extent of hepatectomy (§6).
icg
    ICG-K / PDR from ICG-R15 and remnant ICG-K (§7).
gsa
    99mTc-GSA scintigraphy, HH15 and LHL15 (§8).
volumetry
    Body surface area, standard liver volume, future liver remnant (§9).
anatomy
    Couinaud segments, Brisbane 2000 / Tokyo 2020 resection names (§10).
difficulty
    Kawaguchi 2018 difficulty grade of laparoscopic liver resection (§11).
complications
    Clavien-Dindo grades and the Comprehensive Complication Index (§12).
textbook_outcome
    Textbook outcome in liver surgery (TOLS) (§13).
liver_failure
    Post-hepatectomy liver failure: ISGLS, 50-50 criteria, Mullen (§14).
surveillance
    Follow-up plans after resection (§15).
batch
    :func:`score_cohort`: every score of a cohort table at once, without a loop over rows.

Shared helpers: ``extent`` (ordinal extent of resection), ``units`` (units at the boundary),
``_vector`` (scalar/array plumbing).
"""

from __future__ import annotations

from typing import Any

_SUBMODULES = frozenset(
    {
        "ajcc",
        "albi",
        "anatomy",
        "batch",
        "child_pugh",
        "complications",
        "difficulty",
        "extent",
        "fnclcc",
        "gsa",
        "icg",
        "liver_failure",
        "makuuchi",
        "meld",
        "surveillance",
        "textbook_outcome",
        "units",
        "volumetry",
    }
)


def __getattr__(name: str) -> Any:
    """The score modules, and ``score_cohort``, are imported on first use: ``from
    livermet.clinical import fnclcc`` works as before, and reading a case file (which needs the
    segment and unit parsers only) does not load numpy or pandas (``batch``)."""
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "score_cohort":
        return importlib.import_module(f"{__name__}.batch").score_cohort
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted([*_SUBMODULES, "score_cohort"])
