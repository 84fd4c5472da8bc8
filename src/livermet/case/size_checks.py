"""Liver lesions larger than the liver that holds them: most likely a mistyped size or unit.

A lesion whose greatest dimension is ``d`` has, if it were a sphere, the volume ``pi d³ / 6``. When
that volume exceeds the liver's volume the size is implausible (a flat lesion can be wider than a
sphere of the same volume, so this is a warning to check the size, not a refusal). The liver's
volume is, in order: the recorded ``liver_function.total_liver_volume``; else the standard liver
volume of this patient from height and weight (Vauthey JN, et al. Liver Transpl 2002;8:233-240:
TLV = -794.41 + 1267.28 x BSA, Mosteller BSA; docs/clinical.md#volumetry); else the same formula
at the largest body the case model accepts (height 230 cm, weight 250 kg: BSA 4.0 m², 4,270 mL,
a sphere of about 201 mm). The last bound is an engineering choice of livermet: it flags only sizes
no adult liver could hold, whoever the patient is.
"""

from __future__ import annotations

import math

from livermet.case.model import Case, measure
from livermet.case.timing import Issue
from livermet.clinical.volumetry import bsa_mosteller, standard_liver_volume_vauthey

CODE = "lesion-larger-than-liver"

LARGEST_HEIGHT_CM = 230.0
"""Upper plausibility bound of height in the case model (livermet.clinical.units)."""
LARGEST_WEIGHT_KG = 250.0
"""Upper plausibility bound of weight in the case model (livermet.clinical.units)."""


def sphere_volume_ml(diameter_mm: float) -> float:
    """Return the volume (mL = cm³) of a sphere of ``diameter_mm``."""
    return math.pi * (diameter_mm / 10.0) ** 3 / 6.0


def _liver_volume(case: Case) -> tuple[float, str]:
    """Return the liver volume in mL and where it comes from."""
    recorded = measure(case.liver_function.total_liver_volume, "volume")
    if recorded is not None and recorded.value > 0:
        return recorded.value, "the recorded total liver volume"
    height = measure(case.patient.height, "height")
    weight = measure(case.patient.weight, "weight")
    if height is not None and weight is not None:
        bsa = float(bsa_mosteller(height_cm=height.value, weight_kg=weight.value))
        volume = float(standard_liver_volume_vauthey(bsa))
        return volume, "this patient's standard liver volume (Vauthey 2002)"
    bsa = float(bsa_mosteller(height_cm=LARGEST_HEIGHT_CM, weight_kg=LARGEST_WEIGHT_KG))
    volume = float(standard_liver_volume_vauthey(bsa))
    return volume, "the standard liver volume of the largest adult body (Vauthey 2002)"


def lesion_size_issues(case: Case) -> list[Issue]:
    """Return one warning per liver lesion whose sphere would not fit in the liver."""
    if not case.liver_lesions:
        return []
    liver_ml, basis = _liver_volume(case)
    out: list[Issue] = []
    for i, lesion in enumerate(case.liver_lesions):
        size = measure(lesion.size, "size")
        if size is None:
            continue
        lesion_ml = sphere_volume_ml(size.value)
        if lesion_ml <= liver_ml:
            continue
        out.append(
            (
                "warning",
                CODE,
                f"The liver lesion liver_lesions[{i}].size ({size.value:g} mm) would, as a "
                f"sphere, hold {lesion_ml:,.0f} mL, more than {basis} ({liver_ml:,.0f} mL): "
                "check the size and its unit.",
            )
        )
    return out
