"""Frozen copies of earlier implementations, kept only as differential-test oracles."""
