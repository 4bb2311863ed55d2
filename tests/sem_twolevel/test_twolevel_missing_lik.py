"""The two-level likelihood with holes (psychometrics/sem/twolevel_missing.py) checked
without R: against a dense multivariate normal density of every cluster's observed cells,
against the complete-data likelihood when nothing is missing, and its gradient and
cluster-wise scores against finite differences / their sum. Also the MLR pieces (h1 trace,
cluster scores) through the missing-data path on complete data equal the complete-data path,
which is checked against lavaan in test_twolevel_mlr.py (lavaan 0.6-14 itself stops with an
error for MLR on two-level data with missing values)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import multivariate_normal

from psychometrics.sem.twolevel_missing import (constant_missing, gradient_missing,
                                                minus2logl_missing, missing_cluster_stats)
from psychometrics.sem.twolevel_stats import cluster_stats, constant, gradient_moments, minus2logl

PY, PZ = 4, 2
WITHIN_ONLY = np.array([False, False, True, False])


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(1)
    J = 40
    sizes = rng.integers(1, 7, J)
    codes = np.repeat(np.arange(J), sizes)
    q = PY + PZ
    A = rng.normal(size=(q, q))
    SB = A @ A.T / q + 0.2 * np.eye(q)
    wo = PZ + np.flatnonzero(WITHIN_ONLY)
    SB[wo, :] = 0
    SB[:, wo] = 0
    B = rng.normal(size=(PY, PY))
    SW = B @ B.T / PY + 0.5 * np.eye(PY)
    mu = rng.normal(size=q)
    Z = rng.normal(size=(J, PZ))
    Y = rng.normal(size=(len(codes), PY))
    Yh = Y.copy()
    Yh[rng.random(Y.shape) < 0.25] = np.nan
    Zh = Z.copy()
    Zh[rng.random(Z.shape) < 0.3] = np.nan
    return dict(J=J, codes=codes, SB=SB, SW=SW, mu=mu, Z=Z, Y=Y, Yh=Yh, Zh=Zh)


def _ms(s, Y, Z):
    return missing_cluster_stats(Y, Z, s["codes"], list("abcd"), ["z1", "z2"],
                                 list(range(s["J"])), WITHIN_ONLY)


def test_equals_complete_data_likelihood(setup):
    s = setup
    ms = _ms(s, s["Y"], s["Z"])
    cs = cluster_stats(s["Y"], s["Z"][s["codes"]], s["codes"], list("abcd"), ["z1", "z2"],
                       list(range(s["J"])))
    args = (s["SW"], s["SB"], s["mu"])
    assert_allclose(minus2logl_missing(ms, *args), minus2logl(cs, *args), rtol=1e-12)
    assert_allclose(constant_missing(ms), constant(cs), rtol=1e-14)
    _, gw1, gb1, gm1 = gradient_missing(ms, *args)
    _, gw2, gb2, gm2 = gradient_moments(cs, *args)
    keep = np.setdiff1d(np.arange(PY + PZ), PZ + np.flatnonzero(WITHIN_ONLY))
    assert_allclose(gw1, gw2, atol=1e-10)
    assert_allclose(gb1[np.ix_(keep, keep)], gb2[np.ix_(keep, keep)], atol=1e-10)
    assert_allclose(gm1, gm2, atol=1e-10)


def test_equals_dense_normal_density(setup):
    # -2 log of the joint normal density of each cluster's observed cells (z, y_1..y_n)
    s = setup
    ms = _ms(s, s["Yh"], s["Zh"])
    SB, SW, mu = s["SB"], s["SW"], s["mu"]
    total = 0.0
    for j in range(s["J"]):
        rows = np.flatnonzero(s["codes"] == j)
        n = len(rows)
        d = PZ + n * PY
        C = np.zeros((d, d))
        m = np.zeros(d)
        C[:PZ, :PZ] = SB[:PZ, :PZ]
        m[:PZ] = mu[:PZ]
        for a in range(n):
            ia = PZ + a * PY + np.arange(PY)
            C[np.ix_(ia, np.arange(PZ))] = SB[PZ:, :PZ]
            C[np.ix_(np.arange(PZ), ia)] = SB[:PZ, PZ:]
            m[ia] = mu[PZ:]
            for b in range(n):
                ib = PZ + b * PY + np.arange(PY)
                C[np.ix_(ia, ib)] = SB[PZ:, PZ:] + (SW if a == b else 0)
        x = np.concatenate([s["Zh"][j]] + [s["Yh"][r] for r in rows])
        o = ~np.isnan(x)
        total += -2 * multivariate_normal.logpdf(x[o], m[o], C[np.ix_(o, o)])
    ours = minus2logl_missing(ms, SW, SB, mu) + constant_missing(ms)
    assert_allclose(ours, total, rtol=1e-12)


def test_gradient_and_cluster_scores(setup):
    s = setup
    ms = _ms(s, s["Yh"], s["Zh"])
    SW, SB, mu = s["SW"], s["SB"], s["mu"]
    F, gw, gb, gm = gradient_missing(ms, SW, SB, mu)
    h = 1e-6

    def num(which, i, k):
        P = [SW.copy(), SB.copy(), mu.copy()]
        out = []
        for sgn in (1, -1):
            Q = [x.copy() for x in P]
            if which < 2:
                Q[which][i, k] += sgn * h
                if i != k:
                    Q[which][k, i] += sgn * h
            else:
                Q[2][i] += sgn * h
            out.append(minus2logl_missing(ms, *Q))
        return (out[0] - out[1]) / (2 * h)

    for i in range(PY):
        for k in range(PY):
            assert_allclose(num(0, i, k), gw[i, k] * (2 if i != k else 1), rtol=1e-5, atol=1e-5)
    wo = PZ + np.flatnonzero(WITHIN_ONLY)
    for i in range(PY + PZ):
        for k in range(PY + PZ):
            if i in wo or k in wo:
                continue
            assert_allclose(num(1, i, k), gb[i, k] * (2 if i != k else 1), rtol=1e-5, atol=1e-5)
        assert_allclose(num(2, i, 0), gm[i], rtol=1e-5, atol=1e-5)
    # cluster-wise derivatives sum to the total
    _, gwj, gbj, gmj = gradient_missing(ms, SW, SB, mu, per_cluster=True)
    assert_allclose(gwj.sum(axis=0), gw, atol=1e-9)
    assert_allclose(gbj.sum(axis=0), gb, atol=1e-9)
    assert_allclose(gmj.sum(axis=0), gm, atol=1e-9)


def test_mlr_pieces_missing_path_equal_complete_path():
    # the h1 trace tr(A1^-1 B1) and the fitted model's cluster scores through the
    # missing-data likelihood on complete data equal the complete-data ones (those equal
    # lavaan's MLR: test_twolevel_mlr.py)
    import pandas as pd
    from psychometrics.sem.twolevel import _prepare_data
    from psychometrics.sem.twolevel_model import _cluster_scores
    from psychometrics.sem.twolevel_robust import h1_trace, saturated_model
    from psychometrics.sem.twolevel_stats import em_saturated
    from twolevel_helpers import dataset
    d = dataset("Demo.twolevel")
    y, z = ["y1", "y2", "y3", "x1"], ["w1"]
    wo = np.array([False, False, False, True])
    Y, Z, codes, ids, csize, _, _ = _prepare_data(d, "cluster", y, z)
    cs = cluster_stats(Y, Z, codes, y, z, ids)
    h1 = em_saturated(cs, wo)
    Zc = Z[np.unique(codes, return_index=True)[1]]
    ms = missing_cluster_stats(Y, Zc, codes, y, z, ids, wo)
    ov1, ov2, set2 = y, ["w1", "y1", "y2", "y3"], {"w1", "y1", "y2", "y3"}
    t_c = h1_trace(cs, ov1, ov2, set2, h1, {"x1", "w1"}, Y, codes)
    t_m = h1_trace(ms, ov1, ov2, set2, h1, {"x1", "w1"}, Y, codes)
    assert t_c[1] == t_m[1]
    assert_allclose(t_m[0], t_c[0], rtol=1e-6)
    sat_c, th = saturated_model(cs, ov1, ov2, set2, h1)
    sat_m, th_m = saturated_model(ms, ov1, ov2, set2, h1)
    assert_allclose(_cluster_scores(sat_m, th_m, Y, codes), _cluster_scores(sat_c, th, Y, codes),
                    atol=1e-9)


def test_mlr_with_holes_on_normal_data_scales_by_about_one():
    # no lavaan reference exists (lavaan 0.6-14 errors): on normal data simulated from the
    # model (300 patients, 3-15 months, 5% skipped items, 8% skipped months) the Yuan-Bentler
    # scaling factors are close to 1, as for the complete rows
    import pandas as pd
    from psychometrics.sem.twolevel import fit_twolevel
    rng = np.random.default_rng(11)
    npat = 300
    pid = np.repeat(np.arange(npat), rng.integers(3, 16, npat))
    n = len(pid)
    fb = rng.normal(0, 0.7, npat)[pid]
    fw = rng.normal(0, 0.8, n)
    d = pd.DataFrame({f"y{k}": 3 + lam * (fb + fw) + rng.normal(0, 0.6, n)
                      + rng.normal(0, 0.2, npat)[pid]
                      for k, lam in enumerate([1.0, 0.9, 0.8, 0.85], start=1)})
    d = d.mask(rng.random(d.shape) < 0.05)
    d.loc[rng.random(n) < 0.08, :] = np.nan
    d["id"] = pid
    m = "level: 1\n fw =~ y1 + y2 + y3 + y4\nlevel: 2\n fb =~ y1 + y2 + y3 + y4\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_twolevel(m, d, "id", missing="ml", estimator="MLR")
        se_ml = fit_twolevel(m, d, "id", missing="ml").estimates["se"].to_numpy()
    fm = res.fit_measures
    assert res.converged
    for k in ("chisq_scaling_factor", "scaling_factor_h1", "scaling_factor_h0",
              "baseline_chisq_scaling_factor"):
        assert 0.85 < fm[k] < 1.15, (k, fm[k])
    assert_allclose(fm["chisq_scaled"], fm["chisq"] / fm["chisq_scaling_factor"], rtol=1e-12)
    # robust SEs are sandwich SEs: close to the model-based ones for normal data
    se_r = res.estimates["se"].to_numpy()
    ok = ~np.isnan(se_ml)
    assert np.all(np.abs(se_r[ok] / se_ml[ok] - 1) < 0.2)
