"""Benchmark: several grouping factors in ``mixed()`` (issue 23) against lme4 timed live.

Run:  python benchmarks/bench_therapists.py [--reps 5] [--threads]

Data: 200 therapists x 20 patients x 12 months (48,000 rows; numpy seed 23; therapist SD 2,
patient SD 4, month SD 1, residual SD 3). Models, ML:

* nested random intercepts ``y ~ x + month + (1 | therapist/patient)`` (target: at most 0.25 x
  lme4's time);
* crossed random intercepts ``y ~ x + month + (1 | pid) + (1 | month_f)`` (patients crossed with
  months; target at most 0.5 x lme4).

lme4 is run in the same session on the same CSV (benchmarks/r_lmer_therapists.R); each of our
fits is first checked against lme4's (logLik never below lme4's, fixed effects rtol 1e-5).
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
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _bench import median_wall_cpu  # noqa: E402
from psychometrics.multilevel import mixed  # noqa: E402

MODELS = {"nested": ("y ~ x + month + (1 | therapist/patient)", 0.25),
          "crossed": ("y ~ x + month + (1 | pid) + (1 | month_f)", 0.5)}


def make_data(n_ther=200, n_pat=20, n_month=12, seed=23) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.repeat(np.arange(n_ther), n_pat * n_month)
    p = np.repeat(np.arange(n_ther * n_pat), n_month)
    m = np.tile(np.arange(n_month), n_ther * n_pat)
    ut, up = rng.normal(0, 2, n_ther), rng.normal(0, 4, n_ther * n_pat)
    um = rng.normal(0, 1, n_month)             # occasion effects (crossed model)
    x = rng.normal(5, 2, len(t)) + 0.3 * up[p]
    y = 20 + 0.5 * x - 0.3 * m + ut[t] + up[p] + um[m] + rng.normal(0, 3, len(t))
    return pd.DataFrame({"therapist": [f"T{i:03d}" for i in t], "patient": p % n_pat + 1,
                         "pid": [f"P{i:05d}" for i in p], "month": m,
                         "month_f": [f"M{i:02d}" for i in m], "x": x.round(4), "y": y.round(4)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", action="store_true")
    args = ap.parse_args()
    d = make_data()
    with tempfile.TemporaryDirectory() as tmp:
        csv, out = Path(tmp) / "therapists.csv", Path(tmp) / "r.json"
        d.to_csv(csv, index=False, float_format="%.17g")
        subprocess.run(["Rscript", str(ROOT / "benchmarks" / "r_lmer_therapists.R"), str(csv),
                        str(args.reps), str(out)], check=True)
        r = json.loads(out.read_text())
    print(f"lme4 {r['versions']['lme4']}, {len(d)} rows; BLAS threads "
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}; median of {args.reps}\n")
    for key, (formula, target) in MODELS.items():
        ref = r[key]
        fit = mixed(formula, d, reml=False)
        assert fit.converged
        assert fit.loglik >= ref["logLik"] - 1e-10 * abs(ref["logLik"]), (fit.loglik, ref["logLik"])
        np.testing.assert_allclose(fit.fixef.to_numpy(), list(ref["fixef"].values()), rtol=1e-5)
        wall, cpu = median_wall_cpu(lambda: mixed(formula, d, reml=False), args.reps)
        ratio = wall / ref["median_s"]
        print(f"{key:<8} {formula:<48} ours {wall:7.3f} s (cpu {cpu:6.3f})  lme4 "
              f"{ref['median_s']:7.3f} s  ratio {ratio:5.2f} (target <= {target})  logLik "
              f"{fit.loglik - ref['logLik']:+.2e} vs lme4")


if __name__ == "__main__":
    main()
