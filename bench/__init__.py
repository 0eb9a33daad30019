"""Benchmarks of issue 14: each script prints a table and one JSON line (see
docs/benchmarks.md). Not tests: tests/test_bench.py only checks they run on `--size tiny`."""
