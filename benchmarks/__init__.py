"""Benchmarks of timelines_async against physical limits and hand-written floors.

`python -m benchmarks` (or `nox -s bench`) runs them all and writes
`benchmarks/RESULTS.md` and `benchmarks/export_concurrency.png`. Every goal is a
ratio of two figures measured in the same run, on 127.0.0.1 only.
"""
