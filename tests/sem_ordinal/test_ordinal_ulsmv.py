"""Ordinal CFA by ULSMV / ULS (W = I) against lavaan 0.6-14, one group, several groups
(Wu & Estabrook 2016 identification) and across occasions.

References: tests/data/r_scripts/ordinal/ordinal_ulsmv.R ->
tests/data/r_results/ordinal/ordinal_ulsmv.json. Every reference row and fit measure must
have its counterpart here.
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
from psychometrics.exceptions import ModelSpecificationError
from psychometrics.sem.ordinal import OrdinalSEMResult
from psychometrics.sem.ordinal_mg import OrdinalMGResult, _objective
from psychometrics.validity import longitudinal_invariance
from refdata import dataset

ROOT = Path(__file__).parents[2]
REF = json.loads((ROOT / "tests" / "data" / "r_results" / "ordinal" /
                  "ordinal_ulsmv.json").read_text())
SINGLE = ["one_factor_delta", "one_factor_theta", "two_factor_theta"]
ESTIMATORS = ["ULSMV", "ULS"]
MULTI = [(prm, lv) for prm in ("delta", "theta") for lv in ("configural", "loadings")]
_FITS: dict = {}


def _bfi():
    d = dataset("bfi")
    for v in ("A1", "C4", "C5"):         # R: 7 - x
        d[v] = 7 - d[v]
    return d


def _single(name, est):
    key = ("single", name, est)
    if key not in _FITS:
        o = REF["single"][name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # listwise deletion of incomplete rows
            _FITS[key] = sem.fit(o["model"], _bfi()[o["vars"]], ordered=o["vars"],
                                 estimator=est, parameterization=o["parameterization"])
    return _FITS[key]


def _multi(prm, lv, est):
    key = ("multi", prm, lv, est)
    if key not in _FITS:
        o = REF["multi"][prm][lv][est]
        _FITS[key] = sem.fit(REF["multi"]["model"], dataset("hs_ordinal"), group="school",
                             ordered=True, group_equal=o["group_equal"] or None,
                             parameterization=prm, estimator=est)
    return _FITS[key]


def _merged(ref_rows, ours, keys):
    ref = pd.DataFrame(ref_rows)
    m = ref.merge(ours, on=keys, how="outer", suffixes=("_r", ""), indicator=True)
    # a reference row without a counterpart (or one of ours without a reference) fails
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", keys]
    return m


def _check_estimates(m):
    assert_allclose(m["est"], m["est_r"], rtol=1e-5, atol=1e-8)
    assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-8)
    z_ok = m["z_r"].notna()
    assert (m["z"].notna() == z_ok).all()
    assert_allclose(m.loc[z_ok, "z"], m.loc[z_ok, "z_r"], rtol=1e-4)
    assert_allclose(m.loc[z_ok, "p_value"], m.loc[z_ok, "pvalue"], rtol=1e-4, atol=1e-12)
    # est -/+ 1.96 se: near zero the SE tolerance (1e-4 of se) dominates
    ci_atol = 1e-4 * 1.96 * m["se_r"].to_numpy() + 1e-8
    for ours, ref in (("ci_lower", "ci.lower"), ("ci_upper", "ci.upper")):
        err = np.abs(m[ours].to_numpy() - m[ref].to_numpy())
        ok = err <= ci_atol + 1e-5 * np.abs(m[ref].to_numpy())
        assert ok.all(), m.loc[~ok, ["lhs", "op", "rhs", ours, ref]]


def _check_fit_measures(fm, ref):
    # fitMeasures(fit): every lavaan name has our counterpart; NA in lavaan is NaN here
    checked = 0
    for k, v in ref.items():
        ours = fm[k.replace(".", "_")]
        if v is None:
            assert np.isnan(ours), k
            continue
        assert_allclose(ours, v, rtol=1e-4, atol=1e-10, err_msg=k)
        checked += 1
    return checked


@pytest.mark.parametrize("est", ESTIMATORS)
@pytest.mark.parametrize("name", SINGLE)
def test_single_group_estimates(name, est):
    # parameterEstimates(cfa(model, data, ordered = vars, estimator = est, parameterization))
    res = _single(name, est)
    assert isinstance(res, OrdinalSEMResult) and res.converged
    _check_estimates(_merged(REF["single"][name][est]["parameterEstimates"], res.estimates,
                             ["lhs", "op", "rhs"]))


@pytest.mark.parametrize("est", ESTIMATORS)
@pytest.mark.parametrize("name", SINGLE)
def test_single_group_fit_measures(name, est):
    ref = REF["single"][name][est]["fitMeasures"]
    res = _single(name, est)
    n = _check_fit_measures(res.fit_measures, ref)
    assert n == sum(v is not None for v in ref.values())
    # ULSMV: the scaled-shifted test and the robust (catML) indices are reported by lavaan
    if est == "ULSMV":
        assert {"chisq.scaled", "cfi.robust", "rmsea.robust", "wrmr"} <= set(ref)
    else:
        assert "chisq.scaled" not in ref and "chisq_scaled" not in res.fit_measures
    # the unscaled ULS statistic has no reference distribution: p-values NA
    assert ref["pvalue"] is None and np.isnan(res.fit_measures["pvalue"])
    assert ref["baseline.pvalue"] is None and np.isnan(res.fit_measures["baseline_pvalue"])


@pytest.mark.parametrize("est", ESTIMATORS)
@pytest.mark.parametrize("name", SINGLE)
def test_single_group_vcov_and_options(name, est):
    o = REF["single"][name][est]
    res = _single(name, est)
    # diag(vcov(fit)), by lavaan's parameter names
    ref = o["vcov_diag_named"]
    ours = pd.Series(np.diag(res.vcov.to_numpy()), index=res.vcov.index)
    assert set(ours.index) == set(ref)
    assert_allclose(ours[list(ref)].to_numpy(), list(ref.values()), rtol=2e-4)
    # lavInspect(fit, "options")[c("estimator", "se", "test")]
    assert res.options["se"] == o["options"]["se"]
    assert res.options["test"] == o["options"]["test"]
    assert res.options["estimator"] == est
    # lavInspect(fit, "wls.v"): the identity
    assert_allclose(o["wls_v_diag"], 1.0)


@pytest.mark.parametrize("name", SINGLE)
def test_single_group_objective_not_above_r(name):
    # our ULS minimum is at or below F at R's estimates (both with our sample statistics)
    res = _single(name, "ULSMV")
    ex = res._extra
    m, st = ex["model"], ex["stats"]
    lut = {(a, b, c): e for a, b, c, e in
           pd.DataFrame(REF["single"][name]["ULSMV"]["parameterEstimates"])[
               ["lhs", "op", "rhs", "est"]].itertuples(index=False)}
    theta = ex["theta"].copy()
    lhs, op, rhs = m.pt.c("lhs"), m.pt.c("op"), m.pt.c("rhs")
    for r in range(len(lhs)):
        if m.rowpar[r] >= 0:
            theta[m.rowpar[r]] = lut[(lhs[r], op[r], rhs[r])]
    for j, v in enumerate(st.names):
        for t in range(len(st.th[j])):
            theta[m.nmod + st.th_index[j][t]] = lut[(v, "|", f"t{t + 1}")]
    f_r = (st.nobs - 1) * float(np.sum((st.wls_obs - m.implied(theta)) ** 2))
    assert res.fit_measures["chisq"] <= f_r * (1 + 1e-12)


def test_uls_differs_from_dwls():
    # the weight matters: ULS and DWLS estimates differ (same data, same model)
    o = REF["single"]["one_factor_delta"]
    uls = _single("one_factor_delta", "ULS").estimates["est"].to_numpy()
    dwls = sem.fit(o["model"], _bfi()[o["vars"]].dropna(), ordered=o["vars"],
                   estimator="DWLS").estimates["est"].to_numpy()
    assert np.max(np.abs(uls - dwls)) > 1e-3


@pytest.mark.parametrize("est", ESTIMATORS)
@pytest.mark.parametrize("prm,lv", MULTI)
def test_multi_group(prm, lv, est):
    o = REF["multi"][prm][lv][est]
    res = _multi(prm, lv, est)
    assert isinstance(res, OrdinalMGResult) and res.converged
    # as.character(measEq.syntax(model, ..., ID.cat = "Wu.Estabrook.2016", group.equal))
    assert res.syntax == o["syntax"]
    # parameterEstimates(fit)
    _check_estimates(_merged(o["parameterEstimates"], res.estimates,
                             ["lhs", "op", "rhs", "group"]))
    # diag(vcov(fit)): one entry per free row of lavaan's parameter table (an equality
    # constraint repeats the shared parameter), in the order of our free rows
    m = res._extra["model"]
    assert_allclose(np.diag(res.vcov.to_numpy())[m.red_of_full], o["vcov_diag"], rtol=2e-4)
    # fitMeasures(fit)
    ref = o["fitMeasures"]
    assert _check_fit_measures(res.fit_measures, ref) == sum(v is not None for v in ref.values())
    assert res.options["estimator"] == est
    # our ULS minimum is at or below F at R's estimates
    ex = res._extra
    pe = pd.DataFrame(o["parameterEstimates"])
    lut = {k: e for k, e in zip(zip(pe["lhs"], pe["op"], pe["rhs"], pe["group"]), pe["est"])}
    red = np.zeros(m.nred)
    for k, r in enumerate(m.free_rows):
        red[m.red_of_full[k]] = lut[(m.r_lhs[r], m.r_op[r], m.r_rhs[r], m.r_group[r])]
    assert res.fit_measures["chisq"] <= _objective(m, red, ex["W"], res.n_obs) * (1 + 1e-12)
    assert_allclose(ex["W"][0], 1.0)


@pytest.mark.parametrize("prm", ["delta", "theta"])
def test_multi_group_lrt(prm):
    # lavTestLRT(fit_configural, fit_loadings, method = "satorra.2000")  (ULSMV fits)
    tab = sem.lrt(_multi(prm, "configural", "ULSMV"), _multi(prm, "loadings", "ULSMV"),
                  names=["configural", "loadings"])
    ref = pd.DataFrame(REF["multi"][prm]["lrt"]["table"]).set_index("model")
    assert list(tab.index) == list(ref.index)
    assert_allclose(tab["chisq"], ref["Chisq"], rtol=1e-6)
    assert_allclose(tab["df"], ref["Df"])
    assert_allclose(tab.at["loadings", "chisq_diff"], ref.at["loadings", "Chisq diff"], rtol=1e-4)
    assert tab.at["loadings", "df_diff"] == ref.at["loadings", "Df diff"]
    assert_allclose(tab.at["loadings", "p_value_diff"], ref.at["loadings", "Pr(>Chisq)"],
                    rtol=1e-4)


@pytest.mark.parametrize("prm", ["delta", "theta"])
def test_score_test_ulsmv(prm):
    # lavTestScore(fit_loadings_ULSMV, univariate = TRUE, cumulative = TRUE)
    from test_ordinal_invariance import _check_score
    _check_score(sem.score_test(_multi(prm, "loadings", "ULSMV")), REF["multi"][prm]["score"])


@pytest.mark.parametrize("prm", ["delta", "theta"])
def test_invariance_passes_ulsmv(prm):
    # sem.invariance(..., ordered=True, estimator="ULSMV") = the fits and lavTestLRT above
    inv = sem.invariance(REF["multi"]["model"], dataset("hs_ordinal"), "school", ordered=True,
                         levels=["configural", "loadings"], parameterization=prm,
                         estimator="ULSMV")
    ref = pd.DataFrame(REF["multi"][prm]["lrt"]["table"]).set_index("model")
    assert all(f.options["estimator"] == "ULSMV" for f in inv.fits.values())
    assert_allclose(inv.table["chisq"], ref["Chisq"], rtol=1e-6)
    assert_allclose(inv.table.at["loadings", "chisq_diff"], ref.at["loadings", "Chisq diff"],
                    rtol=1e-4)
    for lv in ("configural", "loadings"):
        fm = REF["multi"][prm][lv]["ULSMV"]["fitMeasures"]
        # fitMeasures(fit, c("chisq.scaled", "cfi.scaled", "rmsea.scaled", "srmr"))
        for ours, key in (("chisq_scaled", "chisq.scaled"), ("cfi_scaled", "cfi.scaled"),
                          ("rmsea_scaled", "rmsea.scaled"), ("srmr", "srmr")):
            assert_allclose(inv.table.at[lv, ours], fm[key], rtol=1e-4, err_msg=key)


LONG = REF["longitudinal"]
LONG_LEVELS = ["configural", "thresholds", "loadings", "intercepts"]


@pytest.fixture(scope="module")
def long_ulsmv():
    d = pd.read_csv(ROOT / "examples" / "therapy_example.csv")
    d = d[["patient_id", "month", *LONG["items"]]].copy()
    for v in LONG["items"]:                          # R: pmax(x, 2)
        d[v] = d[v].clip(lower=2)
    return longitudinal_invariance({"bond": LONG["items"]}, d, "patient_id", "month",
                                   LONG["occasions"], ordered=True, estimator="ULSMV")


def test_longitudinal_ulsmv(long_ulsmv):
    res = long_ulsmv
    assert res.n_obs == LONG["n"]
    for lv in LONG_LEVELS:
        o = LONG[lv]
        f = res.fits[lv]
        assert f.converged and f.options["estimator"] == "ULSMV"
        # as.character(measEq.syntax(config, ..., longFacNames = long, long.equal = ...))
        assert res.syntax[lv] == o["syntax"]
        # parameterEstimates(cfa(..., estimator = "ULSMV"))
        m = _merged(o["parameterEstimates"], f.estimates, ["lhs", "op", "rhs"])
        assert_allclose(m["est"], m["est_r"], rtol=1e-5, atol=1e-7)
        assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-7)
        # fitMeasures(fit)
        ref = o["fitMeasures"]
        assert _check_fit_measures(f.fit_measures, ref) == sum(
            v is not None for v in ref.values())
    # lavTestLRT(configural, thresholds, loadings, intercepts, method = "satorra.2000")
    tab = res.table
    ref = pd.DataFrame(LONG["lrt_sequence"]["table"]).set_index("model")
    assert list(tab.index) == list(ref.index)
    assert_allclose(tab["chisq"], ref["Chisq"], rtol=1e-6)
    assert_allclose(tab["chisq_diff"].iloc[1:], ref["Chisq diff"].iloc[1:].astype(float),
                    rtol=1e-4)
    assert_allclose(tab["p_value_diff"].iloc[1:], ref["Pr(>Chisq)"].iloc[1:].astype(float),
                    rtol=1e-4)


@pytest.mark.parametrize("bad", ["MLR", "ulsmvx", "WLS"])
def test_unknown_ordinal_estimator_named(bad):
    o = REF["single"]["one_factor_delta"]
    d = _bfi()[o["vars"]].dropna()
    msg = rf"'estimator'.*'WLSMV', 'DWLS', 'ULSMV', 'ULS'.*got '{bad}'"
    with pytest.raises(ModelSpecificationError, match=msg):
        sem.fit(o["model"], d, ordered=True, estimator=bad)
    with pytest.raises(ModelSpecificationError, match=msg):
        sem.ordinal.fit_ordinal(o["model"], d, ordered=True, estimator=bad)
    with pytest.raises(ModelSpecificationError, match=msg):
        sem.ordinal_mg.fit_ordinal_mg(REF["multi"]["model"], dataset("hs_ordinal"), "school",
                                      estimator=bad)


def test_lowercase_estimator_and_summary():
    res = _single("one_factor_delta", "ULSMV")
    o = REF["single"]["one_factor_delta"]
    low = sem.fit(o["model"], _bfi()[o["vars"]].dropna(), ordered=True, estimator="ulsmv")
    assert_allclose(low.estimates["est"], res.estimates["est"], rtol=1e-12)
    assert "ULSMV" in res.summary().as_text()


@pytest.mark.parametrize("est", ["ULSMV", "WLSMV"])
def test_theta_no_spurious_heywood_warning(est):
    # theta parameterization: the residual variances are parameters fixed to 1, so a
    # communality above 1 (unstandardized loadings of ~2.8 here) is no Heywood case; the
    # delta fit of the same model has 1 - communality > 0 everywhere (lavaan warns neither)
    from psychometrics.exceptions import HeywoodCaseWarning
    o = REF["single"]["two_factor_theta"]
    d = _bfi()[o["vars"]].dropna()
    for prm in ("theta", "delta"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", HeywoodCaseWarning)
            res = sem.fit(o["model"], d, ordered=True, estimator=est, parameterization=prm)
        assert not any("Heywood" in w for w in res.warnings)
