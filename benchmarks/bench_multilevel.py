"""Benchmark psychometrics.multilevel against lme4 / R timings.

Run:  python benchmarks/bench_multilevel.py [--reps 7] [--threads]

Times (median of repeats after one warm-up):
* the within/between derivation (decompose + lead) on the scaled therapy data
  (20,000 patients x 12 months)  vs  R key ``scaled_add_wb_20000x12``;
* the random-intercept model, ML and REML, on the same data  vs
  ``scaled_lmer_ri_20000x12_ML`` / ``_REML``; the fit is checked against
  tests/data/reference/scaled_checks.json before it is timed;
* the random-slope model (ML) on the same data vs our own lme4 timing
  (tests/data/r_results/multilevel/timing_rslope_big.json, made by
  tests/data/r_scripts/multilevel/timing_rslope_big.R);
* the random-intercept model (ML, REML) on ``psychometrics.simulate`` data, 5,000 and 20,000
  patients x 12 months (issue 19: the data on which our optimiser used to stop at a patient
  variance of 0) vs lme4 timed live on the same CSV (benchmarks/r_lmer_simulated.R ->
  r_lmer_simulated.json; ``--write-r-data DIR`` writes the CSV files); each fit is checked
  against lme4's log-likelihood and fixed effects first;
* the small case-6/case-7 models  vs  ``case6_lmer_reml``, ``case7_lmer_ri_ML``,
  ``case7_lmer_rslope_ML`` and (fit + Satterthwaite table) ``case6_lmerTest_fit_plus_summary``.

R's timings were made with single-threaded reference BLAS, so by default this script pins
OpenBLAS/MKL to one thread too (``--threads`` keeps numpy's default).
"""
from __future__ import annotations

import os
import sys

if "--threads" not in sys.argv:
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _bench import median_seconds as timeit, r_timings  # noqa: E402
from psychometrics.multilevel import decompose, lead, mixed, progress  # noqa: E402

BIG = Path(__file__).resolve().parents[1] / "tests" / "data" / "datasets" / "scaled" / "therapy_big_20000x12.csv.gz"
R_TIMINGS = r_timings()
CHECKS = json.loads((ROOT / "tests" / "data" / "reference" / "scaled_checks.json").read_text())
RSLOPE = ROOT / "tests" / "data" / "r_results" / "multilevel" / "timing_rslope_big.json"
DATA = ROOT / "tests" / "data" / "datasets"

F1 = "oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id)"
F2 = "oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within | patient_id)"


def derive(big: pd.DataFrame) -> pd.DataFrame:
    """add_wb(): wai_mean, person mean, person-mean centring, next month's OQ."""
    d = big.assign(wai_mean=big["wai_sum"] / 12.0)
    d = decompose(d, "patient_id", "month", "wai_mean")
    d = lead(d, "patient_id", "month", "oq_total").data
    return d.rename(columns={"wai_mean_between": "wai_between", "wai_mean_within": "wai_within",
                             "oq_total_lead": "oq_next"})


SIM_SIZES = (5000, 20000)
R_SIM = ROOT / "benchmarks" / "r_lmer_simulated.json"


def simulated(n_patients: int) -> pd.DataFrame:
    """The study's variables from ``simulate(n_patients, 12 months, seed=5000)``: WAI item
    mean split by ``decompose``, the sum of the 45 OQ item columns as written, next month's
    OQ (the derivation of issue 19)."""
    from psychometrics.simulate import simulate

    d = simulate(n_patients=n_patients, sessions_min=12, sessions_max=12, seed=5000).data
    d = pd.DataFrame({"patient_id": d["patient_id"], "month": d["month"],
                      "wai": d[[f"wai_{i}" for i in range(1, 13)]].mean(axis=1),
                      "oq_total": d[[f"oq_{i}" for i in range(1, 46)]].sum(axis=1)})
    d = decompose(d, "patient_id", "month", "wai")
    d = lead(d, "patient_id", "month", "oq_total").data
    return d.rename(columns={"oq_total_lead": "oq_next"})


def check_big(fit, key):
    ref = CHECKS["therapy_big"][key]
    assert fit.n_obs == CHECKS["therapy_big"]["nobs"]
    np.testing.assert_allclose(fit.fixef.to_numpy(), list(ref["fixef"].values()), rtol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov.to_numpy())), list(ref["se"].values()),
                               rtol=1e-4)
    np.testing.assert_allclose(fit.random_effects["variance"].to_numpy(),
                               [r["vcov"] for r in ref["VarCorr_table"]], rtol=1e-5)
    np.testing.assert_allclose(fit.loglik, ref["logLik"], rtol=1e-9)


def row(label, ours, r_key=None, r_sec=None):
    if r_key is not None and r_sec is None:
        r_sec = R_TIMINGS[r_key]["median_s"]
    if r_sec is None:
        print(f"{label:<58} ours {ours:8.4f} s")
        return
    print(f"{label:<58} ours {ours:8.4f} s   R {r_sec:8.4f} s ({r_key})   ratio ours/R {ours / r_sec:6.3f}"
          f"   ({r_sec / ours:5.1f}x faster)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", action="store_true", help="keep numpy's BLAS threading")
    ap.add_argument("--write-r-data", metavar="DIR",
                    help="write the simulated data sets for benchmarks/r_lmer_simulated.R and exit")
    args = ap.parse_args()
    if args.write_r_data:
        out = Path(args.write_r_data)
        out.mkdir(parents=True, exist_ok=True)
        for n in SIM_SIZES:
            simulated(n).to_csv(out / f"sim_{n}.csv", index=False, float_format="%.17g")
        return
    reps = args.reps
    print(f"BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}; reps {reps} (median)\n")

    big = pd.read_csv(BIG)
    d = derive(big)
    dm = d[d["oq_next"].notna()]

    # --- verify that we fit the same thing as lme4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_ml = mixed(F1, d, reml=False)
        fit_reml = mixed(F1, d, reml=True)
    check_big(fit_ml, "ML")
    check_big(fit_reml, "REML")
    print("scaled_checks.json: ML and REML random-intercept fits match (fixef rtol 1e-5, SE 1e-4, "
          "variances 1e-5, logLik 1e-9)")
    rs = json.loads(RSLOPE.read_text()) if RSLOPE.exists() else None
    fit_rs = mixed(F2, d, reml=False)
    if rs is not None:
        np.testing.assert_allclose(fit_rs.fixef.to_numpy(), list(rs["fixef"].values()), rtol=1e-5)
        np.testing.assert_allclose(fit_rs.loglik, rs["logLik"], rtol=1e-9)
        print(f"timing_rslope_big.json: random-slope ML fit matches lme4 (logLik {fit_rs.loglik:.6f} "
              f"vs {rs['logLik']:.6f})")
    print()

    row("derivation add_wb (decompose + lead), 240,000 rows",
        timeit(lambda: derive(big), reps), "scaled_add_wb_20000x12")
    row("random intercept ML, 220,000 rows / 20,000 patients",
        timeit(lambda: mixed(F1, d, reml=False), reps), "scaled_lmer_ri_20000x12_ML")
    row("random intercept REML, 220,000 rows / 20,000 patients",
        timeit(lambda: mixed(F1, d, reml=True), reps), "scaled_lmer_ri_20000x12_REML")
    t_rs = timeit(lambda: mixed(F2, d, reml=False), max(3, reps // 2))
    if rs is not None:
        row("random slope ML (corr.), 220,000 rows", t_rs, "timing_rslope_big.json",
            rs["timing"]["median_s"])
    else:
        row("random slope ML (corr.), 220,000 rows (no R timing found)", t_rs)
    row("  + Satterthwaite df table, random intercept ML (no R key)",
        timeit(lambda: mixed(F1, d, reml=False).fixed_effects, max(3, reps // 2)))

    big_p = big.assign(wai=big["wai_sum"] / 12.0)
    r_both = R_TIMINGS["scaled_add_wb_20000x12"]["median_s"] + R_TIMINGS["scaled_lmer_ri_20000x12_ML"]["median_s"]
    row("progress(): derivation + 2 REML models + ML refits + df", timeit(
        lambda: progress(big_p, "oq_total", "wai", "patient_id", "month"), max(3, reps // 2)),
        "add_wb + lmer ML (one model)", r_both)

    print()
    r_sim = json.loads(R_SIM.read_text())["timings"] if R_SIM.exists() else {}
    for n in SIM_SIZES:
        ds = simulated(n)
        for reml in (False, True):
            key = f"sim_{n}_{'REML' if reml else 'ML'}"
            fit = mixed(F1, ds, reml=reml)
            ref = r_sim.get(key)
            if ref is not None:       # the fit equals lme4's before it is timed
                assert fit.converged and fit.n_obs == ref["nobs"]
                np.testing.assert_allclose(fit.loglik, ref["logLik"], rtol=1e-10)
                np.testing.assert_allclose(fit.fixef.to_numpy(), list(ref["fixef"].values()),
                                           rtol=1e-6)
            t = timeit(lambda: mixed(F1, ds, reml=reml), reps)
            row(f"simulated {n:,} x 12, random intercept {'REML' if reml else 'ML'}", t,
                key if ref else None, ref["median_s"] if ref else None)
    print()
    sleep = pd.read_csv(DATA / "sleepstudy.csv")
    der = pd.read_csv(DATA / "therapy_sim_derived.csv")
    row("case6 sleepstudy (Days | Subject) REML", timeit(
        lambda: mixed("Reaction ~ Days + (Days | Subject)", sleep), reps * 3), "case6_lmer_reml")
    row("case6 fit + Satterthwaite coefficient table", timeit(
        lambda: mixed("Reaction ~ Days + (Days | Subject)", sleep).fixed_effects, reps * 3),
        "case6_lmerTest_fit_plus_summary")
    row("case7 random intercept ML", timeit(lambda: mixed(F1, der, reml=False), reps * 3),
        "case7_lmer_ri_ML")
    row("case7 random slope ML", timeit(lambda: mixed(F2, der, reml=False), reps * 3),
        "case7_lmer_rslope_ML")


if __name__ == "__main__":
    main()
