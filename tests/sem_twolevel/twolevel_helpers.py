"""Shared comparison helpers for the two-level SEM tests (lavaan 0.6-14 references).

Tolerances (why):
* lavaan stops nlminb at a relative change of its objective of 1e-10; on these models its
  log-likelihood is up to 1.5e-6 below ours (we sit at the maximum: gradient ~1e-12), so its
  estimates are off by up to ~1.5e-3 standard errors (worst: level-2 intercepts of
  Demo.twolevel). Estimates are compared at rtol 1e-5 with an absolute slack of 2e-3 of the
  reference SE per row; logL, AIC, BIC at rtol 1e-8 (and ours >= lavaan's logL).
* SEs (observed information by Richardson differences, as lavaan) at rtol 1e-4.
* The saturated model is lavaan's EM replayed step by step, so the unrestricted logL matches
  to ~1e-15; the chi-square (a difference of two logLs) is compared at rtol 1e-5.
* SRMR is built on correlations of the model-implied level matrices and inherits lavaan's
  early stop (1.6e-4 relative on Demo.twolevel's between part): rtol 1e-3, and atol 1e-6 for
  saturated models whose SRMR is ~1e-5 (pure optimizer noise).
"""
from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

# fit measures compared with their tolerance (lavaan name -> (our key, rtol, atol))
FIT_TOL = {
    "npar": ("npar", 1e-12, 0), "df": ("df", 1e-12, 0),
    "logl": ("logl", 1e-8, 0), "aic": ("aic", 1e-8, 0), "bic": ("bic", 1e-8, 0),
    "bic2": ("bic2", 1e-8, 0), "ntotal": ("ntotal", 1e-12, 0),
    "unrestricted.logl": ("unrestricted_logl", 1e-10, 0),
    "baseline.chisq": ("baseline_chisq", 1e-7, 0), "baseline.df": ("baseline_df", 1e-12, 0),
    "baseline.pvalue": ("baseline_pvalue", 1e-5, 1e-12),
    # chisq: also atol 1e-6 (a difference of two logLs of size ~1e4 known to ~1e-10 relative)
    "chisq": ("chisq", 1e-5, 1e-6), "pvalue": ("pvalue", 1e-4, 1e-12),
    "cfi": ("cfi", 1e-5, 0), "tli": ("tli", 1e-5, 0), "nnfi": ("nnfi", 1e-5, 0),
    "rmsea": ("rmsea", 1e-5, 1e-12), "rmsea.ci.lower": ("rmsea_ci_lower", 1e-5, 1e-12),
    "rmsea.ci.upper": ("rmsea_ci_upper", 1e-5, 1e-12),
    "rmsea.pvalue": ("rmsea_pvalue", 1e-5, 1e-12),
    "rmsea.notclose.pvalue": ("rmsea_notclose_pvalue", 1e-4, 1e-30),
    "fmin": ("fmin", 1e-8, 0), "rfi": ("rfi", 1e-5, 0), "nfi": ("nfi", 1e-5, 0),
    "pnfi": ("pnfi", 1e-5, 0), "ifi": ("ifi", 1e-5, 0), "rni": ("rni", 1e-5, 0),
    "rmsea.ci.level": ("rmsea_ci_level", 1e-12, 0), "rmsea.close.h0": ("rmsea_close_h0", 1e-12, 0),
    "rmsea.notclose.h0": ("rmsea_notclose_h0", 1e-12, 0),
    "srmr": ("srmr", 1e-3, 1e-6), "srmr_within": ("srmr_within", 1e-3, 1e-6),
    "srmr_between": ("srmr_between", 1e-3, 1e-6),
}


def check_fit_measures(res, ref_fm: dict) -> None:
    """Every lavaan fit measure of the reference; one without a counterpart fails."""
    for name, value in ref_fm.items():
        assert name in FIT_TOL, f"lavaan fit measure {name!r} has no counterpart"
        key, rtol, atol = FIT_TOL[name]
        assert key in res.fit_measures, f"fit measure {key!r} missing"
        if value is None:      # lavaan NA (e.g. p values when df = 0)
            assert np.isnan(res.fit_measures[key]), name
            continue
        assert_allclose(res.fit_measures[key], value, rtol=rtol, atol=atol, err_msg=name)
    # logL at the maximum: never below lavaan's (lavaan stops early)
    assert res.fit_measures["logl"] >= ref_fm["logl"] - 1e-7


def _level(x) -> int:
    """lavaan's level column: 1/2, or the block names 'within' / <cluster or 'between'>."""
    if isinstance(x, str) and not x.isdigit():
        return 1 if x == "within" else 2
    return int(x)


def _lookup(res):
    est = res.estimates
    return {(r.lhs, r.op, r.rhs, int(r.level)): r for r in est.itertuples(index=False)}


def check_estimates(res, ref_rows: list, se_rtol: float = 1e-4, est_se_slack: float = 2e-3) -> None:
    """Every row of lavaan's parameterEstimates(fit): est, se, z, CI (a missing row fails)."""
    ours = _lookup(res)
    assert len(ours) == len(ref_rows)
    for row in ref_rows:
        key = (row["lhs"], row["op"], row["rhs"], _level(row["level"]))
        assert key in ours, f"reference row {key} not in our estimates"
        r = ours[key]
        se_ref = row["se"]
        if se_ref == 0:      # fixed parameter
            assert not r.free, key
            assert_allclose(r.est, row["est"], rtol=1e-10, atol=1e-12, err_msg=str(key))
            assert np.isnan(r.se), key
            continue
        assert r.free or row["op"] == ":=", key
        assert_allclose(r.est, row["est"], rtol=1e-5, atol=est_se_slack * se_ref,
                        err_msg=f"est {key}")
        assert_allclose(r.se, se_ref, rtol=se_rtol, err_msg=f"se {key}")
        assert_allclose(r.z, row["z"], rtol=1e-4, atol=2 * est_se_slack, err_msg=f"z {key}")
        assert_allclose(r.ci_lower, row["ci.lower"], rtol=1e-4, atol=est_se_slack * se_ref,
                        err_msg=f"ci.lower {key}")
        assert_allclose(r.ci_upper, row["ci.upper"], rtol=1e-4, atol=est_se_slack * se_ref,
                        err_msg=f"ci.upper {key}")


def check_std_all(res, ref_rows: list, slack: float = 2e-3, se_rtol: float = 5e-4) -> None:
    """standardizedSolution(fit): est.std (and our ``std_all`` column) and delta-method SEs,
    matched by (lhs, op, rhs) in order within levels.

    lavaan's standardizedSolution has no level column; rows come level by level in the
    order of parameterEstimates, so the level is recovered from that order. SEs at rtol
    5e-4: delta-method SEs at lavaan's early-stopped estimates (Jacobian and vcov both move).
    """
    est = res.estimates
    sol = res.standardized_solution()
    seen: dict = {}
    for row in ref_rows:
        k = (row["lhs"], row["op"], row["rhs"])
        seen[k] = seen.get(k, 0) + 1
        sel = (est.lhs == k[0]) & (est.op == k[1]) & (est.rhs == k[2])
        cand = est[sel]
        assert len(cand) >= seen[k], f"standardized row {k} not in our estimates"
        ours = cand.iloc[seen[k] - 1]
        ours_sol = sol[sel.to_numpy()].iloc[seen[k] - 1]
        se = row["se"] if row["se"] not in (None, 0) else 0.0
        assert_allclose(ours["std_all"], row["est.std"], rtol=1e-5, atol=slack * se + 1e-10,
                        err_msg=str(k))
        assert_allclose(ours_sol["est_std"], ours["std_all"], rtol=1e-14, err_msg=str(k))
        if se == 0:
            assert np.isnan(ours_sol["se"]), k
        else:
            assert_allclose(ours_sol["se"], se, rtol=se_rtol, err_msg=f"se {k}")


def reference(name: str, sub: str = "reference") -> dict:
    """JSON of tests/data/<sub>/<name>.json (``sub="r_results/twolevel"`` for ours)."""
    import json
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "data" / sub / f"{name}.json"
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def dataset(name: str):
    import pandas as pd
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "data" / "datasets" / f"{name}.csv"
    return pd.read_csv(path, na_values=["NA"])
