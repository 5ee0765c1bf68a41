"""Benchmarks (``make bench``): figures printed as ratios against baselines of the same run."""
