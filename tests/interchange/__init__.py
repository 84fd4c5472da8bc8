"""Tests of CSV, REDCap and FHIR exchange: round trips, coverage of the model, bad files."""
