"""Tests of the evidence engine: effect sizes, meta-analysis, survival and datasets."""
