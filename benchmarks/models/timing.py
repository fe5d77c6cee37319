"""Shared by the benchmarks: timing runs that take turns."""
from __future__ import annotations

import statistics
import time
from typing import Callable


def timed(runs: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Median seconds per run, after one warm-up each. The runs take turns, so a burst of
    load from other processes on a shared machine hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for round_number in range(repeats + 1):
        for name, fn in runs.items():
            started = time.perf_counter()
            fn()
            if round_number:  # round 0 warms up
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of `repeats` calls of fn (no warm-up: the caller warms up where it matters)."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
