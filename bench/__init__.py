"""Benchmarks: each prints ratios measured in one run; results are kept in docs/benchmarks.md."""
