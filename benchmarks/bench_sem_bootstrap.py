"""Benchmark: bootstrap with 1,000 draws on PoliticalDemocracy, ours vs lavaan 0.6-14.

Run: python benchmarks/bench_sem_bootstrap.py [--draws 1000] [--jobs 1] [--fiml-draws 200]

A second case bootstraps a FIML fit (``missing = "ml"``) of the three-factor CFA on
HolzingerSwineford1939 with 10% of the cells missing (bench_sem.hs_missing10), also timed
beside lavaan (``--fiml-draws 0`` skips it).

lavaan is timed live, side by side, when ``Rscript`` is on the PATH
(``set.seed(20); sem(PD_MODEL, data = PD, se = "bootstrap", bootstrap = 1000L)``);
otherwise the time stored by tests/data/r_scripts/sem/sem_bootstrap.R
(tests/data/r_results/sem/sem_bootstrap.json, ``pd_boot.seconds``) is used. Both sides
are timed from the data frame to the finished result (estimates, bootstrap SEs and
percentile intervals, fit measures). Target (issue #20): ours <= 0.25 x lavaan.
OpenBLAS runs single-threaded, like R's reference BLAS.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psychometrics.sem as sem  # noqa: E402

PD_MODEL = """
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + a*y2 + b*y3 + c*y4
    dem65 =~ y5 + a*y6 + b*y7 + c*y8
    dem60 ~ g1*ind60
    dem65 ~ g2*ind60 + b2*dem60
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
    indirect := g1*b2
    total := g2 + g1*b2"""

R_CODE = """suppressPackageStartupMessages(library(lavaan))
PD <- read.csv("tests/data/datasets/PoliticalDemocracy.csv")
m <- '{model}'
set.seed(20)
t <- system.time(f <- sem(m, data = PD, se = "bootstrap", bootstrap = {draws}L))
cat(t[["elapsed"]], "\\n")
"""


def lavaan_seconds(draws: int) -> tuple[float, str]:
    if shutil.which("Rscript"):
        code = R_CODE.format(model=PD_MODEL, draws=draws)
        out = subprocess.run(["Rscript", "-e", code], cwd=ROOT, capture_output=True, text=True,
                             check=True)
        return float(out.stdout.split()[-1]), "live"
    ref = json.loads((ROOT / "tests/data/r_results/sem/sem_bootstrap.json").read_text())
    secs = ref["pd_boot"]["seconds"] * draws / 1000
    return float(secs), "stored (sem_bootstrap.json)"


FIML_R = """suppressPackageStartupMessages(library(lavaan))
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
cells <- read.csv("tests/data/datasets/scaled/hs_missing10_cells.csv")
for (k in seq_len(nrow(cells))) HS[HS$id == cells$id[k], cells$variable[k]] <- NA
m <- ' visual =~ x1 + x2 + x3
       textual =~ x4 + x5 + x6
       speed =~ x7 + x8 + x9 '
set.seed(20)
t <- system.time(f <- cfa(m, data = HS, missing = "ml", se = "bootstrap", bootstrap = {draws}L))
cat(t[["elapsed"]], "\\n")
"""


def bench_fiml(draws: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_sem import HS_MODEL, hs_missing10
    d = hs_missing10()
    t0, c0 = time.perf_counter(), time.process_time()
    res = sem.fit(HS_MODEL, d, missing="ml", se="bootstrap", bootstrap=draws, seed=20)
    ours, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"\nFIML bootstrap {draws} draws, HolzingerSwineford1939 10% cells missing: "
          f"{res.bootstrap.n_successful} successful")
    key = f"hs_fiml_bootstrap_{draws}"
    if not shutil.which("Rscript"):
        print(f"{key:<28}{ours:>10.2f}{ours_cpu:>10.2f}   lavaan: skipped (no Rscript)")
        return
    out = subprocess.run(["Rscript", "-e", FIML_R.replace("{draws}", str(draws))], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    lav = float(out.stdout.split()[-1])
    print(f"{'key':<28}{'ours (s)':>10}{'ours cpu':>10}{'lavaan (s)':>12}{'ratio':>8}")
    print(f"{key:<28}{ours:>10.2f}{ours_cpu:>10.2f}{lav:>12.2f}{ours / lav:>8.2f}   lavaan: live")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--fiml-draws", type=int, default=200)
    args = ap.parse_args()
    d = pd.read_csv(ROOT / "tests/data/datasets/PoliticalDemocracy.csv")
    sem.fit(PD_MODEL, d, se="bootstrap", bootstrap=20, seed=1)         # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    res = sem.fit(PD_MODEL, d, se="bootstrap", bootstrap=args.draws, seed=20, n_jobs=args.jobs)
    ours, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
    lav, how = lavaan_seconds(args.draws)
    print(f"bootstrap {args.draws} draws, PoliticalDemocracy (n_jobs={args.jobs}): "
          f"{res.bootstrap.n_successful} successful")
    print(f"{'key':<28}{'ours (s)':>10}{'ours cpu':>10}{'lavaan (s)':>12}{'ratio':>8}")
    print(f"{'pd_bootstrap_' + str(args.draws):<28}{ours:>10.2f}{ours_cpu:>10.2f}{lav:>12.2f}"
          f"{ours / lav:>8.2f}   lavaan timing: {how}")
    if args.fiml_draws:
        bench_fiml(args.fiml_draws)


if __name__ == "__main__":
    main()
