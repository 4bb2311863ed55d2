"""Benchmark of psychometrics.simulate.simulate beside R's simulate_therapy().

Run: python benchmarks/bench_simulate.py

R timings: tests/data/r_results/simulate/timing_simulate_therapy.json (keys
``simulate_therapy_150`` and ``simulate_therapy_20000x12``), made by
tests/data/r_scripts/simulate/timing_simulate_therapy.R. R's generator draws
the WAI and PEAR items and the latent OQ total; ours also draws the 45 OQ-45
item responses (67 item columns instead of 22), so the comparison favours R.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psychometrics.simulate import SimulationParams, simulate  # noqa: E402

R_TIMINGS = ROOT / "tests" / "data" / "r_results" / "simulate" / "timing_simulate_therapy.json"


from _bench import median_wall_cpu as median_time  # noqa: E402


def main() -> None:
    r = json.loads(R_TIMINGS.read_text())
    cases = [
        ("simulate_therapy_150", "simulate(seed=20240601)  # 150 patients, 4-20 months",
         lambda: simulate(SimulationParams(), seed=20240601), 20),
        ("simulate_therapy_20000x12",
         "simulate(n_patients=20000, sessions_min=12, sessions_max=12, seed=777)",
         lambda: simulate(SimulationParams(n_patients=20000, sessions_min=12, sessions_max=12),
                          seed=777), 5),
    ]
    print("wall = wall-clock seconds (as r_timings.json); cpu = process CPU seconds, less "
          "sensitive to a loaded machine")
    print(f"{'case (R key)':28s} {'ours_wall':>9s} {'R_wall':>9s} {'R/ours':>7s} "
          f"{'ours_cpu':>9s} {'R_cpu':>9s} {'R/ours':>7s}")
    for key, call, fn, reps in cases:
        wall, cpu = median_time(fn, reps)
        r_wall, r_cpu = r[key]["median_s"], r[key].get("cpu_median_s", float("nan"))
        print(f"{key:28s} {wall:9.4f} {r_wall:9.4f} {r_wall / wall:7.2f} "
              f"{cpu:9.4f} {r_cpu:9.4f} {r_cpu / cpu:7.2f}   # {call}")


if __name__ == "__main__":
    main()
