"""Tests of the reports: the printed PDF and the reference list."""
