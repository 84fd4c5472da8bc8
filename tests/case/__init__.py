"""Tests of the case model, its loading and the assessment sections (livermet.case)."""
