"""psychometrics.validity against psych 2.2.9 and semTools 0.5-6.

Reference values: tests/data/r_results/validity/validity_toolbox.json, made by
tests/data/r_scripts/validity/validity_toolbox.R (each entry keeps its R call). Every
reference element is compared; a reference value with no counterpart fails.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics import validity
from psychometrics.exceptions import DataValidationError, ModelSpecificationError
from tests.refdata import dataset

REF = json.loads((Path(__file__).parents[1] / "data" / "r_results" / "validity"
                  / "validity_toolbox.json").read_text())
TIGHT = dict(rtol=1e-10, atol=1e-13)   # closed-form quantities


def as_frame(m: dict) -> pd.DataFrame:
    return pd.DataFrame([[np.nan if v is None else v for v in row] for row in m["values"]],
                        index=m["rows"], columns=m["cols"])


@pytest.fixture(scope="module")
def bfi():
    return dataset("bfi")


@pytest.fixture(scope="module")
def hs():
    return dataset("HolzingerSwineford1939")


# ------------------------------------------------------------------ corr.test
def _check_ci(res, ref_ci, ref_adj):
    tab = res.table
    assert len(tab) == len(ref_ci) == len(ref_adj)
    for ours, ci, adj in zip(tab.itertuples(), ref_ci, ref_adj, strict=True):
        assert ci["row"] == f"{ours.var1}-{ours.var2}"
        assert_allclose([ours.ci_lower, ours.r, ours.ci_upper, ours.p_value],
                        [ci["lower"], ci["r"], ci["upper"], ci["p"]], **TIGHT)
        assert_allclose([ours.ci_lower_adj, ours.ci_upper_adj], [adj["lower.adj"], adj["upper.adj"]],
                        **TIGHT)


def test_corr_test_symmetric_pairwise(bfi):
    ref = REF["corr_test_A"]  # psych::corr.test(bfi[, paste0('A', 1:5)])
    res = validity.corr_test(bfi[[f"A{i}" for i in range(1, 6)]])
    for key, ours in (("r", res.r), ("n", res.n), ("se", None), ("t", None)):
        exp = as_frame(ref[key])
        if key == "se":
            ours = pd.DataFrame(np.sqrt((1 - res.r ** 2) / (res.n - 2)))
        if key == "t":
            tab = res.table
            got = tab["t"].to_numpy()
            want = np.array([exp.loc[a, b] for a, b in zip(tab.var1, tab.var2, strict=True)])
            assert_allclose(got, want, **TIGHT)
            continue
        off = ~np.eye(len(exp), dtype=bool)
        assert_allclose(ours.to_numpy()[off], exp.to_numpy()[off], **TIGHT)
    # psych's p: lower triangle unadjusted, upper triangle holm-adjusted
    p = as_frame(ref["p"]).to_numpy()
    il, iu = np.tril_indices(5, -1), np.triu_indices(5, 1)
    assert_allclose(res.p_value.to_numpy()[il], p[il], rtol=1e-9, atol=1e-300)
    assert_allclose(res.p_adjusted.to_numpy()[iu], p[iu], rtol=1e-9, atol=1e-300)
    _check_ci(res, ref["ci"], ref["ci_adj"])


def test_corr_test_bh_alpha(bfi):
    ref = REF["corr_test_A_BH"]  # corr.test(A, adjust = 'BH', alpha = 0.1)
    res = validity.corr_test(bfi[[f"A{i}" for i in range(1, 6)]], adjust="BH", alpha=0.1)
    p = as_frame(ref["p"]).to_numpy()
    iu = np.triu_indices(5, 1)
    assert_allclose(res.p_adjusted.to_numpy()[iu], p[iu], rtol=1e-9, atol=1e-300)
    _check_ci(res, ref["ci"], ref["ci_adj"])


def test_corr_test_x_by_y(bfi):
    ref = REF["corr_test_xy"]  # corr.test(bfi[, C1:C3], bfi[, c('N1','N2')])
    res = validity.corr_test(bfi[["C1", "C2", "C3"]], bfi[["N1", "N2"]])
    for key, ours in (("r", res.r), ("n", res.n), ("p", res.p_value)):
        assert_allclose(ours.to_numpy(), as_frame(ref[key]).to_numpy(), rtol=1e-9, atol=1e-300)
    se = as_frame(ref["se"]).to_numpy()
    assert_allclose(res.table["se"].to_numpy(), se.ravel(order="F"), **TIGHT)
    t = as_frame(ref["t"]).to_numpy()
    assert_allclose(res.table["t"].to_numpy(), t.ravel(order="F"), **TIGHT)
    _check_ci(res, ref["ci"], ref["ci_adj"])


def test_corr_test_spearman(bfi):
    ref = REF["corr_test_spearman"]  # corr.test(E1-E4 complete, method = 'spearman')
    sub = bfi[[f"E{i}" for i in range(1, 5)]].dropna()
    res = validity.corr_test(sub, method="spearman")
    assert (res.n.to_numpy() == ref["n"]).all()
    off = ~np.eye(4, dtype=bool)
    assert_allclose(res.r.to_numpy()[off], as_frame(ref["r"]).to_numpy()[off], **TIGHT)
    assert_allclose(res.table["ci_lower"], [c["lower"] for c in ref["ci"]], **TIGHT)
    assert_allclose(res.table["ci_upper"], [c["upper"] for c in ref["ci"]], **TIGHT)


def test_p_adjust_matches_r_definitions():
    p = np.array([0.01, 0.04, 0.03, 0.04, 0.2, np.nan])
    # R: p.adjust(c(.01,.04,.03,.04,.2,NA), m) for each m
    want = {"holm": [0.05, 0.12, 0.12, 0.12, 0.2], "bonferroni": [0.05, 0.2, 0.15, 0.2, 1.0],
            "BH": [0.05, 0.05, 0.05, 0.05, 0.2], "hochberg": [0.05, 0.08, 0.08, 0.08, 0.2],
            "BY": [0.11416666666666667] * 4 + [0.45666666666666667]}
    for method, exp in want.items():
        got = validity.p_adjust(p, method)
        assert np.isnan(got[-1])
        assert_allclose(got[:-1], exp, rtol=1e-12, atol=0)


# ------------------------------------------------------------------ describe
@pytest.mark.parametrize("key,cols,kw", [
    ("describe", ["A1", "A2", "N3", "age", "education"], {}),
    ("describe_trim2_type1", ["A1", "age"], {"trim": 0.2, "type": 1}),
    ("describe_type2", ["A1", "age"], {"type": 2}),
])
def test_describe(bfi, key, cols, kw):
    ref = REF[key]["table"]  # psych::describe(...) as in the entry's call
    tab = validity.describe(bfi[cols], **kw).table
    assert list(tab["variable"]) == [r["row"] for r in ref]
    for ours, exp in zip(tab.to_dict("records"), ref, strict=True):
        for col in ("mean", "sd", "median", "trimmed", "mad", "min", "max", "range", "skew",
                    "kurtosis", "se"):
            assert_allclose(ours[col], exp[col], rtol=1e-10, atol=1e-13, err_msg=f"{key} {col}")
        assert ours["n_obs"] == exp["n"]


# ------------------------------------------------------------------ cohen.kappa
@pytest.mark.parametrize("key,weights", [("kappa_A2_A3", None), ("kappa_A2_A3_linear", "linear"),
                                         ("kappa_small", None)])
def test_cohen_kappa_two_raters(bfi, key, weights):
    ref = REF[key]
    if key == "kappa_small":
        data = pd.DataFrame({"r1": [1, 2, 2, 3, 3, 3, 1, 2, 3, 1, 2, 2],
                             "r2": [1, 2, 3, 3, 3, 2, 1, 1, 3, 1, 2, 2]})
    else:
        data = bfi[["A2", "A3"]].dropna()
    w = None
    if weights == "linear":
        i, j = np.indices((6, 6))
        w = 1 - np.abs(i - j) / 5
    res = validity.cohen_kappa(data, weights=w)
    tab = res.table.set_index("kind")
    # cohen.kappa(...)$kappa, $weighted.kappa, $var.kappa, $var.weighted, $n.obs, $confid
    assert_allclose([res.kappa, res.weighted_kappa], [ref["kappa"], ref["weighted_kappa"]], **TIGHT)
    assert_allclose(tab["se"] ** 2, [ref["var_kappa"], ref["var_weighted"]], **TIGHT)
    assert (tab["n_obs"] == ref["n_obs"]).all()
    confid = as_frame(ref["confid"])
    assert_allclose(tab[["ci_lower", "est", "ci_upper"]].to_numpy(), confid.to_numpy(), **TIGHT)


def test_cohen_kappa_three_raters(bfi):
    ref = REF["kappa_three"]  # cohen.kappa(na.omit(bfi[1:400, c('A2','A3','A5')]))
    data = bfi.loc[:399, ["A2", "A3", "A5"]].dropna()
    res = validity.cohen_kappa(data)
    ck = as_frame(ref["cohen_kappa"])  # lower triangle kappa, upper weighted kappa
    for r in res.table.itertuples():
        if r.kind == "unweighted":
            assert_allclose(r.est, ck.loc[r.rater2, r.rater1], **TIGHT)
        else:
            assert_allclose(r.est, ck.loc[r.rater1, r.rater2], **TIGHT)
    assert len(res.table) == 6
    un = res.table[res.table.kind == "unweighted"]["est"].mean()
    wt = res.table[res.table.kind == "weighted"]["est"].mean()
    assert_allclose([un, wt], [ref["av_kappa"], ref["av_wt"]], **TIGHT)


# ------------------------------------------------------------------ HTMT, Fornell-Larcker
@pytest.mark.parametrize("key,kw", [("htmt_hs", {}), ("htmt_hs_arith", {"htmt2": False}),
                                    ("htmt_hs_signed", {"htmt2": False, "absolute": False}),
                                    ("htmt_bfi", {})])
def test_htmt(hs, bfi, key, kw):
    ref = REF[key]  # semTools::htmt(model, data, ...)
    data = bfi if key == "htmt_bfi" else hs
    res = validity.htmt(ref["model"], data, **kw)
    exp = as_frame(ref["htmt"])
    assert list(res.matrix.index) == list(exp.index)
    assert_allclose(res.matrix.to_numpy(), exp.to_numpy(), rtol=1e-10, atol=1e-12)


def test_htmt_from_dict_and_covariance(hs):
    ref = as_frame(REF["htmt_hs"]["htmt"])
    model = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
    cov = hs[[f"x{i}" for i in range(1, 10)]].cov()
    res = validity.htmt(model, sample_cov=cov)
    assert_allclose(res.matrix.to_numpy(), ref.to_numpy(), rtol=1e-10, atol=1e-12)


def test_fornell_larcker(hs):
    from psychometrics import sem
    ref = REF["fornell_larcker_hs"]  # semTools::AVE(fit); lavInspect(fit, 'cor.lv')
    fit = sem.fit("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9", hs)
    res = validity.fornell_larcker(fit)
    ave = res.ave.set_index("factor")["ave"]
    assert set(ave.index) == set(ref["ave"])
    # iterative fit: lavaan's nlminb stops ~1e-5 short of the optimum
    assert_allclose([ave[f] for f in ref["ave"]], list(ref["ave"].values()), rtol=2e-4, atol=0)
    cor = as_frame(ref["cor_lv"])
    assert len(res.table) == 3
    for r in res.table.itertuples():
        assert_allclose(r.est, cor.loc[r.factor1, r.factor2], rtol=2e-4, atol=0)
        assert r.holds == (min(r.ave1, r.ave2) > r.est ** 2)
        assert r.ci_lower < r.est < r.ci_upper


# ------------------------------------------------------------------ congruence, overlap
def test_factor_congruence():
    ref = REF["congruence"]  # psych::factor.congruence(L1, L2, digits = 15)
    res = validity.factor_congruence(as_frame(ref["L1"]), as_frame(ref["L2"]))
    assert_allclose(res.matrix.to_numpy(), as_frame(ref["phi"]).to_numpy(), rtol=0, atol=1e-14)
    assert len(res.to_frame()) == 4


def test_score_overlap(bfi):
    ref = REF["score_overlap"]  # psych::scoreOverlap(keys, bfi[, 1:25])
    res = validity.score_overlap(ref["keys"], bfi.iloc[:, :25])
    assert_allclose(res.cor.to_numpy(), as_frame(ref["cor"]).to_numpy(), rtol=1e-10, atol=1e-13)
    assert_allclose(res.corrected.to_numpy(), as_frame(ref["corrected"]).to_numpy(), rtol=1e-10,
                    atol=1e-13)
    for col, key in (("alpha", "alpha"), ("av_r", "av_r"), ("n_items", "size")):
        assert_allclose(res.scales[col].to_numpy(float), ref[key], rtol=1e-10, atol=1e-13)


# ------------------------------------------------------------------ protocol and bad input
def test_every_result_has_summary_and_frame(bfi, hs):
    results = [validity.corr_test(bfi[["A1", "A2"]]), validity.describe(bfi[["A1"]]),
               validity.cohen_kappa(bfi[["A2", "A3"]]),
               validity.htmt({"a": ["A1", "A2"], "c": ["C1", "C2"]}, bfi),
               validity.factor_congruence(np.eye(3)),
               validity.score_overlap({"a": ["A1", "A2"]}, bfi)]
    for res in results:
        s = res.summary()
        assert s.as_text() and s.as_html() and s.as_latex()
        assert isinstance(res.to_frame(), pd.DataFrame) and len(res.to_frame()) > 0


def test_bad_input(bfi):
    with pytest.raises(DataValidationError, match="non-numeric column.*'g'"):
        validity.corr_test(pd.DataFrame({"a": [1.0, 2, 3, 4], "g": list("abcd")}))
    with pytest.raises(DataValidationError, match="method="):
        validity.corr_test(bfi[["A1", "A2"]], method="pearsn")
    with pytest.raises(DataValidationError, match="x= has 3 rows and y= has 2"):
        validity.corr_test(pd.DataFrame({"a": [1.0, 2, 3]}), pd.DataFrame({"b": [1.0, 2]}))
    with pytest.raises(DataValidationError, match="smallest count is 2"):
        validity.corr_test(pd.DataFrame({"a": [1.0, 2, np.nan, 4], "b": [1.0, np.nan, 3, 5]}))
    with pytest.raises(ModelSpecificationError, match="at least two"):
        validity.htmt("f =~ A1 + A2", bfi)
    with pytest.raises(DataValidationError, match="Missing observed variables.*Z9"):
        validity.htmt({"a": ["A1", "Z9"], "b": ["C1", "C2"]}, bfi)
    with pytest.raises(DataValidationError, match="not in data=: Q1"):
        validity.score_overlap({"a": ["A1", "-Q1"]}, bfi)
    with pytest.raises(DataValidationError, match="weights= must be 6 x 6"):
        validity.cohen_kappa(bfi[["A2", "A3"]], weights=np.eye(3))
    with pytest.raises(DataValidationError, match="type= must be"):
        validity.describe(bfi[["A1"]], type=4)
