"""Lossless interchange of cases: HL7 FHIR R4 (mCODE-shaped) bundles, REDCap and CSV.

Pure conversions, no database: each format has a writer and a reader with
``read(write(case)) == case``. File imports report every broken row at once
(:class:`~livermet.interchange.errors.RowsError`, an ``InputError``) and return nothing then.
docs/interchange.md describes the formats, columns and extensions.

Names are imported lazily, so that ``import livermet.interchange`` stays cheap (fhir.resources
and the assessment are loaded only when FHIR is used).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "case_to_bundle": "fhir",
    "bundle_to_case": "fhir",
    "case_to_fhir_json": "fhir",
    "case_from_fhir_json": "fhir",
    "data_dictionary": "redcap",
    "data_dictionary_csv": "redcap",
    "case_to_records": "redcap",
    "records_to_cases": "redcap",
    "export_records_csv": "redcap",
    "import_records_csv": "redcap",
    "REPEATING_INSTRUMENTS": "redcap",
    "CSV_COLUMNS": "csv_io",
    "cases_to_csv": "csv_io",
    "cases_from_csv": "csv_io",
    "RowError": "errors",
    "RowsError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
