"""Benchmark psychometrics.sem against lavaan 0.6-14 timings (benchmarks/r_timings.json).

Run: python benchmarks/bench_sem.py

Each timing is the median of repeated in-process calls after one warm-up, from
the raw DataFrame to the finished result (estimates, SEs, standardized
solution, fit measures), like the R call it is set beside.

BLAS threads: lavaan's timings were taken with single-threaded reference BLAS, so
this script runs OpenBLAS single-threaded too (unless OPENBLAS_NUM_THREADS is set).
On a shared 2-core machine multi-threaded OpenBLAS can be many times slower for
these small matrices (threads spin while competing with other processes).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psychometrics.sem as sem  # noqa: E402

HS_MODEL = """ visual  =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              speed   =~ x7 + x8 + x9 """


from _bench import median_seconds as timeit, r_timings  # noqa: E402


def main():
    r = r_timings()
    hs = pd.read_csv(ROOT / "tests" / "data" / "datasets" / "HolzingerSwineford1939.csv")
    fits = {}
    cases = [
        ("case1_cfa_ml", lambda: sem.fit(HS_MODEL, hs), 30),
        ("case1_cfa_std_lv", lambda: sem.fit(HS_MODEL, hs, std_lv=True), 30),
        ("case1_cfa_mlr", lambda: sem.fit(HS_MODEL, hs, estimator="MLR"), 20),
        ("case1_modindices_ml", lambda: fits["ml"].modification_indices(), 30),
        ("case2_configural", lambda: sem.fit(HS_MODEL, hs, group="school"), 20),
        ("case2_metric", lambda: sem.fit(HS_MODEL, hs, group="school",
                                         group_equal=["loadings"]), 20),
        ("case2_scalar", lambda: sem.fit(HS_MODEL, hs, group="school",
                                         group_equal=["loadings", "intercepts"]), 20),
        ("case2_lavTestLRT", lambda: sem.lrt(*fits["mg"]), 30),
    ]
    fits["ml"] = sem.fit(HS_MODEL, hs)
    fits["mg"] = [sem.fit(HS_MODEL, hs, group="school", group_equal=ge)
                  for ge in (None, ["loadings"], ["loadings", "intercepts"])]
    idx = ROOT / "tests" / "data" / "datasets" / "scaled" / "hs_100k_rowindex.csv.gz"
    if idx.exists():
        rows = pd.read_csv(idx)["row"].to_numpy() - 1
        big = hs.iloc[rows].reset_index(drop=True)
        res = sem.fit(HS_MODEL, big)
        print(f"100k check: chisq {res.fit_measures['chisq']:.3f} df {res.fit_measures['df']:.0f} "
              f"(lavaan 28855.721, 24)")
        cases.append(("scaled_cfa_hs_100k_ml", lambda: sem.fit(HS_MODEL, big), 10))
        cases.append(("scaled_cfa_hs_100k_mlr", lambda: sem.fit(HS_MODEL, big, estimator="MLR"),
                      3))
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    print(f"{'R timing key':<26}{'ours (s)':>10}{'lavaan (s)':>12}{'ratio':>8}")
    for key, fn, reps in cases:
        ours = timeit(fn, reps)
        theirs = r[key]["median_s"]
        print(f"{key:<26}{ours:>10.4f}{theirs:>12.4f}{ours / theirs:>8.2f}")


if __name__ == "__main__":
    main()
