"""Extra lavaan 0.6-14 / semTools 0.5-6 references (tests/data/r_scripts/twolevel/twolevel_extra.R):
cross-level equality labels, std.lv, within-only and between-only outcomes, level-specific
reliability. Tolerances: see twolevel_helpers.py.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from psychometrics.sem.twolevel import fit_twolevel, lrt_twolevel
from psychometrics.sem.twolevel_reliability import lai_omega_between, twolevel_reliability
from twolevel_helpers import (check_estimates, check_fit_measures, check_std_all, dataset,
                              reference)

REF = reference("twolevel_extra", "r_results/twolevel")
CASES = {"therapy_1w1b": ("therapy_sim", "patient_id", {}),
         "therapy_config_equal": ("therapy_sim", "patient_id", {}),
         "demo_stdlv_outcomes": ("Demo.twolevel", "cluster", {"std_lv": True}),
         # level: within / level: between, fixed.x = FALSE (free covariate moments)
         "demo_fixedx_false": ("Demo.twolevel", "cluster", {"fixed_x": False}),
         # Luedtke et al. (2008) decomposition: y2 / wai_1 are covariates at both levels
         "demo_path_split_x": ("Demo.twolevel", "cluster", {}),
         "therapy_contextual": ("therapy_sim", "patient_id", {}),
         # contextual effect bb - bw and bb / bw as ':=' across levels (delta-method SEs)
         "therapy_contextual_defined": ("therapy_sim", "patient_id", {}),
         # 30 singleton clusters (clusters 1-30 cut to their first row)
         "demo_singletons": ("Demo.twolevel", "cluster", {})}
# w1 ~~ w1 (Demo, level 2): lavaan's estimate is 8.8e-4 SE short of the maximum, which moves
# its SE by 1.7e-4 relative
SE_RTOL = {"therapy_1w1b": 1e-4, "therapy_config_equal": 1e-4, "demo_stdlv_outcomes": 3e-4,
           "demo_fixedx_false": 1e-4, "demo_path_split_x": 1e-4, "therapy_contextual": 1e-4,
           "therapy_contextual_defined": 1e-4, "demo_singletons": 1e-4}


def _data(key, ds):
    d = dataset(ds)
    if key == "demo_singletons":   # D[!duplicated(D$cluster) | D$cluster > 30, ]
        d = d[~d["cluster"].duplicated() | (d["cluster"] > 30)]
    return d


@pytest.fixture(scope="module")
def fits():
    out = {}
    for key, (ds, cl, kw) in CASES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[key] = fit_twolevel(REF[key]["model"], _data(key, ds), cl, **kw)
    return out


@pytest.mark.parametrize("key", list(CASES))
def test_fit_measures(fits, key):
    # fitMeasures(fit)
    check_fit_measures(fits[key], REF[key]["fitMeasures"])


@pytest.mark.parametrize("key", list(CASES))
def test_parameter_estimates(fits, key):
    # parameterEstimates(fit)
    check_estimates(fits[key], REF[key]["parameterEstimates"], se_rtol=SE_RTOL[key])


@pytest.mark.parametrize("key", list(CASES))
def test_standardized_solution(fits, key):
    # standardizedSolution(fit)$est.std
    check_std_all(fits[key], REF[key]["standardizedSolution_std_all"])


@pytest.mark.parametrize("key", list(CASES))
@pytest.mark.parametrize("which", ["h1_within_cov", "h1_between_cov"])
def test_h1_matrices(fits, key, which):
    # lavInspect(fit, "h1")[[1]]$cov / [[2]]$cov: lavaan's EM estimates, replayed exactly
    res = fits[key]
    ours = (res.h1_within if which == "h1_within_cov" else res.h1_between)["cov"]
    ref = REF[key][which]
    assert set(ours.index) == set(ref)
    for r, row in ref.items():
        for c, val in row.items():
            assert_allclose(ours.loc[r, c], val, rtol=1e-8, atol=1e-12, err_msg=(which, r, c))


@pytest.mark.parametrize("key", list(CASES))
@pytest.mark.parametrize("which", ["implied_within_cov", "implied_between_cov"])
def test_implied_matrices(fits, key, which):
    # fitted(fit)[[1]]$cov / [[2]]$cov: functions of lavaan's early-stopped estimates (compared
    # at 2e-3 SE, twolevel_helpers.py): observed up to 3.5e-4 absolute on large elements,
    # so atol 1e-4 with rtol 1e-5 (was rtol 1e-4; atol 5e-5 fails)
    res = fits[key]
    ours = (res.implied_within if which == "implied_within_cov" else res.implied_between)["cov"]
    ref = REF[key][which]
    assert set(ours.index) == set(ref)
    for r, row in ref.items():
        for c, val in row.items():
            assert_allclose(ours.loc[r, c], val, rtol=1e-5, atol=1e-4, err_msg=(which, r, c))


def test_implied_between_mean(fits):
    # fitted(fit)[[2]]$mean: at lavaan's early-stopped estimates, observed 1.03e-4 absolute
    # (was rtol=1e-4, atol=2e-4)
    for key in CASES:
        ours = fits[key].implied_between["mean"]
        ref = REF[key]["implied_between_mean"]
        assert set(ours.index) == set(ref)
        for v, val in ref.items():
            assert_allclose(ours[v], val, rtol=0, atol=1.5e-4, err_msg=(key, v))


def test_lrt_config_vs_1w1b(fits):
    # lavTestLRT(f2, f1): equal loadings across levels vs free loadings
    t = lrt_twolevel(fits["therapy_config_equal"], fits["therapy_1w1b"], names=["f2", "f1"])
    for r in REF["lavTestLRT_config_equal_vs_1w1b"]:
        name = r["row"]
        assert_allclose(t.loc[name, "df"], r["Df"], rtol=1e-12)
        assert_allclose(t.loc[name, "aic"], r["AIC"], rtol=1e-8)
        assert_allclose(t.loc[name, "chisq"], r["Chisq"], rtol=1e-5)
        for col, rcol, tol in (("chisq_diff", "Chisq diff", 1e-4), ("df_diff", "Df diff", 1e-12),
                               ("rmsea_diff", "RMSEA", 1e-4), ("p_value_diff", "Pr(>Chisq)", 1e-4)):
            if r[rcol] is None:
                assert np.isnan(t.loc[name, col])
            else:
                assert_allclose(t.loc[name, col], r[rcol], rtol=tol, err_msg=(name, col))


# ------------------------------------------------------------------ reliability (semTools)
# compRelSEM values are functions of the estimates, compared at rtol 2e-5 (lavaan's early stop)
def _rel(res, obs_var=True):
    t = twolevel_reliability(res, obs_var=obs_var)
    return {(int(r.level), r.factor): r for r in t.itertuples(index=False)}


@pytest.mark.parametrize("obs_var,key", [(True, "compRelSEM_blocks"),
                                         (False, "compRelSEM_blocks_implied")])
def test_geldhof_level_omegas(fits, obs_var, key):
    # compRelSEM(f1) / compRelSEM(f1, obs.var = FALSE): per-block (Geldhof) omegas
    rel = _rel(fits["therapy_1w1b"], obs_var)
    ref = REF["therapy_1w1b"][key]
    assert_allclose(rel[(1, "wai_w")].omega, ref["within"]["wai_w"], rtol=2e-5)
    assert_allclose(rel[(2, "wai_b")].omega, ref["patient_id"]["wai_b"], rtol=2e-5)


def test_lai_shared_omega(fits):
    # compRelSEM(f1, shared = "wai_b"): omega_B and IRR of observed cluster means
    rel = _rel(fits["therapy_1w1b"])
    ref = REF["therapy_1w1b"]["compRelSEM_shared"]
    assert_allclose(rel[(2, "wai_b")].omega_b, ref["shared.wai_b.omega_B"], rtol=2e-5)
    assert_allclose(rel[(2, "wai_b")].irr, ref["shared.wai_b.IRR"], rtol=2e-5)


@pytest.mark.parametrize("obs_var,key", [(True, "compRelSEM_config_shared"),
                                         (False, "compRelSEM_config_shared_implied")])
def test_lai_config_shared(fits, obs_var, key):
    # compRelSEM(f2, config = "wai", shared = "wai"[, obs.var = FALSE])
    rel = _rel(fits["therapy_config_equal"], obs_var)
    ref = REF["therapy_config_equal"][key]
    assert_allclose(rel[(1, "wai")].omega, ref["config"]["wai.omega_W"], rtol=2e-5)
    assert_allclose(rel[(1, "wai")].omega_2l, ref["config"]["wai.omega_2L"], rtol=2e-5)
    assert_allclose(rel[(2, "wai")].omega_b, ref["shared"]["wai.omega_B"], rtol=2e-5)
    assert_allclose(rel[(2, "wai")].irr, ref["shared"]["wai.IRR"], rtol=2e-5)


def test_harmonic_mean_cluster_size(fits):
    # 1 / mean(1 / lavInspect(f1, "cluster.size"))
    cs = fits["therapy_1w1b"].cluster_sizes.to_numpy(dtype=float)
    assert_allclose(1 / np.mean(1 / cs), REF["therapy_1w1b"]["harmonic_mean_cluster_size"],
                    rtol=1e-12)


def test_lai_formula_independent(fits):
    # Lai (2021): omega_b = (sum l)^2 psi_b / [(sum l)^2 (psi_b + psi_w/n~) + sum theta_b
    # + sum theta_w / n~], computed here from the fitted parameters (equal loadings across
    # levels), equals the model-implied omega_b of twolevel_reliability (closed form: 1e-10)
    res = fits["therapy_config_equal"]
    e = res.estimates
    items = [f"wai_{k}" for k in range(1, 13)]
    lam = e[(e.op == "=~") & (e.level == 1)].set_index("rhs").loc[items, "est"].to_numpy()
    lam2 = e[(e.op == "=~") & (e.level == 2)].set_index("rhs").loc[items, "est"].to_numpy()
    assert_allclose(lam, lam2, rtol=1e-12)   # the labels make them equal
    var = e[(e.op == "~~") & (e.lhs == e.rhs)]
    psi_w = var[(var.level == 1) & (var.lhs == "wai")].est.item()
    psi_b = var[(var.level == 2) & (var.lhs == "wai")].est.item()
    th_w = var[(var.level == 1) & var.lhs.isin(items)].est.to_numpy()
    th_b = var[(var.level == 2) & var.lhs.isin(items)].est.to_numpy()
    n_h = 1 / np.mean(1 / res.cluster_sizes.to_numpy(dtype=float))
    expected = lai_omega_between(lam, psi_b, psi_w, th_b, th_w, n_h)
    rel = _rel(res, obs_var=False)
    assert_allclose(rel[(2, "wai")].omega_b, expected, rtol=1e-10)
    # Geldhof within omega from the parameters: (sum l)^2 psi_w / ((sum l)^2 psi_w + sum theta_w)
    s2 = lam.sum() ** 2
    assert_allclose(rel[(1, "wai")].omega, s2 * psi_w / (s2 * psi_w + th_w.sum()), rtol=1e-10)


def test_reliability_method(fits):
    res = fits["therapy_1w1b"]
    assert res.reliability().equals(twolevel_reliability(res))
    assert res.reliability(obs_var=False).equals(twolevel_reliability(res, obs_var=False))


def test_summary_lists_defined_parameters(fits):
    text = fits["therapy_contextual_defined"].summary().as_text()
    assert "Defined parameters:" in text and "contextual" in text
