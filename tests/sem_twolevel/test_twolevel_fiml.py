"""missing="ml": two-level FIML equal to lavaan 0.6-14 ``sem(model, data, cluster =,
missing = "ml")`` (tests/data/r_scripts/twolevel/twolevel_fiml.R, which also wrote the data
with holes: tests/data/datasets/Demo.twolevel_holes.csv, therapy_example_holes.csv).

Cases: Demo.twolevel with 12% of y cells missing and 15 rows without any y or covariate:
with covariates at both levels (demo_cov; lavaan drops rows with a missing fixed.x covariate,
so do we) and a one-factor-per-level model (demo_cfa); the therapy example with skipped
items and 8% skipped months, two factors per level (therapy). Holes in a between-only
variable are checked in test_twolevel_missing_lik.py (lavaan 0.6-14 does not converge with
them). Where lavaan 0.6-14 did not converge on a case, the test evaluates our likelihood at
lavaan's stopping point (equal to lavaan's logL) and shows that our converged logL is higher.

Tolerances: estimates rtol 1e-5 (plus 2e-3 SE for lavaan's early stop, as the complete-data
tests), SEs rtol 1e-4, logL rtol 1e-8 and ours >= lavaan's. lavaan's saturated model with
missing data stops at nlminb's rel.tol 1e-7, a little below the maximum: our unrestricted
logL is >= lavaan's, and our chi-square equals lavaan's plus twice that gap (rtol 1e-6);
CFI/TLI/RMSEA, which are built on it, at rtol 1e-3.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.sem.twolevel import fit_twolevel
from twolevel_helpers import check_estimates, dataset, reference

REF = reference("twolevel_fiml", "r_results/twolevel")
DATA_FILES = {"demo_cov": "Demo.twolevel_holes", "demo_cfa": "Demo.twolevel_holes",
              "demo_6": "Demo.twolevel_holes", "therapy_wai": "therapy_example_holes",
              "therapy": "therapy_example_holes"}
# cases where lavaan 0.6-14 converged (the script records the others, see the docs)
DATA = {k: v for k, v in DATA_FILES.items() if REF[k]["converged"]}
FAILED = [k for k in DATA_FILES if not REF[k]["converged"]]


def _data(key):
    d = dataset(DATA_FILES[key])
    if key == "demo_cov":
        # as the R script: rows with every y missing (only covariates observed) left out,
        # lavaan 0.6-14 fails on them (NaN information)
        d = d[~d[["y1", "y2", "y3"]].isna().all(axis=1)]
    return d


@pytest.fixture(scope="module")
def fits():
    out = {}
    for key in DATA:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[key] = fit_twolevel(REF[key]["model"], _data(key), REF[key]["cluster"],
                                    missing="ml")
    return out


def _ours_x(res, r):
    est = res.estimates
    return float(est[(est.lhs == r["lhs"]) & (est.op == r["op"]) & (est.rhs == r["rhs"])
                     & (est.level == int(r["level"]))]["est"].iloc[0])


@pytest.mark.parametrize("key", list(DATA))
def test_parameter_estimates(fits, key):
    # parameterEstimates(sem(model, data, cluster =, missing = "ml"))
    res = fits[key]
    assert res.converged
    rows = REF[key]["ml"]["pe"]
    # fixed.x covariate moments are saturated-model (h1) estimates; lavaan's h1 with missing
    # data stops at rel.tol 1e-7, so these fixed values agree to 2.5e-4 only
    xs = {"x1", "x2", "x3", "w1", "w2"}
    is_x = [r["se"] == 0 and r["lhs"] in xs and (r["rhs"] in xs or r["op"] == "~1") for r in rows]
    check_estimates(res, [r for r, x in zip(rows, is_x) if not x] + [
        dict(r, est=_ours_x(res, r)) for r, x in zip(rows, is_x) if x])
    est = res.estimates
    for r, x in zip(rows, is_x):
        if x:
            ours = est[(est.lhs == r["lhs"]) & (est.op == r["op"]) & (est.rhs == r["rhs"])
                       & (est.level == int(r["level"]))]["est"].iloc[0]
            assert_allclose(ours, r["est"], rtol=5e-4, atol=5e-5, err_msg=str(r["lhs"]))
    if key == "demo_cov":
        # ours is the maximum: a complete covariate's saturated variance is its sample
        # variance (divisor J); lavaan's w2 ~~ w2 (0.930366) is 2.5e-4 short of it
        d = _data(key)
        w2 = d.groupby("cluster").w2.first()
        assert_allclose(_ours_x(res, dict(lhs="w2", op="~~", rhs="w2", level=2)),
                        w2.var(ddof=0), rtol=1e-6)


@pytest.mark.parametrize("key", list(DATA))
def test_loglik_and_counts(fits, key):
    res, fm = fits[key], REF[key]["ml"]["fm"]
    # fitMeasures(fit)[c("logl", "npar", "df", "ntotal", "aic", "bic")]
    assert_allclose(res.fit_measures["logl"], fm["logl"], rtol=1e-8)
    assert res.fit_measures["logl"] >= fm["logl"] - 1e-7
    for k in ("npar", "df", "ntotal"):
        assert_allclose(res.fit_measures[k], fm[k], rtol=1e-12, err_msg=k)
    for k in ("aic", "bic", "bic2"):
        assert_allclose(res.fit_measures[k], fm[k], rtol=1e-8, err_msg=k)
    # lavInspect(fit, "nobs"), lavInspect(fit, "nclusters")
    assert res.nobs == REF[key]["ml"]["nobs"]
    assert res.nclusters == REF[key]["ml"]["nclusters"]


@pytest.mark.parametrize("key", list(DATA))
def test_saturated_model_and_chisq(fits, key):
    res, fm = fits[key], REF[key]["ml"]["fm"]
    # fitMeasures(fit)["unrestricted.logl"]: lavaan's nlminb stops at rel.tol 1e-7
    gap = res.fit_measures["unrestricted_logl"] - fm["unrestricted.logl"]
    assert gap >= -1e-8
    assert gap < 5e-3
    # fitMeasures(fit)[c("chisq", "baseline.chisq")]: lavaan's plus twice the h1 gap, minus
    # twice the (tiny) h0 gap of lavaan's own early stop
    gap0 = res.fit_measures["logl"] - fm["logl"]
    assert_allclose(res.fit_measures["chisq"], fm["chisq"] + 2 * gap - 2 * gap0, rtol=1e-7,
                    atol=1e-7)
    assert_allclose(res.fit_measures["baseline_chisq"], fm["baseline.chisq"] + 2 * gap,
                    rtol=1e-5)
    assert_allclose(res.fit_measures["chisq"], fm["chisq"], rtol=1e-3)
    # fitMeasures(fit)[c("cfi", "tli", "rmsea", "srmr")]
    for k in ("cfi", "tli", "rmsea", "rmsea_ci_upper"):
        assert_allclose(res.fit_measures[k], fm[k.replace("_", ".")], rtol=1e-3, atol=1e-6,
                        err_msg=k)


def test_dropped_rows_reported():
    # therapy: skipped months (every item missing) are dropped and counted
    d = _data("therapy")
    items = [c for c in d.columns if c.startswith(("wai_", "pear_"))]
    empty = int(d[items].isna().all(axis=1).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_twolevel(REF["therapy"]["model"], d, "patient_id", missing="ml")
    assert empty > 0
    assert res.dropped == {"no observed level-1 variable": empty}
    assert res.nobs == len(d) - empty
    assert any("no observed level-1 variable" in w for w in res.warnings)


def test_missing_covariate_rows_dropped():
    # demo_cov on all rows: the 15 rows without covariates are dropped (fixed.x), named
    ref = REF["demo_cov"]
    d = dataset("Demo.twolevel_holes")
    with pytest.warns(Warning, match="rows were removed"):
        res = fit_twolevel(ref["model"], d, "cluster", missing="ml")
    assert res.dropped == {"no observed level-1 variable": 15}


@pytest.mark.parametrize("key", FAILED)
def test_where_lavaan_stops_early(key):
    # lavaan 0.6-14 did not converge (nlminb stopped with a gradient far from 0): at the
    # parameter values where it stopped, our likelihood equals lavaan's logL (the same
    # function: rtol 1e-8); our fit converges (gradient and second-order check) to a
    # higher logL
    from psychometrics.sem.twolevel_stats import constant
    ref = REF[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_twolevel(ref["model"], _data(key), ref["cluster"], missing="ml")
    assert res.converged, key
    assert "second-order check passed" in res.optimizer_message
    mdl = res._model
    theta = np.full(mdl.npar, np.nan)
    lav = {(r["lhs"], r["op"], r["rhs"], int(r["level"])): r["est"] for r in ref["partable"]}
    for lev, L in enumerate(mdl.levels):
        for l, o, r_, k in zip(L.pt.c("lhs"), L.pt.c("op"), L.pt.c("rhs"), L.gpar):
            if k >= 0:
                theta[k] = lav[(l, o, r_, lev + 1)]
    assert not np.isnan(theta).any()
    logl_at_lavaan = -0.5 * (mdl.f(theta) + constant(mdl.cs))
    assert_allclose(logl_at_lavaan, ref["logl"], rtol=1e-8)
    assert res.fit_measures["logl"] > ref["logl"]
    assert ref["max_abs_gradient"] > 1e-4   # lavaan stopped before its gradient was 0


def test_listwise_is_still_the_default():
    ref = REF["demo_cfa"]
    d = dataset("Demo.twolevel_holes")
    with pytest.warns(Warning, match="listwise"):
        res = fit_twolevel(ref["model"], d, "cluster")
    n_complete = int(d[["y1", "y2", "y3"]].notna().all(axis=1).sum())
    assert res.nobs == n_complete
    assert res.dropped == {"missing values (listwise deletion)": len(d) - n_complete}
    assert res.options["missing"] == "listwise"


def test_complete_data_ml_equals_default():
    # missing="ml" on complete data takes the complete-data path: identical results
    d = dataset("Demo.twolevel")
    m = REF["demo_cfa"]["model"]
    a = fit_twolevel(m, d, "cluster")
    b = fit_twolevel(m, d, "cluster", missing="ml")
    assert_allclose(b.estimates["est"], a.estimates["est"], rtol=1e-12)
    assert_allclose(b.fit_measures["chisq"], a.fit_measures["chisq"], rtol=1e-12)
    assert b.dropped == {}


def test_bad_missing_option():
    from psychometrics.exceptions import ModelSpecificationError
    with pytest.raises(ModelSpecificationError, match="'missing' argument"):
        fit_twolevel(REF["demo_cfa"]["model"], dataset("Demo.twolevel"), "cluster",
                     missing="pairwise")
