"""Benchmark psychometrics.efa against psych 2.2.9's timings (benchmarks/r_timings.json).

Run:  python benchmarks/bench_efa.py [--repeats N]

Each call is timed as R's were: one warm-up call, then the median wall-clock
time of N repetitions of the *whole* user-level call (input checks, correlation
matrix from the raw data, fit, statistics).  R's timings used Debian's
single-threaded reference BLAS.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psychometrics.efa import bartlett, fa, kmo, omega, parallel_analysis  # noqa: E402


from _bench import median_seconds as median_time, r_timings  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args(argv)
    r_t = r_timings()
    bfi = pd.read_csv(ROOT / "tests" / "data" / "datasets" / "bfi.csv", na_values=["NA"])
    items = bfi.iloc[:, :25]
    X = items.dropna().reset_index(drop=True)       # na.omit(bfi[, 1:25])
    R = np.corrcoef(X.to_numpy(float), rowvar=False)
    n = len(X)
    cases = [
        ("case5_KMO", "kmo(X)", lambda: kmo(X), args.repeats),
        ("case5_bartlett", "bartlett(R, n_obs=n)", lambda: bartlett(R, n_obs=n), args.repeats),
        ("case5_fa_ml_oblimin", "fa(X, 5, 'ml', 'oblimin')",
         lambda: fa(X, 5, "ml", "oblimin"), args.repeats),
        ("case5_fa_ml_none", "fa(X, 5, 'ml', 'none')", lambda: fa(X, 5, "ml", "none"),
         args.repeats),
        ("case5_fa_minres_varimax", "fa(X, 5, 'minres', 'varimax')",
         lambda: fa(X, 5, "minres", "varimax"), args.repeats),
        ("case5_fa_minres_promax", "fa(X, 5, 'minres', 'promax')",
         lambda: fa(X, 5, "minres", "promax"), args.repeats),
        ("case5_fa_minres_oblimin", "fa(X, 5, 'minres', 'oblimin')",
         lambda: fa(X, 5, "minres", "oblimin"), args.repeats),
        ("case5_fa_minres_none", "fa(X, 5, 'minres', 'none')",
         lambda: fa(X, 5, "minres", "none"), args.repeats),
        ("case5_fa_parallel_20iter", "parallel_analysis(X, n_iter=20, seed=42)",
         lambda: parallel_analysis(X, n_iter=20, seed=42), max(3, args.repeats // 4)),
        ("case4_omega_25", "omega(bfi[:, :25])  # pairwise", lambda: omega(items),
         max(5, args.repeats // 2)),
    ]
    print("BLAS: psychometrics.efa runs its computations on one OpenBLAS thread "
          "(psychometrics/_blas.py), as R's reference BLAS does")
    print(f"{'R timing key':<28} {'ours (s)':>10} {'R (s)':>10} {'R/ours':>8}  call")
    rows = []
    for key, call, fn, reps in cases:
        ours = median_time(fn, reps)
        r = r_t[key]["median_s"]
        rows.append((key, ours, r))
        print(f"{key:<28} {ours:>10.4f} {r:>10.4f} {r / ours:>7.1f}x  {call}")
    slower = [k for k, o, r in rows if o > r]
    print("\nslower than R:", ", ".join(slower) if slower else "none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
