"""Benchmarks, run on demand (`python -m bench`); figures go in docs/benchmarks.md."""
