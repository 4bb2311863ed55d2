"""Wide data through the input layer and alpha (issue 12, hole 6).

Run:  python benchmarks/bench_input_wide.py [--repeats N]

Times ``alpha`` on 300 items x 300 cases (R singular: before the closed forms
for the 'if item dropped' table it took minutes, one SVD per item) and on 60
items x 500 cases, and reading a 300-item CSV with the package's reader.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psychometrics.io import read_responses  # noqa: E402
from psychometrics.reliability import alpha  # noqa: E402

from _bench import median_wall_cpu  # noqa: E402


def responses(n: int, p: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = np.clip(np.round(3 + rng.normal(size=(n, 1)) + rng.normal(size=(n, p))), 1, 5)
    return pd.DataFrame(x.astype(int), columns=[f"i{j}" for j in range(p)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    wide, tall = responses(300, 300), responses(500, 60, 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wide.csv"
        wide.to_csv(path, index=False)
        cases = [("alpha 300 items x 300 cases", lambda: alpha(wide)),
                 ("alpha 60 items x 500 cases", lambda: alpha(tall)),
                 ("read_responses 300-column CSV", lambda: read_responses(path))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, fn in cases:
                wall, cpu = median_wall_cpu(fn, args.repeats)
                print(f"{name:34s} {wall:8.3f} s wall  {cpu:8.3f} s cpu")
    return 0


if __name__ == "__main__":
    sys.exit(main())
