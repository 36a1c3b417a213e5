"""Benchmarks: ``herald bench SCENARIO``. Each scenario measures itself and its baseline in the
same run, on the same data, and reports the ratio (see docs/benchmarks.md)."""
