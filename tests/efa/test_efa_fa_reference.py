"""psychometrics.efa.fa against psych 2.2.9 / GPArotation: every stored number.

References: tests/data/reference/case5_efa.json (scripts/case5_efa.R) and
tests/data/r_results/efa/efa_extra.json (tests/data/r_scripts/efa/efa_extra.R).
Factor order, signs and names are psych's, so no re-alignment is done: a
different order or sign fails.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from refdata import dataset, reference
from psychometrics.efa import fa

EXTRA = Path(__file__).parents[1] / "data" / "r_results" / "efa" / "efa_extra.json"
# psych fa is iterative (L-BFGS-B / GPA); the issue asks rtol 1e-6.  atol guards
# loadings that are ~0 (relative error meaningless there).
RTOL, ATOL = 1e-6, 1e-9


def extra() -> dict:
    with open(EXTRA, encoding="utf-8") as fh:
        return json.load(fh)


def bfi_complete() -> pd.DataFrame:
    # X <- na.omit(bfi[, 1:25])
    return dataset("bfi").iloc[:, :25].dropna().reset_index(drop=True)


def bfi_items() -> pd.DataFrame:
    return dataset("bfi").iloc[:, :25]


def assert_matrix(ours: pd.DataFrame, ref: dict, what: str, rtol=RTOL, atol=ATOL):
    """Compare every {row: {col: value}} of the reference with ours (same labels)."""
    rows = list(ref)
    cols = list(ref[rows[0]])
    missing_rows = [r for r in rows if r not in ours.index]
    missing_cols = [c for c in cols if c not in ours.columns]
    assert not missing_rows and not missing_cols, \
        f"{what}: reference rows {missing_rows} / columns {missing_cols} missing in ours"
    assert list(ours.index) == rows and list(ours.columns) == cols, f"{what}: order differs"
    desired = np.array([[ref[r][c] for c in cols] for r in rows], dtype=float)
    assert_allclose(ours.loc[rows, cols].to_numpy(dtype=float), desired, rtol=rtol, atol=atol,
                    err_msg=what)


def assert_vector(ours, ref, what, rtol=RTOL, atol=ATOL):
    if isinstance(ref, dict):
        assert list(ours.index) == list(ref), f"{what}: labels differ"
        ref = list(ref.values())
    ours = np.asarray(ours, dtype=float)
    assert ours.shape == (len(ref),), f"{what}: length {ours.shape} vs {len(ref)}"
    assert_allclose(ours, np.asarray(ref, dtype=float), rtol=rtol, atol=atol, err_msg=what)


def check_fa(res, ref: dict):
    """Every key of a stored psych::fa result must be checked (unknown key = failure)."""
    fs = res.fit_stats
    scalar = {
        "objective": fs.objective, "STATISTIC": fs.chisq, "dof": fs.df,
        "PVAL": fs.p_value, "null.chisq": fs.null_chisq, "null.dof": fs.null_df,
        "TLI": fs.tli, "BIC": fs.bic, "rms": fs.rms, "crms": fs.crms, "fit": fs.fit,
        "fit.off": fs.fit_off, "n.obs": res.n_obs,
    }
    handled = {"call", "iterations", "fm", "rotation", "communality.iterations"}
    if "rotation" in ref:  # f$rotation: the rotation psych applied
        assert res.rotation == ref["rotation"], (res.rotation, ref["rotation"])
    for key, val in ref.items():
        if key in handled:
            continue
        if val is None and key in ("e.values", "values", "RMSEA", "Phi", "rot.mat") and \
                key not in ("Phi", "rot.mat", "RMSEA"):
            continue  # R does not report it for this method (psych::principal: e.values)
        if key == "loadings":
            assert_matrix(res.loadings, val, "loadings")          # unclass(f$loadings)
        elif key == "communality":
            assert_vector(res.communalities, val, "communality")  # f$communality
        elif key == "uniquenesses":
            assert_vector(res.uniquenesses, val, "uniquenesses")  # f$uniquenesses
        elif key == "Phi":
            if val is None:
                assert res.phi is None
            else:
                assert_matrix(res.phi, val, "Phi")                # f$Phi
        elif key == "rot.mat":
            if val is None:
                assert res.rotation_matrix is None
            else:
                assert_matrix(res.rotation_matrix, val, "rot.mat")  # f$rot.mat
        elif key == "Vaccounted":
            # f$Vaccounted: rows SS loadings ... ; ours: one row per factor
            names = {"SS loadings": "ss_loadings", "Proportion Var": "proportion_var",
                     "Cumulative Var": "cumulative_var",
                     "Proportion Explained": "proportion_explained",
                     "Cumulative Proportion": "cumulative_proportion"}
            ours = res.variance.rename(columns={v: k for k, v in names.items()}).T
            assert_matrix(ours.loc[list(val)], val, "Vaccounted")
        elif key in ("values_common_factor", "values"):
            assert_vector(res.values, val, "values")               # f$values
        elif key == "e.values":
            assert_vector(res.e_values, val, "e.values", rtol=1e-10)  # f$e.values
        elif key == "criteria":
            assert_allclose(fs.objective, val["objective"], rtol=RTOL)  # f$criteria
            assert all(v is None for k, v in val.items() if k != "objective")
        elif key == "RMSEA":
            if val is None:
                assert np.isnan(fs.rmsea)
            else:  # f$RMSEA: RMSEA, lower, upper, confidence
                assert_vector([fs.rmsea, fs.rmsea_ci_lower, fs.rmsea_ci_upper, fs.rmsea_confidence],
                              list(val.values()), "RMSEA")
        elif key in scalar:
            if val is None:
                assert np.isnan(scalar[key]), f"{key}: R reports none, we report {scalar[key]}"
            else:
                assert_allclose(scalar[key], val, rtol=RTOL, atol=1e-300, err_msg=key)
        else:
            pytest.fail(f"reference key {key!r} has no counterpart in our result")
    if "fm" in ref:
        assert res.method == ref["fm"]


CASE5 = list(reference("case5_efa")["fa"])


@pytest.mark.parametrize("key", CASE5)
def test_case5_fa(key):
    # psych::fa(X, nfactors = 5, fm = <fm>, rotate = <rotate>), X = na.omit(bfi[, 1:25])
    ref = reference("case5_efa")["fa"][key]
    method, rotation = key.split("_")
    res = fa(bfi_complete(), n_factors=5, method=method, rotation=rotation)
    assert res.rotation == ref["rotation"]
    check_fa(res, ref)


def _extra_args(key):
    X = bfi_complete()
    R = np.corrcoef(X.to_numpy(dtype=float), rowvar=False)
    table = {
        "minres_1factor": (X.iloc[:, :5], dict(n_factors=1, method="minres")),
        "ml_1factor": (X.iloc[:, :5], dict(n_factors=1, method="ml")),
        "pairwise_minres_oblimin": (bfi_items(), dict(n_factors=5, method="minres")),
        "pairwise_ml_oblimin": (bfi_items(), dict(n_factors=5, method="ml")),
        "matrix_ml_oblimin": (pd.DataFrame(R, columns=X.columns),
                              dict(n_factors=5, method="ml", n_obs=len(X))),
        "matrix_minres_varimax_nobs_na": (pd.DataFrame(R, columns=X.columns),
                                          dict(n_factors=3, method="minres",
                                               rotation="varimax")),
    }
    if key == "poly_minres_oblimin":
        # psych::fa(bfi[, 1:10], 2, cor = "poly"): polychoric matrix (psych's, stored in the
        # reference) + psych's n.obs (rows) and np.obs (pairwise counts of the raw data)
        from psychometrics.efa._input import pairwise_count
        rho = extra()["polychoric_10"]["rho"]
        names = list(rho)
        R = pd.DataFrame([[rho[a][b] for b in names] for a in names], columns=names)
        raw = dataset("bfi").iloc[:, :10]
        return R, dict(n_factors=2, method="minres", n_obs=len(raw),
                       np_obs=pairwise_count(raw.to_numpy(dtype=float)))
    if key in table:
        return table[key]
    method, rotation = key.split("_")
    return X, dict(n_factors=5, method=method, rotation=rotation)


EXTRA_KEYS = list(extra()["fa"])


@pytest.mark.parametrize("key", EXTRA_KEYS)
def test_extra_fa(key):
    # see ref["call"]: psych::fa / psych::principal with other rotations, pa, 1 factor,
    # pairwise missing data, correlation-matrix input
    ref = extra()["fa"][key]
    data, kw = _extra_args(key)
    res = fa(data, **kw)
    if key.startswith("pa_"):
        # psych's principal axis stops when the communality sum changes < 0.001; we run
        # the same iterations, so the same (not fully converged) solution comes out
        assert len(res.communality_iterations) == len(ref["communality.iterations"])
        assert_vector(res.communality_iterations, ref["communality.iterations"],
                      "communality.iterations")
    check_fa(res, ref)


def test_reference_has_every_case5_fit():
    # guard: the parametrisation above must cover the six stored fits
    assert sorted(CASE5) == sorted(["ml_oblimin", "ml_none", "minres_varimax", "minres_promax",
                                    "minres_oblimin", "minres_none"])


def test_listwise_equals_complete_cases():
    # missing="listwise" on bfi[, 1:25] is psych::fa(na.omit(bfi[, 1:25]), ...)
    ref = reference("case5_efa")["fa"]["ml_oblimin"]
    res = fa(bfi_items(), n_factors=5, method="ml", rotation="oblimin", missing="listwise")
    assert res.n_obs == reference("case5_efa")["n_complete"]
    check_fa(res, ref)


def test_poly_from_raw_data():
    # psych::fa(bfi[, 1:10], nfactors = 2, fm = 'minres', rotate = 'oblimin', cor = 'poly')
    # here computed end to end: psychometrics.reliability.polychoric on the raw items, then fa.
    ref = extra()["fa"]["poly_minres_oblimin"]
    res = fa(dataset("bfi").iloc[:, :10], n_factors=2, method="minres", cor="poly")
    check_fa(res, ref)
