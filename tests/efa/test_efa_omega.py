"""psych::omega (Schmid-Leiman) against case4_reliability.json and extra references."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from refdata import dataset, reference
from psychometrics.efa import omega

EXTRA = Path(__file__).parents[1] / "data" / "r_results" / "efa" / "efa_extra.json"
# omega is built on iterative minres/oblimin solutions: rtol 1e-6 (issue)
TOL = dict(rtol=1e-6, atol=1e-9)


def extra() -> dict:
    with open(EXTRA, encoding="utf-8") as fh:
        return json.load(fh)


SCALARS = {"omega_h": "omega_h", "omega.tot": "omega_total", "alpha": "alpha", "G6": "g6",
           "omega.lim": "omega_lim", "ECV": "ecv"}


def _matrix(ref):
    rows = list(ref)
    cols = list(ref[rows[0]])
    return rows, cols, np.array([[ref[r][c] for c in cols] for r in rows], dtype=float)


def check_omega(res, ref):
    for key, val in ref.items():
        if key == "call":
            continue
        if key in SCALARS:
            assert_allclose(getattr(res, SCALARS[key]), val, err_msg=key, **TOL)
        elif key == "schmid_sl":                                   # om$schmid$sl
            rows, cols, desired = _matrix(val)
            assert list(res.loadings.index) == rows      # flipped items carry a "-"
            assert list(res.loadings.columns) == cols    # g, F1*, ..., h2, u2, p2
            assert_allclose(res.loadings.to_numpy(), desired, err_msg=key, **TOL)
        elif key == "schmid_oblique_loadings":                     # om$schmid$oblique
            rows, cols, desired = _matrix(val)
            assert list(res.oblique_loadings.index) == rows
            assert list(res.oblique_loadings.columns) == cols
            assert_allclose(res.oblique_loadings.to_numpy(), desired, err_msg=key, **TOL)
        elif key == "schmid_phi":                                  # om$schmid$phi
            rows, cols, desired = _matrix(val)
            assert list(res.phi.index) == rows and list(res.phi.columns) == cols
            assert_allclose(res.phi.to_numpy(), desired, err_msg=key, **TOL)
        elif key == "schmid_gloading":                             # om$schmid$gloading
            rows, cols, desired = _matrix(val)
            assert list(res.g_loadings.index) == rows
            assert_allclose(res.g_loadings.to_numpy(), desired[:, 0], err_msg=key, **TOL)
        elif key == "omega.group":                                 # om$omega.group
            if isinstance(val, list):   # data frame rows: row, total, general, group
                rows = [r["row"] for r in val]
                desired = np.array([[r["total"], r["general"], r["group"]] for r in val])
            else:                       # column-wise export of the same data frame
                rows = list(res.omega_group.index)
                desired = np.array([val[c]["1"] for c in ("total", "general", "group")]).T
                assert desired.shape == (len(rows), 3)
            assert list(res.omega_group.index) == rows
            assert list(res.omega_group.columns) == ["total", "general", "group"]
            assert_allclose(res.omega_group.to_numpy(), desired, err_msg=key, **TOL)
        elif key == "stats":           # om$stats: STATISTIC, dof, rms, RMSEA[1]
            fs = res.fit_stats
            assert_allclose([fs.chisq, fs.df, fs.rms, fs.rmsea],
                            [val["chisq"], val["dof"], val["rms"], val["RMSEA"]],
                            err_msg=key, **TOL)
        else:
            pytest.fail(f"reference key {key!r} has no counterpart in OmegaResult")


def test_omega_case4():
    # psych::omega(bfi[, 1:25], plot = FALSE): nfactors 3, minres, oblimin, pairwise r
    ref = reference("case4_reliability")["omega_25"]
    res = omega(dataset("bfi").iloc[:, :25])
    assert res.n_obs == 2800
    check_omega(res, ref)


def test_omega_ml_complete_cases():
    # psych::omega(X, nfactors = 3, fm = "ml", plot = FALSE)
    X = dataset("bfi").iloc[:, :25].dropna().reset_index(drop=True)
    check_omega(omega(X, n_factors=3, method="ml"), extra()["omega_ml"])


def test_omega_promax_four_groups():
    # psych::omega(bfi[, 1:25], nfactors = 4, rotate = "promax", plot = FALSE)
    res = omega(dataset("bfi").iloc[:, :25], n_factors=4, rotation="promax")
    check_omega(res, extra()["omega_promax4"])


def test_omega_consistency():
    res = omega(dataset("bfi").iloc[:, :25])
    sl = res.loadings
    # h2 + u2 = 1 and p2 = g^2 / h2 (psych's definitions)
    assert_allclose(sl["h2"] + sl["u2"], 1.0, rtol=1e-12)
    assert_allclose(sl["p2"], sl["g"] ** 2 / sl["h2"], rtol=1e-12)
    assert (res.key.loc[[i.rstrip("-") for i in sl.index if i.endswith("-")]] == -1).all()
    assert res.omega_h <= res.omega_total <= 1
    tidy = res.coefficients()
    assert list(tidy["coefficient"]) == ["omega_h", "omega_total", "omega_lim", "alpha", "g6",
                                         "ecv"]
    assert "omega_h" in res.summary().as_text()


def test_omega_two_group_factors():
    # psych::omega(X[, 1:10], nfactors = 2, plot = FALSE): g loadings sqrt(|phi12|) (option
    # "equal"), with psych's message that 3 factors are needed -> our ReliabilityWarning
    from psychometrics.exceptions import ReliabilityWarning
    X = dataset("bfi").iloc[:, :25].dropna().reset_index(drop=True)
    with pytest.warns(ReliabilityWarning, match="not identified"):
        res = omega(X.iloc[:, :10], n_factors=2)
    check_omega(res, extra()["omega_two"])


def test_omega_one_factor_warns():
    from psychometrics.exceptions import ReliabilityWarning
    X = dataset("bfi").iloc[:, :5].dropna()
    with pytest.warns(ReliabilityWarning, match="one factor"):
        res = omega(X, n_factors=1)
    # with one factor the g loadings are the one-factor minres loadings (items flipped)
    from psychometrics.efa import fa
    L = fa(X, n_factors=1).loadings.iloc[:, 0].to_numpy()
    assert_allclose(res.loadings["g"].to_numpy(), np.abs(L), rtol=1e-12)
    key = np.sign(L)
    flipped = fa(X, n_factors=1).correlation.to_numpy() * np.outer(key, key)
    assert_allclose(res.omega_h, np.abs(L).sum() ** 2 / flipped.sum(), rtol=1e-12)
