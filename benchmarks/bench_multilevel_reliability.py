"""Benchmark: multilevel_reliability on therapy_sim (150 patients x 4-20 months x 12 WAI items).

Ours: ``multilevel_reliability(therapy_sim, "patient_id", "month", wai_1..wai_12)``
(REML crossed components + nested components), median of repeats after one warm-up call.
R: ``psych::multilevel.reliability(d, grp = 'patient_id', Time = 'month', items = wai_cols,
alpha = FALSE, aov = FALSE, lmer = TRUE, lme = TRUE)``, key ``case7_multilevel_reliability`` of
benchmarks/r_timings.json (a single system.time run).

Also timed, without an R counterpart: the same data with 1% of the item values deleted at
random (mixed complete-grid / Woodbury route) and the goal subscale (4 items).

Run:  python benchmarks/bench_multilevel_reliability.py [--repeats N]
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

from psychometrics.reliability.multilevel import multilevel_reliability  # noqa: E402

R_KEY = "case7_multilevel_reliability"


from _bench import median_wall_cpu as _time, r_timings  # noqa: E402

DIARY_ITEMS = [f"i{j}" for j in range(10)]


def _diary():
    """Simulated diary data: 100 persons, each on a random 20-60 of 60 days, 10 items."""
    rng = np.random.default_rng(7)
    rows = []
    for p in range(100):
        days = np.sort(rng.choice(60, rng.integers(20, 61), replace=False))
        a, f = rng.normal(0, 0.7), rng.normal(0, 0.4, 10)
        for t in days:
            rows.append([p, t, *(3 + a + rng.normal(0, 0.5) + f + rng.normal(0, 0.6, 10))])
    return pd.DataFrame(rows, columns=["id", "day", *DIARY_ITEMS])


def _loadavg():
    try:
        import os
        return os.getloadavg()
    except OSError:  # pragma: no cover
        return (float("nan"),) * 3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--diary", action="store_true",
                    help="also time a simulated diary design: 100 persons x 20-60 of 60 days x "
                         "10 items, complete and with 1%% missing values (a few seconds each)")
    args = ap.parse_args(argv)
    data = pd.read_csv(ROOT / "tests" / "data" / "datasets" / "therapy_sim.csv")
    wai = [f"wai_{i}" for i in range(1, 13)]
    holes = data.copy()
    rng = np.random.default_rng(2024)
    X = holes[wai].to_numpy(float, copy=True)
    X[rng.random(X.shape) < 0.01] = np.nan
    holes[wai] = X
    r = r_timings()[R_KEY]

    def run(d, items):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return multilevel_reliability(d, "patient_id", "month", items)

    cases = [
        ("therapy_sim, 12 WAI items (case 7)", lambda: run(data, wai), r["median_s"]),
        ("therapy_sim, goal subscale (4 items)", lambda: run(data, wai[:4]), None),
        ("therapy_sim, 12 items, 1% values missing", lambda: run(holes, wai), None),
    ]
    if args.diary:
        diary = _diary()
        dholes = diary.copy()
        Xd = dholes[DIARY_ITEMS].to_numpy(float, copy=True)
        Xd[np.random.default_rng(5).random(Xd.shape) < 0.01] = np.nan
        dholes[DIARY_ITEMS] = Xd

        def run_d(d):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return multilevel_reliability(d, "id", "day", DIARY_ITEMS)

        cases += [("diary 100 x 60 days x 10 items", lambda: run_d(diary), None),
                  ("diary, 1% values missing", lambda: run_d(dholes), None)]
    print(f"R reference: {R_KEY} = {r['median_s']:.3f} s ({r['call']})")
    print(f"{'case':<44}{'ours wall (s)':>14}{'ours CPU (s)':>14}{'R (s)':>10}{'R / ours':>10}")
    for name, fn, r_s in cases:
        med, cpu = _time(fn, args.repeats)
        ratio = f"{r_s / med:10.1f}" if r_s else f"{'-':>10}"
        r_txt = f"{r_s:10.3f}" if r_s else f"{'-':>10}"
        print(f"{name:<44}{med:14.3f}{cpu:14.3f}{r_txt}{ratio}")
    print("(R / ours uses our wall-clock median; load average now "
          f"{' '.join(f'{x:.1f}' for x in _loadavg())})")
    res = run(data, wai)
    print(f"check: RkF={res.RkF:.8f} R1R={res.R1R:.8f} RkR={res.RkR:.8f} Rc={res.Rc:.8f} "
          f"RkRn={res.RkRn:.8f} Rcn={res.Rcn:.8f} "
          f"(crossed: {res.crossed_fit.n_evaluations} evaluations, path {res.crossed_fit.path})")


if __name__ == "__main__":
    main()
