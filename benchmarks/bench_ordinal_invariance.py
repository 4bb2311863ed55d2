"""Benchmark: the four-model ordinal invariance sequence (configural, thresholds, loadings,
intercepts, with the Satorra 2000 difference tests) on 10 items in two groups of 1,000,
side by side with lavaan 0.6-14 / semTools 0.5-6 in the same run.

Run: python benchmarks/bench_ordinal_invariance.py [--repeats 5]

The data (two correlated factors, five 4-category items each; the second group has
shifted thresholds on two items) are simulated here, written to a temporary CSV and read by
both sides. R: ``benchmarks/r_ordinal_invariance_timing.R`` (measEq.syntax + cfa for each
level + lavTestLRT); ours: ``psychometrics.sem.invariance(..., ordered=True)``. Target
(issue #21): ours at most 0.5x lavaan's time.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psychometrics.sem as sem  # noqa: E402
from _bench import median_wall_cpu  # noqa: E402

MODEL = "f1 =~ y1 + y2 + y3 + y4 + y5\nf2 =~ y6 + y7 + y8 + y9 + y10"


def simulate(n=1000, seed=20261202):
    rng = np.random.default_rng(seed)
    out = []
    for g, shift in (("A", 0.0), ("B", 0.3)):
        f = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
        cols = {}
        for k in range(10):
            lam = 0.7 if k % 2 else 0.6
            y = lam * f[:, k // 5] + rng.normal(scale=np.sqrt(1 - lam ** 2), size=n)
            cuts = np.array([-0.8, 0.0, 0.8]) + (shift if k in (2, 7) else 0.0)
            cols[f"y{k + 1}"] = np.digitize(y, cuts) + 1
        out.append(pd.DataFrame(cols).assign(g=g))
    return pd.concat(out, ignore_index=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    d = simulate()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = lambda: sem.invariance(MODEL, d, "g", ordered=True)      # noqa: E731
        inv = run()
        wall, cpu = median_wall_cpu(run, args.repeats)
    print("Ordinal invariance sequence, 10 items, 2 groups x 1000")
    print(inv.table[["df", "chisq", "chisq_diff", "df_diff", "p_value_diff"]].to_string())
    print(f"  ours  : median {wall:.3f} s wall ({cpu:.3f} s CPU)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ord.csv"
        d.to_csv(path, index=False)
        try:
            out = subprocess.run(["Rscript", str(ROOT / "benchmarks" / "r_ordinal_invariance_timing.R"),
                                  str(path), str(args.repeats)], capture_output=True, text=True,
                                 check=True, env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                                                  "PATH": "/usr/bin:/bin:/usr/local/bin"})
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"  lavaan: not run ({exc})")
            return
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  lavaan: median {r['median_s']:.3f} s wall ({r['median_cpu_s']:.3f} s CPU) "
          f"(lavaan {r['lavaan']})")
    print(f"  ours / lavaan: {wall / r['median_s']:.2f} (wall), {cpu / r['median_cpu_s']:.2f} (CPU)")
    print("  same statistics: chisq max |diff| "
          f"{np.max(np.abs(inv.table['chisq'].to_numpy() - np.array(r['chisq']))):.2e}, "
          "difference tests max |diff| "
          f"{np.max(np.abs(inv.table['chisq_diff'].to_numpy()[1:] - np.array(r['chisq_diff']))):.2e}")


if __name__ == "__main__":
    main()
