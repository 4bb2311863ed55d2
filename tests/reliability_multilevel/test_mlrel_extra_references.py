"""psych::multilevel.reliability on the extra references made for this module.

R script: tests/data/r_scripts/mlrel/mlrel_reference.R; results:
tests/data/r_results/mlrel/mlrel_reference.json.  Cases:

* ``shrout``: psych's own example (Shrout & Lane 2012), 5 persons x 4 times x 3 items,
  balanced, with ``aov = TRUE`` (psych's default) and ``aov = FALSE, lmer = TRUE``.
* ``therapy_wai12``: therapy_sim, 12 WAI items (psych + full-precision lme4 / nlme fits).
* ``therapy_sub_missing``: patients 1-40, items wai_1..wai_6 with 83 values set to NA
  (two rows entirely) -> general (non-grid) path.
* ``therapy_sub_reversed``: same patients without NA, wai_3 reverse-keyed ("-wai_3").
* ``therapy_sub_gaps``: patients 1-40, wai_7..wai_12, rows with (patient_id + month) %% 5 == 0
  removed (gaps in the months; complete-grid route).
* ``shrout_duplicate``: shrout plus a second row for Person 1 at Time 1 (pooled into one
  session, as psych does; Woodbury route).

Closed-form quantities (ANOVA) are compared at rtol 1e-10.  Quantities from R's optimisers
(lme4, nlme) at the tolerances explained in test_reference_case7.py; exactness of our REML
criterion and optimum is tested in test_exactness.py.
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from mlrel_helpers import COEFS, LME4_VCOV, fitted, mlrel_reference, psych_components

LMER_KEYS = ["therapy_wai12", "therapy_sub_missing", "therapy_sub_reversed", "therapy_sub_gaps",
             "shrout_duplicate"]
CROSSED_LABELS = ["ID", "Time", "Items", "ID x time", "ID x items", "time x items", "Residual",
                  "Total"]
NESTED_LABELS = ["id", "id(time)", "residual", "total"]


def _check_psych_block(res, ref, coef_rtol, coef_atol, comp_atol_rel, nested_rtol, nested_atol):
    for name in COEFS:
        # mr$RkF ... mr$Rcn
        assert_allclose(getattr(res, name), ref[name], rtol=coef_rtol, atol=coef_atol,
                        err_msg=name)
    # mr$n.obs, mr$n.time, mr$n.items
    assert (res.n_persons, res.n_times, res.n_items) == (ref["n.obs"], ref["n.time"], ref["n.items"])
    refc = psych_components(ref)
    ours = {r.psych_label: r for r in res.components.itertuples()}
    total = refc["Total"]["variance"]
    for label in CROSSED_LABELS:
        # mr$components[label, ]
        assert_allclose(ours[label].variance, refc[label]["variance"], rtol=0,
                        atol=comp_atol_rel * total, err_msg=label)
        assert_allclose(ours[label].percent, refc[label]["Percent"], rtol=0,
                        atol=comp_atol_rel, err_msg=label)
    nested = {r.psych_label: r for r in res.nested_components.itertuples()}
    for label in NESTED_LABELS:
        # mr$components[c("id", "id(time)", "residual", "total"), ]
        assert_allclose(nested[label].variance, refc[label]["variance"], rtol=nested_rtol,
                        atol=nested_atol, err_msg=label)
        assert_allclose(nested[label].percent, refc[label]["Percent"], rtol=nested_rtol,
                        atol=nested_atol, err_msg=label)
    assert len(refc) == len(CROSSED_LABELS) + len(NESTED_LABELS)


def test_shrout_aov_closed_form():
    # psych::multilevel.reliability(shrout, grp = "Person", Time = "Time",
    #                               items = c("Item1","Item2","Item3"))   # aov = TRUE
    ref = mlrel_reference()["shrout"]["aov"]
    res = fitted("shrout", "aov")
    assert res.method == "aov"
    for name in ("RkF", "R1R", "RkR", "Rc"):
        assert_allclose(getattr(res, name), ref[name], rtol=1e-10, err_msg=name)
    refc = psych_components(ref)
    for row in res.components.itertuples():
        assert_allclose(row.variance, refc[row.psych_label]["variance"], rtol=1e-10,
                        err_msg=row.psych_label)
        assert_allclose(row.percent, refc[row.psych_label]["Percent"], rtol=1e-10,
                        err_msg=row.psych_label)
    # RkRn, Rcn and the nested rows come from nlme (printed to 7 significant digits by psych)
    _check_psych_block(res, ref, coef_rtol=1e-6, coef_atol=0, comp_atol_rel=1e-12,
                       nested_rtol=1e-6, nested_atol=0)


def test_shrout_anova_table():
    # matrix(unlist(summary(aov(values ~ id + time + items + time*id + time*items + items*id,
    #                            data = mr$long))), ncol = 5)
    ref = mlrel_reference()["shrout"]["aov"]["anova"]
    table = fitted("shrout", "aov").anova.set_index("psych_label")
    assert len(table) == len(ref)
    for row in ref:
        ours = table.loc[row["row"]]
        assert_allclose(ours["df"], row["df"], rtol=1e-12, err_msg=row["row"])
        assert_allclose(ours["ss"], row["SS"], rtol=1e-10, err_msg=row["row"])
        assert_allclose(ours["ms"], row["MS"], rtol=1e-10, err_msg=row["row"])
        if row["F"] is None:
            assert np.isnan(ours["f"]) and np.isnan(ours["p_value"])
        else:
            assert_allclose(ours["f"], row["F"], rtol=1e-10, err_msg=row["row"])
            assert_allclose(ours["p_value"], row["p"], rtol=1e-8, err_msg=row["row"])


def test_shrout_lmer():
    # psych::multilevel.reliability(shrout, ..., aov = FALSE, lmer = TRUE)
    ref = mlrel_reference()["shrout"]["lmer"]
    res = fitted("shrout", "lmer")
    _check_psych_block(res, ref, coef_rtol=1e-4, coef_atol=0, comp_atol_rel=5e-5,
                       nested_rtol=1e-6, nested_atol=0)


@pytest.mark.parametrize("key", LMER_KEYS)
def test_psych_lmer(key):
    # psych::multilevel.reliability(<data>, ..., alpha = FALSE, aov = FALSE, lmer = TRUE, lme = TRUE)
    ref = mlrel_reference()[key]
    res = fitted(key)
    # therapy_sub_reversed: nlme puts id(time) at 3.5e-09 where the REML optimum is 0, so
    # Rcn = 2.6e-08 in psych and 0 here: absolute tolerances for those
    _check_psych_block(res, ref, coef_rtol=1e-4, coef_atol=1e-7, comp_atol_rel=5e-5,
                       nested_rtol=1e-4, nested_atol=1e-8)


@pytest.mark.parametrize("key", LMER_KEYS + ["shrout"])
def test_lme4_full_precision_components(key):
    # as.data.frame(VarCorr(lme4::lmer(values ~ 1 + (1|id) + (1|time) + (1|items) + (1|id:time)
    #                                  + (1|id:items) + (1|items:time), data = mr$long)))$vcov
    fits = mlrel_reference()[key]["fits"]["crossed_lmer"]
    res = fitted(key, "lmer")
    vc = dict(zip(fits["vcov_names"], fits["vcov"]))
    total = sum(vc.values())
    assert len(vc) == len(res.crossed_fit.variances)
    for ours_name, lme4_name in LME4_VCOV.items():
        assert_allclose(res.crossed_fit.variances[ours_name], vc[lme4_name], rtol=0,
                        atol=5e-5 * total, err_msg=ours_name)
    # fixef(m)
    # our optimum vs lme4's: the variance components differ within the atol above, which moves
    # the intercept by 1.7e-6 relative (was rtol 1e-4)
    assert_allclose(res.crossed_fit.intercept, fits["fixef"], rtol=1e-5)
    # nobs(m)
    assert res.n_observations == fits["nobs"]


@pytest.mark.parametrize("key", LMER_KEYS + ["shrout"])
def test_nlme_full_precision_nested(key):
    # nlme::lme(values ~ 1, random = list(id = ~1, time = ~1 | id:items), data = mr$long)
    fits = mlrel_reference()[key]["fits"]
    lme = fits["nested_lme"]
    res = fitted(key, "lmer")
    v = res.nested_fit.variances
    for ours, theirs in (("id", "var_id"), ("id:time", "var_time_in_id"),
                         ("residual", "var_residual")):
        assert_allclose(v[ours], lme[theirs], rtol=1e-4, atol=1e-8, err_msg=ours)
    # fixef(lme)
    assert_allclose(res.nested_fit.intercept, lme["fixef"], rtol=1e-6)
    # the two nlme specifications are the same model: list(id=~1, time=~1|id:items) == ~1|id/time
    same = fits["nested_lme_idtime"]
    for k in ("var_id", "var_time_in_id", "var_residual", "logLik"):
        assert_allclose(lme[k], same[k], rtol=1e-12)


def test_missing_values_counts():
    ref = mlrel_reference()["therapy_sub_missing"]
    res = fitted("therapy_sub_missing")
    # sum(is.na(sub[wai[1:6]])); nrow(mr$long) counts NA rows, lmer drops them: nobs(m)
    assert res.n_missing == ref["n_missing"]
    assert res.n_observations == ref["long_nrow"] - ref["n_missing"]
    assert res.n_observations == ref["fits"]["crossed_lmer"]["nobs"]
    assert res.crossed_fit.path == "grid+missing"


def test_routes():
    assert fitted("therapy_sub_gaps").crossed_fit.path == "complete-grid"
    assert fitted("shrout_duplicate").crossed_fit.path == "mixed"


def test_reversed_items_recorded():
    res = fitted("therapy_sub_reversed")
    assert res.reversed_items == ("wai_3",)
    assert res.items == ("wai_1", "wai_2", "wai_3", "wai_4", "wai_5", "wai_6")
    # nlme: id(time) variance 3.5e-09 (boundary); ours exactly 0 and flagged
    assert res.nested_fit.singular and res.nested_fit.variances["id:time"] == 0.0
