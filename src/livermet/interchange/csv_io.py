"""Cases as CSV, one row per case, and back, losslessly.

Every single-valued field of the case has its own column, named by its path in the case model
(``labs.bilirubin``); every list is one column holding a JSON list (``procedures``: a list of
procedure objects exactly as in a case file, dates as ``YYYY-MM-DD``). :data:`CSV_COLUMNS` gives
the meaning of each column; :mod:`livermet.interchange.cells` how each kind of value is written
(an empty cell is "not given"; a text that would be ambiguous is a JSON string in double quotes).

Reading reports every broken row (row number with the header as row 1, column, reason) in one
:class:`~livermet.interchange.errors.RowsError`; nothing is returned if any row is broken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from livermet.case.model import Case
from livermet.interchange import cells
from livermet.interchange.errors import RowError, RowsError
from livermet.interchange.redcap_forms import choices_of
from livermet.interchange.tables import read_csv, write_csv
from livermet.interchange.validate import Path, path_text, validate_case

__all__ = ["CSV_COLUMNS", "cases_from_csv", "cases_to_csv"]


@dataclass(frozen=True)
class _Column:
    path: tuple[str, ...]
    kind: str  # text | int | number | reported | bool | choice | json | presence | date | when
    meaning: str
    choices: tuple[Any, ...] = ()

    @property
    def name(self) -> str:
        return ".".join(self.path)


def _choice(model: type[BaseModel], path: tuple[str, ...], meaning: str) -> _Column:
    choices = choices_of(model, path[-1])
    listed = ", ".join(str(c) for c in choices)
    return _Column(path, "choice", f"{meaning} (one of: {listed})", choices)


def _columns() -> tuple[_Column, ...]:
    from livermet.case.model import Labs as L
    from livermet.case.model import LiverFunction, Patient, PrimaryTumour

    t, lf = "primary_tumour", "liver_function"

    def rep(path: tuple[str, ...], label: str, example: str, canonical: str) -> _Column:
        meaning = (
            f"{label}: a number with its unit, e.g. '{example}'; a bare number is in {canonical}"
        )
        return _Column(path, "reported", meaning)

    return (
        _Column(("id",), "text", "case identifier (no names, no hospital numbers)"),
        _Column(("schema_version",), "int", "case schema version (1)"),
        _Column(("source",), "text", "where the data come from"),
        _Column(("index_event",), "text", "id of the procedure that is day 0 of the timeline"),
        _Column(("assessed_on",), "date", "date of the tumour board, YYYY-MM-DD (empty: today)"),
        _Column(("patient", "age_years"), "int", "age at presentation, years"),
        _choice(Patient, ("patient", "sex"), "sex"),
        rep(("patient", "height"), "height", "1.64 m", "cm"),
        rep(("patient", "weight"), "weight", "61.5 kg", "kg"),
        _Column(("patient", "comorbidities"), "json", 'JSON list of texts, e.g. ["hypertension"]'),
        _Column(("patient", "performance_status"), "text", "ECOG grade or the report's words"),
        _Column(("patient", "ecog"), "int", "ECOG performance status, 0-4"),
        _Column(("patient", "asa"), "int", "ASA physical status class, 1-6"),
        _Column(
            ("patient", "dialysis"),
            "bool",
            "dialysis at least twice (or CVVHD for 24 h) in the week before the labs",
        ),
        _Column((t, "site"), "text", "primary tumour site, e.g. thigh"),
        _choice(PrimaryTumour, (t, "site_group"), "AJCC 8 site group"),
        _choice(PrimaryTumour, (t, "laterality"), "laterality"),
        _choice(PrimaryTumour, (t, "depth"), "depth"),
        _Column((t, "histology"), "text", "histology, e.g. leiomyosarcoma"),
        _Column((t, "histology_variant"), "text", "histologic variant"),
        _Column(
            (t, "sizes"),
            "json",
            "JSON list of size measurements {method, greatest_dimension, dimensions, source}",
        ),
        _Column((t, "mitoses_per_10hpf"), "int", "mitoses per 10 high-power fields"),
        _Column((t, "necrosis_percent"), "number", "necrosis, percent of the tumour"),
        _choice(PrimaryTumour, (t, "necrosis_category"), "necrosis category"),
        _choice(PrimaryTumour, (t, "differentiation_score"), "FNCLCC differentiation score"),
        _choice(PrimaryTumour, (t, "reported_grade"), "FNCLCC grade the pathology report states"),
        _Column(
            (t, "immunohistochemistry"), "json", "JSON list of {marker, result, value} objects"
        ),
        _choice(PrimaryTumour, (t, "nodal_status"), "nodal status"),
        _Column(
            (t, "diagnosed"),
            "when",
            "when the primary was diagnosed: a date YYYY-MM-DD, or an offset as a JSON object, "
            'e.g. {"after": "primary-resection", "months": 4}',
        ),
        _choice(PrimaryTumour, (t, "extension"), "how far the primary extends (FIGO T)"),
        _Column(
            ("liver_lesions",),
            "json",
            "JSON list of liver lesions {id, segments, size, size_method, number, timing, "
            "vascularity, detected, peripheral, bile_duct_distance, abutting_vessel, source}",
        ),
        _Column(
            ("extrahepatic_metastases",),
            "json",
            "JSON list of extrahepatic metastatic sites; [] = none found, empty cell = unknown",
        ),
        _Column(("labs", "within_normal_limits"), "bool", "the report says labs were normal"),
        rep(("labs", "bilirubin"), "bilirubin", "20 umol/L", "mg/dL"),
        rep(("labs", "albumin"), "albumin", "38 g/L", "g/dL"),
        _Column(("labs", "inr"), "reported", "INR, a number without unit"),
        rep(("labs", "creatinine"), "creatinine", "88 umol/L", "mg/dL"),
        rep(("labs", "sodium"), "sodium", "139 mmol/L", "mmol/L"),
        rep(("labs", "platelets"), "platelets", "210 10^9/L", "10^9/L"),
        _choice(L, ("labs", "ascites"), "ascites"),
        _choice(L, ("labs", "encephalopathy"), "hepatic encephalopathy"),
        rep((lf, "icg_r15"), "ICG retention at 15 min", "4.3 %", "%"),
        _Column(
            (lf, "gsa"),
            "presence",
            "true when a 99mTc-GSA scintigraphy is recorded (even without values)",
        ),
        _Column((lf, "gsa", "hh15"), "number", "GSA HH15 (blood clearance index, 0-1)"),
        _Column((lf, "gsa", "lhl15"), "number", "GSA LHL15 (receptor index, 0-1)"),
        _choice(LiverFunction, (lf, "liver_condition"), "background liver"),
        rep((lf, "total_liver_volume"), "total liver volume", "1.45 L", "mL"),
        rep((lf, "future_liver_remnant_volume"), "future liver remnant volume", "600 mL", "mL"),
        rep((lf, "tumour_volume"), "tumour volume", "45 mL", "mL"),
        _Column(
            ("imaging",),
            "json",
            "JSON list of imaging studies {modality, target, finding, segments, size, suv_max, "
            "when, measurements: [{lesion, diameter, organ, target, lymph_node}], new_lesions}",
        ),
        _Column(("biopsies",), "json", "JSON list of biopsies {target, method, diagnosis, when}"),
        _Column(
            ("procedures",),
            "json",
            "JSON list of procedures as in a case file (id, kind, status, when, approach, "
            "segments_resected, target_segments, duration, blood_loss, complications, "
            "discharge, margin, ...)",
        ),
        _Column(
            ("systemic_therapy",),
            "json",
            "JSON list of systemic therapy lines {regimen, setting, started, ended}",
        ),
        _Column(("follow_up",), "json", "JSON list of follow-up events {kind, when, site, status}"),
        _Column(
            ("statements", "observation_period_after_liver_resection_months"),
            "number",
            "observation period after liver resection as the report states it, months",
        ),
        _Column(
            ("statements", "observation_period_after_primary_months"),
            "number",
            "observation period after the primary resection as the report states it, months",
        ),
        _Column(("notes",), "text", "free notes"),
    )


COLUMNS = _columns()
CSV_COLUMNS: dict[str, str] = {c.name: c.meaning for c in COLUMNS}
"""Column name (the field's path in the case model) -> meaning, in file order."""

_BY_NAME = {c.name: c for c in COLUMNS}


# --- writing -------------------------------------------------------------------------------------


def _get(case: Case, path: tuple[str, ...]) -> Any:
    obj: Any = case
    for name in path:
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


def _encode_presence(value: Any) -> str:
    """Return ``true`` when the group is recorded (even without values), else the empty cell."""
    return "" if value is None else "true"


_ENCODERS: dict[str, Callable[[Any], str]] = {
    "text": cells.encode_text,
    "int": cells.encode_int,
    "number": cells.encode_number,
    "reported": cells.encode_reported,
    "bool": cells.encode_bool,
    "presence": _encode_presence,
    "choice": cells.encode_choice,
    "date": cells.encode_date,
    "when": cells.encode_when,
}
"""Column kind -> the function writing one value of that kind as a cell (``json`` apart)."""


def _encode_json(column: _Column, value: Any) -> str:
    """Return a list column's cell: its items as JSON, models as in a case file.

    An empty list is the empty cell, except for ``extrahepatic_metastases``, where ``[]`` (none
    found) differs from the empty cell (not assessed).
    """
    if value is None or (value == [] and column.name != "extrahepatic_metastases"):
        return ""
    items = [
        v.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        if isinstance(v, BaseModel)
        else v
        for v in value
    ]
    return cells.encode_json(items)


def _encode(column: _Column, value: Any) -> str:
    """Return the cell holding ``value`` in ``column``, written as the column's kind requires."""
    if column.kind == "json":
        return _encode_json(column, value)
    encoder = _ENCODERS.get(column.kind)
    if encoder is None:
        raise AssertionError(column.kind)
    return encoder(value)


def cases_to_csv(cases: Iterable[Case]) -> str:
    """One row per case, the columns of :data:`CSV_COLUMNS` in that order."""
    rows = [{c.name: _encode(c, _get(case, c.path)) for c in COLUMNS} for case in cases]
    return write_csv(CSV_COLUMNS, rows)


# --- reading -------------------------------------------------------------------------------------


def _decode(column: _Column, cell: str) -> Any:
    kind = column.kind
    if kind == "text":
        return cells.decode_text(cell)
    if kind == "int":
        return cells.decode_int(cell)
    if kind == "number":
        return cells.decode_number(cell)
    if kind == "reported":
        return cells.decode_reported(cell)
    if kind in ("bool", "presence"):
        return cells.decode_bool(cell)
    if kind == "choice":
        return cells.decode_choice(cell, column.choices)
    if kind == "date":
        return cells.decode_date(cell)
    if kind == "when":
        return cells.decode_when(cell)
    if kind == "json":
        return cells.decode_json_list(cell)
    raise AssertionError(kind)


def _put(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for name in path[:-1]:
        doc = doc.setdefault(name, {})
    doc[path[-1]] = value


def _column_of(path: Path) -> tuple[str, str]:
    """Return the column a model error belongs to, and the error's path inside it (if deeper)."""
    names = tuple(p for p in path if isinstance(p, str))
    for n in range(len(path), 0, -1):
        head = path[:n]
        if all(isinstance(p, str) for p in head) and ".".join(map(str, head)) in _BY_NAME:
            inner = path_text(path) if n < len(path) else ""
            return ".".join(map(str, head)), inner
    return (".".join(names[:1]) or "(row)"), path_text(path)


def _read_row(number: int, row: dict[str, str]) -> tuple[Case | None, list[RowError]]:
    errors: list[RowError] = []
    doc: dict[str, Any] = {"patient": {}, "primary_tumour": {}}
    gsa_flag: bool | None = None
    for column in COLUMNS:
        try:
            value = _decode(column, row.get(column.name, ""))
        except cells.CellError as exc:
            errors.append(RowError(number, column.name, str(exc)))
            continue
        if column.kind == "presence":
            gsa_flag = value
        elif value is not None:
            _put(doc, column.path, value)
    gsa = doc.get("liver_function", {}).get("gsa")
    if gsa_flag is False and gsa:
        errors.append(RowError(number, "liver_function.gsa", "is false but HH15/LHL15 are given"))
    elif gsa_flag:
        doc.setdefault("liver_function", {}).setdefault("gsa", {})
    broken = {e.field for e in errors}
    case, problems = validate_case(doc)
    for path, message in problems:
        name, inner = _column_of(path)
        if name not in broken:
            errors.append(RowError(number, name, f"{inner}: {message}" if inner else message))
    return (None, errors) if errors else (case, [])


def cases_from_csv(text: str) -> list[Case]:
    """Return the cases of a CSV written by :func:`cases_to_csv` (or by hand with its columns).

    Columns may be in any order and may be left out (an absent column is empty); an unknown
    column is an error, since its data would otherwise be lost silently.

    Raises
    ------
    RowsError
        listing every broken row (row number, column, reason); nothing is returned then.
    """
    header, rows, errors = read_csv(text, "CSV")
    for name in header:
        if name not in _BY_NAME:
            errors.append(RowError(1, name, "is not a column of the livermet case CSV"))
    cases: list[Case] = []
    first_row: dict[str, int] = {}
    for number, row in rows:
        case, problems = _read_row(number, row)
        errors += problems
        if case is None:
            continue
        if case.id in first_row:
            errors.append(
                RowError(
                    number, "id", f"case id {case.id!r} is already used in row {first_row[case.id]}"
                )
            )
            continue
        first_row[case.id] = number
        cases.append(case)
    if errors:
        raise RowsError("CSV", errors)
    return cases
