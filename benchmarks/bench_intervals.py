"""Benchmark: profile-likelihood intervals of LMMs and a GLMM with three grouping factors
(issues 22, 23) against lme4 timed live in the same run.

Run from the repository root:  python benchmarks/bench_intervals.py [--reps 3] [--threads]

* ``confint(method="profile")`` of ``Reaction ~ Days + (Days | Subject)`` (sleepstudy) and of
  ``diameter ~ 1 + (1 | plate) + (1 | sample)`` (Penicillin) vs lme4 ``confint(fit, method =
  "profile")``;
* ``glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), poisson)``
  (grouseticks) vs lme4's ``glmer``.

lme4 is run by benchmarks/r_intervals_timing.R; ratios are ours / lme4's (median wall time).
"""
from __future__ import annotations

import os
import sys

if "--threads" not in sys.argv:
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _bench import median_wall_cpu  # noqa: E402
from psychometrics.multilevel import mixed  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", action="store_true")
    args = ap.parse_args()
    data = ROOT / "tests" / "data"
    ss = pd.read_csv(data / "datasets" / "sleepstudy.csv")
    pen = pd.DataFrame(json.loads((data / "r_results" / "multilevel" / "nested_crossed.json")
                                  .read_text())["data"]["penicillin"])
    gt = pd.read_csv(data / "datasets" / "grouseticks.csv")
    gt["YEAR"] = gt["YEAR"].astype(str)
    f1 = mixed("Reaction ~ Days + (Days | Subject)", ss)
    f2 = mixed("diameter ~ 1 + (1 | plate) + (1 | sample)", pen)
    jobs = {
        "profile_sleepstudy": lambda: f1.confint(method="profile"),
        "profile_penicillin": lambda: f2.confint(method="profile"),
        "glmer_grouseticks": lambda: mixed("TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) "
                                           "+ (1 | LOCATION)", gt, family="poisson"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        subprocess.run(["Rscript", str(ROOT / "benchmarks" / "r_intervals_timing.R"),
                        str(args.reps), str(out)], check=True, cwd=ROOT)
        r = json.loads(out.read_text())
    print(f"lme4 {r['versions']['lme4']}; BLAS threads "
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}; median of {args.reps}\n")
    for key, job in jobs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wall, cpu = median_wall_cpu(job, args.reps)
        ref = r[key]["median_s"]
        print(f"{key:<20} ours {wall:8.3f} s (cpu {cpu:7.3f})  lme4 {ref:8.3f} s  "
              f"ratio {wall / ref:6.2f}")


if __name__ == "__main__":
    main()
