"""Benchmark psychometrics.sem.twolevel.fit_twolevel against lavaan 0.6-14 timings.

Run: python benchmarks/bench_twolevel.py            (complete data + two-level FIML)
     python benchmarks/bench_twolevel.py --fiml     (two-level FIML only)

Two-level FIML (``missing="ml"``) is timed beside lavaan live in the same run (Rscript via
subprocess, ``sem(model, data, cluster =, missing = "ml")``, one timed call after loading
the data; skipped if Rscript or lavaan is absent): the therapy example with holes
(tests/data/datasets/therapy_example_holes.csv, 150 patients) and a simulated 2,000-patient
set (written to a temporary CSV that both read). Target: ours at most 0.2x lavaan's time.

R timings: benchmarks/r_timings.json keys ``case8_demo_twolevel``, ``case8_therapy_wai_1w1b``,
``case8_therapy_wai_3w1b`` (``sem(model, data, cluster = ...)``, median of 5 / 3 runs).
Ours: median of repeated in-process calls after one warm-up, from the raw DataFrame to the
finished result (saturated EM, estimates, observed-information SEs, standardized solution,
baseline model and fit measures), like the R call.
"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psychometrics.sem.twolevel import fit_twolevel  # noqa: E402


from _bench import median_seconds as timeit, r_timings  # noqa: E402


MODEL_FIML = """
level: 1
    wai_w =~ wai_1 + wai_2 + wai_3 + wai_4
    pear_w =~ pear_1 + pear_2 + pear_3 + pear_4
level: 2
    wai_b =~ wai_1 + wai_2 + wai_3 + wai_4
    pear_b =~ pear_1 + pear_2 + pear_3 + pear_4
"""


def simulate_patients(n_patients: int, seed: int = 2026):
    """Two factors per level on 8 items, 3 to 15 months per patient, 5% skipped items and
    8% skipped months (every item missing)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    months = rng.integers(3, 16, n_patients)
    pid = np.repeat(np.arange(1, n_patients + 1), months)
    n = len(pid)
    lam = np.array([1.0, 0.9, 0.8, 0.85])
    fb = rng.multivariate_normal([0, 0], [[0.5, 0.25], [0.25, 0.4]], n_patients)[pid - 1]
    fw = rng.multivariate_normal([0, 0], [[0.6, 0.2], [0.2, 0.7]], n)
    cols = {}
    for k in range(4):
        cols[f"wai_{k + 1}"] = 4 + lam[k] * (fb[:, 0] + fw[:, 0]) + rng.normal(0, 0.6, n) \
            + rng.normal(0, 0.2, n_patients)[pid - 1]
        cols[f"pear_{k + 1}"] = 3 + lam[k] * (fb[:, 1] + fw[:, 1]) + rng.normal(0, 0.6, n) \
            + rng.normal(0, 0.2, n_patients)[pid - 1]
    df = pd.DataFrame(cols)
    df = df.mask(rng.random(df.shape) < 0.05)
    df.loc[rng.random(n) < 0.08, :] = np.nan
    df.insert(0, "patient_id", pid)
    return df


def lavaan_seconds(csv: Path, cluster: str, model: str) -> float:
    """lavaan's time for one sem(..., missing = "ml") call (data loaded before the clock)."""
    import shutil
    import subprocess
    import tempfile
    if shutil.which("Rscript") is None:
        return float("nan")
    code = f"""
suppressPackageStartupMessages(library(lavaan))
d <- read.csv("{csv}")
m <- '{model}'
t0 <- proc.time()[["elapsed"]]
f <- suppressWarnings(sem(m, data = d, cluster = "{cluster}", missing = "ml"))
cat(proc.time()[["elapsed"]] - t0, "\\n")
"""
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(code)
    try:
        out = subprocess.run(["Rscript", fh.name], capture_output=True, text=True, timeout=7200)
        return float(out.stdout.strip().split()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError):
        return float("nan")
    finally:
        Path(fh.name).unlink(missing_ok=True)


def main_fiml():
    import tempfile
    data = ROOT / "tests" / "data" / "datasets"
    ther = pd.read_csv(data / "therapy_example_holes.csv")
    with tempfile.TemporaryDirectory() as tmp:
        sim_csv = Path(tmp) / "sim2000.csv"
        sim = simulate_patients(2000)
        sim.to_csv(sim_csv, index=False, na_rep="NA")
        sim = pd.read_csv(sim_csv)
        cases = [("fiml_therapy_example_150", ther, data / "therapy_example_holes.csv", 3),
                 ("fiml_simulated_2000", sim, sim_csv, 1)]
        print(f"{'two-level FIML case':<28}{'rows':>7}{'ours [s]':>10}{'lavaan [s]':>12}"
              f"{'ours / lavaan':>15}")
        for key, df, csv, reps in cases:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = timeit(lambda: fit_twolevel(MODEL_FIML, df, "patient_id", missing="ml"),
                              reps)
            rs = lavaan_seconds(csv, "patient_id", MODEL_FIML)
            print(f"{key:<28}{len(df):>7}{ours:>10.2f}{rs:>12.2f}{ours / rs:>15.3f}")


def main():
    if "--fiml" in sys.argv:
        return main_fiml()
    r = r_timings()
    ref = json.loads((ROOT / "tests" / "data" / "reference" / "case8_twolevel_sem.json").read_text())
    data = ROOT / "tests" / "data" / "datasets"
    demo = pd.read_csv(data / "Demo.twolevel.csv")
    ther = pd.read_csv(data / "therapy_sim.csv")
    cases = [
        ("case8_demo_twolevel", lambda: fit_twolevel(ref["demo_twolevel"]["model"], demo, "cluster"), 7),
        ("case8_therapy_wai_1w1b",
         lambda: fit_twolevel(ref["therapy_wai_1within_1between"]["model"], ther, "patient_id"), 5),
        ("case8_therapy_wai_3w1b",
         lambda: fit_twolevel(ref["therapy_wai_3within_1between"]["model"], ther, "patient_id"), 5),
    ]
    print(f"{'case (r_timings.json key)':<28}{'ours [s]':>10}{'R [s]':>10}{'R / ours':>10}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # therapy_sim: zero within variance in a few clusters
        for key, fn, reps in cases:
            ours = timeit(fn, reps)
            rs = r[key]["median_s"] if key in r else float("nan")
            print(f"{key:<28}{ours:>10.3f}{rs:>10.3f}{rs / ours:>10.1f}")
    print()
    main_fiml()


if __name__ == "__main__":
    main()
