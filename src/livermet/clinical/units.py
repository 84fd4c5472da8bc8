"""Units at the boundary: lab and body values with their unit, converted to one canonical unit.

Canonical units (docs/clinical.md#units-and-plausibility-ranges): bilirubin mg/dL, albumin g/dL,
creatinine mg/dL, sodium mmol/L, INR dimensionless, ICG-R15 %, volumes mL, height cm, weight kg,
sizes mm.

Conversion factors (docs/clinical.md#units-and-plausibility-ranges): bilirubin 1 mg/dL = 17.1
µmol/L; albumin 1 g/dL = 10 g/L; creatinine 1 mg/dL = 88.4 µmol/L; sodium mmol/L = mEq/L.

Plausibility ranges are engineering choices (docs/clinical.md#units-and-plausibility-ranges):
values outside them are refused as probable entry errors, with the field, value and range named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from livermet.errors import InputError

BILIRUBIN_UMOL_PER_MG_DL = 17.1
"""µmol/L per mg/dL of bilirubin (docs/clinical.md#units-and-plausibility-ranges; some software uses
17.104)."""
ALBUMIN_G_L_PER_G_DL = 10.0
"""g/L per g/dL of albumin (docs/clinical.md#units-and-plausibility-ranges)."""
CREATININE_UMOL_PER_MG_DL = 88.4
"""µmol/L per mg/dL of creatinine (docs/clinical.md#units-and-plausibility-ranges)."""


@dataclass(frozen=True)
class QuantityKind:
    """A measurable quantity: its canonical unit, accepted units and plausibility range."""

    name: str
    canonical: str
    factors: dict[str, float]  # unit (normalised spelling) -> multiply to get the canonical unit
    low: float
    high: float
    label: str = ""

    @property
    def display(self) -> str:
        """Return the quantity's name for messages."""
        return self.label or self.name.replace("_", " ")


def _units(**pairs: float) -> dict[str, float]:
    return {_normalise_unit(k.replace("__", "/")): v for k, v in pairs.items()}


def _normalise_unit(unit: str) -> str:
    u = unit.strip().replace("µ", "u").replace("μ", "u").replace(" ", "")
    return u.lower()


QUANTITIES: dict[str, QuantityKind] = {
    q.name: q
    for q in [
        # Child-Pugh plausibility 0.1-50 mg/dL (docs/clinical.md#units-and-plausibility-ranges).
        QuantityKind(
            "bilirubin",
            "mg/dL",
            _units(mg__dL=1.0, umol__L=1 / BILIRUBIN_UMOL_PER_MG_DL, mg__L=0.1),
            0.1,
            50.0,
        ),
        # Child-Pugh plausibility 1.0-6.0 g/dL (docs/clinical.md#units-and-plausibility-ranges).
        QuantityKind("albumin", "g/dL", _units(g__dL=1.0, g__L=1 / ALBUMIN_G_L_PER_G_DL), 1.0, 6.0),
        QuantityKind(
            "creatinine",
            "mg/dL",
            _units(mg__dL=1.0, umol__L=1 / CREATININE_UMOL_PER_MG_DL),
            0.1,
            25.0,
        ),
        QuantityKind("sodium", "mmol/L", _units(mmol__L=1.0, meq__L=1.0), 100.0, 180.0),
        # Child-Pugh plausibility 0.8-10 (docs/clinical.md#units-and-plausibility-ranges).
        QuantityKind("inr", "", {"": 1.0}, 0.8, 10.0, "INR"),
        QuantityKind("pt_activity", "%", {"%": 1.0}, 1.0, 150.0),
        QuantityKind("platelets", "10^9/L", _units(**{"10^9__L": 1.0, "10^3__uL": 1.0}), 1, 2000),
        # ICG-R15 is a percentage strictly between 0 and 100 (docs/clinical.md#icg-clearance).
        QuantityKind("icg_r15", "%", {"%": 1.0}, 0.0, 100.0, "ICG-R15"),
        QuantityKind("height", "cm", _units(cm=1.0, m=100.0), 100.0, 230.0),
        QuantityKind("weight", "kg", _units(kg=1.0, g=0.001), 25.0, 250.0),
        QuantityKind("volume", "mL", _units(ml=1.0, l=1000.0, cm3=1.0, cc=1.0), 0.0, 10000.0),
        QuantityKind("size", "mm", _units(mm=1.0, cm=10.0, m=1000.0), 0.1, 1000.0),
        QuantityKind("blood_loss", "mL", _units(ml=1.0, l=1000.0, g=1.0), 0.0, 30000.0),
        QuantityKind("duration", "min", _units(min=1.0, h=60.0, hr=60.0, s=1 / 60), 0.0, 2880.0),
        QuantityKind("suv", "", {"": 1.0}, 0.0, 100.0, "SUVmax"),
    ]
}

_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d")
"""A number written with a decimal comma (``0,9 mg/dL``), as many European systems print it."""
_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Measurement:
    """A value converted to the canonical unit, with what was reported kept for traceability."""

    value: float
    unit: str
    reported_value: float
    reported_unit: str

    @property
    def reported_in_si(self) -> bool:
        """True when reported in SI units (µmol/L, g/L), which selects SI threshold tables."""
        return _normalise_unit(self.reported_unit) in {"umol/l", "g/l"}


def parse_quantity(value: Any, kind: str, field: str) -> Measurement:
    """Parse ``value`` and convert it to the canonical unit.

    ``value`` is ``"1.2 mg/dL"``, ``"20 umol/L"``, a bare number in the canonical unit, or a
    mapping ``{"value": 1.2, "unit": "mg/dL"}``.

    Raises
    ------
    InputError
        naming ``field`` when the unit is unknown or missing, the number cannot be read, or the
        converted value is outside the plausibility range of ``kind``.
    """
    q = QUANTITIES[kind]
    if isinstance(value, dict):
        number, unit = value.get("value"), str(value.get("unit", ""))
    elif isinstance(value, bool):
        raise InputError(f"expected a {q.display} with a unit, got {value!r}", field)
    elif isinstance(value, (int, float)):
        number, unit = value, q.canonical
    elif isinstance(value, str):
        if _DECIMAL_COMMA.match(value):
            example = f"1.5 {q.canonical}".strip()
            raise InputError(
                f"cannot read {value!r}: the decimal separator is a point (e.g. '{example}'), "
                "and a number has no thousands separator",
                field,
            )
        m = _NUMBER_UNIT.match(value)
        if not m:
            raise InputError(
                f"cannot read {value!r}; expected a number and a unit, e.g. '1.2 {q.canonical}'",
                field,
            )
        number, unit = float(m.group(1)), m.group(2) or q.canonical  # bare number: canonical
    else:
        raise InputError(f"expected a {q.display} with a unit, got {value!r}", field)
    try:
        number = float(number)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InputError(f"expected a number, got {number!r}", field) from exc
    key = _normalise_unit(unit)
    if key not in q.factors:
        accepted = ", ".join(sorted({u for u in _display_units(q)}))
        raise InputError(
            f"unknown unit {unit!r} for {q.display}; expected one of: {accepted}", field
        )
    canonical_value = number * q.factors[key]
    if not (q.low <= canonical_value <= q.high):
        raise InputError(
            f"{number:g} {unit} is outside the plausible range for {q.display} "
            f"({q.low:g}-{q.high:g} {q.canonical})".replace(" )", ")"),
            field,
        )
    return Measurement(canonical_value, q.canonical, number, unit)


def _display_units(q: QuantityKind) -> list[str]:
    pretty = {
        "mg/dl": "mg/dL",
        "umol/l": "umol/L",
        "mg/l": "mg/L",
        "g/dl": "g/dL",
        "g/l": "g/L",
        "mmol/l": "mmol/L",
        "meq/l": "mEq/L",
        "ml": "mL",
        "l": "L",
        "": "(no unit)",
    }
    return [pretty.get(u, u) for u in q.factors]
