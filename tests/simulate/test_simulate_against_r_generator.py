"""The simulator reproduces the structure of the R reference generator.

Same model, different random numbers (R's Mersenne-Twister vs numpy's PCG64), so
the comparison is of moments of two large independent samples (20,000 patients x
12 sessions each): |ours - R| < Z * sqrt(se_ours^2 + se_R^2), with standard
errors from patient-level means (patients are independent, their sessions are not).
R values: tests/data/r_results/simulate/moments_simulate_therapy.json, made by
tests/data/r_scripts/simulate/moments_simulate_therapy.R.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from psychometrics.simulate import SimulationParams, simulate

Z = 4.0
R_JSON = (Path(__file__).parents[1] / "data" / "r_results" / "simulate"
          / "moments_simulate_therapy.json")


@pytest.fixture(scope="module")
def r():
    return json.loads(R_JSON.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ours(r):
    # simulate_therapy(777, n_patients = 20000, fixed_sessions = 12)
    res = simulate(SimulationParams(n_patients=r["n_patients"], sessions_min=r["sessions"],
                                    sessions_max=r["sessions"]), seed=777)
    return res


def mom(x: np.ndarray, pid: np.ndarray) -> tuple[float, float]:
    """Mean over sessions and its SE from patient means (R: mom() in the script)."""
    sums = np.bincount(pid, weights=x)[1:]
    counts = np.bincount(pid)[1:]
    pm = sums / counts
    return float(x.mean()), float(pm.std(ddof=1) / np.sqrt(len(pm)))


def check(name: str, ours_mean: float, ours_se: float, ref: dict) -> None:
    se = np.hypot(ours_se, ref["se"])
    assert abs(ours_mean - ref["mean"]) < Z * se, (name, ours_mean, ref["mean"], se)


def test_item_means_and_variances(r, ours):
    d = ours.data
    pid = d["patient_id"].to_numpy()
    for item in r["item_mean"]:  # every R item must be in our data
        x = d[item].to_numpy(dtype=float)
        # mean(d$<item>)
        check(f"mean {item}", *mom(x, pid), r["item_mean"][item])
        # mean((x - mean(x))^2)
        check(f"var {item}", *mom((x - x.mean()) ** 2, pid), r["item_var"][item])


def test_scale_totals(r, ours):
    d = ours.data
    pid = d["patient_id"].to_numpy()
    # rowSums(d[, paste0("wai_", 1:12)]) and the PEAR F1 (1-6) and F2 (7-10) totals
    for key, cols in (("wai_total", [f"wai_{j}" for j in range(1, 13)]),
                      ("pear_f1_total", [f"pear_{j}" for j in range(1, 7)]),
                      ("pear_f2_total", [f"pear_{j}" for j in range(7, 11)])):
        check(key, *mom(d[cols].sum(axis=1).to_numpy(dtype=float), pid), r[key])


def test_latent_oq_total_by_month(r, ours):
    s = ours.truth.sessions
    # R: oq <- pmin(pmax(round(oq, 1), 0), 180)
    oq = np.clip(np.round(s["latent_oq_total"].to_numpy(), 1), 0, 180)
    month = s["month"].to_numpy()
    assert len(r["oq_total_by_month"]) == r["sessions"]
    for row in r["oq_total_by_month"]:
        x = oq[month == row["month"]]
        se = x.std(ddof=1) / np.sqrt(len(x))
        check(f"oq mean month {row['month']}", x.mean(), se, row)
        kurt = np.mean((x - x.mean()) ** 4) / x.var(ddof=1) ** 2
        sd_se = x.std(ddof=1) * np.sqrt((kurt - 1) / (4 * len(x)))
        check(f"oq sd month {row['month']}", x.std(ddof=1), sd_se,
              {"mean": row["sd"], "se": row["sd_se"]})
