"""Benchmark psychometrics.irt.fit_irt against OpenMx, side by side in the same run.

Run:  python benchmarks/bench_irt.py [--repeats N] [--no-r]

Case (issue 14): unidimensional graded response model, 10 items x 5 categories x 5,000
respondents (simulated once with a fixed seed).  Both sides fit the same model with the same
quadrature (49 points on [-6, 6]) and compute standard errors from the observed information
(OpenMx: Oakes 1999 in mxComputeEM; ours: the exact Hessian).  The whole user-level call is
timed: one warm-up, then the median wall-clock of N repetitions (R: benchmarks/
r_irt_timing.R, timed inside R with Sys.time(), so R's start-up is excluded).  Both run on
one BLAS/OpenMP thread.  Wall and CPU (process) seconds are both reported: on a shared
machine the CPU seconds compare the work done.  Targets: under 1 s and at most 0.5x
OpenMx's time.

``--bifactor`` adds a bifactor case (WAI-SR-like: 12 items x 5 categories in three 4-item
subscales, 2,000 respondents; 21 points per dimension on [-5, 5], two-tier in both; SEs
included; R: benchmarks/r_irt_bifactor_timing.R).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _bench import median_wall_cpu  # noqa: E402
from psychometrics.irt import _items, fit_bifactor, fit_irt  # noqa: E402


def simulate(n=5000, J=10, K=5, seed=20261202) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.8, 2.5, J)
    b = np.sort(rng.normal(0, 1, (J, K - 1)), axis=1) + np.linspace(-0.8, 0.8, K - 1)
    th = rng.normal(size=n)
    cols = {}
    for j in range(J):
        P = _items.prob("graded", np.concatenate([[a[j]], -a[j] * b[j]]), th)
        cols[f"i{j + 1}"] = (np.cumsum(P, axis=0) < rng.random(n)).sum(axis=0)
    return pd.DataFrame(cols)


def simulate_bifactor(n=2000, S=3, per=4, K=5, seed=20261203) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    J = S * per
    spec = np.repeat(np.arange(S), per)
    aG = rng.uniform(1.0, 2.0, J)
    aS = rng.uniform(0.5, 1.3, J)
    c = -np.sort(rng.normal(0, 1, (J, K - 1)), axis=1) * 1.5
    th = rng.normal(size=(n, S + 1))
    cols = {}
    for j in range(J):
        eta = aG[j] * th[:, 0] + aS[j] * th[:, 1 + spec[j]]
        cum = 1 / (1 + np.exp(-(eta[:, None] + c[j][None, :])))      # P(X >= k)
        cols[f"i{j + 1}"] = (cum > rng.random(n)[:, None]).sum(axis=1)
    return pd.DataFrame(cols), spec


def _bench_bifactor(args) -> None:
    data, spec = simulate_bifactor()
    groups = {f"s{s + 1}": [c for c, k in zip(data.columns, spec) if k == s]
              for s in range(spec.max() + 1)}
    res = fit_bifactor(data, groups)
    wall, cpu = median_wall_cpu(lambda: fit_bifactor(data, groups), max(1, args.repeats // 3))
    print("Bifactor GRM, 12 items x 5 categories x 2,000 respondents, 3 subscales, SEs "
          "included")
    print(f"  ours   : median {wall:.3f} s wall ({cpu:.3f} s CPU), logLik {res.loglik:.6f}, "
          f"converged={res.converged}, EM {res.em_iterations} + Newton "
          f"{res.newton_iterations}")
    if args.no_r:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bifactor.csv"
        data.to_csv(path, index=False)
        out = subprocess.run(["Rscript", str(ROOT / "benchmarks" / "r_irt_bifactor_timing.R"),
                              str(path), ",".join(str(k + 1) for k in spec),
                              str(max(1, args.repeats // 3))], capture_output=True, text=True,
                             check=True, env={"OMP_NUM_THREADS": "1", "PATH":
                                              "/usr/bin:/bin:/usr/local/bin"})
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  OpenMx : median {r['median_s']:.3f} s wall ({r['median_cpu_s']:.3f} s CPU), "
          f"logLik {r['logLik']:.6f}")
    print(f"  ratio ours/OpenMx: wall {wall / r['median_s']:.2f}, CPU "
          f"{cpu / r['median_cpu_s']:.2f}; logLik ours - OpenMx = "
          f"{res.loglik - r['logLik']:.2e}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-r", action="store_true", help="skip the live OpenMx timing")
    ap.add_argument("--bifactor", action="store_true", help="also time the bifactor case")
    args = ap.parse_args(argv)
    data = simulate()
    res = fit_irt(data)
    wall, cpu = median_wall_cpu(lambda: fit_irt(data), args.repeats)
    print("Unidimensional GRM, 10 items x 5 categories x 5,000 respondents, SEs included")
    print(f"  ours   : median {wall:.3f} s wall ({cpu:.3f} s CPU), logLik {res.loglik:.6f}, "
          f"converged={res.converged} (max |grad| {res.gradient_max_abs:.1e}), "
          f"EM {res.em_iterations} + Newton {res.newton_iterations}")
    if args.no_r:
        if args.bifactor:
            _bench_bifactor(args)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grm.csv"
        data.to_csv(path, index=False)
        out = subprocess.run(["Rscript", str(ROOT / "benchmarks" / "r_irt_timing.R"),
                              str(path), str(args.repeats)], capture_output=True, text=True,
                             check=True, env={"OMP_NUM_THREADS": "1", "PATH":
                                              "/usr/bin:/bin:/usr/local/bin"})
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  OpenMx : median {r['median_s']:.3f} s wall ({r['median_cpu_s']:.3f} s CPU), "
          f"logLik {r['logLik']:.6f} (OpenMx {r['openmx']})")
    print(f"  ratio ours/OpenMx: wall {wall / r['median_s']:.2f}, CPU "
          f"{cpu / r['median_cpu_s']:.2f} (target <= 0.5); "
          f"logLik ours - OpenMx = {res.loglik - r['logLik']:.2e}")
    if args.bifactor:
        _bench_bifactor(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
