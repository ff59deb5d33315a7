"""Benchmarks: run as modules, e.g. ``python -m benchmarks.load --events 1000000``."""
