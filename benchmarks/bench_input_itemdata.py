"""The item-data object's cost (issue 12): checking once, then scoring the object.

Run:  python benchmarks/bench_input_itemdata.py [--rows N] [--repeats N]

Times, on OQ-45.2 responses (45 items, 0..4, 1% blanks) with patient and month:
``score(DataFrame)`` (the engine checks every column as it scores), ``item_data``
alone (map, check, type the keys) and ``score(ItemData)`` (the checked columns used as
they are). ``item_data`` + ``score(ItemData)`` should cost about what ``score(df)``
costs: the check moves, it is not repeated. There is no R counterpart (R's
``psych::scoreItems`` does not validate responses against a scale; see
bench_scoring.py for the R comparison of scoring itself).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psychometrics.io import item_data  # noqa: E402
from psychometrics.scoring import score  # noqa: E402

from _bench import median_wall_cpu  # noqa: E402


def oq(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, size=(n, 45)).astype(float)
    x[rng.random(x.shape) < 0.01] = np.nan
    df = pd.DataFrame(x, columns=[f"oq_{i}" for i in range(1, 46)])
    df.insert(0, "patient", np.arange(n) // 10)
    df.insert(1, "month", np.arange(n) % 10)
    return df


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    df = oq(args.rows)
    d = item_data(df, "oq-45.2", id="patient", time="month")
    cases = [
        ("score(DataFrame)", lambda: score(df, "oq-45.2", id="patient", time="month")),
        ("item_data(DataFrame)", lambda: item_data(df, "oq-45.2", id="patient", time="month")),
        ("score(ItemData)", lambda: score(d, "oq-45.2")),
    ]
    print(f"OQ-45.2, {args.rows} rows x 45 items, median of {args.repeats}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in cases:
            wall, cpu = median_wall_cpu(fn, args.repeats)
            print(f"{name:24s} {wall:8.3f} s wall  {cpu:8.3f} s cpu")
    return 0


if __name__ == "__main__":
    sys.exit(main())
