"""Tests of the genbench Python package and the bench_generation.py driver."""
