"""Ordinal CFA (WLSMV / DWLS) against lavaan 0.6-14 and semTools.

References: tests/data/r_scripts/ordinal/ordinal_wlsmv.R ->
tests/data/r_results/ordinal/ordinal_wlsmv.json; case4_reliability.json (compRelSEM).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import psychometrics.sem as sem
from psychometrics.sem.ordinal import OrdinalSEMResult
from refdata import dataset, reference

REF = json.loads((Path(__file__).parents[1] / "data" / "r_results" / "ordinal" /
                  "ordinal_wlsmv.json").read_text())
# fit measures not computed (none left; the set stays to make any future gap explicit)
NOT_DONE: set = set()


def _bfi():
    d = dataset("bfi")
    for v in ("A1", "C4", "C5"):
        d[v] = 7 - d[v]
    return d


_FITS: dict = {}


def _data(name):
    o = REF[name]
    if "data_values" in o and o["data_values"] is not None:
        return pd.DataFrame(o["data_values"])      # synthetic data stored with the reference
    if name == "big_five":
        return dataset("bfi")[o["vars"]]
    if name.startswith("wai"):
        d = dataset("therapy_sim")
        return d[d["month"] == 1][o["vars"]]       # first sessions
    d = _bfi()[o["vars"]]
    if name == "binary":                            # R: (d >= 4) + 1L, NA kept
        d = (d >= 4).astype(float).add(1).where(d.notna())
    return d


def _fit(name, estimator="WLSMV"):
    key = (name, estimator)
    if key not in _FITS:
        o = REF[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # listwise deletion; WAI: psi not PD
            _FITS[key] = sem.fit(o["model"], _data(name), ordered=o["vars"],
                                 estimator=estimator, std_lv=o["std_lv"],
                                 parameterization=o["parameterization"])
    return _FITS[key]


# (a) one factor, (b) two factors, (c) a residual covariance, (d) WAI-SR 3 factors with
# std.lv = TRUE on 150 first sessions (sparse tables, latent correlation > 1 as in lavaan)
# (e) binary items (2 x 2 tables), (f) theta parameterization, two factors + residual cov
# (g) synthetic binary items with an empty cell (lavaan's zero.add = 0.5 keeping margins)
# (h) the 25 bfi items in five factors (no reversal)
CASES = ["one_factor", "two_factor", "resid_cov", "wai_std_lv", "binary", "theta_two_factor",
         "binary_empty_cell", "big_five"]


def _merge(ref_rows, ours):
    ref = pd.DataFrame(ref_rows)
    m = ref.merge(ours, on=["lhs", "op", "rhs"], how="left", suffixes=("_r", ""),
                  indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs"]]
    return m


@pytest.mark.parametrize("name", CASES)
def test_sample_statistics(name):
    res = _fit(name)
    o = REF[name]
    assert res.n_obs == o["nobs"]
    # lavInspect(fit, "sampstat")$th ; thresholds are closed form (qnorm of cum. proportions)
    th = pd.Series(o["th"])
    assert_allclose(res.thresholds[th.index].to_numpy(), th.to_numpy(), rtol=1e-10)
    # lavInspect(fit, "sampstat")$cov : polychorics (lavaan's nlminb stops ~1e-7 early)
    cov = np.array(o["cov"]["values"])
    ours = res.polychoric.loc[o["cov"]["rownames"], o["cov"]["colnames"]].to_numpy()
    assert_allclose(ours, cov, rtol=1e-6, atol=1e-8)
    # lavInspect(fit, "gamma") : NACOV, every element (diagonal only stored for 25 items)
    if o["nacov"] is not None:
        G = np.array(o["nacov"]["values"])
        assert_allclose(res.nacov.to_numpy(), G, rtol=1e-6, atol=1e-7 * np.abs(G).max())
    assert_allclose(np.diag(res.nacov.to_numpy()), o["nacov_diag"], rtol=1e-6)
    # lavInspect(fit, "wls.v") diagonal
    assert_allclose(1 / np.diag(res.nacov.to_numpy()), o["wls_v_diag"], rtol=1e-6)


@pytest.mark.parametrize("estimator", ["WLSMV", "DWLS"])
@pytest.mark.parametrize("name", CASES)
def test_parameter_estimates(name, estimator):
    res = _fit(name, estimator)
    assert isinstance(res, OrdinalSEMResult) and res.converged
    o = REF[name]
    rows = o["parameterEstimates"] if estimator == "WLSMV" else o["dwls"]["parameterEstimates"]
    m = _merge(rows, res.estimates)
    # parameterEstimates(fit): est, se, z, pvalue, ci
    # theta parameterization: lavaan stops 5e-7 (absolute) from the optimum for the
    # near-zero residual covariance; test_theta_objective_not_above_lavaan shows ours is lower
    atol = 1e-6 if REF[name]["parameterization"] == "theta" else 1e-8
    assert_allclose(m["est"], m["est_r"], rtol=1e-5, atol=atol)
    assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-8)
    z_ok = m["z_r"].notna()
    assert (m["z"].notna() == z_ok).all()
    assert_allclose(m.loc[z_ok, "z"], m.loc[z_ok, "z_r"], rtol=1e-4)
    assert_allclose(m.loc[z_ok, "p_value"], m.loc[z_ok, "pvalue"], rtol=1e-4, atol=1e-12)
    assert_allclose(m["ci_lower"], m["ci.lower"], rtol=1e-5, atol=atol)
    assert_allclose(m["ci_upper"], m["ci.upper"], rtol=1e-5, atol=atol)


@pytest.mark.parametrize("name", CASES)
def test_vcov_diagonal(name):
    res = _fit(name)
    ref = REF[name]["vcov_diag_named"]
    # diag(vcov(fit)), by lavaan's parameter names ("agree=~A2", "A1|t1", ...)
    ours = np.diag(res.vcov.to_numpy())
    idx = {n: k for k, n in enumerate(res.vcov.index)}
    assert set(idx) == set(ref)
    assert_allclose([ours[idx[n]] for n in ref], list(ref.values()), rtol=2e-5)


@pytest.mark.parametrize("name", CASES)
def test_r_squared(name):
    res = _fit(name)
    ref = REF[name]["rsquare"]
    rs = res.r_squared().set_index("variable")["r_squared"]
    # lavInspect(fit, "rsquare")
    assert set(rs.index) == set(ref)
    assert_allclose(rs[list(ref)].to_numpy(), list(ref.values()), rtol=1e-5)


@pytest.mark.parametrize("name", CASES)
def test_standardized_solution(name):
    res = _fit(name)
    m = _merge(REF[name]["standardizedSolution"], res.standardized_solution())
    # standardizedSolution(fit)
    assert_allclose(m["est_std"], m["est.std"], rtol=1e-5, atol=1e-8)
    assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("estimator", ["WLSMV", "DWLS"])
@pytest.mark.parametrize("name", CASES)
def test_fit_measures(name, estimator):
    res = _fit(name, estimator)
    o = REF[name]
    ref = o["fitMeasures"] if estimator == "WLSMV" else o["dwls"]["fitMeasures"]
    checked = 0
    for key, val in ref.items():
        if key in NOT_DONE:
            continue
        ours = res.fit_measures[key.replace(".", "_")]   # fitMeasures(fit)[key]
        if val is None:   # NA in lavaan (srmr_mplus for categorical data)
            assert np.isnan(ours), key
            continue
        assert_allclose(ours, val, rtol=1e-5, atol=1e-10, err_msg=key)
        checked += 1
    assert checked == sum(1 for v in ref.values() if v is not None)


def test_every_lavaan_fit_measure_is_present():
    # fitMeasures(fit) names: each one has our counterpart
    for name in CASES:
        res = _fit(name)
        missing = [k for k in REF[name]["fitMeasures"] if k.replace(".", "_") not in res.fit_measures]
        assert missing == []


@pytest.mark.parametrize("name", CASES)
def test_objective_and_scaled_test(name):
    res = _fit(name)
    fm = REF[name]["fitMeasures"]
    # fitMeasures(fit, c("fmin", "chisq.scaled", "chisq.scaling.factor"))
    assert_allclose(res.fit_measures["fmin"], fm["fmin"], rtol=1e-5)
    assert_allclose(res.fit_measures["chisq_scaled"], fm["chisq.scaled"], rtol=1e-5)
    assert_allclose(res.fit_measures["chisq_scaling_factor"], fm["chisq.scaling.factor"],
                    rtol=1e-5)


@pytest.mark.parametrize("name", CASES)
def test_comp_rel_sem_ordinal(name):
    res = _fit(name)
    crs = sem.comp_rel_sem(res)
    ref = REF[name]["compRelSEM"]
    assert list(crs["factor"]) == list(ref)
    # semTools::compRelSEM(fit_ordinal); atol 1e-6 on the 0..1 scale: for the non-reversed
    # big-five factors omega is ~0.05 (cancelling positive and negative loadings), so the
    # 1e-6 relative agreement of the estimates shows up as 6e-6 relative here
    assert_allclose(crs["reliability"], [ref[f] for f in crs["factor"]], rtol=1e-6, atol=1e-6)


def test_comp_rel_sem_case4():
    # case4_reliability.R: cfa('agree =~ A1 + A2 + A3 + A4 + A5', Ar, ordered = A1..A5);
    # semTools::compRelSEM(fitA_ord) = 0.72900240
    ref = reference("case4_reliability")["semTools_A"]["ordinal"]
    d = dataset("bfi")[[f"A{i}" for i in range(1, 6)]].copy()
    d["A1"] = 7 - d["A1"]
    from psychometrics.exceptions import DataQualityWarning
    with pytest.warns(DataQualityWarning, match="91 of 2800 rows"):
        res = sem.fit("agree =~ A1 + A2 + A3 + A4 + A5", d, ordered=True)
    assert res.n_obs == ref["nobs"]
    crs = sem.comp_rel_sem(res)
    assert_allclose(crs["reliability"].iloc[0], ref["compRelSEM"]["agree"], rtol=1e-6)
    m = _merge(ref["parameterEstimates"], res.estimates)
    assert_allclose(m["est"], m["est_r"], rtol=1e-5, atol=1e-8)
    assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-8)


def test_wai_latent_not_pd_warning():
    # lavaan: "covariance matrix of latent variables is not positive definite"
    from psychometrics.exceptions import NotPositiveDefiniteWarning
    o = REF["wai_std_lv"]
    with pytest.warns(NotPositiveDefiniteWarning, match="'goal' with 'bond'"):
        res = sem.fit(o["model"], _data("wai_std_lv"), ordered=True, std_lv=True)
    assert any("not positive definite" in w for w in res.warnings)


def test_theta_objective_not_above_lavaan():
    # theta parameterization: lavaan's nlminb stops ~1e-5 (relative) from the optimum for
    # the small residual covariance; our DWLS objective at our estimates is not larger than
    # at lavaan's estimates (evaluated with the same W and sample statistics)
    res = _fit("theta_two_factor")
    ex = res._extra
    m, theta, st = ex["model"], ex["theta"], ex["stats"]
    w = 1 / np.diag(st.nacov)

    def F(t):
        d = st.wls_obs - m.implied(t)
        return float(d @ (w * d))

    pe = pd.DataFrame(REF["theta_two_factor"]["parameterEstimates"])
    lut = {(a, b, c): e for a, b, c, e in zip(pe["lhs"], pe["op"], pe["rhs"], pe["est"])}
    t_r = theta.copy()
    lhs, op, rhs = m.pt.c("lhs"), m.pt.c("op"), m.pt.c("rhs")
    for r in range(len(lhs)):
        if m.rowpar[r] >= 0:
            t_r[m.rowpar[r]] = lut[(lhs[r], op[r], rhs[r])]
    q = 0
    for j, v in enumerate(st.names):
        for t in range(len(st.th[j])):
            t_r[m.nmod + q] = lut[(v, "|", f"t{t + 1}")]
            q += 1
    assert F(theta) <= F(t_r)


@pytest.mark.parametrize("name", ["two_factor", "resid_cov", "wai_std_lv"])
def test_analytic_jacobian_equals_numerical(name):
    # the analytic d sigma / d theta (delta parameterization) equals central differences
    res = _fit(name)
    m, theta = res._extra["model"], res._extra["theta"]
    analytic = m.jacobian(theta)
    rows, m.jrows = m.jrows, None
    try:
        numerical = m.jacobian(theta)
    finally:
        m.jrows = rows
    assert rows is not None
    assert_allclose(analytic, numerical, rtol=0, atol=1e-8)
