"""Benchmark: score 1,000,000 OQ-45.2 administrations (45 million responses).

    python benchmarks/bench_scoring.py [--rows N] [--repeats K]
    python benchmarks/bench_scoring.py --write-r-data /tmp/oq_bench

Data (fixed seed 20261126): responses 0..4 drawn uniformly,
  A) "complete": int8 columns, no blanks;
  B) "blanks":   float64 columns (as read from a CSV with empty cells), 1% blanks.
Both with a patient id and a time column, so that the duplicate-administration
check runs too; validation is always on (the engine has no way to skip it).

Reported: median wall seconds of ``psychometrics.scoring.score`` over the
repeats after one warm-up, rows per second, peak memory during the call
(tracemalloc, a separate run) against the size of the response matrix
(int8: rows x 45 bytes), and the ratio to psych::scoreItems on the same data,
read from benchmarks/r_scoring_timing.json (made by benchmarks/r_scoring_timing.R,
which reads the files written by --write-r-data).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psychometrics.instruments import load_instrument  # noqa: E402
from psychometrics.scoring import score  # noqa: E402

SEED = 20261126
ITEMS = [f"oq_{i}" for i in range(1, 46)]
R_TIMING = ROOT / "benchmarks" / "r_scoring_timing.json"


def make_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """int8 responses (n x 45, 0..4) and a blank mask (1%), from the fixed seed."""
    rng = np.random.default_rng(SEED)
    X = rng.integers(0, 5, size=(n, 45), dtype=np.int8)
    blank = rng.random((n, 45)) < 0.01
    return X, blank


def frames(X: np.ndarray, blank: np.ndarray) -> dict[str, pd.DataFrame]:
    n = len(X)
    ids = {"pid": np.arange(n, dtype=np.int64) // 10, "t": np.arange(n, dtype=np.int64) % 10}
    complete = pd.DataFrame({**ids, **{c: X[:, j] for j, c in enumerate(ITEMS)}})
    cols = {}
    for j, c in enumerate(ITEMS):
        v = X[:, j].astype(np.float64)
        v[blank[:, j]] = np.nan
        cols[c] = v
    blanks = pd.DataFrame({**ids, **cols})
    return {"complete": complete, "blanks": blanks}


def time_it(df, inst, repeats: int) -> list[float]:
    score(df.iloc[:1000], inst, id="pid", time="t")  # warm-up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = score(df, inst, id="pid", time="t")
        out.append(time.perf_counter() - t0)
        del res
    return out


def peak_memory(df, inst) -> float:
    tracemalloc.start()
    res = score(df, inst, id="pid", time="t")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del res
    return peak


def write_r_data(X, blank, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    X.tofile(folder / "complete.int8")
    Y = X.copy()
    Y[blank] = -1          # R: -1 -> NA
    Y.tofile(folder / "blanks.int8")
    (folder / "shape.txt").write_text(f"{X.shape[0]} {X.shape[1]}\n")
    print(f"wrote {folder}/complete.int8 and blanks.int8 ({X.shape[0]} x {X.shape[1]}, row-major)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--write-r-data", type=Path, default=None)
    args = ap.parse_args(argv)
    X, blank = make_data(args.rows)
    if args.write_r_data is not None:
        write_r_data(X, blank, args.write_r_data)
        return 0
    inst = load_instrument("oq-45.2")
    r = json.loads(R_TIMING.read_text()) if R_TIMING.exists() else None
    matrix_bytes = X.nbytes
    print(f"OQ-45.2, {args.rows:,} administrations x 45 items; response matrix (int8) "
          f"{matrix_bytes / 1e6:.1f} MB")
    for name, df in frames(X, blank).items():
        times = time_it(df, inst, args.repeats)
        med = statistics.median(times)
        peak = peak_memory(df, inst)
        line = (f"[{name:8s}] median {med:.3f} s (min {min(times):.3f}, {args.repeats} runs), "
                f"{args.rows / med:,.0f} rows/s; peak memory {peak / 1e6:.1f} MB = "
                f"{peak / matrix_bytes:.2f} x the response matrix; input frame "
                f"{df.memory_usage(index=False).sum() / 1e6:.0f} MB")
        print(line)
        key = f"scoreItems_{name}"
        if name == "complete" and r is not None and key in r["timings"]:
            # same data as R: without blanks the totals must be equal
            ours = score(df.iloc[:5], inst).scores["total"].to_numpy()
            same = np.array_equal(ours, np.asarray(r["timings"][key]["check_total_first5"]))
            print(f"           first 5 totals {ours.tolist()} equal R's: {same}")
        if r is not None and key in r["timings"] and r["timings"][key]["rows"] == args.rows:
            rt = r["timings"][key]["median_s"]
            print(f"           R psych::scoreItems ({key} in {R_TIMING.name}): {rt:.3f} s; "
                  f"ratio R / ours = {rt / med:.1f}x")
        else:
            print(f"           (no R timing for {key} at {args.rows} rows in {R_TIMING.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
