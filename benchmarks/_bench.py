"""Timing helpers shared by the benchmark scripts (run as ``python benchmarks/bench_X.py``,
so this folder is on the import path).

Each helper calls ``fn`` once to warm up (caches, lazy imports), then times ``repeats``
calls and returns the median, as the R reference timings (``r_timings.json``) do.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def median_seconds(fn, repeats: int = 15, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()``."""
    return median_wall_cpu(fn, repeats, warmup)[0]


def median_wall_cpu(fn, repeats: int, warmup: int = 1) -> tuple[float, float]:
    """Median wall-clock and median CPU (process) seconds of ``fn()``; CPU time shows
    the cost when the machine is shared."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def r_timings() -> dict:
    """The R reference timings: key -> {"median_s": ..., ...} (benchmarks/r_timings.json)."""
    return json.loads((ROOT / "benchmarks" / "r_timings.json").read_text())["timings"]
