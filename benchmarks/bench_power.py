"""Benchmark of psychometrics.power.run_power: speed-up from 1 to 2 Dask workers.

Run: python benchmarks/bench_power.py [--reps 80] [--analysis mixed|progress]

Starts a dask.distributed LocalCluster with 1 worker process, then with 2
(one thread each), runs the same grid on each (identical results are checked)
and reports wall-clock seconds, the speed-up 1 -> 2 workers, and replications
per second per core. A serial in-process run is timed as the baseline without
Dask. The design: 2 cells (40 and 80 patients, 8 months, dropout 0.05) of the
study's lagged within/between model. On a machine shared with other jobs the
speed-up is bounded by the cores actually free; the CPU load is printed.
There is no R counterpart timed here (simr runs one core, no cluster).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from psychometrics.power import run_power  # noqa: E402


def design(reps: int, analysis: str) -> dict:
    a = ({"type": "progress"} if analysis == "progress" else
         {"type": "mixed", "formula": "y_lead ~ x_within + x_between_c + y + (1 | id)"})
    return {"seed": 99, "replications": reps, "fixed": {"n_months": 8, "dropout": 0.05},
            "grid": {"n_patients": [40, 80]}, "analysis": a}


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=80)
    ap.add_argument("--analysis", choices=("mixed", "progress"), default="mixed")
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    d = design(args.reps, args.analysis)
    total = 2 * args.reps
    print(f"{total} replications ({args.analysis}), cpu count {os.cpu_count()}, "
          f"load average before {os.getloadavg()[0]:.2f}")
    t_serial, ref = timed(lambda: run_power(d, workers=1, progress=False, chunk_size=10))
    print(f"serial (no dask)   {t_serial:8.2f} s  {total / t_serial:7.2f} rep/s  "
          f"{total / t_serial:7.2f} rep/s/core")
    times = {}
    for n in (1, 2):
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(lambda: __import__("psychometrics.power"))  # warm the workers' imports
            t, res = timed(lambda: run_power(d, scheduler=client, progress=False, chunk_size=10))
        pd.testing.assert_frame_equal(ref.replications, res.replications)
        times[n] = t
        print(f"dask {n} worker(s)   {t:8.2f} s  {total / t:7.2f} rep/s  "
              f"{total / t / n:7.2f} rep/s/core   (identical records: yes)")
    print(f"speed-up 1 -> 2 workers: {times[1] / times[2]:.2f}x "
          f"(load average after {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
