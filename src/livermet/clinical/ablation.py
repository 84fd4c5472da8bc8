"""Thermal ablation (radiofrequency or microwave) of liver metastases: size, number and location.

No sarcoma-specific size or number limit has been published; the only cited numbers come from
colorectal liver metastases (CRLM) and are labelled "derived from colorectal data" in every output.

Sources:

- Size and number: COLLISION trial protocol, Puijk RS, et al. BMC Cancer 2018;18:821 (Table 1):
  target CRLM <= 3 cm, at most 10 CRLM in total, no extrahepatic disease. Result: van der Lei S,
  et al. Lancet Oncol 2025;26:187-199 (ablation non-inferior to resection for resectable CRLM
  <= 3 cm).
- Bile ducts: Lin MX, et al. Dig Dis Sci 2017;62:1086 - injury risk lower when the tumour lies
  more than 10 mm from the main or a segmental bile duct; the minimum safe distance is 10 mm.
- Heat sink: Lu DS, et al. AJR 2002;178:47 - heat sink in 73 % of veins > 3 mm, none below 3 mm
  (with Thanos 2008: tumours abutting vessels > 3 mm); perivascular location predicts local
  progression after RFA, not after microwave ablation (J Vasc Interv Radiol study of 110 patients).
- Margin: Wang X, et al. Cardiovasc Intervent Radiol 2013;36:166 - 2-year local-progression-free
  survival 26/46/74/80 % for margins 0/1-5/6-10/11-15 mm; a margin > 5 mm is critical and none
  progressed with > 10 mm (J Vasc Interv Radiol study above).
- Single radiofrequency zone "3 to 5 cm in diameter" (a review, PMC3036313; authors not checked).
- Sarcoma: RFA (alone or with resection) associated with shorter disease-free survival
  (Pawlik TM, et al. Arch Surg 2006).

The eligibility rule itself is an engineering choice of this project (``ELIGIBILITY_RULE_IS_ENG``):
all of diameter <= 30 mm, count <= 10, no extrahepatic disease, distance to the main/segmental bile
ducts >= 10 mm; a vessel > 3 mm abutting the lesion flags a heat-sink risk ("prefer microwave")
without excluding. An unknown input makes its criterion "not assessable", never "met": the lesion is
then "not assessable", never eligible. The zone an ablation must reach is the tumour diameter plus
twice the margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from livermet.errors import InputError

ABLATION_MAX_DIAMETER_MM: Final = 30.0
"""Largest lesion diameter for ablation, mm (COLLISION protocol, Puijk, BMC Cancer 2018: <= 3 cm;
colorectal data)."""

ABLATION_MAX_COUNT: Final = 10
"""Most lesions in total (COLLISION protocol, Puijk, BMC Cancer 2018: <= 10 CRLM)."""

BILE_DUCT_MIN_DISTANCE_MM: Final = 10.0
"""Minimum distance to the main or a segmental bile duct, mm (Lin, Dig Dis Sci 2017)."""

HEAT_SINK_VESSEL_MM: Final = 3.0
"""A vessel wider than this abutting the lesion causes heat sink (Lu, AJR 2002: > 3 mm)."""

MARGINS_MM: Final[tuple[float, ...]] = (5.0, 10.0)
"""Ablation margins shown: > 5 mm critical, > 10 mm no local progression (Wang, CVIR 2013; J Vasc
Interv Radiol study of 110 patients)."""

SINGLE_RFA_ZONE_MM: Final[tuple[float, float]] = (30.0, 50.0)
"""Diameter of a single radiofrequency ablation zone, mm ("3 to 5 cm", review PMC3036313)."""

ELIGIBILITY_RULE_IS_ENG: Final = True
"""The combination of the criteria above into one eligibility rule is an engineering choice of
this project, not a published rule; it is said so in the output (``RULE_NOTE``)."""

RULE_NOTE: Final = (
    "Engineering rule of livermet combining published limits derived from colorectal liver "
    "metastases (no sarcoma-specific limit is published): diameter <= 30 mm and at most 10 lesions "
    "(COLLISION, Puijk, BMC Cancer 2018), no extrahepatic disease, >= 10 mm from the main or a "
    "segmental bile duct (Lin, Dig Dis Sci 2017); a vessel > 3 mm abutting the lesion is a "
    "heat-sink risk (Lu, AJR 2002)."
)

SOURCES: Final = (
    "Puijk RS, et al. BMC Cancer 2018 (COLLISION protocol); van der Lei S, et al. Lancet Oncol "
    "2025; Lin MX, et al. Dig Dis Sci 2017; Lu DS, et al. AJR 2002; Wang X, et al. Cardiovasc "
    "Intervent Radiol 2013"
)

Status = Literal["met", "not met", "not assessable"]


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion: its status and a sentence naming the values."""

    name: str
    status: Status
    text: str


@dataclass(frozen=True)
class LesionAblation:
    """Ablation eligibility of one lesion.

    Attributes
    ----------
    eligible
        True when every criterion is met, False when one is not met, None when none fails but
        one is not assessable.
    criteria
        size, count, extrahepatic disease, bile-duct distance (in this order).
    zone_needed_mm
        Ablation-zone diameter for each margin of :data:`MARGINS_MM`: diameter + 2 x margin.
    overlapping_zones_likely
        The zone needed for the smallest margin exceeds the lower end of a single RFA zone.
    heat_sink_risk
        A vessel > 3 mm abuts the lesion (None: not known).
    """

    diameter_mm: float | None
    eligible: bool | None
    criteria: tuple[Criterion, ...]
    zone_needed_mm: tuple[tuple[float, float], ...]
    overlapping_zones_likely: bool | None
    heat_sink_risk: bool | None

    @property
    def failed(self) -> tuple[Criterion, ...]:
        """Return the criteria not met."""
        return tuple(c for c in self.criteria if c.status == "not met")

    @property
    def unassessed(self) -> tuple[Criterion, ...]:
        """Return the criteria that could not be assessed."""
        return tuple(c for c in self.criteria if c.status == "not assessable")


def _status(ok: bool | None) -> Status:
    return "not assessable" if ok is None else ("met" if ok else "not met")


def _check_mm(value: float | None, field: str, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= high:
        raise InputError(f"expected a length in mm between 0 and {high:g}, got {value!r}", field)
    return float(value)


def lesion_ablation(
    *,
    diameter_mm: float | None,
    lesion_count: int | None,
    extrahepatic_disease: bool | None,
    bile_duct_distance_mm: float | None = None,
    abutting_vessel_mm: float | None = None,
) -> LesionAblation:
    """Ablation eligibility of one lesion (module docstring for the rule and sources).

    Parameters
    ----------
    diameter_mm
        Greatest lesion diameter, mm (0-500).
    lesion_count
        Number of liver lesions in total (>= 1).
    extrahepatic_disease
        True when metastases outside the liver are known, False when none were found.
    bile_duct_distance_mm
        Distance to the main or a segmental bile duct, mm (0-300); None when not reported.
    abutting_vessel_mm
        Diameter of the largest vessel abutting the lesion, mm (0 = none; 0-100); None when not
        reported.

    Raises
    ------
    InputError
        A length outside its range or a count below 1.
    """
    diameter = _check_mm(diameter_mm, "diameter_mm", 500.0)
    distance = _check_mm(bile_duct_distance_mm, "bile_duct_distance_mm", 300.0)
    vessel = _check_mm(abutting_vessel_mm, "abutting_vessel_mm", 100.0)
    if lesion_count is not None and (isinstance(lesion_count, bool) or lesion_count < 1):
        raise InputError(f"expected a lesion count >= 1, got {lesion_count!r}", "lesion_count")

    size_ok = None if diameter is None else diameter <= ABLATION_MAX_DIAMETER_MM
    count_ok = None if lesion_count is None else lesion_count <= ABLATION_MAX_COUNT
    extra_ok = None if extrahepatic_disease is None else not extrahepatic_disease
    duct_ok = None if distance is None else distance >= BILE_DUCT_MIN_DISTANCE_MM
    criteria = (
        Criterion(
            "size",
            _status(size_ok),
            "diameter not known"
            if diameter is None
            else f"{diameter:g} mm {'<=' if size_ok else '>'} {ABLATION_MAX_DIAMETER_MM:g} mm",
        ),
        Criterion(
            "number",
            _status(count_ok),
            "number of lesions not known"
            if lesion_count is None
            else f"{lesion_count} lesion{'s' if lesion_count != 1 else ''} "
            f"({'<=' if count_ok else '>'} {ABLATION_MAX_COUNT})",
        ),
        Criterion(
            "extrahepatic disease",
            _status(extra_ok),
            "extrahepatic staging not known"
            if extrahepatic_disease is None
            else ("extrahepatic disease present" if extrahepatic_disease else "none found"),
        ),
        Criterion(
            "bile-duct distance",
            _status(duct_ok),
            "distance to the main/segmental bile ducts not reported"
            if distance is None
            else f"{distance:g} mm from the bile ducts "
            f"({'>=' if duct_ok else '<'} {BILE_DUCT_MIN_DISTANCE_MM:g} mm)",
        ),
    )
    statuses = {c.status for c in criteria}
    eligible = False if "not met" in statuses else (None if "not assessable" in statuses else True)
    zones = tuple((m, diameter + 2.0 * m) for m in MARGINS_MM) if diameter is not None else ()
    overlapping = None if not zones else zones[0][1] > SINGLE_RFA_ZONE_MM[0]
    heat_sink = None if vessel is None else vessel > HEAT_SINK_VESSEL_MM
    return LesionAblation(diameter, eligible, criteria, zones, overlapping, heat_sink)


def ablation_candidates(
    diameters_mm: Sequence[float | None],
    *,
    extrahepatic_disease: bool | None,
    lesion_count: int | None = None,
) -> list[LesionAblation]:
    """Return the eligibility of each lesion of a patient.

    The count is the number of lesions given unless ``lesion_count`` says more (a lesion entry
    may stand for several).
    """
    count = len(diameters_mm) if lesion_count is None else lesion_count
    return [
        lesion_ablation(
            diameter_mm=d, lesion_count=count, extrahepatic_disease=extrahepatic_disease
        )
        for d in diameters_mm
    ]
