"""Benchmarks: run on demand with ``python -m benchmarks``; never part of the test suite."""
