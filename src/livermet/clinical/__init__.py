"""Clinical engine: pure score functions for liver metastases of soft-tissue sarcoma.

Every score accepts Python scalars or numpy arrays (a whole cohort in one call), canonical units,
None/NaN for unknown, and returns a frozen result dataclass (see ``_vector.py``). Definitions,
thresholds and sources: ``docs/clinical.md``, one section per module below.

Modules
-------
fnclcc
    FNCLCC histologic grade of soft-tissue sarcoma (docs/clinical.md#fnclcc-grade).
ajcc
    AJCC 8th-edition T category and stage group, trunk and extremities
    (docs/clinical.md#ajcc-8-staging).
child_pugh
    Child-Pugh score and class (docs/clinical.md#child-pugh).
albi
    ALBI score and grade, modified ALBI 2a/2b (docs/clinical.md#albi-and-malbi).
meld
    MELD (UNOS), MELD-Na and MELD 3.0 (docs/clinical.md#meld).
makuuchi
    Makuuchi criteria: maximum safe extent of hepatectomy (docs/clinical.md#makuuchi-criteria).
icg
    ICG-K / PDR from ICG-R15 and remnant ICG-K (docs/clinical.md#icg-clearance).
gsa
    99mTc-GSA scintigraphy, HH15 and LHL15 (docs/clinical.md#gsa-scintigraphy).
volumetry
    Body surface area, standard liver volume, future liver remnant (docs/clinical.md#volumetry).
anatomy
    Couinaud segments, Brisbane 2000 / Tokyo 2020 resection names
    (docs/clinical.md#couinaud-anatomy-and-brisbane-2000).
difficulty
    Kawaguchi 2018 difficulty grade of laparoscopic liver resection
    (docs/clinical.md#laparoscopic-difficulty).
complications
    Clavien-Dindo grades and the Comprehensive Complication Index
    (docs/clinical.md#clavien-dindo-and-cci).
textbook_outcome
    Textbook outcome in liver surgery (TOLS) (docs/clinical.md#textbook-outcome).
liver_failure
    Post-hepatectomy liver failure: ISGLS, 50-50 criteria, Mullen
    (docs/clinical.md#liver-failure-after-hepatectomy).
surveillance
    Follow-up plans after resection (docs/clinical.md#surveillance).
figo
    FIGO stage of uterine leiomyosarcoma and endometrial stromal sarcoma
    (docs/clinical.md#figo-uterine-sarcoma).
timing
    Synchronous or metachronous metastasis, disease-free interval
    (docs/clinical.md#timing-and-disease-free-interval).
clearing
    Smallest resections that clear every lesion (docs/clinical.md#clearing-resections).
ablation
    Thermal ablation eligibility (docs/clinical.md#thermal-ablation).
recist
    RECIST 1.1 response (docs/clinical.md#recist-11).
fitness
    ECOG, ASA and age (docs/clinical.md#fitness).
batch
    :func:`score_cohort`: every score of a cohort table at once, without a loop over rows.
contracts
    The contract of every score, declared once: inputs with units, plausibility ranges and
    vocabularies, and outputs; the score checks, the cohort table's columns and coercion and
    the case file's bounds are derived from it.

Shared helpers: ``extent`` (ordinal extent of resection), ``units`` (units at the boundary,
docs/clinical.md#units-and-plausibility-ranges),
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
        "contracts",
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
    """Import the score modules, and ``score_cohort``, on first use.

    ``from livermet.clinical import fnclcc`` works as before, and reading a case file (which needs
    the segment and unit parsers only) does not load numpy or pandas (``batch``).
    """
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "score_cohort":
        return importlib.import_module(f"{__name__}.batch").score_cohort
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted([*_SUBMODULES, "score_cohort"])
