"""Tests of livermet.federated: federated = pooled = R."""
