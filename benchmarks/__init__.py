"""Benchmarks (make bench-*): measured as ratios against a baseline run in the same process."""
