"""Benchmark ordinal CFA (WLSMV) against lavaan 0.6-14.

Run: python benchmarks/bench_sem_ordinal.py

R timings: ``timing_s`` of tests/data/r_results/ordinal/ordinal_wlsmv.json (median of 15
``cfa(model, data, ordered = vars)`` calls after a warm-up, made by
tests/data/r_scripts/ordinal/ordinal_wlsmv.R). Ours: median of repeated
``psychometrics.sem.fit(model, data, ordered=vars)`` calls after a warm-up, from the raw
DataFrame to the finished result (thresholds, polychorics, NACOV, estimates, robust SEs,
scaled-shifted test, fit measures, standardized solution).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import warnings  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psychometrics.sem as sem  # noqa: E402


from _bench import median_seconds as timeit  # noqa: E402


def main():
    ref = json.loads((ROOT / "tests/data/r_results/ordinal/ordinal_wlsmv.json").read_text())
    bfi = pd.read_csv(ROOT / "tests/data/datasets/bfi.csv", na_values=["NA"])
    for v in ("A1", "C4", "C5"):
        bfi[v] = 7 - bfi[v]
    print(f"{'case':<18} {'ours (s)':>10} {'R (s)':>10} {'R/ours':>8}")
    th = pd.read_csv(ROOT / "tests/data/datasets/therapy_sim.csv", na_values=["NA"])
    raw = pd.read_csv(ROOT / "tests/data/datasets/bfi.csv", na_values=["NA"])
    for name in ("one_factor", "two_factor", "resid_cov", "wai_std_lv", "theta_two_factor",
                 "big_five"):
        o = ref[name]
        d = (th[th["month"] == 1][o["vars"]] if name.startswith("wai") else
             raw[o["vars"]] if name == "big_five" else bfi[o["vars"]])
        t = timeit(lambda: sem.fit(o["model"], d, ordered=o["vars"], std_lv=o["std_lv"],
                                   parameterization=o["parameterization"]))
        r = o["timing_s"]
        print(f"{name:<18} {t:>10.4f} {r:>10.4f} {r / t:>8.2f}")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # listwise deletion / WAI psi not PD (as lavaan)
        main()
