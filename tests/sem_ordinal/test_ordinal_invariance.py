"""Multi-group ordinal CFA, ordinal measurement invariance (Wu & Estabrook, 2016), the
Satorra (2000) difference test and score tests, against lavaan 0.6-14 and semTools 0.5-6.

References: tests/data/r_scripts/ordinal/ordinal_invariance.R ->
tests/data/r_results/ordinal/ordinal_invariance.json (HolzingerSwineford1939 x1..x9 cut at
their quartiles, x3 a median split; tests/data/datasets/hs_ordinal.csv; groups = school).
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
from psychometrics.exceptions import DataValidationError, ModelSpecificationError
from psychometrics.sem.invariance import partial_invariance, score_test
from psychometrics.sem.ordinal_mg import OrdinalMGResult, _objective, measeq_syntax
from refdata import dataset

REF = json.loads((Path(__file__).parents[1] / "data" / "r_results" / "ordinal" /
                  "ordinal_invariance.json").read_text())
MODEL = REF["model"]
CASES = [("delta", lv) for lv in ("configural", "thresholds", "loadings", "intercepts", "means")] \
    + [("theta", lv) for lv in ("configural", "thresholds", "loadings", "intercepts", "residuals")]
# the robust (catML) indices: lavaan 0.6-14 reports them only for models without equality
# constraints (the configural ones), NA (ours NaN) for every constrained level
_FITS: dict = {}


def _data():
    return dataset("hs_ordinal")


def _fit(prm, lv):
    key = (prm, lv)
    if key not in _FITS:
        ge = REF[prm][lv]["group_equal"] or None
        _FITS[key] = sem.fit(MODEL, _data(), group="school", ordered=True, group_equal=ge,
                             parameterization=prm)
    return _FITS[key]


def _merged(res, pe):
    ref = pd.DataFrame(pe)
    out = ref.merge(res.estimates, on=["lhs", "op", "rhs", "group"], how="outer",
                    suffixes=("_r", ""), indicator=True)
    # a reference row without a counterpart (or one of ours without a reference) fails
    assert (out["_merge"] == "both").all(), out[out["_merge"] != "both"]
    return out


@pytest.mark.parametrize("prm,lv", CASES)
def test_syntax_equals_measeq(prm, lv):
    # as.character(measEq.syntax(model, data = d, ordered = vars, group = "school",
    #   parameterization = prm, ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group.equal))
    o = REF[prm][lv]
    assert _fit(prm, lv).syntax == o["syntax"]
    assert measeq_syntax(MODEL, _data(), True, "school", o["group_equal"] or None,
                         parameterization=prm) == o["syntax"]


@pytest.mark.parametrize("prm,lv", CASES)
def test_estimates(prm, lv):
    # parameterEstimates(cfa(syntax, data = d, ordered = vars, group = "school", ...))
    res = _fit(prm, lv)
    assert isinstance(res, OrdinalMGResult)
    assert res.converged
    m = _merged(res, REF[prm][lv]["parameterEstimates"])
    assert_allclose(m["est"], m["est_r"], rtol=1e-5, atol=1e-7)
    assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-7)
    free = m["free"].to_numpy(bool)
    assert_allclose(m.loc[free, "z"], m.loc[free, "z_r"], rtol=1e-4)
    assert_allclose(m.loc[free, "ci_lower"], m.loc[free, "ci.lower"], rtol=1e-4, atol=1e-6)
    # our labels are lavaan's; equal labels share the estimate
    assert (m["label"] == m["label_r"]).all()
    lab = m[free & (m["label"] != "")]
    assert_allclose(lab["label"].map(lab.groupby("label")["est"].first()), lab["est"],
                    rtol=1e-12)


@pytest.mark.parametrize("prm,lv", CASES)
def test_objective_not_above_r(prm, lv):
    # our DWLS minimum is at or below F evaluated at R's estimates
    res = _fit(prm, lv)
    ex = res._extra
    m = ex["model"]
    pe = pd.DataFrame(REF[prm][lv]["parameterEstimates"])
    lut = {k: e for k, e in zip(zip(pe["lhs"], pe["op"], pe["rhs"], pe["group"]), pe["est"])}
    red = np.zeros(m.nred)
    for k, r in enumerate(m.free_rows):
        red[m.red_of_full[k]] = lut[(m.r_lhs[r], m.r_op[r], m.r_rhs[r], m.r_group[r])]
    f_r = _objective(m, red, ex["W"], res.nobs)
    assert res.fit_measures["chisq"] <= f_r * (1 + 1e-12)


@pytest.mark.parametrize("prm,lv", CASES)
def test_fit_measures(prm, lv):
    # fitMeasures(fit)
    fm_r = REF[prm][lv]["fitMeasures"]
    fm = _fit(prm, lv).fit_measures
    checked = 0
    for k, v in fm_r.items():
        ours = fm[k.replace(".", "_")]
        if v is None:
            assert np.isnan(ours), k
            continue
        assert_allclose(ours, v, rtol=1e-4, atol=1e-8, err_msg=k)
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("prm", ["delta", "theta"])
def test_lrt_satorra2000_pairs(prm):
    # lavTestLRT(fit_prev, fit_next, method = "satorra.2000")
    for name, o in REF[prm]["lrt"].items():
        a, b = name.split("_vs_")
        tab = sem.lrt(_fit(prm, a), _fit(prm, b), names=[a, b])
        r = o["table"][1]
        assert_allclose(tab.at[b, "chisq_diff"], r["Chisq diff"], rtol=1e-4)
        assert tab.at[b, "df_diff"] == r["Df diff"]
        assert_allclose(tab.at[b, "p_value"], r["Pr(>Chisq)"], rtol=1e-4)
        assert_allclose(tab["chisq"].to_numpy(), [x["Chisq"] for x in o["table"]], rtol=1e-6)


@pytest.mark.parametrize("prm", ["delta", "theta"])
def test_invariance_sequence(prm):
    # lavTestLRT(configural, thresholds, loadings, intercepts, method = "satorra.2000")
    inv = sem.invariance(MODEL, _data(), "school", ordered=True, parameterization=prm)
    ref = pd.DataFrame(REF[prm]["lrt_sequence"]["table"]).set_index("model")
    assert list(inv.table.index) == list(ref.index)
    assert_allclose(inv.table["chisq"], ref["Chisq"], rtol=1e-6)
    assert_allclose(inv.table["df"], ref["Df"])
    assert_allclose(inv.table["chisq_diff"].iloc[1:], ref["Chisq diff"].iloc[1:].astype(float),
                    rtol=1e-4)
    assert_allclose(inv.table["p_value"].iloc[1:], ref["Pr(>Chisq)"].iloc[1:].astype(float),
                    rtol=1e-4)
    for lv in inv.table.index:
        fm = REF[prm][lv]["fitMeasures"]
        assert_allclose(inv.table.at[lv, "cfi_scaled"], fm["cfi.scaled"], rtol=1e-5)
        assert_allclose(inv.table.at[lv, "rmsea_scaled"], fm["rmsea.scaled"], rtol=1e-5)
    d = inv.table["delta_cfi_scaled"].iloc[1:].to_numpy()
    cfi = [REF[prm][lv]["fitMeasures"]["cfi.scaled"] for lv in inv.table.index]
    assert_allclose(d, np.diff(cfi), rtol=1e-4, atol=1e-9)


def _plabel_map(partable):
    pt = pd.DataFrame(partable)
    pt = pt[pt["plabel"] != ""]
    return {p: (l, o, r, g) for p, l, o, r, g in
            zip(pt["plabel"], pt["lhs"], pt["op"], pt["rhs"], pt["group"])}


def _check_score(sc, ref):
    pmap = _plabel_map(ref["partable"])
    # total score test: lavTestScore(fit)$test
    assert_allclose(sc.total["chisq"].iloc[0], ref["test"][0]["X2"], rtol=1e-4)
    assert sc.total["df"].iloc[0] == ref["test"][0]["df"]
    # univariate: lavTestScore(fit)$uni, one row per '==' constraint
    uni = sc.univariate
    key = {(r.lhs, r.op, r.rhs, r.group_1, r.group_2): r.chisq for r in uni.itertuples()}
    assert len(key) == len(ref["uni"])
    for r in ref["uni"]:
        a, b = pmap[r["lhs"]], pmap[r["rhs"]]
        assert a[:3] == b[:3]
        assert_allclose(key[(a[0], a[1], a[2], a[3], b[3])], r["X2"], rtol=1e-4, atol=1e-8)
    # cumulative: lavTestScore(fit, cumulative = TRUE)$cumulative (order by univariate X2)
    cum = sc.cumulative
    assert_allclose(cum["chisq"], [r["X2"] for r in ref["cumulative"]], rtol=1e-4, atol=1e-8)
    assert list(cum["df"]) == [r["df"] for r in ref["cumulative"]]


@pytest.mark.parametrize("prm", ["delta", "theta"])
def test_score_test_ordinal(prm):
    # lavTestScore(fit_intercepts, univariate = TRUE, cumulative = TRUE)
    _check_score(score_test(_fit(prm, "intercepts")), REF[prm]["score"])


def test_score_test_continuous():
    # lavTestScore(cfa(model, HS, group = "school", group.equal = c("loadings", "intercepts")),
    #              univariate = TRUE, cumulative = TRUE)
    hs = dataset("HolzingerSwineford1939")
    f = sem.fit(MODEL, hs, group="school", group_equal=["loadings", "intercepts"])
    _check_score(score_test(f), REF["continuous_score"])
    # the partial model with the two largest intercept constraints released
    # cfa(..., group.partial = c("x3 ~ 1", "x7 ~ 1"))
    fp, steps = partial_invariance(
        f, alpha=0.05, max_release=2,
        refit=lambda gp: sem.fit(MODEL, hs, group="school",
                                 group_equal=["loadings", "intercepts"], group_partial=gp))
    assert list(steps["released"]) == [True, True]
    assert {f"{a} ~ 1" for a in steps["lhs"]} == {"x3 ~ 1", "x7 ~ 1"}
    assert_allclose(fp.fit_measures["chisq"],
                    REF["continuous_score"]["partial"]["fitMeasures"]["chisq"], rtol=1e-6)


def test_partial_invariance_ordinal():
    f0 = _fit("delta", "intercepts")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fp, steps = partial_invariance(f0, alpha=0.05, max_release=1)
    # the largest univariate statistics are the loading and the threshold of the binary x3
    # (tied); without the loading constraint the model does not converge (lavaan's fails
    # too), so that one is kept with a note and the threshold constraint is released
    load = steps[steps["op"] == "=~"]
    assert not load["released"].any()
    assert load["note"].str.contains("not released").all()
    assert steps["released"].iloc[-1]
    assert fp.options["group_partial"] == ("x3 | t1",)
    # Wu & Estabrook: with its only threshold free the binary x3 has its scale fixed again
    # (semTools frees the scale only when a threshold is equal), so the df do not change
    assert fp.fit_measures["df"] == f0.fit_measures["df"]
    assert fp.fit_measures["chisq"] != f0.fit_measures["chisq"]


def test_lavaan_default_configural():
    # cfa(model, data = d, ordered = vars, group = "school", std.lv = TRUE)
    o = REF["lavaan_configural"]
    res = _fit("delta", "configural")
    m = _merged(res, o["parameterEstimates"])
    assert_allclose(m["est"], m["est_r"], rtol=1e-5, atol=1e-6)
    assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-6)
    st = res._extra["model"].st
    assert list(o["th"]) == list(res.group_labels)
    for g, lab in enumerate(res.group_labels):
        assert_allclose(np.concatenate(st[g].th), list(o["th"][lab].values()), rtol=1e-8)
        assert_allclose(np.diag(st[g].nacov), o["gamma_diag"][lab], rtol=1e-6)


def test_summary_and_frame():
    res = _fit("delta", "thresholds")
    txt = res.summary().as_text()
    assert "Pasteur" in txt and "thresholds" in txt
    assert "x1 | c(NA, NA)*t1 + c(x1.thr1, x1.thr1)*t1" in txt
    assert list(res.to_frame().columns[:6]) == ["lhs", "op", "rhs", "group", "label", "est"]


# ----------------------------------------------------------------------------- bad input

def test_category_missing_in_one_group():
    d = _data()
    d.loc[(d["school"] == "Pasteur") & (d["x5"] == 4), "x5"] = 3
    with pytest.raises(DataValidationError, match=r"'x5'.*categor.*\[4\].*'Pasteur'.*Collapse"):
        sem.fit(MODEL, d, group="school", ordered=True)


def test_one_group_only():
    d = _data().assign(school="A")
    with pytest.raises(ModelSpecificationError, match="at least two"):
        sem.fit(MODEL, d, group="school", ordered=True)


def test_group_too_small():
    d = _data()
    d = pd.concat([d[d["school"] == "Pasteur"], d[d["school"] != "Pasteur"].head(12)])
    with pytest.raises(DataValidationError, match="Grant-White"):
        sem.fit(MODEL, d, group="school", ordered=True)


def test_residuals_need_theta():
    with pytest.raises(ModelSpecificationError, match="theta"):
        sem.fit(MODEL, _data(), group="school", ordered=True,
                group_equal=["thresholds", "loadings", "intercepts", "residuals"])


def test_bad_group_equal_and_partial():
    with pytest.raises(ModelSpecificationError, match="'slopes'"):
        sem.fit(MODEL, _data(), group="school", ordered=True, group_equal=["slopes"])
    with pytest.raises(ModelSpecificationError, match="group_partial entry"):
        sem.fit(MODEL, _data(), group="school", ordered=True, group_equal=["thresholds"],
                group_partial=["x1 t1"])


def test_missing_group_value():
    d = _data()
    d["school"] = d["school"].astype(object)
    d.loc[4, "school"] = np.nan
    with pytest.raises(DataValidationError, match="'school' is missing in data rows \\[5\\]"):
        sem.fit(MODEL, d, group="school", ordered=True)


def test_bad_levels():
    with pytest.raises(ModelSpecificationError, match="'partial'"):
        sem.invariance(MODEL, _data(), "school", ordered=True, levels=["configural", "partial"])


def test_modifiers_rejected():
    with pytest.raises(ModelSpecificationError, match="line 1 fixes or labels"):
        sem.fit("visual =~ 1*x1 + x2 + x3", _data(), group="school", ordered=True)
    with pytest.raises(ModelSpecificationError, match="measurement model"):
        sem.fit("visual =~ x1 + x2 + x3\nvisual ~ x4", _data(), group="school", ordered=True)


@pytest.mark.parametrize("case", ["partial", "dwls"])
def test_partial_and_dwls(case):
    # partial: measEq.syntax(..., group.equal = c("thresholds", "loadings", "intercepts"),
    #          group.partial = c("x3 | t1", "x7 | t3", "x2 ~ 1")); dwls: estimator = "DWLS"
    o = REF[case]
    res = sem.fit(MODEL, _data(), group="school", ordered=True, group_equal=o["group_equal"],
                  group_partial=o.get("group_partial"),
                  estimator="DWLS" if case == "dwls" else "WLSMV")
    if case == "partial":
        assert res.syntax == o["syntax"]
    m = _merged(res, o["parameterEstimates"])
    assert_allclose(m["est"], m["est_r"], rtol=1e-5, atol=1e-7)
    assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-7)
    fm = res.fit_measures
    for k, v in o["fitMeasures"].items():
        ours = fm.get(k.replace(".", "_"), np.nan)
        if v is None:
            assert np.isnan(ours), k
        else:
            assert_allclose(ours, v, rtol=1e-4, atol=1e-8, err_msg=k)
