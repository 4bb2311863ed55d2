"""Bootstrap SEs, intervals and the Bollen-Stine test against lavaan 0.6-14
(tests/data/r_scripts/sem/sem_bootstrap.R -> tests/data/r_results/sem/sem_bootstrap.json,
tests/data/r_scripts/sem/sem_bollen_stine.R -> tests/data/r_results/sem/sem_bollen_stine.json).

Two kinds of checks:
* exact: lavaan's own 1,000 draws of the mediation model (lavInspect(fit, "boot")) fed
  into our interval code reproduce lavaan's perc / bca.simple / basic / norm intervals
  and its bootstrap SEs to rounding;
* Monte Carlo: our seeded draws give SEs, percentile bounds and the Bollen-Stine
  p-value within Monte Carlo error of lavaan's (same number of draws, other random
  numbers); the error is estimated from the draws (delta method for a standard
  deviation, order-statistic variance for a quantile, binomial for a p-value).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import psychometrics.sem as sem
from psychometrics.exceptions import ModelSpecificationError
from psychometrics.sem.bootstrap import (BootstrapDraws, bootstrap_intervals, defined_draws,
                                         norm_inter)

from sem_helpers import PD_MODEL, as_float, load_csv, load_json, match_rows

MED = """x4 ~ a*x1
         x9 ~ b*x4 + c*x1
         ab := a*b
         total := c + a*b"""
HS_MODEL = """visual =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              speed =~ x7 + x8 + x9"""
PD_NODEF = "\n".join(l for l in PD_MODEL.splitlines() if ":=" not in l)
R_DRAWS = 1000


@pytest.fixture(scope="module")
def ref():
    return load_json("r_results/sem/sem_bootstrap.json")


@pytest.fixture(scope="module")
def med_fit():
    return sem.fit(MED, load_csv("HolzingerSwineford1939"), se="bootstrap", bootstrap=R_DRAWS,
                   seed=7)


@pytest.fixture(scope="module")
def pd_fit():
    return sem.fit(PD_MODEL, load_csv("PoliticalDemocracy"), se="bootstrap",
                   bootstrap=R_DRAWS, seed=20)


def _lavaan_draws(res, med):
    """lavaan's draws of the mediation model as BootstrapDraws in our parameter order."""
    cols = dict(zip(med["boot_names"], med["boot"]))
    prob = res._problem
    t = res.parameter_table
    names = []
    for k in range(prob.npar):
        r = t[t["par"] == k].iloc[0]
        names.append(r["label"] or f"{r['lhs']}{r['op']}{r['rhs']}")
    assert sorted(names) == sorted(med["boot_names"])
    T = np.column_stack([np.asarray(cols[n], dtype=float) for n in names])
    D = defined_draws(prob, res._defs, T)
    Dm = defined_draws(prob, res._defs, T.mean(axis=0, keepdims=True))[0]
    return BootstrapDraws("ordinary", len(T), None, T, D, np.zeros(len(T)), (), Dm)


@pytest.mark.parametrize("kind, key, level", [
    ("perc", "perc", 0.95), ("bca.simple", "bca_simple", 0.95), ("basic", "basic", 0.95),
    ("norm", "norm", 0.95), ("bca.simple", "90", 0.90)])
def test_interval_formulas_on_lavaans_draws(med_fit, ref, kind, key, level):
    # parameterEstimates(fit, boot.ci.type = kind [, level = 0.90]) with lavaan's draws
    med = ref["med_boot"]
    rows = med["parameterEstimates_90"] if key == "90" else med["parameterEstimates"][key]
    draws = _lavaan_draws(med_fit, med)
    ours = match_rows(med_fit.estimates, rows)
    ref_df = pd.DataFrame(rows)
    # lavaan's SE: sd of its draws (defined parameters: sd of their values per draw)
    tab = ours[["est"]].copy()
    k = med_fit._problem.par
    sd_free = np.std(draws.theta, axis=0, ddof=0)    # lavaan: cov(BOOT) * (R - 1) / R
    sd_def = np.std(draws.defined, axis=0, ddof=1)
    se = []
    for r in ours.itertuples():
        if r.op == ":=":
            se.append(sd_def[[d.name for d in med_fit._defs].index(r.lhs)])
        else:
            idx = med_fit.estimates.index[(med_fit.estimates["lhs"] == r.lhs) &
                                          (med_fit.estimates["op"] == r.op) &
                                          (med_fit.estimates["rhs"] == r.rhs)][0]
            se.append(sd_free[k[idx]] if k[idx] >= 0 else np.nan)
    se = np.array(se)
    free = as_float(ref_df["se"]) > 0
    assert_allclose(se[free], as_float(ref_df["se"])[free], rtol=1e-10)
    # est from lavaan, so that only the interval code is compared
    full = med_fit.estimates.copy()
    pos = {(r.lhs, r.op, r.rhs): i for i, r in enumerate(full.itertuples())}
    for r in ref_df.itertuples():
        full.loc[pos[(r.lhs, r.op, r.rhs)], "est"] = r.est
    full["se"] = np.nan
    for (i, r), s in zip(ref_df.iterrows(), as_float(ref_df["se"])):
        full.loc[pos[(r["lhs"], r["op"], r["rhs"])], "se"] = s
    lo, hi = bootstrap_intervals(full, np.asarray(k), draws, kind, level)
    idx = [pos[(r.lhs, r.op, r.rhs)] for r in ref_df.itertuples()]
    assert_allclose(lo[idx], as_float(ref_df["ci.lower"]), rtol=1e-9, atol=1e-12)
    assert_allclose(hi[idx], as_float(ref_df["ci.upper"]), rtol=1e-9, atol=1e-12)


def _sd_mc_error(x):
    """Monte Carlo standard error of the sample SD of draws x (delta method)."""
    x = x - x.mean()
    s2 = np.mean(x ** 2)
    m4 = np.mean(x ** 4)
    return np.sqrt(max(m4 - s2 ** 2, 0) / (4 * s2 * len(x)))


def _q_mc_error(x, a):
    """Monte Carlo standard error of the a-quantile of draws x (kernel density at q)."""
    q = np.quantile(x, a)
    h = 1.06 * np.std(x) * len(x) ** -0.2
    dens = np.mean(np.exp(-0.5 * ((x - q) / h) ** 2)) / (h * np.sqrt(2 * np.pi))
    return np.sqrt(a * (1 - a) / len(x)) / dens


@pytest.mark.parametrize("name", ["pd", "med"])
def test_bootstrap_se_and_percentile_within_mc_error(name, ref, pd_fit, med_fit):
    # parameterEstimates(fit) of se = "bootstrap", bootstrap = 1000 (perc intervals)
    res, rows = (pd_fit, ref["pd_boot"]["parameterEstimates"]["perc"]) if name == "pd" else \
        (med_fit, ref["med_boot"]["parameterEstimates"]["perc"])
    assert res.bootstrap.n_successful == R_DRAWS
    ours = match_rows(res.estimates, rows)
    r = pd.DataFrame(rows)
    # the estimates are the ML ones (lavaan's, rtol 1e-4 as in test_sem_structural)
    assert_allclose(ours["est"].to_numpy(), as_float(r["est"]), rtol=1e-4, atol=1e-10)
    defs = [d.name for d in res._defs]
    n_sd = 0
    for i, row in r.iterrows():
        if not row["se"]:
            continue
        if row["op"] == ":=":
            x = res.bootstrap.defined[:, defs.index(row["lhs"])]
        else:
            x = res.bootstrap.theta[:, res._problem.par[res.estimates.index[
                (res.estimates["lhs"] == row["lhs"]) & (res.estimates["op"] == row["op"]) &
                (res.estimates["rhs"] == row["rhs"]) &
                (res.estimates["group"] == 1)][0]]]
        # lavaan's and our SD are independent estimates: error sqrt(2) * MC error
        tol = 4.5 * np.sqrt(2) * _sd_mc_error(x)
        assert abs(ours["se"].iloc[i] - row["se"]) <= tol, (row["lhs"], row["op"], row["rhs"])
        for col, a in (("ci_lower", 0.025), ("ci.upper", 0.975)):
            ref_col = "ci.lower" if col == "ci_lower" else "ci.upper"
            our_col = "ci_lower" if a < 0.5 else "ci_upper"
            tol_q = 4.5 * np.sqrt(2) * _q_mc_error(x, a)
            assert abs(ours[our_col].iloc[i] - row[ref_col]) <= tol_q, (row["lhs"], a)
        n_sd += 1
    assert n_sd >= 5


def test_indirect_effect_rows(med_fit):
    e = med_fit.estimates.set_index("lhs")
    # ab = a*b exactly; its SE is the SD of a*b over the draws (lavaan), not delta method
    a = med_fit.estimates.query("label == 'a'")["est"].iloc[0]
    b = med_fit.estimates.query("label == 'b'")["est"].iloc[0]
    assert_allclose(e.loc["ab", "est"], a * b, rtol=1e-12)
    assert_allclose(e.loc["ab", "se"], np.std(med_fit.bootstrap.defined[:, 0], ddof=1),
                    rtol=1e-12)
    assert med_fit.options["se"] == "bootstrap" and med_fit.options["bootstrap"] == R_DRAWS


def test_reproducible_and_independent_of_jobs():
    d = load_csv("HolzingerSwineford1939")
    r1 = sem.fit(MED, d, se="bootstrap", bootstrap=60, seed=123)
    r2 = sem.fit(MED, d, se="bootstrap", bootstrap=60, seed=123)
    r3 = sem.fit(MED, d, se="bootstrap", bootstrap=60, seed=123, n_jobs=2)
    r4 = sem.fit(MED, d, se="bootstrap", bootstrap=60, seed=124)
    assert_array_equal(r1.bootstrap.theta, r2.bootstrap.theta)
    assert_array_equal(r1.bootstrap.theta, r3.bootstrap.theta)
    assert_array_equal(r1.estimates["ci_lower"], r3.estimates["ci_lower"])
    assert not np.array_equal(r1.bootstrap.theta, r4.bootstrap.theta)


def test_bootstrap_ci_method_types(med_fit):
    perc = med_fit.bootstrap_ci()
    assert_allclose(perc["ci_lower"], med_fit.estimates["ci_lower"], equal_nan=True)
    bca = med_fit.bootstrap_ci("bca.simple", level=0.9)
    ab = bca.set_index("lhs").loc["ab"]
    assert ab["ci_lower"] < ab["est"] < ab["ci_upper"]
    with pytest.raises(ModelSpecificationError, match="'type'.*'perc'"):
        med_fit.bootstrap_ci("bca")
    plain = sem.fit(MED, load_csv("HolzingerSwineford1939"))
    with pytest.raises(ModelSpecificationError, match="se='bootstrap'"):
        plain.bootstrap_ci()


def test_norm_inter_matches_boot_package():
    # lavaan's copy of boot:::norm.inter(rev((1:19)^2), c(0.02, 0.05, 0.5, 0.93, 0.975))
    # = 1, 1, 100, 343.78205157892114, 361 (rk = 0.4, 1, 10, 18.6, 19.5: extreme order
    # statistics at the ends, the order statistic itself for integer rk, normal-scale
    # interpolation otherwise)
    out = norm_inter(np.arange(19.0, 0.0, -1.0) ** 2, [0.02, 0.05, 0.5, 0.93, 0.975])
    assert_allclose(out, [1.0, 1.0, 100.0, 343.78205157892114, 361.0], rtol=1e-14)


def test_bollen_stine_within_mc_error():
    # set.seed(3); sem(PD_MODEL, data = PD, test = "bollen.stine", bootstrap = 1000L):
    # lavInspect(fit, "test")$bollen.stine$pvalue
    bs = load_json("r_results/sem/sem_bollen_stine.json")["pd_bollen_stine"]
    res = sem.fit(PD_NODEF, load_csv("PoliticalDemocracy"), test="bollen.stine",
                  bootstrap=R_DRAWS, seed=3)
    p_r = bs["test"]["bollen.stine"]["pvalue"]
    p = res.fit_measures["bollen_stine_pvalue"]
    n = res.bootstrap_test.n_successful
    assert n >= 990
    assert abs(p - p_r) <= 4.5 * np.sqrt(2 * p_r * (1 - p_r) / R_DRAWS)
    assert_allclose(res.fit_measures["chisq"], bs["test"]["standard"]["stat"], rtol=1e-6)
    # the transformed data fit exactly: the mean bootstrap chi-square is near df
    assert abs(res.bootstrap_test.chisq.mean() - 38) < 4


def test_bootstrap_errors():
    d = load_csv("HolzingerSwineford1939")
    with pytest.raises(ModelSpecificationError, match="'boot_ci_type'"):
        sem.fit(MED, d, se="bootstrap", boot_ci_type="bca")
    with pytest.raises(ModelSpecificationError, match="'bootstrap' argument"):
        sem.fit(MED, d, se="bootstrap", bootstrap=1)
    S = d[["x1", "x4", "x9"]].cov()
    with pytest.raises(ModelSpecificationError, match="raw 'data'"):
        sem.fit(MED, sample_cov=S, sample_nobs=301, se="bootstrap")


def test_fiml_bootstrap_within_mc_error():
    # set.seed(5); cfa(HS_MODEL, data = HS, missing = "ml", se = "bootstrap",
    # bootstrap = 500L): parameterEstimates(fit)$se, against ours with 200 draws (FIML
    # draws are slow); the Monte Carlo error of each side is scaled by its own draws
    ref5 = load_json("r_results/sem/sem_bollen_stine.json")["hs_fiml_boot"]
    d = load_csv("HolzingerSwineford1939").copy()
    d.loc[d["id"] % 7 == 0, "x1"] = np.nan
    d.loc[d["id"] % 5 == 1, "x5"] = np.nan
    d.loc[d["id"] % 6 == 2, "x9"] = np.nan
    res = sem.fit(HS_MODEL, d, missing="ml", se="bootstrap", bootstrap=200, seed=5)
    assert res.bootstrap.n_successful == 200 and ref5["n_successful"] == 500
    rows = ref5["parameterEstimates"]
    ours = match_rows(res.estimates, rows)
    par = res._problem.par
    for i, row in enumerate(rows):
        if not row["se"]:
            continue
        k = par[res.estimates.index[(res.estimates["lhs"] == row["lhs"]) &
                                    (res.estimates["op"] == row["op"]) &
                                    (res.estimates["rhs"] == row["rhs"])][0]]
        x = res.bootstrap.theta[:, k]
        err = _sd_mc_error(x)
        tol = 4.5 * np.sqrt(err ** 2 + err ** 2 * 200 / 500)
        assert abs(ours["se"].iloc[i] - row["se"]) <= tol, row


def test_summary_names_the_bootstrap(med_fit):
    text = med_fit.summary().as_text()
    assert "bootstrap (1000 of 1000 draws, seed 7, perc intervals)" in text
