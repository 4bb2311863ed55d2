"""Benchmark of psychometrics.reliability against psych (R timings in benchmarks/r_timings.json).

Run: python benchmarks/bench_reliability.py
Times the median of repeated calls after one warm-up, the same protocol as the R
timings (median wall time of the core call). BLAS is limited to one thread, as R's
reference BLAS (set OPENBLAS_NUM_THREADS yourself to override).
"""
from __future__ import annotations

import os

# R's timings use the single-threaded reference BLAS. OpenBLAS threads only slow
# down the small matrices of these analyses (and on a busy machine, badly), so
# compare like with like unless the caller chose otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json
import sys
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psychometrics.reliability import (alpha, icc, instrument_reliability,  # noqa: E402
                                       polychoric, split_half)

DATA = ROOT / "tests" / "data" / "datasets"
EXTRA = ROOT / "tests" / "data" / "r_results" / "reliability" / "reliability_extra.json"


from _bench import median_seconds as median_time, r_timings  # noqa: E402


def main():
    r_t = r_timings()
    extra_t = json.loads(EXTRA.read_text())["timings"]
    bfi = pd.read_csv(DATA / "bfi.csv", na_values=["NA"])
    sai = pd.read_csv(DATA / "sai.csv", na_values=["NA"])
    therapy = pd.read_csv(DATA / "therapy_sim.csv")
    A = bfi[[f"A{i}" for i in range(1, 6)]]
    C = bfi[[f"C{i}" for i in range(1, 6)]]
    Ar = A.copy()
    Ar["A1"] = 7 - Ar["A1"]
    sai1 = sai.loc[(sai.time == 1) & (sai.study == "AGES"),
                   ["calm", "tense", "upset", "rested", "anxious", "joyful"]]
    saiI = sai.loc[(sai.study == "FLAT") & (sai.time == 1),
                   ["calm", "secure", "at.ease", "rested", "comfortable"]].dropna().iloc[:100]
    cases = [
        ("case4_alpha_A", "alpha(A, reverse='A1')", lambda: alpha(A, reverse="A1"), 50,
         r_t["case4_alpha_A"]["median_s"]),
        ("case4_alpha_C", "alpha(C, reverse=['C4','C5'])", lambda: alpha(C, reverse=["C4", "C5"]),
         50, r_t["case4_alpha_C"]["median_s"]),
        ("case4_splitHalf_A", "split_half(Ar)", lambda: split_half(Ar), 50,
         r_t["case4_splitHalf_A"]["median_s"]),
        ("case4_polychoric_A", "polychoric(A)", lambda: polychoric(A), 20,
         r_t["case4_polychoric_A"]["median_s"]),
        ("extra: polychoric_sai", "polychoric(sai 6 items, 4 categories)", lambda: polychoric(sai1),
         20, extra_t["polychoric_sai"]),
        ("extra: polychoric_25", "polychoric(bfi[, 1:25])  (R timed once)",
         lambda: polychoric(bfi.iloc[:, :25]), 3, extra_t["polychoric_25"]),
        ("extra: ICC_sai_lmer", "icc(sai 100 x 5)  vs psych::ICC (lmer)", lambda: icc(saiI), 50,
         extra_t["ICC_sai_lmer"]),
        ("extra: ICC_sai_aov", "icc(sai 100 x 5, method='anova')  vs psych::ICC(lmer=FALSE)",
         lambda: icc(saiI, method="anova"), 50, extra_t["ICC_sai_aov"]),
        ("(no R timing)", "instrument_reliability(therapy, 'wai-sr') (5 scales)",
         lambda: instrument_reliability(therapy, "wai-sr"), 10, None),
    ]
    print(f"{'R key':24s} {'call':58s} {'ours_s':>9s} {'R_s':>9s} {'R/ours':>7s}")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, call, f, reps, r_s in cases:
            ours = median_time(f, reps)
            ratio = (r_s / ours) if r_s else float("nan")
            rows.append((key, ours, r_s, ratio))
            r_txt = f"{r_s:9.4f}" if r_s else "        -"
            print(f"{key:24s} {call:58s} {ours:9.4f} {r_txt} {ratio:7.1f}")
    return rows


if __name__ == "__main__":
    main()
