"""Benchmarks of harness (`make bench`). Each module exposes `run() -> dict[str, float]`."""
