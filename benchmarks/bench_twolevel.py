"""Benchmark psychometrics.sem.twolevel.fit_twolevel against lavaan 0.6-14 timings.

Run: python benchmarks/bench_twolevel.py

R timings: benchmarks/r_timings.json keys ``case8_demo_twolevel``, ``case8_therapy_wai_1w1b``,
``case8_therapy_wai_3w1b`` (``sem(model, data, cluster = ...)``, median of 5 / 3 runs).
Ours: median of repeated in-process calls after one warm-up, from the raw DataFrame to the
finished result (saturated EM, estimates, observed-information SEs, standardized solution,
baseline model and fit measures), like the R call.
"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psychometrics.sem.twolevel import fit_twolevel  # noqa: E402


from _bench import median_seconds as timeit, r_timings  # noqa: E402


def main():
    r = r_timings()
    ref = json.loads((ROOT / "tests" / "data" / "reference" / "case8_twolevel_sem.json").read_text())
    data = ROOT / "tests" / "data" / "datasets"
    demo = pd.read_csv(data / "Demo.twolevel.csv")
    ther = pd.read_csv(data / "therapy_sim.csv")
    cases = [
        ("case8_demo_twolevel", lambda: fit_twolevel(ref["demo_twolevel"]["model"], demo, "cluster"), 7),
        ("case8_therapy_wai_1w1b",
         lambda: fit_twolevel(ref["therapy_wai_1within_1between"]["model"], ther, "patient_id"), 5),
        ("case8_therapy_wai_3w1b",
         lambda: fit_twolevel(ref["therapy_wai_3within_1between"]["model"], ther, "patient_id"), 5),
    ]
    print(f"{'case (r_timings.json key)':<28}{'ours [s]':>10}{'R [s]':>10}{'R / ours':>10}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # therapy_sim: zero within variance in a few clusters
        for key, fn, reps in cases:
            ours = timeit(fn, reps)
            rs = r[key]["median_s"] if key in r else float("nan")
            print(f"{key:<28}{ours:>10.3f}{rs:>10.3f}{rs / ours:>10.1f}")


if __name__ == "__main__":
    main()
