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


from _bench import median_seconds as timeit, median_wall_cpu, r_timings  # noqa: E402

# single-level FIML (issue #18): HolzingerSwineford1939 with 10% of the x1..x9 cells
# missing (the cells listed in tests/data/datasets/scaled/hs_missing10_cells.csv, drawn
# once with numpy.random.default_rng(20260)); lavaan is timed live in the same run
FIML_R = """suppressPackageStartupMessages(library(lavaan))
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
cells <- read.csv("tests/data/datasets/scaled/hs_missing10_cells.csv")
for (k in seq_len(nrow(cells))) HS[HS$id == cells$id[k], cells$variable[k]] <- NA
m <- ' visual =~ x1 + x2 + x3
       textual =~ x4 + x5 + x6
       speed =~ x7 + x8 + x9 '
f <- cfa(m, data = HS, missing = "ml")
ts <- sapply(1:{reps}, function(i) system.time(cfa(m, data = HS, missing = "ml"))[["elapsed"]])
cat(median(ts), fitMeasures(f, "chisq"), "\\n")
"""


def hs_missing10() -> pd.DataFrame:
    """HolzingerSwineford1939 with the cells of hs_missing10_cells.csv set to NaN."""
    hs = pd.read_csv(ROOT / "tests" / "data" / "datasets" / "HolzingerSwineford1939.csv")
    cells = pd.read_csv(ROOT / "tests" / "data" / "datasets" / "scaled" /
                        "hs_missing10_cells.csv")
    pos = {i: k for k, i in enumerate(hs["id"])}
    for i, v in zip(cells["id"], cells["variable"]):
        hs.loc[pos[i], v] = float("nan")
    return hs


def bench_fiml(reps: int = 10) -> None:
    """Single-level FIML, ours and lavaan (live via Rscript; skipped without R)."""
    import shutil
    import subprocess
    d = hs_missing10()
    ours, ours_cpu = median_wall_cpu(lambda: sem.fit(HS_MODEL, d, missing="ml"), reps)
    chisq = sem.fit(HS_MODEL, d, missing="ml").fit_measures["chisq"]
    print(f"\nFIML, HolzingerSwineford1939 with {d[[f'x{j}' for j in range(1, 10)]].isna().mean().mean():.1%}"
          f" cells missing (chisq ours {chisq:.4f})")
    if not shutil.which("Rscript"):
        print(f"{'fiml_hs_missing10':<26}{ours:>10.4f}   lavaan: skipped (no Rscript)")
        return
    out = subprocess.run(["Rscript", "-e", FIML_R.replace("{reps}", str(reps))], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    lav, lav_chisq = float(out[0]), float(out[1])
    print(f"{'key':<26}{'ours (s)':>10}{'ours cpu':>10}{'lavaan (s)':>12}{'ratio':>8}")
    print(f"{'fiml_hs_missing10':<26}{ours:>10.4f}{ours_cpu:>10.4f}{lav:>12.4f}{ours / lav:>8.2f}"
          f"   (lavaan chisq {lav_chisq:.4f}, live)")


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
    bench_fiml()


if __name__ == "__main__":
    main()
