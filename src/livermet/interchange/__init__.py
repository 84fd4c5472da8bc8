"""Lossless interchange of cases: HL7 FHIR R4 (mCODE-shaped) bundles, REDCap and CSV.

Pure conversions (no database): each format has a writer and a reader with
``read(write(case)) == case``. Imports of files report every broken row (:class:`RowsError`).
"""
