"""Start-up cost: import times and whole-process times of small jobs, beside R's.

Run: python benchmarks/bench_startup.py [--repeats 5]

Every number is a fresh process (``python -c ...`` or ``Rscript -e ...``), the median of
``--repeats`` runs after one warm-up run (file-system caches), as wall-clock seconds and
as CPU seconds of the child process (user + system; less sensitive to a shared machine).
The first block is the import of each subpackage; the second a whole small job, from the
start of the interpreter to the fitted result, against the same job in R:

- CFA of Holzinger-Swineford (3 factors)   ``lavaan::cfa``
- EFA, ML with oblimin, 9 items              ``psych::fa``
- coefficient alpha, 3 items                 ``psych::alpha``
- random-slope LMM of sleepstudy             ``lmerTest::lmer``

The R package versions are those installed (lavaan 0.6-14, psych 2.2.9, lmerTest); R is
only timed here, never used by the package or its tests.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HS = (ROOT / "tests" / "data" / "datasets" / "HolzingerSwineford1939.csv").as_posix()
SLEEP = (ROOT / "tests" / "data" / "datasets" / "sleepstudy.csv").as_posix()
MODEL = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
ITEMS = [f"x{i}" for i in range(1, 10)]

IMPORTS = ["psychometrics", "psychometrics.sem", "psychometrics.efa", "psychometrics.reliability",
           "psychometrics.multilevel", "psychometrics.irt", "psychometrics.scoring",
           "psychometrics.validity", "psychometrics.report"]

PY_JOBS = {
    "cfa": f"import pandas as pd, psychometrics.sem as s; s.fit('{MODEL}', pd.read_csv('{HS}'))",
    "efa": (f"import pandas as pd, psychometrics.efa as e; "
            f"e.fa(pd.read_csv('{HS}')[{ITEMS!r}], n_factors=3, method='ml', rotation='oblimin')"),
    "alpha": (f"import pandas as pd, psychometrics.reliability as r; "
              f"r.alpha(pd.read_csv('{HS}')[['x1', 'x2', 'x3']])"),
    "lmm": (f"import pandas as pd, psychometrics.multilevel as m; "
            f"m.mixed('Reaction ~ Days + (Days | Subject)', pd.read_csv('{SLEEP}')).fixed_effects"),
}
R_LIBS = {"cfa": "lavaan", "efa": "psych", "alpha": "psych", "lmm": "lmerTest"}
R_JOBS = {
    "cfa": f"library(lavaan); d <- read.csv('{HS}'); f <- cfa('{MODEL}', d)",
    "efa": (f"suppressMessages(library(psych)); library(GPArotation); d <- read.csv('{HS}'); "
            f"f <- fa(d[, paste0('x', 1:9)], nfactors = 3, fm = 'ml', rotate = 'oblimin')"),
    "alpha": f"suppressMessages(library(psych)); d <- read.csv('{HS}'); a <- alpha(d[, c('x1','x2','x3')])",
    "lmm": (f"suppressMessages(library(lmerTest)); d <- read.csv('{SLEEP}'); "
            f"f <- lmer(Reaction ~ Days + (Days | Subject), d); s <- summary(f)$coefficients"),
}


def run_timed(cmd: list[str], repeats: int) -> tuple[float, float]:
    """Median wall and median child CPU seconds of a fresh process (after one warm-up)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    wall, cpu = [], []
    for k in range(repeats + 1):
        c0 = os.times()
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        t1 = time.perf_counter()
        c1 = os.times()
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
        if k:   # the first run warms the file-system cache
            wall.append(t1 - t0)
            cpu.append((c1.children_user - c0.children_user)
                       + (c1.children_system - c0.children_system))
    return statistics.median(wall), statistics.median(cpu)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    py = sys.executable
    rscript = shutil.which("Rscript")

    base = run_timed([py, "-c", "pass"], args.repeats)
    print(f"{'import (fresh process)':<34}{'wall s':>9}{'cpu s':>9}{'minus python':>14}")
    print(f"{'python -c pass':<34}{base[0]:>9.3f}{base[1]:>9.3f}")
    for mod in IMPORTS:
        w, c = run_timed([py, "-c", f"import {mod}"], args.repeats)
        print(f"{'import ' + mod:<34}{w:>9.3f}{c:>9.3f}{w - base[0]:>14.3f}")
    if rscript:
        rb = run_timed([rscript, "-e", "invisible(0)"], args.repeats)
        print(f"{'Rscript -e invisible(0)':<34}{rb[0]:>9.3f}{rb[1]:>9.3f}")
        for lib in sorted(set(R_LIBS.values())):
            w, c = run_timed([rscript, "-e", f"suppressMessages(library({lib}))"], args.repeats)
            print(f"{'library(' + lib + ')':<34}{w:>9.3f}{c:>9.3f}{w - rb[0]:>14.3f}")

    print()
    print(f"{'whole process':<10}{'ours wall':>11}{'R wall':>9}{'R/ours':>9}"
          f"{'ours cpu':>11}{'R cpu':>9}{'R/ours':>9}")
    for job, code in PY_JOBS.items():
        w, c = run_timed([py, "-c", code], args.repeats)
        if rscript:
            rw, rc = run_timed([rscript, "-e", R_JOBS[job]], args.repeats)
            print(f"{job:<10}{w:>11.3f}{rw:>9.3f}{rw / w:>9.2f}{c:>11.3f}{rc:>9.3f}{rc / c:>9.2f}")
        else:
            print(f"{job:<10}{w:>11.3f}{'(no R)':>9}")
    print("\nR/ours > 1: we are faster as a whole process.")


if __name__ == "__main__":
    main()
