"""Tests of the cohort survival analyses (livermet.analysis) and their parity with R."""
