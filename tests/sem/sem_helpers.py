"""Helpers for the psychometrics.sem tests: reference JSON, data sets, comparisons.

Every comparison iterates over the REFERENCE rows and fails when one has no
counterpart in our output (a missing row is never skipped).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

DATA = Path(__file__).resolve().parents[1] / "data"

HS_MODEL = """ visual  =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              speed   =~ x7 + x8 + x9 """

PD_MODEL = """
  # measurement model
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + a*y2 + b*y3 + c*y4
    dem65 =~ y5 + a*y6 + b*y7 + c*y8
  # regressions
    dem60 ~ g1*ind60
    dem65 ~ g2*ind60 + b2*dem60
  # residual correlations
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
  # defined
    indirect := g1*b2
    total := g2 + g1*b2
"""


@lru_cache(maxsize=None)
def load_json(relpath: str) -> dict:
    with open(DATA / relpath, encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=None)
def load_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / "datasets" / f"{name}.csv", na_values=["NA"])


def _key(row, group_col="group"):
    g = int(row.get(group_col, 1) or 1) if row.get("op") != ":=" else 0
    return (row["lhs"], row["op"], row["rhs"], g)


def match_rows(ours: pd.DataFrame, ref_rows: list[dict]) -> pd.DataFrame:
    """Our rows in the order of the reference rows; a missing row fails the test."""
    index = {}
    for i, r in enumerate(ours.to_dict("records")):
        index.setdefault((r["lhs"], r["op"], r["rhs"], int(r["group"])), i)
    pos = []
    for r in ref_rows:
        k = _key(r)
        assert k in index, f"reference row {k} has no counterpart in our output"
        pos.append(index[k])
    assert len(set(pos)) == len(pos)
    return ours.iloc[pos].reset_index(drop=True)


def as_float(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_close_scaled(actual, desired, scale, rtol):
    """|actual - desired| <= rtol * scale element-wise (every element, no NaN allowed)."""
    actual, desired, scale = map(np.asarray, (actual, desired, scale))
    assert actual.shape == desired.shape
    assert np.isfinite(actual).all() and np.isfinite(desired).all()
    bad = np.abs(actual - desired) > rtol * scale + 1e-12
    assert not bad.any(), (f"{bad.sum()} element(s) differ: actual {actual[bad]}, "
                           f"desired {desired[bad]}")


def check_parameter_estimates(res, ref_rows, *, rtol_est, rtol_se, check_labels=True,
                              atol_est_se=0.0):
    """est, se, z, p, CI of lavaan parameterEstimates against res.estimates.

    ``atol_est_se`` adds an absolute tolerance of ``atol_est_se * se`` to the estimates:
    for flat likelihoods where lavaan's optimizer (nlminb, rel.tol 1e-10) stops before
    ours; use it only together with a check that our log-likelihood is not below R's.
    """
    ours = match_rows(res.estimates, ref_rows)
    assert len(ours) == len(ref_rows)
    ref = pd.DataFrame(ref_rows)
    se_ref = as_float(ref["se"])
    fixed = (se_ref == 0) & (ref["op"] != ":=").to_numpy()
    # lavaan: fixed parameters have se 0 and z NA; ours: NaN and free == False
    assert not ours["free"].to_numpy()[fixed].any()
    assert np.isnan(ours["se"].to_numpy()[fixed]).all()
    est_ref = as_float(ref["est"])
    if atol_est_se:
        tol = rtol_est * np.abs(est_ref) + atol_est_se * np.where(fixed, 0.0, se_ref) + 1e-12
        bad = np.abs(ours["est"].to_numpy() - est_ref) > tol
        assert not bad.any(), (f"estimates differ: ours {ours['est'].to_numpy()[bad]}, "
                               f"lavaan {est_ref[bad]}")
    else:
        assert_allclose(ours["est"].to_numpy(), est_ref, rtol=rtol_est, atol=1e-12)
    free = ~fixed
    assert_allclose(ours["se"].to_numpy()[free], se_ref[free], rtol=rtol_se, atol=1e-12)
    assert_allclose(ours["z"].to_numpy()[free], as_float(ref["z"])[free], rtol=rtol_se)
    # p values: tiny ones amplify the optimizer noise of lavaan; absolute check near 0
    assert_allclose(ours["p_value"].to_numpy()[free], as_float(ref["pvalue"])[free],
                    rtol=max(rtol_se, 1e-4) * 10, atol=1e-9)
    # CI = est -/+ 1.96 se: its error scale is |est| + 1.96 se (not |CI|, which can be ~0)
    scale = np.abs(as_float(ref["est"])[free]) + 1.96 * se_ref[free]
    assert_close_scaled(ours["ci_lower"].to_numpy()[free], as_float(ref["ci.lower"])[free],
                        scale, rtol_se)
    assert_close_scaled(ours["ci_upper"].to_numpy()[free], as_float(ref["ci.upper"])[free],
                        scale, rtol_se)
    if check_labels and "label" in ref:
        assert list(ours["label"]) == list(ref["label"].fillna(""))


def check_standardized(res, ref_rows, kind, *, rtol_est, rtol_se, with_se=True):
    """lavaan standardizedSolution(type = kind)."""
    ours = match_rows(res.standardized_solution(kind), ref_rows)
    ref = pd.DataFrame(ref_rows)
    assert_allclose(ours["est_std"].to_numpy(), as_float(ref["est.std"]), rtol=rtol_est, atol=1e-9)
    if with_se:
        assert "se" in ref, "reference has no se column: call with with_se=False"
        se_ref = as_float(ref["se"])
        assert_allclose(ours["se"].to_numpy(), se_ref, rtol=rtol_se, atol=1e-9)
        zref = as_float(ref["z"])
        ok = np.isfinite(zref)
        assert np.isnan(ours["z"].to_numpy()[~ok]).all()
        assert_allclose(ours["z"].to_numpy()[ok], zref[ok], rtol=rtol_se)
        scale = np.abs(as_float(ref["est.std"])[ok]) + 1.96 * se_ref[ok]
        assert_close_scaled(ours["ci_lower"].to_numpy()[ok], as_float(ref["ci.lower"])[ok],
                            scale, rtol_se)
        assert_close_scaled(ours["ci_upper"].to_numpy()[ok], as_float(ref["ci.upper"])[ok],
                            scale, rtol_se)


def check_fit_measures(res, ref_fm: dict, *, rtol, skip=()):
    """Every lavaan fitMeasure (name with '.' -> '_') must be in ours and agree."""
    fm = res.fit_measures
    for name, value in ref_fm.items():
        key = name.replace(".", "_")
        if key in skip:
            continue
        assert key in fm, f"fit measure {key} missing"
        if value is None:
            assert np.isnan(fm[key]), key
            continue
        tol = rtol
        if key in ("pvalue", "rmsea_pvalue", "baseline_pvalue") and value < 1e-6:
            assert_allclose(fm[key], value, rtol=1e-3, atol=1e-15, err_msg=key)
            continue
        assert_allclose(fm[key], value, rtol=tol, atol=1e-12, err_msg=key)


def check_modindices(res, ref_rows, *, rtol):
    """lavaan modindices(fit, sort. = TRUE, maximum.number = 10).

    Tied MIs (equivalent models) may come in another order: the sorted MI values must
    agree, and every reference row must be found (by lhs, op, rhs, group) in our table.
    """
    mi = res.modification_indices()
    top = mi.head(len(ref_rows))
    ref = pd.DataFrame(ref_rows)
    assert_allclose(np.sort(top["mi"].to_numpy()), np.sort(ref["mi"].to_numpy()), rtol=rtol)
    ours = match_rows(mi, ref_rows)
    for col, rc in (("mi", "mi"), ("epc", "epc"), ("sepc_lv", "sepc.lv"), ("sepc_all", "sepc.all"),
                    ("sepc_nox", "sepc.nox")):
        assert_allclose(ours[col].to_numpy(), ref[rc].to_numpy(), rtol=rtol, atol=1e-7,
                        err_msg=col)


def check_matrix(ours: pd.DataFrame, ref: dict, *, rtol, atol=0.0):
    """Matrix given as {row: {col: value}}: every reference cell is compared."""
    for r, cols in ref.items():
        for c, v in cols.items():
            assert r in ours.index and c in ours.columns, f"cell {r},{c} missing"
            assert_allclose(ours.at[r, c], v, rtol=rtol, atol=atol, err_msg=f"{r},{c}")
