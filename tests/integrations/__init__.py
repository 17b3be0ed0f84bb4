"""Tests of the optional integrations, each skipped when its extra is not installed."""
